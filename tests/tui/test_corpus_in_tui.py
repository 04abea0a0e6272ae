"""Every file of the bad-input corpus (tests/reliability/corpus) reads in the TUI as the CLI
says it: the sentence in the problems panel (or, for a task that failed, in the task's
detail), never flowtui's own traceback, and never a stream of notifications."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flowtui.tui.app import FlowtuiApp
from flowtui.tui.widgets.header import RunHeader
from flowtui.tui.widgets.problems import ProblemsPanel
from tests.tui.test_app import run_to_the_end
from tests.tui.waiting import wait_until

CORPUS = Path(__file__).resolve().parents[1] / "reliability" / "corpus"

# file: (when it shows: "open" / "run" / "task", a phrase of what is said)
SHOWN = {
    "syntax_error.py": ("open", "Syntax error: expected ':'"),
    "not_a_flow.py": ("open", "defines no flow"),
    "empty.py": ("open", "defines no flow"),
    "binary.py": ("open", "is not UTF-8 text (bad byte at line 1)"),
    "no_end.py": ("open", "has no end step"),
    "missing_import.py": ("run", "raised ModuleNotFoundError while being imported"),
    "raises_at_import.py": ("run", "raised RuntimeError while being imported"),
    "unpicklable.py": ("task", "self.lock (lock cannot be pickled"),
    "fails_to_unpickle.py": ("task", "this value cannot be rebuilt"),
    "unicode_names.py": ("clean", "ÜnïcødeFlow"),
}


def panel_text(app: FlowtuiApp) -> str:
    panel = app.query_one(ProblemsPanel)
    return str(panel.render()) if panel.display else ""


def detail_text(app: FlowtuiApp) -> str:
    return " ".join(str(widget.render()) for widget in app.query("#detail Static"))


def test_the_corpus_is_covered() -> None:
    assert {p.name for p in CORPUS.glob("*.py")} == set(SHOWN)


@pytest.mark.parametrize("name", sorted(SHOWN))
async def test_each_bad_input_reads_in_the_tui(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    when, phrase = SHOWN[name]
    shutil.copy(CORPUS / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    app = FlowtuiApp(name, store=tmp_path / "store", follow=False)
    told: list[str] = []
    notify = app.notify
    app.notify = lambda message, *a, **k: (told.append(message), notify(message, *a, **k))[1]  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        if when == "open":
            shown = panel_text(app)
        elif when == "clean":
            assert panel_text(app) == ""
            shown = app.query_one(RunHeader).render_header().plain
        else:
            await pilot.press("r")
            if when == "run":
                await wait_until(pilot, lambda: "did not start" in panel_text(app), "a refusal")
                shown = panel_text(app)
                assert len(told) == 1, told  # one notification, not one per traceback line
            else:
                await run_to_the_end(pilot, app)  # the runner's exit handled before closing
                await wait_until(pilot, lambda: phrase in detail_text(app), "the task's error")
                shown = detail_text(app)
        assert phrase in shown, shown
        assert "flowtui/" not in shown.replace(str(tmp_path), "")  # none of flowtui's frames
