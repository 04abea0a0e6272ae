"""TaskList: the tasks of one step (a foreach has many), with their state, attempt and duration.

The list is virtual: it holds the step's tasks as they are (`TaskState`s, which the run state
replaces when they change) and an order of pathspecs, and draws only the lines on screen
(a line-API `ScrollView`, as `DagView` and `LogLines` do), so a step of 10,000 tasks scrolls
end to end at the cost of the 40 rows a screen holds. `set_tasks()` may be called on every
event of a run: it notes which tasks changed (by identity), widens a column only for those,
re-sorts only when the listing can have changed, and repaints the visible lines; the cursor
stays on the task it was on; a step shown afresh puts it on its first failed task. `o` orders
the rows by index, state or duration; `v` shows only the tasks in one state. Moving the
cursor posts `TaskList.TaskSelected`; Enter (or a click) posts `TaskList.TaskActivated`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from flowtui.graph.model import FlowGraph
from flowtui.run.labels import TASK_GLYPHS, task_state_label
from flowtui.run.status import TaskStatus
from flowtui.tui.widgets.base_style import BaseStyleOnce
from flowtui.units import human_duration

if TYPE_CHECKING:
    from flowtui.run.state import RunState, StepTally, TaskState

COLUMNS = ("task", "item", "state", "try", "duration")  # "try": the attempt, narrow
#: Blank cells either side of each cell (as Textual's DataTable pads them).
PADDING = 1

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
#: Cells of the progress bar in the tally.
BAR_WIDTH = 20


def is_failure(task: TaskState) -> bool:
    """The task failed for good (a cancelled task is not a failure)."""
    return task.status is TaskStatus.FAILED


def listed(
    tasks: Iterable[TaskState], order: str, only: str | None, now: float | None = None
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


def tally(tasks: list[TaskState] | StepTally, expected: int | None = None) -> Text:
    """`████░░ 50 tasks  90%  ✔ 45  ● 3  ✖ 1  ○ 1`: a bar of the finished share, and how many
    tasks are in each state (`tasks`: a step's tasks, or their tally as the run keeps it).
    `expected` (a foreach's width, known before its tasks start) counts the tasks not started
    yet as pending."""
    from flowtui.run.state import StepTally

    known = tasks if isinstance(tasks, StepTally) else StepTally.of(tasks)
    counts = {status: n for status, n in known.counts.items() if n}
    total = max(len(known), expected or 0)
    if total > len(known):
        counts[TaskStatus.PENDING] = counts.get(TaskStatus.PENDING, 0) + total - len(known)
    finished = sum(n for status, n in counts.items() if status.done)
    filled = BAR_WIDTH * finished // total if total else 0
    text = Text("█" * filled + "░" * (BAR_WIDTH - filled) + " ", style="dim")
    text.append(f"{total:,} task" + ("" if total == 1 else "s"))
    if total:
        text.append(f"  {100 * finished // total}%", style="bold")
    for status in TaskStatus:
        if counts.get(status):
            text.append(f"  {TASK_GLYPHS[status]} {counts[status]:,}")
    return text


@dataclass(frozen=True)
class Column:
    """A column of the list: its key and the label drawn in the header."""

    key: str
    label: Text


class TaskList(BaseStyleOnce, ScrollView, can_focus=True):
    """One row per task of a step: index, state (glyph and colour), attempt, duration."""

    COMPONENT_CLASSES = {f"tasklist--{status.value}" for status in TaskStatus} | {
        "tasklist--header",
        "tasklist--cursor",
    }

    # The look of Textual's DataTable, which this list replaced.
    DEFAULT_CSS = """
    TaskList {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        overflow: auto auto;
        &:focus {
            background-tint: $foreground 5%;
            & > .tasklist--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .tasklist--header {
                background-tint: $foreground 5%;
            }
        }
        & > .tasklist--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .tasklist--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .tasklist--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    BINDINGS = [
        Binding("enter", "activate", "Open", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("home,g,ctrl+home", "first", "First", show=False),
        Binding("end,G,ctrl+end", "last", "Last", show=False),
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

    @on(TaskSelected)
    def _drop_stale(self, message: TaskSelected) -> None:
        """A selection the cursor has left since it was posted is not told (the app would
        show that task over the one under the cursor)."""
        current = self.selected
        stale = current is None or current.pathspec != message.pathspec
        if stale and not isinstance(message, self.TaskActivated):
            message.stop()

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.clock = clock
        self._all: dict[str, TaskState] = {}  # the step's tasks, as last given
        self._order: list[str] = []  # the listed tasks' pathspecs, in the order shown
        self._rows: dict[str, int] | None = None  # pathspec -> row, built when first asked
        self._announced: str | None = None
        self._columns: tuple[str, ...] = COLUMNS  # and "node" once a task ran on a cluster
        self._widths = [cell_len(label) for label in COLUMNS]  # only grow, as a cell grows
        self.cursor_row = 0
        self.order = ORDERS[0]
        self.only: str | None = None

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)

    # -- what is listed -----------------------------------------------------------------

    @property
    def tasks(self) -> list[TaskState]:
        """The listed tasks, in the order shown."""
        return [self._all[p] for p in self._order]

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def columns(self) -> dict[str, Column]:
        return {key: Column(key, Text(key)) for key in self._columns}

    @property
    def selected(self) -> TaskState | None:
        """The task under the cursor."""
        if not 0 <= self.cursor_row < len(self._order):
            return None
        return self._all[self._order[self.cursor_row]]

    def row_of(self, pathspec: str) -> int | None:
        """The row `pathspec` is listed at (None when it is not listed)."""
        if self._rows is None:
            self._rows = {p: row for row, p in enumerate(self._order)}
        return self._rows.get(pathspec)

    def get_row_at(self, row: int) -> list[Text]:
        """The cells of row `row`, as drawn."""
        return list(self._cells(self._all[self._order[row]]))

    def get_cell(self, pathspec: str, column: str) -> Text:
        return self._cells(self._all[pathspec])[self._columns.index(column)]

    def set_tasks(self, tasks: list[TaskState]) -> None:
        """Show `tasks` (ordered and filtered as chosen), keeping the cursor on the same task;
        a list shown afresh starts on its first failed task. Cheap when little changed: only
        the tasks that are new objects are looked at, new tasks that sort after the listed
        ones are appended (no re-sort), and only the visible lines that changed are redrawn."""
        before = self._all
        keep = self.selected.pathspec if self.selected is not None else None
        afresh = bool(tasks) and tasks[0].pathspec not in before
        if afresh:  # another step: measured afresh
            self._widths = [cell_len(label) for label in self._columns]
        widths = list(self._widths)
        now = {t.pathspec: t for t in tasks}
        changed = [t for t in tasks if before.get(t.pathspec) is not t]
        self._all = now
        columns = self._columns
        if "node" not in self._columns and any(t.node for t in changed):
            self._columns = (*COLUMNS, "node")
            self._widths.append(cell_len("node"))
        self._widen(changed)
        added = [t for t in changed if t.pathspec not in before]
        kept_all = len(now) == len(before) + len(added)  # none of those listed went
        unordered = self.order == ORDERS[0] and self.only is None
        top = round(self.scroll_y)
        shown = self._order[top : top + self.page]
        if kept_all and not added and (unordered or not changed):
            pass  # the same rows in the same order
        elif kept_all and unordered and self._after_last(added, before):
            added.sort(key=_task_order)
            if self._rows is not None:
                self._rows.update((t.pathspec, len(self._order) + i) for i, t in enumerate(added))
            self._order.extend(t.pathspec for t in added)
        else:
            self._order = [t.pathspec for t in listed(tasks, self.order, self.only, self.clock())]
            self._rows = None
        self._resize()
        row = self.row_of(keep) if keep is not None else None
        if row is not None:
            self._announced = keep  # the same task: nothing new to tell
            self._move(row)
        elif self._order:
            tasks_listed = (self._all[p] for p in self._order)
            failed = next((row for row, t in enumerate(tasks_listed) if is_failure(t)), 0)
            self._move(failed, announce=True)
        else:
            self.cursor_row = 0
        top = round(self.scroll_y)
        if (
            afresh
            or columns != self._columns
            or widths != self._widths
            or shown != self._order[top : top + self.page]
        ):
            self.refresh()
        else:  # the same rows on screen: redraw those whose task changed
            for task in changed:
                row = self.row_of(task.pathspec)
                if row is not None and top <= row < top + self.page:
                    self.refresh_lines(row + 1)

    def _after_last(self, added: list[TaskState], before: dict[str, TaskState]) -> bool:
        """Every task of `added` sorts after the last one listed (in index order)."""
        if not self._order:
            return True
        last = _task_order(before[self._order[-1]])
        return all(_task_order(t) > last for t in added)

    def _widen(self, tasks: Iterable[TaskState]) -> None:
        """Grow the columns to fit the cells of `tasks` (a column never narrows while its
        step is shown, so the rows do not shift as states change)."""
        widths = self._widths
        moment = self.clock()
        node = "node" in self._columns
        for task in tasks:
            cells = self._plain(task, moment)
            for column, cell in enumerate(cells if node else cells[:5]):
                if cell_len(cell) > widths[column]:
                    widths[column] = cell_len(cell)

    def _resize(self) -> None:
        width = sum(self._widths) + PADDING * (2 * len(self._widths) - 1)  # none after the last
        size = Size(width, len(self._order) + 1)  # and the header
        old = self.virtual_size
        if size == old:
            return
        if size.width == old.width and min(size.height, old.height) > self.container_size.height:
            # Rows added to (or taken from) a list taller than its view: only the scrollbar
            # changes, so no layout of the whole screen (which a growing list of a 10,000-task
            # step would otherwise ask for on every batch of events, and keys would wait on).
            self.set_reactive(TaskList.virtual_size, size)
            self._scroll_update(size)
        else:
            self.virtual_size = size

    # -- keys ---------------------------------------------------------------------------

    @property
    def page(self) -> int:
        """Rows on screen (the header aside)."""
        return max(1, self.scrollable_content_region.height - 1)

    def action_cursor_down(self) -> None:
        self._move(self.cursor_row + 1, announce=True)

    def action_cursor_up(self) -> None:
        self._move(self.cursor_row - 1, announce=True)

    def action_page_down(self) -> None:
        self._move(self.cursor_row + self.page, announce=True)

    def action_page_up(self) -> None:
        self._move(self.cursor_row - self.page, announce=True)

    def action_first(self) -> None:
        self._move(0, announce=True)

    def action_last(self) -> None:
        self._move(len(self._order) - 1, announce=True)

    def action_activate(self) -> None:
        task = self.selected
        if task is not None:
            self.post_message(self.TaskActivated(self, task.pathspec))

    def action_order(self) -> None:
        self.order = ORDERS[(ORDERS.index(self.order) + 1) % len(ORDERS)]
        self._rearrange()

    def action_only(self) -> None:
        self.only = ONLY[(ONLY.index(self.only) + 1) % len(ONLY)]
        self._rearrange()

    def _rearrange(self) -> None:
        keep = self.selected.pathspec if self.selected is not None else None
        self._order = [
            t.pathspec for t in listed(self._all.values(), self.order, self.only, self.clock())
        ]
        self._rows = None
        self._resize()
        row = self.row_of(keep) if keep is not None else None
        if row is None:
            failed = next((r for r, p in enumerate(self._order) if is_failure(self._all[p])), 0)
            self._move(failed, announce=True)
        else:
            self._move(row)
        self.refresh()
        self.post_message(self.Rearranged())

    @property
    def arrangement(self) -> str:
        """`by state · only failed`, or "" for the default (index order, every task). The
        pending tasks of a run that has ended are `only not run` (they never will start)."""
        parts = [] if self.order == ORDERS[0] else [f"by {self.order}"]
        if self.only is not None:
            first = self._all.get(self._order[0]) if self._order else None
            ended = self.only == "pending" and first is not None and first.not_run
            parts.append("only not run" if ended else f"only {self.only}")
        return " · ".join(parts)

    def select(self, pathspec: str) -> None:
        """Put the cursor on the task `pathspec` (if listed)."""
        row = self.row_of(pathspec)
        if row is not None:
            self._move(row, announce=True)

    def _move(self, row: int, *, announce: bool = False) -> None:
        """The cursor to `row` (kept within the list), scrolled into view; the task it lands
        on is told to the app unless it was the last one told."""
        if not self._order:
            return
        row = max(0, min(row, len(self._order) - 1))
        old, self.cursor_row = self.cursor_row, row
        if old != row:
            self.refresh_lines(old + 1)
            self.refresh_lines(row + 1)
        self._scroll_to_cursor()
        pathspec = self._order[row]
        if announce and pathspec != self._announced:
            self._announced = pathspec
            self.post_message(self.TaskSelected(self, pathspec))

    def _scroll_to_cursor(self) -> None:
        top = round(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + self.page:
            self.scroll_to(y=self.cursor_row - self.page + 1, animate=False, immediate=True)

    def on_resize(self, event: events.Resize) -> None:
        self._scroll_to_cursor()

    def on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return  # the header
        row = round(self.scroll_y) + event.y - 1
        if 0 <= row < len(self._order):
            self.focus()
            self._move(row, announce=True)
            self.action_activate()

    # -- drawing ------------------------------------------------------------------------

    def _plain(self, task: TaskState, moment: float) -> tuple[str, ...]:
        """The text of each cell of `task`'s row (with the node, whether shown or not)."""
        return (
            task.task_id,
            str(task.index) if task.index is not None else "",
            task_state_label(task),
            str(task.attempt + 1) if task.started is not None else "",
            human_duration(task.elapsed(moment)),
            task.node,
        )

    def _cells(self, task: TaskState) -> tuple[Text, ...]:
        plain = self._plain(task, self.clock())
        style = self.get_component_rich_style(f"tasklist--{task.status.value}", partial=True)
        cells = (
            Text(plain[0]),
            Text(plain[1]),
            Text.assemble((plain[2], style)),
            Text(plain[3]),
            Text(plain[4]),
        )
        return (*cells, Text(plain[5], style="dim")) if "node" in self._columns else cells

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.base_style
        if y == 0:
            header = base + self.get_component_rich_style("tasklist--header")
            line = header
            strip = self._strip([Text(label) for label in self._columns], header, Style.null())
        else:
            row = scroll_y + y - 1
            if not 0 <= row < len(self._order):
                return Strip.blank(width, base)
            task = self._all[self._order[row]]
            if row == self.cursor_row:
                cursor = self.get_component_rich_style("tasklist--cursor")
                post = Style.from_color(cursor.color, cursor.bgcolor)
                line = base + cursor
                strip = self._strip(self._cells(task), line, post)
            else:
                line = base
                strip = self._strip(self._cells(task), base, Style.null())
        # The header and the cursor's row run to the right edge, as in Textual's DataTable.
        return strip.crop_extend(scroll_x, scroll_x + width, line)

    def _strip(self, cells: Iterable[Text], pre: Style, post: Style) -> Strip:
        segments = []
        pad = " " * PADDING
        last = len(self._columns) - 1
        for column, cell in enumerate(cells):
            text = set_cell_size(cell.plain, self._widths[column])
            own = cell.spans[0].style if cell.spans else cell.style
            style = pre + (own if isinstance(own, Style) else Style.parse(own or "")) + post
            segments.append(Segment(pad + text + (pad if column < last else ""), style))
        return Strip(segments)

    def _tick(self) -> None:
        """Once a second: the running tasks on screen show their time so far."""
        top = round(self.scroll_y)
        visible = self._order[top : top + self.page]
        running = [self._all[p] for p in visible if self._all[p].status.active]
        if running:
            self._widen(running)
            self._resize()
            for p in visible:
                if self._all[p].status.active:
                    row = self.row_of(p)
                    if row is not None:
                        self.refresh_lines(row + 1)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.refresh()  # theme changed: recolour the states


def _task_order(task: TaskState) -> tuple[int, int, str]:
    index = task.index if task.index is not None else -1
    task_id = int(task.task_id) if task.task_id.isdigit() else 0
    return index, task_id, task.pathspec
