"""TaskDetail: one task — a header line, the failure panel when it failed, its live logs.

`show(task)` is called with every newer state of the task: the logs keep their place, and the
stderr tab is brought forward once, when the task fails and wrote to stderr (a task stopped by
a cancelled run is not a failure: it shows as cancelled, with its stdout). Exception text and
tracebacks come from user code and are shown as plain `Text`, never parsed as markup.

The logs (two tabs, each a `LogView` with its search box: a third of the app's widgets and of
its start) are mounted when a task is first shown, not before the first frame, which has
none selected (docs/benchmarks.md). Until they are up, what `show` asks of them waits:
each `LogView` opens its file once mounted, and the tab to bring forward is `front`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Static

from flowtui.run.labels import task_label
from flowtui.run.status import TaskError, TaskStatus
from flowtui.units import human_duration

if TYPE_CHECKING:
    from textual.widgets import TabbedContent

    from flowtui.run.state import TaskState
    from flowtui.tui.widgets.logs import LogView

EMPTY = "Select a task to see its logs."


def header_fields(task: TaskState, now: float) -> list[Text]:
    """`Flow/1/train/4`, `✖ failed`, `attempt 2`, `3.1s`, `cloned from Flow/0/train/2`; and
    what it uses of the machine: `CPU 97%  mem 212.4 MB` while it runs, `peak mem 230.1 MB
    CPU time 3.1s` once it has ended (where the OS measured it)."""
    fields = [
        Text(task.pathspec, style="bold"),
        Text(task_label(task.status, not_run=task.not_run)),
    ]
    if task.started is not None:
        fields.append(Text(f"attempt {task.attempt + 1}"))
    if task.index is not None:
        fields.append(Text(f"item {task.index}"))
    elapsed = task.elapsed(now)
    if elapsed is not None:
        fields.append(Text(human_duration(elapsed)))
    if task.status is TaskStatus.RUNNING and task.usage is not None:
        fields += [Text(field, style="bold") for field in task.usage.live_fields()]
    elif task.status is not TaskStatus.RUNNING and task.peak is not None:
        fields += [Text(field) for field in task.peak.peak_fields()]
    if task.origin_pathspec:
        fields.append(Text(f"cloned from {task.origin_pathspec}"))
    return fields


FIELD_GAP = "  "


def pack_fields(fields: list[Text], width: int) -> Text:
    """`fields` separated by two spaces, on lines at most `width` cells wide, broken only
    between fields (never inside one, unless a field alone is wider than a line)."""
    text = Text()
    used = 0
    for field in fields:
        size = field.cell_len
        if used and used + len(FIELD_GAP) + size > width:
            text.append("\n")
            used = 0
        elif used:
            text.append(FIELD_GAP)
            used += len(FIELD_GAP)
        text.append_text(field)
        used += size
    return text


def header_text(task: TaskState, now: float, width: int = 1_000) -> Text:
    """The task's header, wrapped between fields to fit `width` cells."""
    return pack_fields(header_fields(task, now), width)


