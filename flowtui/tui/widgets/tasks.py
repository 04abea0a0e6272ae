"""TaskList: the tasks of one step (a foreach has many), with their state, attempt and duration.

`set_tasks()` may be called on every event of a run: rows are updated in place and the cursor
stays on the task it was on. Moving the cursor posts `TaskList.TaskSelected`; Enter posts
`TaskList.TaskActivated`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from flowtui.run.labels import task_state_label
from flowtui.run.state import TaskState
from flowtui.run.status import TaskStatus
from flowtui.units import human_duration

COLUMNS = ("task", "item", "state", "attempt", "duration")


class TaskList(DataTable[Text]):
    """One row per task of a step: index, state (glyph and colour), attempt, duration."""

    COMPONENT_CLASSES = {f"tasklist--{status.value}" for status in TaskStatus}

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    class TaskSelected(Message):
        """The cursor moved to a task."""

        def __init__(self, task_list: TaskList, pathspec: str) -> None:
            super().__init__()
            self.task_list = task_list
            self.pathspec = pathspec

        @property
        def control(self) -> TaskList:
            return self.task_list

    class TaskActivated(TaskSelected):
        """Enter was pressed on a task (open it)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self.clock = clock
        self._tasks: dict[str, TaskState] = {}
        self._order: list[str] = []
        self._announced: str | None = None
        self._columns: tuple[str, ...] = COLUMNS  # and "node" once a task ran on a cluster

    def on_mount(self) -> None:
        for label in COLUMNS:
            self.add_column(label, key=label)
        self.set_interval(1.0, self._tick)

    @property
    def tasks(self) -> list[TaskState]:
        return [self._tasks[p] for p in self._order]

    @property
    def selected(self) -> TaskState | None:
        """The task under the cursor."""
        if not self._order or not 0 <= self.cursor_row < len(self._order):
            return None
        return self._tasks[self._order[self.cursor_row]]

    def set_tasks(self, tasks: list[TaskState]) -> None:
        """Show `tasks` (in foreach-index order), keeping the cursor on the same task."""
        ordered = sorted(tasks, key=_task_order)
        keep = self.selected.pathspec if self.selected is not None else None
        order = [t.pathspec for t in ordered]
        self._tasks = {t.pathspec: t for t in ordered}
        if "node" not in self._columns and any(t.node for t in ordered):
            self._columns = (*COLUMNS, "node")
            self.add_column("node", key="node")
            self._order = []  # redraw every row with its node
        if order == self._order:
            for task in ordered:
                for column, cell in zip(self._columns, self._cells(task), strict=True):
                    self.update_cell(task.pathspec, column, cell)
            return
        self._order = order
        self.clear()
        for task in ordered:
            self.add_row(*self._cells(task), key=task.pathspec)
        if keep is not None and keep in self._tasks:
            self._announced = keep  # the same task: nothing new to tell
            self.move_cursor(row=order.index(keep), animate=False)
        elif order:
            self.move_cursor(row=0, animate=False)

    def select(self, pathspec: str) -> None:
        """Put the cursor on the task `pathspec` (if listed)."""
        if pathspec in self._tasks:
            self.move_cursor(row=self._order.index(pathspec), animate=False)

    def _cells(self, task: TaskState) -> tuple[Text, ...]:
        style = self.get_component_rich_style(f"tasklist--{task.status.value}", partial=True)
        task_id = Text(task.task_id)
        item = Text(str(task.index) if task.index is not None else "", justify="right")
        state = Text.assemble((task_state_label(task), style))
        attempt = Text(str(task.attempt + 1) if task.started is not None else "")
        cells = (task_id, item, state, attempt, self._duration(task))
        return (*cells, Text(task.node, style="dim")) if "node" in self._columns else cells

    def _duration(self, task: TaskState) -> Text:
        return Text(human_duration(task.elapsed(self.clock())), justify="right")

    def _tick(self) -> None:
        for task in self._tasks.values():
            if task.status.active and task.pathspec in self.rows:
                self.update_cell(task.pathspec, "duration", self._duration(task))

    @on(DataTable.RowHighlighted)
    def _on_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        pathspec = _key(event.row_key)
        current = self.selected
        if current is None or pathspec != current.pathspec or pathspec == self._announced:
            return  # stale (the rows were rebuilt since) or nothing new
        self._announced = pathspec
        self.post_message(self.TaskSelected(self, pathspec))

    @on(DataTable.RowSelected)
    def _on_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        pathspec = _key(event.row_key)
        if pathspec is not None:
            self.post_message(self.TaskActivated(self, pathspec))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self._order:  # theme changed: recolour the states
            for task in self.tasks:
                self.update_cell(task.pathspec, "state", self._cells(task)[2])


def _task_order(task: TaskState) -> tuple[int, int, str]:
    index = task.index if task.index is not None else -1
    task_id = int(task.task_id) if task.task_id.isdigit() else 0
    return index, task_id, task.pathspec


def _key(row_key: RowKey) -> str | None:
    return None if row_key.value is None else str(row_key.value)
