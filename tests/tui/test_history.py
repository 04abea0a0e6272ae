"""Run history rows say what each run was run with and where a failed one failed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from textual.app import App
from textual.widgets import DataTable

from flowtui.client.runs import RunReader
from flowtui.store.records import RunRecord
from flowtui.tui.screens.history import RunHistoryScreen
from tests.tui.waiting import wait_until


class HistoryApp(App[None]):
    def __init__(self, runs: list[RunRecord]) -> None:
        super().__init__()
        self.runs = runs

    def on_mount(self) -> None:
        self.push_screen(RunHistoryScreen("ParamFlow", self.runs))


def test_history_rows_show_parameters_and_the_failed_step() -> None:
    from flowtui.tui.screens.history import describe_run

    run = RunRecord(
        flow="F",
        run_id="7",
        status="failed",
        kind="run",
        created=0.0,
        finished=12.0,
        file="f.py",
        params={"alpha": 0.5, "name": "x"},
        origin_run_id=None,
        resume_step=None,
        user="u",
        tags=(),
        system_tags=(),
        error="F/7/train/3: ValueError: bad",
    )
    cells = [cell.plain for cell in describe_run(run, now=12.0)]
    assert cells[-2:] == ["alpha=0.5 name=x", "✖ train"]


FLOW_WITH_PARAMETERS = """
from flowtui import FlowSpec, Parameter, step


class ParamFlow(FlowSpec):
    alpha = Parameter("alpha", default=0.5)
    name = Parameter("name", default="x")
    sizes = Parameter("sizes", default="1,2", type=str)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


async def test_the_history_shows_a_real_runs_parameters_as_values(tmp_path: Path) -> None:
    """The store keeps each parameter as a stored value ({hash, type, size, repr, value}):
    the history printed that record, "alpha={'hash': 'f20eca1c…", not alpha=0.5."""
    flow = tmp_path / "paramflow.py"
    flow.write_text(FLOW_WITH_PARAMETERS)
    store = tmp_path / "store"
    command = [sys.executable, "-m", "flowtui", "run", str(flow), "--store", str(store), "-q"]
    run = subprocess.run(
        [*command, "--alpha", "0.25"], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert run.returncode == 0, run.stderr
    reader = RunReader(store)
    try:
        runs = reader.runs("ParamFlow")
    finally:
        reader.close()
    app = HistoryApp(runs)
    async with app.run_test(size=(120, 20)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, RunHistoryScreen), "the history")
        await pilot.pause()
        row = app.screen.query_one(DataTable).get_row_at(0)
        assert row[5].plain == "alpha=0.25 name='x' sizes='1,…"  # cut at 30 cells
