"""Cards end to end: a flow's @card and current.card, stored with the task, read back by the
client (`get_cards`), printed by `flowtui card view` and written as a standalone HTML page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cardrun import CardRun

from flowtui.client.cards import get_cards

FLOW = """
from metaflow import FlowSpec, Parameter, card, current, step
from metaflow.cards import Markdown, ProgressBar, Table, VegaChart

POINTS = [{"epoch": i, "loss": 10 - i} for i in range(6)]


class ReportFlow(FlowSpec):
    rate = Parameter("rate", default=0.5)

    @card(type="blank", id="report", options={"title": "Training"})
    @card
    @step
    def start(self):
        self.model = "tiny [red]model[/red]"
        current.card.append(Markdown("## Notes\\n- **bold** point"))
        report = current.card["report"]
        report.append(Table([["<b>cell</b>", 3]], headers=["name", "n"]))
        report.append(ProgressBar(max=4, label="epochs", value=0), id="bar")
        report.append(VegaChart({
            "mark": "line", "data": {"values": POINTS},
            "encoding": {"x": {"field": "epoch", "type": "quantitative"},
                         "y": {"field": "loss", "type": "quantitative"}},
        }))
        for i in range(1, 5):
            report.components["bar"].update(i)
            report.refresh(force=True)
        self.next(self.end)

    @step
    def end(self):
        current.card.append(Markdown("nowhere to go"))
"""


def test_cards_are_stored_with_the_task_and_read_back(cards: CardRun) -> None:
    ran = cards.run(FLOW)
    assert ran.code == 0, ran.output
    run = cards.run_obj("ReportFlow")
    found = list(get_cards(run["start"].task))
    assert [(c.type, c.id) for c in found] == [("default", None), ("blank", "report")]
    default, report = found
    assert default.final and report.final and report.title == "Training"
    assert default.components[0]["source"].startswith("## Notes")
    listed = default.document
    assert [a["name"] for a in listed["artifacts"]] == ["model"]
    assert [(p["name"], p["data"]) for p in listed["parameters"]] == [("rate", "0.5")]
    assert report.get_data()["bar"]["value"] == 4  # the last update, kept
    assert [c.id for c in get_cards(run["start"].task, id="report")] == ["report"]
    assert list(get_cards(run["end"].task)) == []  # no @card: nothing stored ...
    assert "has no @card" in ran.output  # ... and the step was told why


def test_card_view_prints_the_card_for_the_terminal(cards: CardRun) -> None:
    assert cards.run(FLOW).code == 0
    shown = cards.cli("card", "view", "ReportFlow/1/start", "--id", "report")
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert "Training" in text and "<b>cell</b>" in text  # user text shown as written
    assert "epochs" in text and "4/4" in text and "100%" in text
    assert re.search(r"10\.0+┤", text), text  # the loss chart's y axis, drawn
    default = cards.cli("card", "view", "ReportFlow/1/start")
    assert "Notes" in default.stdout and "tiny [red]model[/red]" in default.stdout


def test_card_view_html_is_a_standalone_page(cards: CardRun, tmp_path: Path) -> None:
    assert cards.run(FLOW).code == 0
    page = tmp_path / "card.html"
    wrote = cards.cli("card", "view", "ReportFlow/1/start", "--id", "report", "--html", str(page))
    assert wrote.returncode == 0, wrote.stderr
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<table>" in html
    assert "&lt;b&gt;cell&lt;/b&gt;" in html  # escaped, never injected
    assert '<progress value="4" max="4">' in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing to fetch
    assert "<script" not in html


def test_card_view_says_what_is_wrong_in_one_sentence(cards: CardRun) -> None:
    assert cards.run(FLOW).code == 0
    none = cards.cli("card", "view", "ReportFlow/1/end")
    assert none.returncode == 2
    assert none.stderr.startswith("error: Task ReportFlow/1/end/")
    assert "has no cards; add @card" in none.stderr and "Traceback" not in none.stderr
    wrong = cards.cli("card", "view", "ReportFlow/1/start", "--id", "nope")
    assert "its cards: default, blank --id report" in wrong.stderr


def test_a_card_never_fails_its_task(cards: CardRun) -> None:
    ran = cards.run(
        """
        from metaflow import FlowSpec, card, current, step
        from metaflow.cards import Image, Markdown

        class Broken:
            def __repr__(self):
                raise RuntimeError("no repr")

        class SafeFlow(FlowSpec):
            @card(type="nonexistent_type")
            @card(id="pics")
            @step
            def start(self):
                self.broken = Broken()
                current.card["pics"].append(Image(b"not an image", "junk"))
                current.card["pics"].append("just a string")
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    )
    assert ran.code == 0, ran.output
    found = list(get_cards(cards.run_obj("SafeFlow")["start"].task))
    by_type = {c.type: c for c in found}
    assert "Bytes not parsable as image" in by_type["default"].components[0]["data"]
    assert "not a card component" in ran.output
    assert "not available locally" in by_type["nonexistent_type"].document["error"]


