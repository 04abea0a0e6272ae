"""Finding the failure in a wide foreach: the failed task is selected, `f`/`F` jump between
failures, the task list sorts and filters by state, the resume plan counts tasks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import Static

from flowtui.run.events import (
    Event,
    RunFinished,
    RunStarted,
    TaskFailed,
    TaskFinished,
    TaskStarted,
)
from flowtui.run.state import RunState
from flowtui.run.status import RunStatus, TaskError
from flowtui.tui.app import FlowtuiApp
from flowtui.tui.controller import RunController
from flowtui.tui.widgets.task_detail import TaskDetail
from flowtui.tui.widgets.tasks import TaskList
from tests.tui.conftest import EXAMPLES
from tests.tui.test_snapshots import T0
from tests.tui.waiting import wait_until

FLOW = "ForeachFlow"
WIDTH = 50
FAILING = (17, 33)


def task(step: str, task_id: int, index: int | None, outcome: str) -> list[Event]:
    pathspec = f"{FLOW}/1/{step}/{task_id}"
    started = TaskStarted(pathspec, step, str(task_id), 0, index, "", "", ts=T0 + task_id)
    end: Event
    if outcome == "failed":
        error = TaskError("ValueError", f"bad item {index}", "")
        end = TaskFailed(pathspec, step, str(task_id), 0, False, error, ts=T0 + task_id + 1)
    else:
        end = TaskFinished(pathspec, step, str(task_id), 0, 1.0, ts=T0 + task_id + 1)
    return [started, end]


def wide_failed_run() -> list[Event]:
    events: list[Event] = [RunStarted(FLOW, "1", "store", ts=T0)]
    events += task("start", 1, None, "succeeded")
    for index in range(WIDTH):
        outcome = "failed" if index in FAILING else "succeeded"
        events += task("score", 2 + index, index, outcome)
    failed = f"{FLOW}/1/score/{2 + FAILING[0]}"
    events.append(RunFinished(FLOW, "1", RunStatus.FAILED, 90.0, failed=failed, ts=T0 + 90))
    return events


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FlowtuiApp:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLOWTUI_STORE", raising=False)
    shutil.copy(EXAMPLES / "foreach.py", tmp_path / "foreach.py")
    return FlowtuiApp("foreach.py", store="store", follow=False)


async def fail_wide(app: FlowtuiApp) -> None:
    app.run_state = RunState()
    app.post_message(RunController.Events(wide_failed_run()))
    app.post_message(RunController.Exited(1, cancelled=False))


def selected_index(app: FlowtuiApp) -> int | None:
    selected = app.query_one(TaskList).selected
    return selected.index if selected is not None else None


async def test_the_failed_task_of_a_wide_foreach_is_selected(app: FlowtuiApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await fail_wide(app)
        await pilot.pause(0.3)
        assert app.dag.selected == "score"
        assert selected_index(app) == FAILING[0]
        shown = app.query_one(TaskDetail).shown
        assert shown is not None and shown.index == FAILING[0]
        info = str(app.query_one("#step-info", Static).render())
        assert "50 tasks" in info and "✔ 48" in info and "✖ 2" in info


async def test_f_and_shift_f_jump_between_failures_across_the_run(app: FlowtuiApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await fail_wide(app)
        await pilot.pause(0.3)
        app.dag.select("start")
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        assert (app.dag.selected, selected_index(app)) == ("score", 17)
        await pilot.press("f")
        await pilot.pause()
        assert selected_index(app) == 33
        await pilot.press("f")  # wraps around
        await pilot.pause()
        assert selected_index(app) == 17
        await pilot.press("F")
        await pilot.pause()
        assert selected_index(app) == 33
        shown = app.query_one(TaskDetail).shown
        assert shown is not None and shown.index == 33


async def test_the_task_list_sorts_and_filters_by_state(app: FlowtuiApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await fail_wide(app)
        await pilot.pause(0.3)
        tasks = app.query_one(TaskList)
        tasks.focus()
        await pilot.press("o")  # by state: the failures first
        await pilot.pause()
        assert [t.index for t in tasks.tasks[:2]] == [17, 33]
        assert "by state" in str(app.query_one("#step-info", Static).render())
        await pilot.press("v")  # only the failed ones
        await pilot.pause()
        assert [t.index for t in tasks.tasks] == [17, 33]
        assert tasks.row_count == 2


def huge_run(width: int, failing: int) -> list[Event]:
    events = wide_failed_run()[:1] + task("start", 1, None, "succeeded")
    for index in range(width):
        outcome = "failed" if index == failing else "succeeded"
        events += task("score", 2 + index, index, outcome)
    return events


async def test_a_ten_thousand_task_step_lists_every_task_counts_all_and_finds_the_failure(
    app: FlowtuiApp,
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        app.run_state = RunState()
        app.post_message(RunController.Events(huge_run(10_000, 7_777)))
        await pilot.pause(0.5)
        app.dag.select("score")
        await pilot.pause(0.5)
        tasks = app.query_one(TaskList)
        assert tasks.row_count == 10_000  # every task, not a window of them
        info = str(app.query_one("#step-info", Static).render())
        assert "10,000 tasks" in info and "✖ 1" in info and "█" * 20 in info
        assert selected_index(app) == 7_777  # shown afresh: on its failure
        app.dag.select("start")
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        assert (app.dag.selected, selected_index(app)) == ("score", 7_777)


async def test_escape_codes_in_an_exception_are_written_out_not_sent_to_the_terminal(
    app: FlowtuiApp,
) -> None:
    """`raise ValueError("\\x1b[2J…")`: the failure panel sent the message as it was, and the
    ESC[2J cleared the whole screen under the app (ESC[31m coloured it)."""
    message = "bad \x1b[2J\x1b[31mRED\x1b[0m [red]markup[/red]"
    trace = f"Traceback (most recent call last):\nValueError: {message}\n"
    pathspec = f"{FLOW}/1/start/1"
    events: list[Event] = [
        RunStarted(FLOW, "1", "store", ts=T0),
        TaskStarted(pathspec, "start", "1", 0, None, "", "", ts=T0),
        TaskFailed(
            pathspec, "start", "1", 0, False, TaskError("ValueError", message, trace), ts=T0 + 1
        ),
        RunFinished(FLOW, "1", RunStatus.FAILED, 1.0, failed=pathspec, ts=T0 + 1),
    ]
    async with app.run_test(size=(120, 40)) as pilot:
        app.run_state = RunState()
        app.post_message(RunController.Events(events))
        app.post_message(RunController.Exited(1, cancelled=False))
        failure = app.query_one("#task-failure-text", Static)
        await wait_until(pilot, lambda: "RED" in str(failure.render()), "the failure")
        await pilot.pause()
        drawn = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "\x1b" not in drawn
        shown = str(failure.render())
        assert r"ValueError: bad \x1b[2J\x1b[31mRED\x1b[0m [red]markup[/red]" in shown


async def test_f_is_offered_only_when_the_run_shown_has_a_failed_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before any run and after a run that succeeded, the footer offered `f Next failed`,
    which said "No task of this run has failed." (with no run at all); now it is greyed, and
    lit once the run shown has a failure."""
    from tests.tui.test_app import copy_example, run_to_the_end

    path = copy_example(tmp_path, "flaky.py")
    app = FlowtuiApp(path, store=tmp_path / "store")

    def offered() -> bool:
        active = app.screen.active_bindings.get("f")
        return (
            active is not None
            and active.binding.action.startswith("next_failure")
            and (active.enabled)
        )

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert not offered()  # no run yet
        monkeypatch.setenv("FLOWTUI_FIX", "1")
        await pilot.press("r")
        await run_to_the_end(pilot, app)
        assert app.run_state is not None and app.run_state.status.value == "succeeded"
        assert not offered()
        monkeypatch.delenv("FLOWTUI_FIX")
        await pilot.press("r")
        await wait_until(pilot, lambda: app.run_state is not None and app.run_state.run_id == "2")
        await run_to_the_end(pilot, app)
        assert app.run_state is not None and app.run_state.status.value == "failed"
        await wait_until(pilot, offered, "f to be offered")
