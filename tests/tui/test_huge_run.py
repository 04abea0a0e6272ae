"""The TUI on a wide foreach: what a batch of a live run's events costs the screen, and the
counts it ends with (issue 14: keys must not wait behind redraws of a 10,000-task step)."""

from __future__ import annotations

import re
import time
from pathlib import Path

from rich.text import Text
from textual.strip import Strip
from textual.widgets import Static

from flowtui.run.events import (
    Event,
    RunFinished,
    RunStarted,
    StepExpanded,
    TaskFinished,
    TaskStarted,
)
from flowtui.run.state import RunState
from flowtui.run.status import RunStatus
from flowtui.tui.app import FlowtuiApp
from flowtui.tui.controller import RunController
from flowtui.tui.widgets.dag import DagView
from flowtui.tui.widgets.header import RunHeader
from flowtui.tui.widgets.tasks import TaskList
from tests.tui.test_app import run_to_the_end
from tests.tui.waiting import wait_until

SIZE = (120, 40)
WIDE = 10_000
FLOW = """
from flowtui import FlowSpec, step


class WideFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(int(self.width)))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        if self.input == 100:
            raise ValueError("item 100 is bad")
        self.x = self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def flow_file(tmp_path: Path, width: int) -> Path:
    path = tmp_path / "wide.py"
    path.write_text(FLOW.replace("int(self.width)", str(width)))
    return path


def started(task_id: int, index: int, ts: float) -> TaskStarted:
    return TaskStarted(f"WideFlow/1/body/{task_id}", "body", str(task_id), 0, index, "", "", ts=ts)


def finished(task_id: int, ts: float) -> TaskFinished:
    return TaskFinished(f"WideFlow/1/body/{task_id}", "body", str(task_id), 0, 0.01, ts=ts)


def half_run() -> list[Event]:
    """A 10,000-wide foreach half way: 5,000 tasks started, all but the last 10 finished."""
    t0 = 1_700_000_000.0
    events: list[Event] = [
        RunStarted("WideFlow", "1", "store", ts=t0),
        TaskStarted("WideFlow/1/start/1", "start", "1", 0, None, "", "", ts=t0),
        TaskFinished("WideFlow/1/start/1", "start", "1", 0, 1.0, ts=t0 + 1),
        StepExpanded("body", WIDE, ts=t0 + 1),
    ]
    for index in range(WIDE // 2):
        events.append(started(2 + index, index, t0 + 2 + index * 0.01))
        if index < WIDE // 2 - 10:
            events.append(finished(2 + index, t0 + 2.005 + index * 0.01))
    return events


def without_times(text: str) -> str:
    """`text` with its durations (`4.4s`, `1m 3s`) left out: a run's own times are stamped by
    its events live and read from the store after, which may differ by a tick."""
    return " ".join(re.sub(r"\b\d+(\.\d+)?(ms|s|m|h|d)\b", "", text).split())


def run_shown(app: FlowtuiApp) -> tuple[str, str, str]:
    """The header, the DAG and the selected step's info, without their durations."""
    header = app.query_one(RunHeader).render_header().plain
    return (
        without_times(header),
        without_times("\n".join(app.dag.lines)),
        without_times(step_info(app)),
    )


def step_info(app: FlowtuiApp) -> str:
    info = app.query_one("#step-info", Static)
    rendered = info.render()
    return rendered.plain if isinstance(rendered, Text) else str(rendered)