def test_a_resumed_run_shows_the_cards_of_the_tasks_it_reused(cards: CardRun) -> None:
    source = """
        import os
        from metaflow import FlowSpec, card, current, step
        from metaflow.cards import Markdown

        class ResumeFlow(FlowSpec):
            @card(type="blank")
            @step
            def start(self):
                current.card.append(Markdown("# made once"))
                self.next(self.end)

            @step
            def end(self):
                if os.path.exists("broken"):
                    raise RuntimeError("broken")
        """
    (cards.root / "broken").touch()
    assert cards.run(source).code != 0
    (cards.root / "broken").unlink()
    resumed = cards.cli("resume", "flow.py")
    assert resumed.returncode == 0, resumed.stderr
    run = cards.run_obj("ResumeFlow")
    assert run.id == "2"
    (reused,) = get_cards(run["start"].task)
    assert reused.from_resumed and reused.pathspec == "ResumeFlow/1/start/1"
    assert reused.components[0]["source"] == "# made once"


WITH_CARD = """
from metaflow import FlowSpec, card, step


class WithCardFlow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        self.next(self.middle)

    @card(type="blank", id="notes")
    @step
    def middle(self):
        self.next(self.end)

    @card
    @step
    def end(self):
        pass
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_with_card_gives_every_step_a_default_card(
    cards: CardRun, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run --with card`, as Metaflow's tutorials use it: every step gets the default card,
    beside a card of another type or id it has; a step with the default card keeps one. A
    spawned task (macOS's default) imports the flow afresh and adds it too."""
    monkeypatch.setenv("FLOWTUI_START_METHOD", method)
    (cards.root / "flow.py").write_text(WITH_CARD)
    ran = cards.cli("run", "flow.py", "--with", "card")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    run = cards.run_obj("WithCardFlow")
    found = {step.id: sorted((c.type, c.id or "") for c in get_cards(step.task)) for step in run}
    assert found == {
        "start": [("default", "")],
        "middle": [("blank", "notes"), ("default", "")],
        "end": [("default", "")],
    }
    default = next(c for c in get_cards(run["start"].task) if c.type == "default")
    assert [a["name"] for a in default.document["artifacts"]] == ["x"]


def test_cards_draw_in_a_notebook_and_open_in_a_browser(cards: CardRun, tmp_path: Path) -> None:
    """`get_cards(task)` as a notebook cell's last line shows the cards (`_repr_html_`, as
    Metaflow's), and `Card.view()` opens the page in the browser `$BROWSER` names."""
    import html
    import os
    import shlex
    import subprocess
    import sys

    ran = cards.run(FLOW)
    assert ran.code == 0, ran.output
    found = get_cards(cards.run_obj("ReportFlow")["start"].task)
    drawn = found._repr_html_()
    frames = re.findall(r'srcdoc="([^"]*)"', drawn)
    assert [html.unescape(frame) for frame in frames] == [card.get() for card in found]
    assert "<h3>Training</h3>" in drawn  # each card under its title (or its type)
    assert re.findall(r'srcdoc="([^"]*)"', found[1]._repr_html_()) == frames[1:]
    assert "has no cards" in get_cards(cards.run_obj("ReportFlow")["end"].task)._repr_html_()

    opened = tmp_path / "opened.html"
    copier = tmp_path / "browser.py"  # a browser that keeps the page it was asked to open
    copier.write_text(
        "import shutil, sys, urllib.parse\n"
        f"shutil.copy(urllib.parse.urlparse(sys.argv[1]).path, {str(opened)!r})\n"
    )
    browser = f"{shlex.quote(sys.executable)} {shlex.quote(str(copier))} %s"
    script = "import sys; from flowtui import get_cards; print(get_cards(sys.argv[1])[1].view())"
    task = cards.run_obj("ReportFlow")["start"].task.pathspec
    viewed = subprocess.run(
        [sys.executable, "-c", script, task],
        env={**os.environ, "BROWSER": browser, "FLOWTUI_STORE": str(cards.store_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert viewed.returncode == 0, viewed.stderr
    assert opened.read_text() == found[1].get()  # the page the browser was given
    assert Path(viewed.stdout.strip()).read_text() == found[1].get()  # still there after
