"""The timeline (T): the run's tasks as bars by step, on the run's clock, live while it runs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from flowtui.run.state import RunState
from flowtui.tui.app import FlowtuiApp
from flowtui.tui.controller import RunController
from flowtui.tui.widgets.timeline import TASKS_PER_STEP, TimelineView, timeline_rows
from flowtui.units import human_duration
from tests.tui.conftest import EXAMPLES
from tests.tui.test_failed_tasks import wide_failed_run
from tests.tui.test_snapshots import T0, feed

#: One duration as `human_duration` writes it (0.4s, 15.5s, 1m01s, 1h02m…).
DURATION = r"\d+\.\ds|\d+m\d{2}s|\d+h\d{2}m|0s"


def bar_cells(view: TimelineView, row: int) -> int:
    return view.render_line(row).text.count("█")


@pytest.fixture
def flaky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLOWTUI_STORE", raising=False)
    shutil.copy(EXAMPLES / "flaky.py", tmp_path / "flaky.py")
    shutil.copy(EXAMPLES / "foreach.py", tmp_path / "foreach.py")
    return "flaky.py"


async def test_t_shows_the_tasks_as_bars_that_grow_while_they_run(flaky: str) -> None:
    now = [T0 + 6.0]
    app = FlowtuiApp(flaky, store="store", follow=False, clock=lambda: now[0])
    async with app.run_test(size=(120, 40)) as pilot:
        feed(app, "FlakyFlow", [("start", "succeeded"), ("prepare", "running")], None, T0)
        await pilot.pause(0.3)
        assert not app.query(TimelineView)  # made when first asked for
        await pilot.press("T")
        await pilot.pause()
        view = app.query_one(TimelineView)
        assert view.display and not app.dag.display and view.has_focus
        lines = [view.render_line(y).text.rstrip() for y in range(5)]
        assert lines[1].startswith("start") and lines[3].startswith("prepare")
        assert lines[2].endswith("1.5s")  # start: T0+2 to T0+3.5
        running = bar_cells(view, 4)
        now[0] = T0 + 30.0  # prepare runs on: its bar reaches further right
        view.recompute()
        await pilot.pause()
        assert view.render_line(4).text.rstrip().endswith("26.0s")
        assert bar_cells(view, 4) > running
        await pilot.press("T")
        await pilot.pause()
        assert app.dag.display and not view.display


def test_a_wide_foreach_shows_its_first_tasks_and_a_summary_row() -> None:
    run = RunState()
    for event in wide_failed_run():
        run.apply(event)
    rows, span = timeline_rows(run, None, now=T0 + 100)
    labels = [row.label.strip() for row in rows]
    score = labels.index("score")
    assert labels[score + 1 : score + 3] == ["[0]", "[1]"]
    assert labels[score + 1 + TASKS_PER_STEP] == f"+{50 - TASKS_PER_STEP} more"
    summary = rows[score + 1 + TASKS_PER_STEP]
    assert summary.state == "failed"  # items 17 and 33 failed among the rest
    assert span == pytest.approx(52.0)  # the last task ends 52 s after the run started


async def test_the_timeline_follows_a_run_fed_after_it_opens(flaky: str) -> None:
    app = FlowtuiApp("foreach.py", store="store", follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("T")
        app.run_state = RunState()
        app.post_message(RunController.Events(wide_failed_run()))
        await pilot.pause(0.3)
        view = app.query_one(TimelineView)
        assert len(view.rows) == 2 + 1 + TASKS_PER_STEP + 1


async def test_the_time_axis_labels_never_run_into_each_other_on_a_narrow_screen(
    flaky: str,
) -> None:
    """At 60 columns the axis read "0.0s   3.9s    7.7s   11.615.5s": the last two labels
    ran together, and the run's length read as a number nobody wrote. A label that would
    touch another is left out; the run's start and its length always show."""
    now = [T0 + 6.0]
    app = FlowtuiApp(flaky, store="store", follow=False, clock=lambda: now[0])
    async with app.run_test(size=(60, 20)) as pilot:
        feed(app, "FlakyFlow", [("start", "succeeded"), ("prepare", "running")], None, T0)
        await pilot.pause(0.3)
        await pilot.press("T")
        await pilot.pause()
        view = app.query_one(TimelineView)
        for seconds in (15.5, 61.0, 3_725.0, 0.4):
            now[0] = T0 + 2.0 + seconds  # the run's clock starts at its first task, T0 + 2
            view.recompute()
            await pilot.pause()
            labels = view.render_line(0).text.split()
            assert labels[0] in ("0.0s", "0s"), labels
            assert labels[-1] == human_duration(view.span), labels
            assert all(re.fullmatch(DURATION, label) for label in labels), labels
