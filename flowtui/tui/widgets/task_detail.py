"""TaskDetail: one task — a header line, the failure panel when it failed, its live logs.

`show(task)` is called with every newer state of the task: the logs keep their place, and the
stderr tab is brought forward once, when the task fails. Exception text and tracebacks come
from user code and are shown as plain `Text`, never parsed as markup.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static, TabbedContent, TabPane

from flowtui.engine.events import TaskError, TaskState, TaskStatus
from flowtui.tui.widgets.logs import LogView
from flowtui.tui.widgets.tasks import STATUS_GLYPHS, format_duration

EMPTY = "Select a task to see its logs."

REASONS = {
    "signal": "the task process was killed by a signal",
    "exit": "the task process exited before the step finished",
    "timeout": "the step ran past its @timeout",
    "pickle": "an artifact could not be pickled",
}


def header_text(task: TaskState) -> Text:
    """`Flow/1/train/4  ✗ failed  attempt 2  3.1s  cloned from Flow/0/train/2`."""
    text = Text()
    text.append(task.pathspec, style="bold")
    text.append(f"  {STATUS_GLYPHS[task.status]} {task.status.value}")
    if task.started is not None:
        text.append(f"  attempt {task.attempt + 1}")
    if task.index is not None:
        text.append(f"  index {task.index}")
    if task.duration is not None:
        text.append(f"  {format_duration(task.duration)}")
    if task.origin_pathspec:
        text.append(f"  cloned from {task.origin_pathspec}")
    return text


def failure_text(error: TaskError, *, retrying: bool = False) -> Text:
    """The exception, why the task stopped when it was not an exception, then the traceback."""
    text = Text()
    text.append(error.summary(), style="bold")
    if error.reason in REASONS:
        text.append(f"\n{REASONS[error.reason]}", style="italic")
    if retrying:
        text.append("\nthe step will be retried", style="italic")
    if error.traceback:
        text.append("\n\n")
        text.append(error.traceback.rstrip("\n"))
    return text


class TaskDetail(Widget):
    """The selected task: header, failure panel (when failed), stdout and stderr."""

    DEFAULT_CSS = """
    TaskDetail {
        layout: vertical;
        height: 1fr;
    }
    TaskDetail #task-failure {
        height: auto;
        max-height: 50%;
        display: none;
    }
    TaskDetail.-has-error #task-failure {
        display: block;
    }
    TaskDetail #task-empty {
        display: none;
    }
    TaskDetail.-empty #task-empty {
        display: block;
    }
    TaskDetail.-empty #task-header, TaskDetail.-empty #task-logs {
        display: none;
    }
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.shown: TaskState | None = None
        self._displayed: TaskState | None = None
        self._composed = False
        self.stdout = LogView(id="stdout")
        self.stderr = LogView(id="stderr")

    def compose(self) -> ComposeResult:
        yield Static(EMPTY, id="task-empty")
        yield Static(id="task-header")
        with VerticalScroll(id="task-failure"):
            yield Static(id="task-failure-text")
        with TabbedContent(id="task-logs"):
            with TabPane("stdout", id="stdout-tab"):
                yield self.stdout
            with TabPane("stderr", id="stderr-tab"):
                yield self.stderr

    def on_mount(self) -> None:
        self._composed = True
        self.set_interval(1.0, self._tick)
        self.show(self.shown)

    def show(self, task: TaskState | None) -> None:
        """Show `task` (None: nothing selected). A newer state of the same task updates in
        place; the logs keep their scroll position."""
        self.shown = task
        if not self._composed:
            return
        previous, self._displayed = self._displayed, task
        same = previous is not None and task is not None and previous.pathspec == task.pathspec
        self.set_class(task is None, "-empty")
        for status in TaskStatus:
            self.set_class(task is not None and task.status is status, f"-{status.value}")
        self.set_class(task is not None and task.error is not None, "-has-error")
        if task is None:
            self.stdout.open(None)
            self.stderr.open(None)
            return
        self.query_one("#task-header", Static).update(header_text(task))
        if task.error is not None:
            retrying = task.status is TaskStatus.RETRYING
            panel = self.query_one("#task-failure", VerticalScroll)
            panel.border_title = f"attempt {task.attempt + 1} failed"
            self.query_one("#task-failure-text", Static).update(
                failure_text(task.error, retrying=retrying)
            )
        self.stdout.open(task.stdout)
        self.stderr.open(task.stderr)
        newly_failed = task.status is TaskStatus.FAILED and (
            not same or previous is None or previous.status is not TaskStatus.FAILED
        )
        if newly_failed:
            self.query_one(TabbedContent).active = "stderr-tab"
        elif not same:
            self.query_one(TabbedContent).active = "stdout-tab"

    def _tick(self) -> None:
        task = self.shown
        if task is not None and task.status in (TaskStatus.RUNNING, TaskStatus.RETRYING):
            self.query_one("#task-header", Static).update(header_text(task))
