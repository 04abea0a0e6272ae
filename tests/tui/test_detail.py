"""TaskList and TaskDetail, each mounted alone in a tiny app."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from textual import on
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widgets import Static, TabbedContent

from flowtui.run.labels import task_label
from flowtui.run.state import TaskState
from flowtui.run.status import TaskError, TaskStatus
from flowtui.tui.widgets.logs import LogView
from flowtui.tui.widgets.task_detail import TaskDetail, TaskHeader
from flowtui.tui.widgets.tasks import TaskList
from tests.tui.waiting import wait_until

STYLES = Path(__file__).resolve().parents[2] / "styles" / "detail.tcss"

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "myflow.py", line 14, in train\n'
    "    self.score = 1 / self.count  # [red]not markup[/red]\n"
    "ZeroDivisionError: division by zero\n"
)


def task(i: int, status: TaskStatus = TaskStatus.SUCCEEDED, **changes: object) -> TaskState:
    now = time.time()
    base = TaskState(
        pathspec=f"MyFlow/1/train/{10 + i}",
        step="train",
        task_id=str(10 + i),
        status=status,
        index=i,
        started=now - 3.0,
        finished=None if status is TaskStatus.RUNNING else now,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# -- TaskList ------------------------------------------------------------------------------


class TaskListApp(App[None]):
    CSS_PATH = STYLES

    def __init__(self) -> None:
        super().__init__()
        self.selected: list[str] = []
        self.activated: list[str] = []

    def compose(self) -> ComposeResult:
        yield TaskList()

    @on(TaskList.TaskActivated)
    def _activated(self, message: TaskList.TaskActivated) -> None:
        self.activated.append(message.pathspec)

    @on(TaskList.TaskSelected)
    def _selected(self, message: TaskList.TaskSelected) -> None:
        if not isinstance(message, TaskList.TaskActivated):
            self.selected.append(message.pathspec)


def rows(table: TaskList) -> list[list[str]]:
    return [[cell.plain for cell in table.get_row_at(r)] for r in range(table.row_count)]


async def test_task_list_shows_index_state_attempt_and_duration() -> None:
    app = TaskListApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(TaskList)
        table.set_tasks(
            [
                task(1, TaskStatus.FAILED, attempt=2),
                task(0),
                task(2, TaskStatus.PENDING, started=None, finished=None),
            ]
        )
        await pilot.pause()
        assert rows(table) == [
            ["10", "0", "✔ succeeded", "1", "3.0s"],
            ["11", "1", "✖ failed", "3", "3.0s"],
            ["12", "2", "○ pending", "", ""],
        ]
        failed = table.get_row_at(1)[2]
        ok = table.get_row_at(0)[2]
        assert failed.spans and ok.spans and failed.spans[0].style != ok.spans[0].style


async def test_task_list_selection_posts_and_survives_updates() -> None:
    app = TaskListApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(TaskList)
        table.focus()
        running = [task(i, TaskStatus.RUNNING) for i in range(3)]
        table.set_tasks(running)
        await pilot.pause()
        assert app.selected == ["MyFlow/1/train/10"]

        await pilot.press("down", "down")
        assert app.selected[-1] == "MyFlow/1/train/12"

        # the run goes on: states change, a task appears; the cursor stays on its task
        table.set_tasks([task(0), task(1), task(2, TaskStatus.FAILED)])
        await pilot.pause()
        assert table.selected is not None and table.selected.pathspec == "MyFlow/1/train/12"
        table.set_tasks([task(i) for i in range(4)])
        await pilot.pause()
        assert table.selected is not None and table.selected.pathspec == "MyFlow/1/train/12"
        assert rows(table)[2][2] == "✔ succeeded"
        assert app.selected == ["MyFlow/1/train/10", "MyFlow/1/train/11", "MyFlow/1/train/12"]

        await pilot.press("enter")
        assert app.activated == ["MyFlow/1/train/12"]


# -- TaskDetail ----------------------------------------------------------------------------


class DetailApp(App[None]):
    CSS_PATH = STYLES

    def compose(self) -> ComposeResult:
        yield TaskDetail()


def failure_panel(app: App[None]) -> str:
    return str(app.query_one("#task-failure-text", Static).render())


async def test_failed_task_shows_exception_and_traceback_literally(tmp_path: Path) -> None:
    out, err = tmp_path / "t.0.out", tmp_path / "t.0.err"
    out.write_text("loading data\n")
    err.write_text("warning: [bold]count is zero[/bold]\n")
    error = TaskError("ZeroDivisionError", "division by zero [red]", TRACEBACK)
    failed = task(1, TaskStatus.FAILED, attempt=1, stdout=str(out), stderr=str(err), error=error)
    app = DetailApp()
    async with app.run_test(size=(100, 30)) as pilot:
        detail = app.query_one(TaskDetail)
        detail.show(failed)
        await pilot.pause()
        await wait_until(pilot, lambda: detail.logs_up, "the logs")
        assert app.query_one("#task-failure").display
        panel = failure_panel(app)
        assert panel.startswith("ZeroDivisionError: division by zero [red]")
        assert "self.score = 1 / self.count  # [red]not markup[/red]" in panel
        assert 'File "myflow.py", line 14, in train' in panel
        header = str(app.query_one(TaskHeader).render())
        assert "MyFlow/1/train/11" in header and "failed" in header and "attempt 2" in header
        # stderr is brought forward on failure, and it streams the file
        assert app.query_one(TabbedContent).active == "stderr-tab"
        stderr = detail.stderr
        await wait_until(pilot, lambda: stderr.line_count == 1, "stderr")
        assert stderr.lines.render_line(0).text.startswith("warning: [bold]count is zero[/bold]")


async def test_a_succeeded_task_has_no_failure_panel_and_shows_stdout(tmp_path: Path) -> None:
    out = tmp_path / "t.0.out"
    out.write_text("hello\n")
    app = DetailApp()
    async with app.run_test(size=(100, 30)) as pilot:
        detail = app.query_one(TaskDetail)
        detail.show(task(0, stdout=str(out), stderr=str(tmp_path / "none")))
        await pilot.pause()
        await wait_until(pilot, lambda: detail.logs_up, "the logs")
        assert not app.query_one("#task-failure").display
        assert app.query_one(TabbedContent).active == "stdout-tab"
        header = str(app.query_one(TaskHeader).render())
        assert "succeeded" in header and "attempt 1" in header


async def test_newer_state_of_the_same_task_keeps_the_log_position(tmp_path: Path) -> None:
    out, err = tmp_path / "t.0.out", tmp_path / "t.0.err"
    out.write_text("".join(f"line {i}\n" for i in range(500)))
    err.touch()
    running = task(0, TaskStatus.RUNNING, stdout=str(out), stderr=str(err))
    app = DetailApp()
    async with app.run_test(size=(100, 30)) as pilot:
        detail = app.query_one(TaskDetail)
        detail.show(running)
        await wait_until(pilot, lambda: detail.stdout.line_count == 500, "stdout")
        await wait_until(pilot, lambda: detail.logs_up, "the logs")
        detail.stdout.lines.focus()
        await pilot.press("pageup", "pageup")
        position = detail.stdout.lines.scroll_y
        assert not detail.stdout.following

        error = TaskError("ValueError", "bad input", "")
        err.write_text("Traceback (most recent call last):\nValueError: bad input\n")
        detail.show(replace(running, status=TaskStatus.FAILED, finished=time.time(), error=error))
        await pilot.pause()
        assert detail.stdout.lines.scroll_y == position
        assert failure_panel(app).startswith("ValueError: bad input")
        assert app.query_one(TabbedContent).active == "stderr-tab"

        # the user goes back to stdout; a further update of the same task leaves it there
        app.query_one(TabbedContent).active = "stdout-tab"
        detail.show(replace(running, status=TaskStatus.FAILED, finished=time.time(), error=error))
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "stdout-tab"


async def test_a_killed_task_says_why_and_nothing_selected_says_so() -> None:
    app = DetailApp()
    async with app.run_test(size=(100, 30)) as pilot:
        detail = app.query_one(TaskDetail)
        assert app.query_one("#task-empty").display
        error = TaskError("Killed", "signal 9", "", reason="signal")
        detail.show(task(0, TaskStatus.FAILED, error=error))
        await pilot.pause()
        await wait_until(pilot, lambda: detail.logs_up, "the logs")
        assert not app.query_one("#task-empty").display
        assert "killed by a signal" in failure_panel(app)
        detail.show(None)
        await pilot.pause()
        assert app.query_one("#task-empty").display
        assert detail.query_one("#stdout", LogView).path is None


async def test_a_cancelled_task_shows_cancelled_and_its_stdout(tmp_path: Path) -> None:
    out, err = tmp_path / "t.0.out", tmp_path / "t.0.err"
    out.write_text("waiting\n")
    err.write_text("a warning on stderr\n")
    running = task(0, TaskStatus.RUNNING, stdout=str(out), stderr=str(err))
    cancel = TaskError("Cancelled", "the run was cancelled", reason="cancel")
    cancelled = replace(running, status=TaskStatus.CANCELLED, finished=time.time(), error=cancel)
    app = DetailApp()
    async with app.run_test(size=(100, 30)) as pilot:
        detail = app.query_one(TaskDetail)
        detail.show(running)
        await pilot.pause()
        await wait_until(pilot, lambda: detail.logs_up, "the logs")
        detail.show(cancelled)  # the run was cancelled while the task ran
        await pilot.pause()
        header = str(app.query_one(TaskHeader).render())
        assert "■ cancelled" in header and "failed" not in header
        assert detail.has_class("-cancelled") and not detail.has_class("-failed")
        assert not app.query_one("#task-failure").display  # not a failure
        assert app.query_one(TabbedContent).active == "stdout-tab"
        await wait_until(pilot, lambda: detail.stdout.line_count == 1, "stdout")
        assert detail.stdout.lines.render_line(0).text.startswith("waiting")

        detail.show(None)  # selected again later: still its stdout
        await pilot.pause()
        detail.show(cancelled)
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "stdout-tab"


async def test_a_failure_with_nothing_on_stderr_keeps_stdout_in_front(tmp_path: Path) -> None:
    out, err = tmp_path / "t.0.out", tmp_path / "t.0.err"
    out.write_text("step output\n")
    err.touch()
    error = TaskError("Killed", "signal 9", "", reason="signal")
    app = DetailApp()
    async with app.run_test(size=(100, 30)) as pilot:
        detail = app.query_one(TaskDetail)
        detail.show(task(0, TaskStatus.FAILED, stdout=str(out), stderr=str(err), error=error))
        await pilot.pause()
        await wait_until(pilot, lambda: detail.logs_up, "the logs")
        assert app.query_one(TabbedContent).active == "stdout-tab"
        # the empty stderr of a finished task says there is none, not that some may come
        app.query_one(TabbedContent).active = "stderr-tab"
        stderr = detail.stderr.lines
        await wait_until(pilot, lambda: stderr.render_line(0).text.strip() != "", "stderr")
        assert stderr.render_line(0).text.strip() == "no output"


def test_task_states_in_the_list_say_cancelled_for_a_cancelled_task() -> None:
    # the store keeps a cancelled task as failed with the reason "cancel"
    assert task_label(TaskStatus.of("failed", "cancel")) == "■ cancelled"
    assert task_label(TaskStatus.of("failed", "signal")) == "✖ failed"


async def test_the_header_wraps_between_fields_never_inside_one() -> None:
    pathspec = "LongerNamedFlow/12/process/345"
    app = DetailApp()
    async with app.run_test(size=(54, 30)) as pilot:  # a 52-column header
        detail = app.query_one(TaskDetail)
        detail.show(task(0, pathspec=pathspec, index=None, started=time.time() - 0.01))
        await pilot.pause()
        header = app.query_one(TaskHeader)
        lines = [header.render_line(y).text.strip() for y in range(header.content_size.height)]
        assert lines[0] == f"{pathspec}  ✔ succeeded"
        assert lines[1].startswith("attempt 1  ") and lines[1].endswith("s")
        assert len(lines) == 2


async def test_a_state_that_grows_longer_is_shown_whole() -> None:
    app = TaskListApp()
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one(TaskList)
        table.set_tasks([task(0, TaskStatus.RUNNING)])  # the column first holds "● running"
        await pilot.pause()
        table.set_tasks([task(0)])
        await pilot.pause()
        shown = [table.render_line(y).text for y in range(table.size.height)]
        assert any("✔ succeeded" in line for line in shown), shown


# -- a step of ten thousand tasks -----------------------------------------------------------

WIDE = 10_000
WIDE_FAILURES = (2_345, 9_998)


def wide_step() -> list[TaskState]:
    return [
        task(i, TaskStatus.FAILED if i in WIDE_FAILURES else TaskStatus.SUCCEEDED)
        for i in range(WIDE)
    ]


def screen_lines(table: TaskList) -> list[str]:
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


async def test_every_task_of_a_ten_thousand_task_step_is_reachable_and_only_the_screen_drawn() -> (
    None
):
    app = TaskListApp()
    async with app.run_test(size=(60, 14)) as pilot:
        table = app.query_one(TaskList)
        table.focus()
        table.set_tasks(wide_step())
        await pilot.pause()
        assert table.row_count == WIDE
        assert table.virtual_size.height == WIDE + 1  # every row, and the header
        assert table.selected is not None and table.selected.index == WIDE_FAILURES[0]

        await pilot.press("G")
        await wait_until(pilot, lambda: app.selected[-1] == "MyFlow/1/train/10009", "G")
        assert table.cursor_row == WIDE - 1
        bottom = screen_lines(table)[-1].split()
        assert bottom[:3] == ["10009", "9999", "✔"], bottom  # the last item, drawn on screen

        await pilot.press("k", "pageup")
        assert table.selected is not None and table.selected.index == WIDE - 2 - table.page
        assert f"{WIDE - 2 - table.page}" in screen_lines(table)[1].split()

        await pilot.press("g")
        assert table.selected is not None and table.selected.index == 0
        await pilot.press("end")
        assert table.selected is not None and table.selected.index == WIDE - 1
        await pilot.press("home", "j", "pagedown")
        assert table.selected is not None and table.selected.index == 1 + table.page


async def test_a_ten_thousand_task_step_filters_to_exactly_its_failures() -> None:
    app = TaskListApp()
    async with app.run_test(size=(60, 14)) as pilot:
        table = app.query_one(TaskList)
        table.focus()
        table.set_tasks(wide_step())
        await pilot.pause()
        await pilot.press("v")  # only failed
        await pilot.pause()
        assert [t.index for t in table.tasks] == list(WIDE_FAILURES)
        assert table.virtual_size.height == len(WIDE_FAILURES) + 1
        assert [line.split()[1] for line in screen_lines(table)[1:3]] == ["2345", "9998"]
        await pilot.press("v", "v", "v", "v")  # running, pending, succeeded, all
        await pilot.pause()
        assert table.row_count == WIDE
        await pilot.press("o")  # by state: the failures first
        await pilot.pause()
        assert [t.index for t in table.tasks[:3]] == [*WIDE_FAILURES, 0]


async def test_an_update_of_a_ten_thousand_task_step_redraws_only_the_visible_lines() -> None:
    app = TaskListApp()
    async with app.run_test(size=(60, 14)) as pilot:
        table = app.query_one(TaskList)
        tasks = [task(i, TaskStatus.RUNNING) for i in range(WIDE)]
        table.set_tasks(tasks)
        await pilot.pause()
        drawn: list[int] = []
        original = table.render_line

        def counted(y: int) -> Strip:
            drawn.append(y)
            return original(y)

        table.render_line = counted  # type: ignore[method-assign]
        tasks[5] = task(5)  # a batch of events: one task finished
        tasks.append(task(WIDE))  # and one more started
        table.set_tasks(tasks)
        await pilot.pause()
        assert 0 < len(drawn) <= 2 * table.size.height  # the screen, never the ten thousand
        assert table.row_count == WIDE + 1
        assert "✔ succeeded" in screen_lines(table)[6]
