"""Runs that real Metaflow made beside the flow file, in the TUI: listed in the run history
(marked as Metaflow's), opened as a flowtui run is (the DAG's states, each task's logs, the
artifacts with their previews), read through Metaflow's own client, writing nothing into its
datastore."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from textual.command import CommandList
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from flowtui.tui.app import FlowtuiApp
from flowtui.tui.screens.artifacts import ArtifactsScreen
from flowtui.tui.screens.cards import CardsScreen
from flowtui.tui.screens.history import RunHistoryScreen
from flowtui.tui.widgets.header import RunHeader
from flowtui.tui.widgets.task_detail import TaskDetail
from flowtui.tui.widgets.tasks import TaskList
from tests.tui.waiting import wait_until

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("metaflow") is None,
    reason="real Metaflow is not installed (pip install -e '.[test]' installs it)",
)

FLOW = """
from metaflow import FlowSpec, Parameter, card, step


class TinyFlow(FlowSpec):
    fail = Parameter("fail", default=0)

    @card
    @step
    def start(self):
        print("hello from start")
        self.numbers = [10, 20, 30]
        self.next(self.each, foreach="numbers")

    @step
    def each(self):
        print("each got", self.input)
        if self.fail and self.input == 20:
            raise ValueError("twenty is bad")
        self.square = self.input ** 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.square for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total)


if __name__ == "__main__":
    TinyFlow()
"""


def metaflow_run(folder: Path, *args: str) -> str:
    """Run the flow with real Metaflow (local metadata and datastore beside it); its run id."""
    run_id_file = folder / "run-id"
    run_id_file.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("METAFLOW_")}
    env |= {
        "METAFLOW_HOME": str(folder / "metaflow-home"),
        "METAFLOW_DEFAULT_METADATA": "local",
        "METAFLOW_DEFAULT_DATASTORE": "local",
        "USERNAME": "tester",
    }
    command = [sys.executable, "flow.py", "--quiet", "run", "--run-id-file", str(run_id_file)]
    subprocess.run([*command, *args], cwd=folder, env=env, capture_output=True, timeout=300)
    return run_id_file.read_text().strip()


@pytest.fixture(autouse=True)
def real_metaflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """`import metaflow` is Metaflow's, as in any TUI process: a CLI test that ran a flow in
    this test process (CliRunner) left flowtui's alias for its runner in `sys.modules`."""
    module = sys.modules.get("metaflow")
    if module is not None and getattr(module, "__name__", "") != "metaflow":
        monkeypatch.delitem(sys.modules, "metaflow")


@pytest.fixture(scope="module")
def metaflow_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A flow file with two runs Metaflow made beside it: (file, succeeded id, failed id)."""
    folder = tmp_path_factory.mktemp("mf")
    (folder / "flow.py").write_text(FLOW)
    good = metaflow_run(folder)
    bad = metaflow_run(folder, "--fail", "1")
    return folder / "flow.py", good, bad


def datastore_files(folder: Path) -> list[tuple[str, int]]:
    return sorted(
        (str(p.relative_to(folder)), p.stat().st_mtime_ns)
        for p in (folder / ".metaflow").rglob("*")
    )


async def open_history(pilot: Pilot[None], app: FlowtuiApp) -> RunHistoryScreen:
    await pilot.press("ctrl+p", *"run history")

    def listed() -> bool:
        hits = app.screen.query(CommandList)
        return bool(hits) and hits.first().option_count > 0

    await wait_until(pilot, listed, "the palette's hit")
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, RunHistoryScreen), "the history")
    screen = app.screen
    assert isinstance(screen, RunHistoryScreen)
    return screen


async def open_metaflow_run(pilot: Pilot[None], app: FlowtuiApp, run_id: str) -> list[str]:
    """Open the history, wait for Metaflow's runs, open `run_id`; its row as shown."""
    screen = await open_history(pilot, app)
    table = screen.query_one(DataTable)
    key = f"metaflow:{run_id}"
    await wait_until(pilot, lambda: any(r.run_id == run_id for r in screen.runs), "Metaflow's")
    row = [cell.plain for cell in table.get_row(key)]
    table.move_cursor(row=table.get_row_index(key))
    await pilot.press("enter")
    await wait_until(
        pilot,
        lambda: app.run_state is not None and app.run_state.run_id == run_id,
        "the run opened",
    )
    await pilot.pause(0.1)
    return row


