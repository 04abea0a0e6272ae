"""Each step on the DAG shows how long it took, and a running step how long it has run so
far, ticking with the app's clock (fixed here: the same on any machine)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flowtui.run.events import Event, RunStarted, TaskFinished, TaskStarted
from flowtui.run.state import RunState
from flowtui.tui.app import FlowtuiApp
from flowtui.tui.controller import RunController

SIZE = (120, 40)
T0 = 1_700_000_000.0


def started(step: str, task_id: int, ts: float) -> TaskStarted:
    pathspec = f"BranchJoinFlow/1/{step}/{task_id}"
    return TaskStarted(pathspec, step, str(task_id), 0, None, "out", "err", ts=ts)


def box_text(app: FlowtuiApp, step: str) -> str:
    box = app.dag.boxes[step]
    return " ".join(line[box.x : box.right + 1] for line in app.dag.lines[box.y : box.bottom])


async def test_steps_show_the_time_they_took_and_running_ones_tick(
    here: Callable[[str], str],
) -> None:
    now = [T0 + 7]
    path = Path(here("branch_join.py"))
    app = FlowtuiApp(path, store="store", follow=False, clock=lambda: now[0])
    async with app.run_test(size=SIZE) as pilot:
        assert app.graph is not None
        events: list[Event] = [
            RunStarted(app.graph.flow_name, "1", "store", ts=T0),
            started("start", 1, T0 + 1),
            TaskFinished("BranchJoinFlow/1/start/1", "start", "1", 0, 1.5, ts=T0 + 2.5),
            started("measure", 2, T0 + 3),
        ]
        app.run_state = RunState()  # as when the app starts a run
        app.post_message(RunController.Events(events))
        await pilot.pause()
        assert "✔ done" in box_text(app, "start") and "1.5s" in box_text(app, "start")
        assert "● running" in box_text(app, "measure") and "4.0s" in box_text(app, "measure")
        assert "s" not in box_text(app, "join").split("pending")[1]  # not started: no time
        now[0] = T0 + 9
        app.tick_dag()
        await pilot.pause()
        assert "6.0s" in box_text(app, "measure")
        assert "1.5s" in box_text(app, "start")  # a finished step's time stays
