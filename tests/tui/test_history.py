"""Run history rows say what each run was run with and where a failed one failed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from textual.app import App
from textual.widget import Widget
from textual.widgets import DataTable, Static

from flowtui.client.runs import RunReader
from flowtui.store.records import RunRecord
from flowtui.tui.screens.history import RunHistoryScreen
from flowtui.tui.styles import stylesheets
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
    assert cells[1] == "✖ failed in train" and cells[-1] == "alpha=0.5 name=x"


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


def _runs(count: int) -> list[RunRecord]:
    """`count` runs, newest first; every third failed in `train_the_model`."""
    return [
        RunRecord(
            flow="ParamFlow",
            run_id=str(i),
            status="failed" if i % 3 == 0 else "succeeded",
            kind="run" if i % 4 else "resume",
            created=1_700_000_000.0 + i * 100,
            finished=1_700_000_012.3 + i * 100,
            file="f.py",
            params={"alpha": 0.5, "name": "experiment"},
            origin_run_id=str(i - 1) if i % 4 == 0 else None,
            resume_step=None,
            user="u",
            tags=(),
            system_tags=(),
            error=f"ParamFlow/{i}/train_the_model/3: ValueError: bad" if i % 3 == 0 else None,
        )
        for i in range(count, 0, -1)
    ]


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_a_long_history_fits_a_small_terminal_with_its_hint_and_failed_step(
    size: tuple[int, int],
) -> None:
    """30 runs at 80x24 and 60x20: the hint line under the table is on screen inside the
    dialog, and where a failed run failed is in view without scrolling sideways (it was
    the last column, past the right edge, and the table pushed the hint off the screen)."""

    class Styled(HistoryApp):
        CSS_PATH = stylesheets()

    app = Styled(_runs(30))
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: len(app.screen.query(DataTable)) == 1, "the history")
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == 30, "its rows")
        screen = app.screen.region
        hints = [s for s in app.screen.query(Static) if "esc closes" in str(s.render())]
        assert len(hints) == 1
        box = hints[0].parent
        assert isinstance(box, Widget)
        hint = hints[0].region
        assert hint.height == 1 and screen.contains_region(hint), (hint, screen)
        assert box.content_region.contains_region(hint), (hint, box.content_region)
        row = [cell.plain for cell in table.get_row_at(0)]
        failed = next(i for i, cell in enumerate(row) if "train_the_model" in cell)
        columns = list(table.columns.values())
        right = sum(c.get_render_width(table) for c in columns[: failed + 1])
        assert right <= table.scrollable_content_region.width, (row, right)