class TaskHeader(Widget):
    """The task's header line; on a narrow pane it wraps between fields, never inside one."""

    DEFAULT_CSS = """
    TaskHeader {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.fields: list[Text] = []

    def set_fields(self, fields: list[Text]) -> None:
        changed_text = [f.plain for f in fields] != [f.plain for f in self.fields]
        self.fields = fields
        width = self.content_size.width
        if changed_text and width and self.is_mounted:  # a layout only when the height changes
            changed_text = self.get_content_height(self.size, self.size, width) != (
                self.content_size.height
            )
        self.refresh(layout=changed_text)

    def render(self) -> Text:
        return pack_fields(self.fields, self.content_size.width or 1_000)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        packed = pack_fields(self.fields, width)
        return len(packed.wrap(self.app.console, max(1, width)))


def failure_text(error: TaskError, *, retrying: bool = False) -> Text:
    """The exception, why the task stopped when it was not an exception, then the traceback;
    their escape codes written out (the message is the user's: ESC[2J would clear the screen)."""
    from flowtui.run.artifacts import inert_text  # a failure is drawn after the first frame

    text = Text()
    text.append(inert_text(error.summary()), style="bold")
    if error.why:
        text.append(f"\n{inert_text(error.why)}", style="italic")
    if retrying:
        text.append("\nthe step will be retried", style="italic")
    if error.traceback:
        text.append("\n\n")
        text.append(inert_text(error.traceback.rstrip("\n")))
    return text


def has_output(log: str | None) -> bool:
    """The log file exists and is not empty."""
    try:
        return log is not None and os.stat(log).st_size > 0
    except OSError:
        return False


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
    TaskDetail #task-logs, TaskDetail #task-logs > ContentSwitcher, TaskDetail TabPane {
        height: 1fr;
    }
    TaskDetail TabPane {
        padding: 0;
    }
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.add_class("-empty")  # before the mount: restyling its subtree after is dearer
        self.clock = clock
        self.shown: TaskState | None = None
        self._displayed: TaskState | None = None
        self._composed = False
        self._views: tuple[LogView, LogView] | None = None  # made (and imported) when needed
        self.logs: TabbedContent | None = None
        """The two tabs of logs, once a task has been shown."""
        self._logs_up = False  # the tabs are mounted and have made their first tab active
        self.front = "stdout-tab"
        """The tab in front (or to bring forward once the tabs are up)."""

    def compose(self) -> ComposeResult:
        yield Static(EMPTY, id="task-empty")
        yield TaskHeader(id="task-header")
        with VerticalScroll(id="task-failure"):
            yield Static(id="task-failure-text")

    def on_mount(self) -> None:
        self._composed = True
        self.set_interval(1.0, self._tick)
        self.show(self.shown)

    def _mount_logs(self) -> None:
        """Mount the tabs of logs (the first time a task is shown), unless the app closes."""
        if self.logs is not None or not self.app.is_running or not self.is_attached:
            return
        if self._closing or self._pruning:
            return
        from textual.widgets import TabbedContent, TabPane

        # No `initial`: its tab is made active by the tabs' mount, which raises if the app
        # has begun to close meanwhile (the tab is gone); the first tab comes forward
        # without that check, and `front`, if it is the other, on the tabs' first activation.
        self.logs = TabbedContent(id="task-logs")
        self.logs.compose_add_child(TabPane("stdout", self.stdout, id="stdout-tab"))
        self.logs.compose_add_child(TabPane("stderr", self.stderr, id="stderr-tab"))
        self.mount(self.logs)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.tabbed_content is not self.logs:
            return
        shown = event.pane.id or self.front
        if not self._logs_up:  # the tabs' first activation: they are up
            self._logs_up = True
            if self.logs is not None and shown != self.front:
                self.logs.active = self.front  # `show` asked for the other tab meanwhile
                return
        self.front = shown  # the user (or `show`) brought this one forward

    @property
    def stdout(self) -> LogView:
        """The task's stdout (made when first needed: the first frame shows no log)."""
        return self._log_views()[0]

    @property
    def stderr(self) -> LogView:
        return self._log_views()[1]

    def _log_views(self) -> tuple[LogView, LogView]:
        if self._views is None:
            from flowtui.tui.widgets.logs import LogView

            self._views = LogView(id="stdout"), LogView(id="stderr")
        return self._views

    @property
    def logs_up(self) -> bool:
        """The tabs of logs are mounted, with a tab in front (a task has been shown)."""
        return self._logs_up

    def _bring_forward(self, tab: str) -> None:
        self.front = tab
        if self._logs_up and self.logs is not None:
            self.logs.active = tab

    def show(self, task: TaskState | None) -> None:
        """Show `task` (None: nothing selected). A newer state of the same task updates in
        place; the logs keep their scroll position."""
        self.shown = task
        if not self._composed:
            return
        if task is not None and task is self._displayed:
            return  # the same state of the same task (a run's batch changed other tasks)
        previous, self._displayed = self._displayed, task
        same = previous is not None and task is not None and previous.pathspec == task.pathspec
        self.set_class(task is None, "-empty")
        for status in TaskStatus:
            self.set_class(task is not None and task.status is status, f"-{status.value}")
        cancelled = task is not None and task.status is TaskStatus.CANCELLED
        self.set_class(task is not None and task.error is not None and not cancelled, "-has-error")
        if task is None:
            if self._views is not None:
                self.stdout.open(None)
                self.stderr.open(None)
            return
        self._mount_logs()
        self.query_one(TaskHeader).set_fields(header_fields(task, self.clock()))
        if task.error is not None and not cancelled:
            retrying = task.status is TaskStatus.RETRYING
            panel = self.query_one("#task-failure", VerticalScroll)
            panel.border_title = f"attempt {task.attempt + 1} failed"
            self.query_one("#task-failure-text", Static).update(
                failure_text(task.error, retrying=retrying)
            )
        finished = task.status.done or task.not_run  # either way its logs will not grow
        self.stdout.open(task.stdout, finished=finished)
        self.stderr.open(task.stderr, finished=finished)
        newly_failed = task.status is TaskStatus.FAILED and (
            not same or previous is None or previous.status is not TaskStatus.FAILED
        )
        if newly_failed and not cancelled and has_output(task.stderr):
            self._bring_forward("stderr-tab")
        elif not same or newly_failed:
            self._bring_forward("stdout-tab")

    @property
    def shown_log(self) -> LogView:
        """The log on the front tab (stdout or stderr)."""
        front = self.logs.active if self._logs_up and self.logs is not None else self.front
        return self.stderr if front == "stderr-tab" else self.stdout

    def _tick(self) -> None:
        task = self.shown
        if task is not None and task.status.active:
            self.query_one(TaskHeader).set_fields(header_fields(task, self.clock()))
