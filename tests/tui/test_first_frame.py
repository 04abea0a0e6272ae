"""The first frame draws what it shows and no more: the task detail's logs (two tabs, each a
log view with a search box) are mounted when a task is first shown, then work as before."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import TabbedContent

from flowtui.run.state import TaskState
from flowtui.run.status import TaskError, TaskStatus
from flowtui.tui.app import FlowtuiApp
from flowtui.tui.widgets.logs import LogView
from flowtui.tui.widgets.task_detail import TaskDetail
from tests.tui.conftest import EXAMPLES
from tests.tui.test_snapshots import T0, feed
from tests.tui.waiting import wait_until

FAILED = [("start", "succeeded"), ("prepare", "succeeded"), ("train", "failed")]


async def test_no_logs_until_a_task_is_shown_then_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(EXAMPLES / "flaky.py", tmp_path / "flaky.py")
    app = FlowtuiApp("flaky.py", store="store", follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        detail = app.query_one(TaskDetail)
        assert app.dag.graph is not None  # the first frame is up: the DAG is drawn
        assert detail.query_one("#task-empty").display  # "Select a task to see its logs."
        assert not app.query(TabbedContent) and not app.query(LogView)
        assert not app.query("Input")  # nor the logs' search boxes

        feed(app, "FlakyFlow", FAILED, "failed", T0)  # the run opens on its failed task
        await wait_until(pilot, lambda: detail.logs_up, "the task's logs")
        assert not detail.query_one("#task-empty").display
        assert app.query_one("#task-logs", TabbedContent).active == "stdout-tab"
        stdout = detail.shown_log
        assert stdout.id == "stdout" and stdout in app.query(LogView)
        await wait_until(pilot, lambda: stdout.line_count == 1, "the log's line")
        assert stdout.lines.render_line(0).text.startswith("train says hello")


def test_the_app_names_metaflow_s_runs_as_the_client_does() -> None:
    # the app keeps its own copy of the name (the first frame imports no client)
    from flowtui.client import metaflow_state
    from flowtui.tui import stored_runs

    assert stored_runs.METAFLOW == metaflow_state.METAFLOW


@pytest.mark.parametrize("failed", [False, True], ids=["stdout-in-front", "stderr-in-front"])
def test_a_task_shown_as_the_app_closes_leaves_no_traceback(tmp_path: Path, failed: bool) -> None:
    """`q` right after a task is first shown: its tabs of logs are still mounting while the
    app closes. Textual made the chosen tab active in the tabs' mount, which raised (and the
    app's exit printed a traceback) when the tabs were already being removed."""
    stderr = tmp_path / "task.err"
    stderr.write_text("ValueError: boom\n")
    task = TaskState(
        "F/1/start/1",
        "start",
        "1",
        TaskStatus.FAILED if failed else TaskStatus.SUCCEEDED,
        stderr=str(stderr),
        error=TaskError("ValueError", "boom") if failed else None,
    )

    class Detail(App[None]):
        def compose(self) -> ComposeResult:
            yield TaskDetail()

    async def show_then_quit(turns: int) -> None:
        app = Detail()
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            app.query_one(TaskDetail).show(task)
            for _ in range(turns):  # turns of the event loop, not time: each lets a message in
                await asyncio.sleep(0)
            app.exit()

    for turns in range(12):  # every point of the tabs' mount the exit can fall on
        asyncio.run(show_then_quit(turns))
