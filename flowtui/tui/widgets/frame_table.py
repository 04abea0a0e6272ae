"""FrameTable: a whole DataFrame, scrolled and sorted, a window of rows at a time.

The frame lives in its own process (`tui/frame_pages.py`); this view holds only the pages of
rows it has drawn lately (`PAGE_ROWS` rows a page, `CACHED_PAGES` pages), asks for a page the
first time one of its rows comes on screen, and draws "…" until it comes. So a million rows
open and scroll as a hundred do. The header (names, dtypes) and the index stay in place while
the rows scroll under them and the columns scroll beside them; the border says which rows and
columns are on screen, of how many. `s` sorts the whole frame by the chosen column (again:
the other way), in the frame's process; a click on a name does the same.
Every cell is user text: drawn as written, never read as markup.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual import events, on, work
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from flowtui.tui.frame_pages import FrameError, FrameRows, FrameSession, FrameShape

PAGE_ROWS = 100
"""Rows asked of the frame's process at a time."""
CACHED_PAGES = 64
"""Pages of rows kept for redraws; the only rows the TUI ever holds."""
HEADER = 2
"""Lines above the rows: the columns' names, then their dtypes."""
PAD = 1
"""Blank cells each side of a cell."""
MARKS = {False: "▲", True: "▼"}
"""The sorted column's mark: ascending, descending."""

Sort = tuple[int, bool] | None
"""The rows' order: (column position, descending), or None for the frame's own."""


