"""TaskList: the tasks of one step (a foreach has many), with their state, attempt and duration.

`set_tasks()` may be called on every event of a run: rows are updated in place (only those
that read differently) and the cursor stays on the task it was on; a step shown afresh puts it
on its first failed task. `o` orders the rows by index, state or duration; `v` shows only the
tasks in one state. A step of thousands lists `MAX_ROWS` of them plus every failed or running
one (the tally above the list counts them all). Moving the cursor posts
`TaskList.TaskSelected`; Enter posts `TaskList.TaskActivated`.
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

from flowtui.graph.model import FlowGraph
from flowtui.run.labels import TASK_GLYPHS, task_state_label
from flowtui.run.state import RunState, TaskState
from flowtui.run.status import TaskStatus
from flowtui.units import human_duration

COLUMNS = ("task", "item", "state", "attempt", "duration")

#: What `o` cycles through: the rows' order.
ORDERS = ("index", "state", "duration")
#: What `v` cycles through: which states are listed (None: all).
ONLY = (None, "failed", "running", "pending", "succeeded")
#: The order of states when sorting by state: what needs a look first.
STATE_RANK = {
    state: rank
    for rank, state in enumerate(
        ("failed", "retrying", "running", "cancelled", "pending", "succeeded", "cloned")
    )
}
#: Rows listed at most (the tally above the list counts them all).
MAX_ROWS = 500
#: Cells of the progress bar in the tally.
BAR_WIDTH = 20


def is_failure(task: TaskState) -> bool:
    """The task failed for good (a cancelled task is not a failure)."""
    return task.status is TaskStatus.FAILED


def listed(
    tasks: list[TaskState], order: str, only: str | None, now: float | None = None
) -> list[TaskState]:
    """`tasks` as the list shows them: those in state `only` (all when None), in `order`."""
    chosen = [t for t in tasks if only is None or _matches(t, only)]
    chosen.sort(key=_task_order)
    if order == "state":
        chosen.sort(key=lambda t: STATE_RANK.get(t.status.value, 99))
    elif order == "duration":
        moment = time.time() if now is None else now
        chosen.sort(key=lambda t: -(t.elapsed(moment) or 0.0))
    return chosen


def capped(tasks: list[TaskState]) -> list[TaskState]:
    """At most `MAX_ROWS` of `tasks` (in their order), always with every task that failed or
    is running, so `f`/`F` and the eye find them in a step of ten thousand."""
    if len(tasks) <= MAX_ROWS:
        return tasks
    head = tasks[:MAX_ROWS]
    rest = [t for t in tasks[MAX_ROWS:] if is_failure(t) or t.status.active]
    return head + rest


def failed_tasks(run: RunState | None, graph: FlowGraph | None) -> list[str]:
    """The run's failed tasks (pathspecs), in the graph's step order, then by foreach index."""
    if run is None or graph is None:
        return []
    steps = {node.name: position for position, node in enumerate(graph)}
    failed = [t for t in run.tasks.values() if is_failure(t) and t.step in steps]
    failed.sort(key=lambda t: (steps[t.step], *_task_order(t)))
    return [t.pathspec for t in failed]


def _matches(task: TaskState, only: str) -> bool:
    if only == "running":
        return task.status.active
    if only == "succeeded":
        return task.status.ok
    return task.status.value == only


def tally(tasks: list[TaskState]) -> Text:
    """`████░░ 50 tasks  ✔ 45  ● 3  ✖ 1  ○ 1`: a bar of the finished share, and how many
    tasks are in each state."""
    counts: dict[TaskStatus, int] = {}
    for task in tasks:
        counts[task.status] = counts.get(task.status, 0) + 1
    finished = sum(n for status, n in counts.items() if status.done)
    filled = round(BAR_WIDTH * finished / len(tasks)) if tasks else 0
    text = Text("█" * filled + "░" * (BAR_WIDTH - filled) + " ", style="dim")
    text.append(f"{len(tasks):,} task" + ("" if len(tasks) == 1 else "s"))
    for status in TaskStatus:
        if counts.get(status):
            text.append(f"  {TASK_GLYPHS[status]} {counts[status]:,}")
    if len(tasks) > MAX_ROWS:
        text.append(f"  (listing {MAX_ROWS:,} and every failure)", style="italic")
    return text


class TaskList(DataTable[Text]):
    """One row per task of a step: index, state (glyph and colour), attempt, duration."""

    COMPONENT_CLASSES = {f"tasklist--{status.value}" for status in TaskStatus}

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("o", "order", "Order"),
        Binding("v", "only", "Show only"),
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

    class Rearranged(Message):
        """The order or the state filter changed (the app says so above the list)."""

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
        self._all: list[TaskState] = []
        self._shown: dict[str, tuple[str, ...]] = {}  # each row's text, as last written
        self.order = ORDERS[0]
        self.only: str | None = None

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
        """Show `tasks` (ordered and filtered as chosen), keeping the cursor on the same task;
        a list shown afresh starts on its first failed task."""
        self._all = list(tasks)
        ordered = capped(listed(self._all, self.order, self.only, self.clock()))
        keep = self.selected.pathspec if self.selected is not None else None
        order = [t.pathspec for t in ordered]
        self._tasks = {t.pathspec: t for t in ordered}
        if "node" not in self._columns and any(t.node for t in ordered):
            self._columns = (*COLUMNS, "node")
            self.add_column("node", key="node")
            self._order = []  # redraw every row with its node
        if order == self._order:
            for task in ordered:  # only the rows that read differently (a wide step has many)
                cells = self._cells(task)
                plain = tuple(cell.plain for cell in cells)
                if self._shown.get(task.pathspec) != plain:
                    self._shown[task.pathspec] = plain
                    for column, cell in zip(self._columns, cells, strict=True):  # widen to fit
                        self.update_cell(task.pathspec, column, cell, update_width=True)
            return
        self._order = order
        self.clear()
        self._shown = {}
        for task in ordered:
            cells = self._cells(task)
            self._shown[task.pathspec] = tuple(cell.plain for cell in cells)
            self.add_row(*cells, key=task.pathspec)
        if keep is not None and keep in self._tasks:
            self._announced = keep  # the same task: nothing new to tell
            self.move_cursor(row=order.index(keep), animate=False)
        elif order:
            failed = next((row for row, t in enumerate(ordered) if is_failure(t)), 0)
            self.move_cursor(row=failed, animate=False)

    def action_order(self) -> None:
        self.order = ORDERS[(ORDERS.index(self.order) + 1) % len(ORDERS)]
        self._rearrange()

    def action_only(self) -> None:
        self.only = ONLY[(ONLY.index(self.only) + 1) % len(ONLY)]
        self._rearrange()

    def _rearrange(self) -> None:
        self._order = []  # rebuild the rows
        self.set_tasks(self._all)
        self.post_message(self.Rearranged())

    @property
    def arrangement(self) -> str:
        """`by state · only failed`, or "" for the default (index order, every task)."""
        parts = [] if self.order == ORDERS[0] else [f"by {self.order}"]
        if self.only is not None:
            parts.append(f"only {self.only}")
        return " · ".join(parts)

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