async def test_a_batch_of_a_wide_steps_events_repaints_only_what_it_changed(
    tmp_path: Path,
) -> None:
    """Half way through a 10,000-wide foreach, a batch (one task finished, one started) lays
    nothing out again and repaints only the list's changed row and the DAG's changed lines:
    the counts move, and a key pressed meanwhile does not wait for the whole screen."""
    app = FlowtuiApp(flow_file(tmp_path, WIDE), store=tmp_path / "store", follow=False)
    async with app.run_test(size=SIZE) as pilot:
        app.run_state = RunState()
        app.post_message(RunController.Events(half_run()))
        await pilot.pause()
        app.dag.select("body")
        tasks = app.query_one(TaskList)
        tasks.focus()
        await pilot.press("g")
        await wait_until(pilot, lambda: tasks.row_count == WIDE // 2)
        await pilot.pause(0.3)  # the redraws of the first batch are done
        assert "5,000 tasks" not in step_info(app) and "10,000 tasks" in step_info(app)
        assert "✔ 4,990" in step_info(app) and "● 10" in step_info(app)

        layouts: list[int] = []
        screen = app.screen
        original_layout = screen._refresh_layout

        def laid_out(*args: object, **kwargs: object) -> None:
            layouts.append(1)
            original_layout(*args, **kwargs)  # type: ignore[arg-type]

        screen._refresh_layout = laid_out  # type: ignore[method-assign]
        drawn: dict[str, list[int]] = {"tasks": [], "dag": []}
        for name, widget in (("tasks", tasks), ("dag", app.query_one(DagView))):
            original = widget.render_line

            def counted(y: int, original: object = original, name: str = name) -> Strip:
                drawn[name].append(y)
                return original(y)  # type: ignore[operator]

            widget.render_line = counted  # type: ignore[method-assign]

        t = 1_700_000_100.0
        last = 2 + WIDE // 2 - 1  # the newest running task, off screen (the list is at row 0)
        batch: list[Event] = [finished(last, t), started(last + 1, WIDE // 2, t)]
        app.post_message(RunController.Events(batch))
        await wait_until(pilot, lambda: "✔ 4,991" in step_info(app))
        await pilot.pause(0.3)

        assert "● 10" in step_info(app)  # one finished, one started
        assert tasks.row_count == WIDE // 2 + 1
        assert layouts == []  # the screen was not laid out again
        assert drawn["tasks"] == []  # neither changed row is on screen: no line of the list
        box = app.dag.boxes["body"]
        assert drawn["dag"] and set(drawn["dag"]) <= set(range(box.y, box.bottom))
        assert "4991/10000" in "\n".join(app.dag.lines)
        assert "✔ 4992" in app.query_one(RunHeader).render_header().plain  # and start


async def test_a_wide_foreach_watched_live_ends_as_the_store_shows_it(tmp_path: Path) -> None:
    """The counts kept as events fold (the header's, the DAG's, the wide step's tally) end
    equal to a fresh TUI's opened on the finished run, which reads them from the store."""
    path = flow_file(tmp_path, 120)
    store = tmp_path / "store"
    app = FlowtuiApp(path, store=store, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        app.dag.select("body")
        await pilot.pause()
        app.start_runner(app.runner_args("run", "--events", "--max-num-splits", "200"))
        await run_to_the_end(pilot, app)
        await pilot.pause(0.3)
        app.dag.select("body")
        await pilot.pause()
        live = run_shown(app)
        run_id = app.run_state.run_id if app.run_state is not None else ""
    assert "✖ failed" in live[0] and "✖ 1" in live[0]
    assert "120 tasks" in live[2] and "✖ 1" in live[2]

    fresh = FlowtuiApp(path, store=store, follow=False)
    async with fresh.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: fresh.run_state is not None and fresh.run_state.run_id == run_id
        )
        fresh.dag.select("body")
        await pilot.pause()
        stored = run_shown(fresh)
    assert live == stored


async def test_the_end_of_a_run_is_drawn_at_once_even_while_redraws_are_paced(
    tmp_path: Path,
) -> None:
    """Redraws of a live run wait their turn when they are costly; the run's end does not: once
    the app knows the run ended, the DAG shows it as the header does (a test that read both off
    one screen saw "succeeded" above an `end` box still running)."""
    app = FlowtuiApp(flow_file(tmp_path, 2), store=tmp_path / "store", follow=False)
    t0 = 1_700_000_000.0
    async with app.run_test(size=SIZE) as pilot:
        app.run_state = RunState()
        app.post_message(RunController.Events([RunStarted("WideFlow", "1", "store", ts=t0)]))
        await wait_until(pilot, lambda: app.run_state is not None and app.run_state.run_id == "1")
        app._next_view = time.monotonic() + 3600  # as if the last redraw had cost an hour
        steps = ("start", "body", "join", "end")
        events: list[Event] = []
        for n, step in enumerate(steps, start=1):
            pathspec = f"WideFlow/1/{step}/{n}"
            events.append(TaskStarted(pathspec, step, str(n), 0, None, "", "", ts=t0 + n))
            events.append(TaskFinished(pathspec, step, str(n), 0, 0.5, ts=t0 + n + 0.5))
        events.append(RunFinished("WideFlow", "1", RunStatus.SUCCEEDED, 5.0, ts=t0 + 5))
        app.post_message(RunController.Events(events))
        await wait_until(pilot, lambda: app.run_state is not None and app.run_state.status.done)
        assert {step: app.dag.states[step].state for step in steps} == dict.fromkeys(
            steps, "succeeded"
        )