class FrameTable(ScrollView, can_focus=True):
    """A DataFrame served by a `FrameSession`: scroll every row and column, sort by any."""

    COMPONENT_CLASSES = {
        "frame-table--header",
        "frame-table--dtype",
        "frame-table--index",
        "frame-table--column",
        "frame-table--column-header",
        "frame-table--waiting",
    }

    DEFAULT_CSS = """
    FrameTable {
        height: 1fr;
        overflow: auto;
    }
    FrameTable > .frame-table--header { text-style: bold; }
    FrameTable > .frame-table--dtype { color: $text-muted; }
    FrameTable > .frame-table--index { color: $text-muted; }
    FrameTable > .frame-table--column { background: $boost; }
    FrameTable > .frame-table--column-header { background: $accent; color: $text; }
    FrameTable > .frame-table--waiting { color: $text-disabled; }
    """

    BINDINGS = [
        Binding("s", "sort", "Sort ▲/▼"),
        Binding("left,h", "column(-1)", "Column", show=False),
        Binding("right,l", "column(1)", "Column", show=False),
        Binding("home,g", "first", "First row", show=False),
        Binding("end,G", "last", "Last row"),
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
        Binding("right_square_bracket", "page_down", "Page", show=False),
        Binding("left_square_bracket", "page_up", "Page", show=False),
    ]

    class Opened(Message):
        """The frame is loaded: its shape is known and its first rows are coming."""

        def __init__(self, table: FrameTable, name: str) -> None:
            super().__init__()
            self.table = table
            self.name = name

    class Failed(Message):
        """The frame cannot be shown (`error.kind`: why; `NOT_A_FRAME`: preview it instead)."""

        def __init__(self, table: FrameTable, name: str, error: FrameError) -> None:
            super().__init__()
            self.table = table
            self.name = name
            self.error = error

    class _Shaped(Message, bubble=False):
        def __init__(self, generation: int, shape: FrameShape | FrameError) -> None:
            super().__init__()
            self.generation = generation
            self.shape = shape

    class _Fetched(Message, bubble=False):
        def __init__(
            self, generation: int, page: int, sort: Sort, rows: FrameRows | FrameError
        ) -> None:
            super().__init__()
            self.generation = generation
            self.page = page
            self.sort = sort
            self.rows = rows

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.session: FrameSession | None = None
        self.artifact = ""
        self.shape: FrameShape | None = None
        self.sort: Sort = None
        """The order the rows are drawn in."""
        self.sorting: Sort | None = None
        """An order asked for and not yet made (None: nothing asked)."""
        self.problem = ""
        """The last sentence the frame's process said about a sort (shown as a notice)."""
        self.column = 0
        """The chosen column (what `s` sorts by)."""
        self.pages: LRUCache[int, tuple[tuple[str, ...], ...]] = LRUCache(CACHED_PAGES)
        self._asked: set[int] = set()
        self._generation = 0
        self._starts: list[int] = [0]  # where each column starts, right of the index
        self._index_width = 0

    # -- opening and closing -------------------------------------------------------------

    def open(self, store: str, pathspec: str, artifact: str, source: str = "flowtui") -> None:
        """Show artifact `artifact` of task `pathspec` (the frame is loaded in its process)."""
        self.close()
        self.artifact = artifact
        self.border_title = artifact
        self.border_subtitle = "loading…"
        session = FrameSession(store, pathspec, artifact, source)
        self.session = session
        self._load(self._generation, session)

    def close(self) -> None:
        """Stop the frame's process and forget its rows."""
        self._generation += 1
        if self.session is not None:
            self.session.close()
        self.session = None
        self.shape = None
        self.sort = None
        self.sorting = None
        self.problem = ""
        self.column = 0
        self.pages.clear()
        self._asked.clear()
        self.virtual_size = Size(0, 0)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def on_unmount(self) -> None:
        self.close()

    @work(thread=True, group="frame-open", exit_on_error=False)
    def _load(self, generation: int, session: FrameSession) -> None:
        worker = get_current_worker()
        shape = session.shape(lambda: worker.is_cancelled)
        self.post_message(self._Shaped(generation, shape))

    @on(_Shaped)
    def _on_shaped(self, message: _Shaped) -> None:
        if message.generation != self._generation:
            return
        if isinstance(message.shape, FrameError):
            self.post_message(self.Failed(self, self.artifact, message.shape))
            return
        self.shape = shape = message.shape
        self._index_width = shape.index_width + 2 * PAD + 1  # and the rule after it
        self._starts = list(accumulate((w + 2 * PAD for w in shape.widths), initial=0))
        self.border_title = f"{self.artifact} · DataFrame {shape.rows:,} × {shape.total_columns:,}"
        self.virtual_size = Size(self._index_width + self._starts[-1], HEADER + max(1, shape.rows))
        self._tell_position()
        self.refresh()
        self.post_message(self.Opened(self, self.artifact))

    # -- pages of rows -------------------------------------------------------------------

    def row(self, number: int) -> tuple[str, ...] | None:
        """Row `number` (from 0, in the drawn order) as the view holds it, or None while it
        is being fetched: its index label, then its cells."""
        page = self.pages.get(number // PAGE_ROWS)
        if page is None:
            self._ask(number // PAGE_ROWS)
            return None
        at = number % PAGE_ROWS
        return page[at] if at < len(page) else None

    def _ask(self, page: int) -> None:
        if page in self._asked or self.session is None or self.sorting is not None:
            return
        self._asked.add(page)
        self._fetch(self._generation, self.session, page, self.sort)

    @work(thread=True, group="frame-rows", exit_on_error=False)
    def _fetch(self, generation: int, session: FrameSession, page: int, sort: Sort) -> None:
        rows = session.rows(page * PAGE_ROWS, PAGE_ROWS, sort)
        self.post_message(self._Fetched(generation, page, sort, rows))

    @on(_Fetched)
    def _on_fetched(self, message: _Fetched) -> None:
        if message.generation != self._generation:
            return
        rows = message.rows
        if message.sort != self.sort and message.sort == self.sorting:  # a new order
            self.sorting = None
            if isinstance(rows, FrameError):
                self._tell_problem(rows)
                self._tell_position()
                return
            self.sort, self.problem = message.sort, ""
            self.pages.clear()
            self._asked.clear()
            self.scroll_to(y=0, animate=False, immediate=True)
        elif message.sort != self.sort:
            return  # rows of an order no longer drawn
        self._asked.discard(message.page)
        if isinstance(rows, FrameError):  # the process is gone: say why, ask no more
            if rows.sentence != "closed":
                self.post_message(self.Failed(self, self.artifact, rows))
            self.close()
            return
        self.pages.set(message.page, rows.rows)
        self._tell_position()
        self.refresh()

    def _tell_problem(self, error: FrameError) -> None:
        if error.sentence == "closed":
            return
        self.problem = error.sentence
        self.notify(error.sentence, severity="warning", timeout=8, markup=False)

    # -- keys ----------------------------------------------------------------------------

    @property
    def body_height(self) -> int:
        """Rows on screen (the header aside)."""
        return max(1, self.scrollable_content_region.height - HEADER)

    def action_sort(self) -> None:
        """Sort every row by the chosen column, ascending; again, descending."""
        if self.shape is None or not self.shape.columns or self.session is None:
            return
        descending = self.sort == (self.column, False)
        self.sorting = (self.column, descending)
        self._fetch(self._generation, self.session, 0, self.sorting)
        self._tell_position()

    def action_column(self, step: int) -> None:
        if self.shape is None or not self.shape.columns:
            return
        self.choose_column(self.column + step)

    def choose_column(self, column: int) -> None:
        """Make `column` the chosen one, scrolled into view."""
        assert self.shape is not None
        old, self.column = self.column, max(0, min(column, len(self.shape.columns) - 1))
        left, right = self._starts[self.column], self._starts[self.column + 1]
        view = self.scrollable_content_region.width - self._index_width
        x = round(self.scroll_x)
        if left < x or view <= 0:
            self.scroll_to(x=left, animate=False, immediate=True)
        elif right > x + view:
            self.scroll_to(x=min(left, right - view), animate=False, immediate=True)
        if old != self.column:
            self.refresh()
        self._tell_position()

    def action_page_down(self) -> None:
        """The next screenful of rows (the header takes none of it)."""
        self.scroll_to(y=self.scroll_y + self.body_height, animate=False, immediate=True)

    def action_page_up(self) -> None:
        self.scroll_to(y=self.scroll_y - self.body_height, animate=False, immediate=True)

    def action_first(self) -> None:
        self.scroll_to(y=0, animate=False, immediate=True)

    def action_last(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y >= HEADER or self.shape is None:
            return
        x = round(self.scroll_x) + offset.x - self._index_width
        column = bisect_right(self._starts, x) - 1
        if offset.x >= self._index_width and 0 <= column < len(self.shape.columns):
            self.focus()
            self.choose_column(column)
            self.action_sort()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._tell_position()

    def watch_scroll_x(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_x(old_value, new_value)
        self._tell_position()

    def on_resize(self, event: events.Resize) -> None:
        self._tell_position()

    # -- where the view is ---------------------------------------------------------------

    @property
    def position(self) -> str:
        """Which rows and columns are on screen, of how many, and the order: `rows 1,001–1,050
        of 1,000,000 · columns 1–4 of 12 · by score ▼`."""
        shape = self.shape
        if shape is None:
            return "loading…"
        if shape.rows == 0:
            rows = "no rows"
        else:
            top = min(round(self.scroll_y), shape.rows - 1)
            last = min(shape.rows, top + self.body_height)
            rows = f"rows {top + 1:,}–{last:,} of {shape.rows:,}"
        parts = [rows]
        if shape.columns:
            first, last = self._visible_columns()
            served = f" (the first {len(shape.columns):,} served)" if shape.hidden_columns else ""
            if first > 0 or last < len(shape.columns) - 1 or served:
                parts.append(f"columns {first + 1:,}–{last + 1:,} of {shape.total_columns:,}")
                parts[-1] += served
        if self.sorting is not None:
            parts.append(f"sorting by {self._column_name(self.sorting[0])}…")
        elif self.sort is not None:
            parts.append(f"by {self._column_name(self.sort[0])} {MARKS[self.sort[1]]}")
        return " · ".join(parts)

    def _column_name(self, column: int) -> str:
        assert self.shape is not None
        return self.shape.columns[column]

    def _visible_columns(self) -> tuple[int, int]:
        """The first and last column (partly) on screen."""
        assert self.shape is not None
        x = round(self.scroll_x)
        view = max(1, self.scrollable_content_region.width - self._index_width)
        first = max(0, bisect_right(self._starts, x) - 1)
        last = max(first, bisect_right(self._starts, x + view - 1) - 1)
        return min(first, len(self.shape.columns) - 1), min(last, len(self.shape.columns) - 1)

    def _tell_position(self) -> None:
        if self.shape is not None:
            self.border_subtitle = self.position

    # -- drawing -------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        shape = self.shape
        if shape is None:
            if y != 0 or self.session is None:
                return Strip.blank(width, base)
            return self._note(f"Loading {self.artifact}…", width)
        if y == 0:
            cells = [self._title(c) for c in range(len(shape.columns))]
            return self._strip(shape.index_name, cells, "frame-table--header", width)
        if y == 1:
            return self._strip("", list(shape.dtypes), "frame-table--dtype", width)
        number = round(self.scroll_y) + y - HEADER
        if shape.rows == 0:
            if y != HEADER:
                return Strip.blank(width, base)
            return self._note("(this frame has no rows)", width)
        if number >= shape.rows:
            return Strip.blank(width, base)
        row = self.row(number)
        if row is None:
            waiting = ["…"] * len(shape.columns)
            return self._strip("…", waiting, "frame-table--waiting", width)
        return self._strip(row[0], list(row[1:]), None, width)

    def _note(self, text: str, width: int) -> Strip:
        base = self.rich_style
        style = base + self.get_component_rich_style("frame-table--waiting")
        text = " " * PAD + text
        return Strip([Segment(text, style)], cell_len(text)).crop_extend(0, width, base)

    def _title(self, column: int) -> str:
        assert self.shape is not None
        name = self.shape.columns[column]
        if self.sort is not None and self.sort[0] == column:
            return f"{name} {MARKS[self.sort[1]]}"
        return name

    def _strip(self, label: str, cells: list[str], role: str | None, width: int) -> Strip:
        """One line: the index cell in place, then the cells on screen (scrolled across)."""
        assert self.shape is not None
        base = self.rich_style
        line = base + self.get_component_rich_style(role) if role else base
        index_style = line + self.get_component_rich_style("frame-table--index")
        if role == "frame-table--header":
            index_style = line
        index = " " * PAD + _fit(label, self.shape.index_width, right=False) + " " * PAD
        segments = [Segment(index, index_style), Segment("│", index_style)]
        if not cells:  # a frame without columns: its index alone
            return Strip(segments).crop_extend(0, width, line)
        x = round(self.scroll_x)
        view = max(0, width - self._index_width)
        first, last = self._visible_columns()
        chosen = self.get_component_rich_style(
            "frame-table--column-header" if role == "frame-table--header" else "frame-table--column"
        )
        data: list[Segment] = []
        for column in range(first, min(last, len(cells) - 1) + 1):
            fitted = _fit(cells[column], self.shape.widths[column], self.shape.numeric[column])
            style = line + chosen if column == self.column else line
            data.append(Segment(" " * PAD + fitted + " " * PAD, style))
        scrolled = Strip(data).crop(x - self._starts[first], x - self._starts[first] + view)
        strip = Strip([*segments, *scrolled])
        return strip.crop_extend(0, width, line)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.refresh()


def _fit(text: str, width: int, right: bool) -> str:
    """`text` in exactly `width` cells: cut with "…" when longer, padded when shorter."""
    if cell_len(text) > width:
        return set_cell_size(text, max(0, width - 1)) + "…"
    padding = " " * (width - cell_len(text))
    return padding + text if right else text + padding