async def test_a_metaflow_run_opens_with_its_dag_logs_and_artifact_previews(
    metaflow_runs: tuple[Path, str, str], tmp_path: Path
) -> None:
    file, good, _ = metaflow_runs
    before = datastore_files(file.parent)
    app = FlowtuiApp(file, store=tmp_path / "store")  # no flowtui runs: only Metaflow's
    async with app.run_test(size=(140, 44)) as pilot:
        row = await open_metaflow_run(pilot, app, good)
        assert row[1].endswith("succeeded") and row[4] == "Metaflow run"

        assert {s: st.state for s, st in app.dag.states.items()} == dict.fromkeys(
            ("start", "each", "join", "end"), "succeeded"
        )
        app.dag.select("start")
        detail = app.query_one(TaskDetail)
        await wait_until(
            pilot,
            lambda: (
                detail.stdout.line_count >= 1
                and "hello from start" in detail.stdout.lines.line_text(0).plain
            ),
            "start's stdout",
        )
        app.dag.select("each")
        await wait_until(pilot, lambda: len(app.query_one(TaskList).tasks) == 3, "3 tasks")

        app.dag.select("start")
        await pilot.pause(0.1)
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ArtifactsScreen), "artifacts")
        screen = app.screen
        assert isinstance(screen, ArtifactsScreen)
        table = screen.query_one("#artifact-list", DataTable)
        await wait_until(pilot, lambda: table.row_count == 2, "the list")
        rows = [[c.plain for c in table.get_row_at(r)][:2] for r in range(2)]
        assert rows == [["fail", "int"], ["numbers", "list"]]  # a parameter is an artifact
        await pilot.press("down")
        await wait_until(
            pilot,
            lambda: screen.preview is not None and screen.previewing == "numbers",
            "the preview",
        )
        text = str(screen.query_one("#artifact-preview-text", Static).render())
        assert screen.preview is not None and screen.preview.ok, text
        assert "[10, 20, 30]" in text

        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ArtifactsScreen), "closed")
        await pilot.press("c")  # the default card Metaflow made for start: its artifacts
        await wait_until(pilot, lambda: isinstance(app.screen, CardsScreen), "the cards")
        cards = app.screen
        assert isinstance(cards, CardsScreen)
        await wait_until(pilot, lambda: cards.draws >= 1, "the card drawn")
        await pilot.pause(0.1)
        static = cards.query_one("#cards-text", Static)
        lines = static.render_lines(Region(0, 0, *static.size))
        drawn = "\n".join(strip.text for strip in lines)
        assert "numbers" in drawn and "[10, 20, 30]" in drawn, drawn

    assert datastore_files(file.parent) == before  # reading wrote nothing into .metaflow/


async def test_a_failed_metaflow_run_shows_the_failed_step_and_its_error(
    metaflow_runs: tuple[Path, str, str], tmp_path: Path
) -> None:
    file, _, bad = metaflow_runs
    app = FlowtuiApp(file, store=tmp_path / "store")
    async with app.run_test(size=(140, 44)) as pilot:
        row = await open_metaflow_run(pilot, app, bad)
        assert row[1] == "✖ failed in each"  # the step that failed it, beside its status
        assert app.run_state is not None and app.run_state.status.value == "failed"
        assert app.dag.states["start"].state == "succeeded"
        assert app.dag.states["each"].state == "failed"
        await wait_until(pilot, lambda: app.dag.selected == "each", "opened on its failure")
        detail = app.query_one(TaskDetail)
        await wait_until(
            pilot,
            lambda: detail.shown is not None and detail.shown.error is not None,
            "the failed task shown",
        )
        assert detail.shown is not None and detail.shown.error is not None
        assert detail.shown.error.summary() == "ValueError: twenty is bad"
        # the user's frame, not Metaflow's own CLI and task runner
        assert detail.shown.error.traceback.splitlines()[1].startswith(f'  File "{file}"')
        assert "Metaflow run" in app.query_one(RunHeader).render_header().plain

        app.dag.focus()
        await pilot.press("R")  # flowtui does not resume Metaflow's runs: it says so
        await wait_until(
            pilot,
            lambda: any("resume it with Metaflow" in n.message for n in app._notifications),
            "the sentence",
        )
        assert app.controller is None  # nothing was started


def test_flowtui_runs_says_a_failed_metaflow_run_failed(
    metaflow_runs: tuple[Path, str, str], tmp_path: Path
) -> None:
    """The CLI reads the same status: a failed run never reaches `end`, and is not running."""
    file, good, bad = metaflow_runs
    env = {k: v for k, v in os.environ.items() if k != "FLOWTUI_STORE"}
    listed = subprocess.run(
        [sys.executable, "-m", "flowtui", "runs", str(file), "--store", str(tmp_path / "s")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines() if line.strip()}
    assert "failed" in rows[bad] and "running" not in rows[bad]
    assert "succeeded" in rows[good]
