"""LogLines: the scrolling body of a `LogView` (see there): a log file by its line offsets,
tailed by a thread worker, rendered a visible line at a time, searched and filtered in
workers that read the file, never the screen."""

from __future__ import annotations

import os
import time
from array import array
from bisect import bisect_left
from pathlib import Path
from typing import BinaryIO

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.cache import LRUCache
from textual.events import Resize
from textual.geometry import Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from flowtui.tui.logfile import (
    MAX_LINE_BYTES,
    READ_CHUNK,
    LineIndex,
    count_in_file,
    decode_log_line,
    find_in_file,
    lines_matching,
    scan_line_starts,
)
from flowtui.tui.widgets.base_style import BaseStyleOnce

POLL_SECONDS = 0.08
"""How often the tail worker looks at the file's size."""
BATCH_BYTES = 32 << 20
"""Most bytes indexed before the view is told (so a huge file shows up progressively)."""
CACHED_LINES = 512
"""Decoded lines kept around for redraws; the only text the view ever holds."""
PLACEHOLDER = "no output yet"
"""Shown while an empty log may still grow (its task is pending or running)."""
FINISHED_PLACEHOLDER = "no output"
"""Shown for the empty log of a finished task."""
MISSING_PLACEHOLDER = "no log file: deleted from the store, or its task died before writing it"
"""Shown for a finished task whose log file is not there (every ended attempt has both)."""


class LogLines(BaseStyleOnce, ScrollView, can_focus=True):
    """The scrolling body of a `LogView`: renders only the visible lines of the file."""

    COMPONENT_CLASSES = {
        "loglines--placeholder",
        "loglines--match",
        "loglines--current-match",
    }

    DEFAULT_CSS = """
    LogLines {
        height: 1fr;
        overflow: auto;
    }
    """

    BINDINGS = [
        Binding("end", "follow", "Follow", show=False),
        Binding("G", "follow", "Follow", show=False),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]

    follow: var[bool] = var(True)
    """Keep the last line in view as the file grows."""

    class Followed(Message, bubble=True):
        """Following the tail started or stopped (the user scrolled away or back)."""

        def __init__(self, lines: LogLines, following: bool) -> None:
            super().__init__()
            self.lines = lines
            self.following = following

    class _Grown(Message, bubble=False):
        def __init__(self, generation: int, starts: array[int], end: int, widest: int) -> None:
            super().__init__()
            self.generation = generation
            self.starts = starts
            self.end = end
            self.widest = widest

    class _Checked(Message, bubble=False):
        """The tail worker looked at the file: it is there or not (said again if that changes)."""

        def __init__(self, generation: int, missing: bool) -> None:
            super().__init__()
            self.generation = generation
            self.missing = missing

    class _Reset(Message, bubble=False):
        def __init__(self, generation: int) -> None:
            super().__init__()
            self.generation = generation

    class _Found(Message, bubble=False):
        def __init__(
            self, generation: int, offset: int | None, term: str, ordinal: int, total: int
        ) -> None:
            super().__init__()
            self.generation = generation
            self.offset = offset
            self.term = term
            self.ordinal = ordinal
            self.total = total

    class _Filtered(Message, bubble=False):
        def __init__(self, generation: int, term: str, lines: array[int], upto: int) -> None:
            super().__init__()
            self.generation = generation
            self.term = term
            self.lines = lines
            self.upto = upto

    class Searched(Message, bubble=True):
        """What the search or the filter found changed (the view's title says so)."""

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.path: Path | None = None
        self.index = LineIndex()
        self.cache: LRUCache[int, Text] = LRUCache(CACHED_LINES)
        self.search_term = ""
        self.current_match: int | None = None
        self.match_count: tuple[int, int] | None = None
        """(which match, of how many) after a search found one."""
        self.filter_term = ""
        self.filtered: array[int] | None = None
        """With a filter, the lines that hold its term (the only ones shown)."""
        self._filtered_upto = 0
        self._filtering = False
        self._generation = 0
        self._reader: BinaryIO | None = None
        self.finished = False
        """The log will not grow: its task has finished (an empty log says "no output")."""
        self.checked = True
        """The file has been looked at since it was opened (so an empty view means empty)."""
        self.missing = False
        """At the last look the file was not there (a running task creates it as it starts)."""

    # -- opening and tailing -------------------------------------------------------------

    def open(self, path: str | Path | None, *, follow: bool = True, finished: bool = False) -> None:
        """Show `path` (None shows nothing) and tail it; `follow` starts at the bottom.
        `finished`: the log will not grow (an empty one says "no output", not "… yet")."""
        self._generation += 1
        self._forget()
        self.path = Path(path) if path is not None else None
        self.finished = finished
        self.checked = self.path is None
        self.missing = False
        self.current_match = None
        self.match_count = None
        if self.filter_term:
            self.filtered, self._filtered_upto, self._filtering = array("Q"), 0, False
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.follow = follow
        if self.path is None:
            self.workers.cancel_group(self, "log-tail")
        else:
            self._tail(str(self.path), self._generation)
        self.refresh()

    def _forget(self) -> None:
        self.index.clear()
        self.cache.clear()
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self.virtual_size = Size(0, 0)

    @work(thread=True, exclusive=True, group="log-tail", exit_on_error=False)
    def _tail(self, path: str, generation: int) -> None:
        worker = get_current_worker()
        fh: BinaryIO | None = None
        inode = -1
        pos = 0
        said: bool | None = None  # what the view was last told: the file is missing

        def rest(missing: bool = False) -> None:
            nonlocal said
            if missing != said:  # the first look, or the file came (or went): say so
                said = missing
                self.post_message(self._Checked(generation, missing))
            time.sleep(POLL_SECONDS)

        try:
            while not worker.is_cancelled:
                try:
                    stat = os.stat(path)
                except OSError:  # not created yet, or deleted: keep what is shown
                    rest(missing=True)
                    continue
                if fh is None or stat.st_ino != inode or stat.st_size < pos:
                    if fh is not None:  # truncated or replaced: start over
                        fh.close()
                        self.post_message(self._Reset(generation))
                    try:
                        fh = open(path, "rb")  # noqa: SIM115 -- lives across iterations
                    except OSError:
                        fh = None
                        rest()
                        continue
                    inode, pos = os.fstat(fh.fileno()).st_ino, 0
                if stat.st_size <= pos:
                    rest()
                    continue
                starts: array[int] = array("Q")
                widest = 0
                fh.seek(pos)
                limit = pos + BATCH_BYTES
                while pos < limit and not worker.is_cancelled:
                    chunk = fh.read(READ_CHUNK)
                    if not chunk:
                        break
                    new_starts, chunk_widest = scan_line_starts(chunk, pos)
                    starts.extend(new_starts)
                    widest = max(widest, chunk_widest)
                    pos += len(chunk)
                self.post_message(self._Grown(generation, starts, pos, widest))
                rest()
        finally:
            if fh is not None:
                fh.close()

    @on(_Checked)
    def _on_checked(self, message: _Checked) -> None:
        if message.generation == self._generation:
            self.checked, self.missing = True, message.missing
            self.refresh()

    def set_finished(self, finished: bool) -> None:
        """The log will (not) grow any more: only changes what an empty log says."""
        if finished != self.finished:
            self.finished = finished
            self.refresh()

    @property
    def placeholder(self) -> str:
        """What an empty view says: "no output yet" while the log may grow, "no output" once
        it cannot (or that its file is missing), nothing while a finished task's file is still
        being looked at."""
        if not self.finished:
            return PLACEHOLDER
        if not self.checked:
            return ""
        return MISSING_PLACEHOLDER if self.missing else FINISHED_PLACEHOLDER

    @on(_Reset)
    def _on_reset(self, message: _Reset) -> None:
        if message.generation != self._generation:
            return
        self._forget()
        self.current_match = None
        if self.filter_term:
            self.filtered, self._filtered_upto, self._filtering = array("Q"), 0, False
        self.refresh()

    @on(_Grown)
    def _on_grown(self, message: _Grown) -> None:
        if message.generation != self._generation:
            return
        last = self.index.line_count - 1
        self.index.extend(message.starts, message.end, message.widest)
        if last >= 0:
            self.cache.discard(last)  # a partial last line may have grown
        self._resize()
        if self.filter_term:
            self._filter_more()
        if self.follow:
            self._to_end()
        self.refresh()

    def _resize(self) -> None:
        self.virtual_size = Size(min(self.index.widest, MAX_LINE_BYTES) + 2, self.row_count)

    @property
    def line_count(self) -> int:
        """Lines in the file."""
        return self.index.line_count

    @property
    def row_count(self) -> int:
        """Lines shown: the file's, or with a filter the ones that hold its term."""
        return len(self.filtered) if self.filtered is not None else self.line_count

    def line_of(self, row: int) -> int:
        """The file's line shown on `row`."""
        return self.filtered[row] if self.filtered is not None else row

    def row_of(self, line: int) -> int:
        """The row showing `line` (with a filter, the first shown at or after it)."""
        if self.filtered is None:
            return line
        return min(bisect_left(self.filtered, line), max(0, len(self.filtered) - 1))

    # -- the filter: only the lines holding a term -----------------------------------------

    def set_filter(self, term: str) -> None:
        """Show only the lines holding `term` (case-insensitive); "" shows every line."""
        self.filter_term = term
        self.filtered = array("Q") if term else None
        self._filtered_upto, self._filtering = 0, False
        self.cache.clear()
        self._resize()
        if term:
            self._filter_more()
        self.scroll_to(0, 0, animate=False, immediate=True)
        if self.follow:
            self._to_end()
        self.post_message(self.Searched())
        self.refresh()

    def _filter_more(self) -> None:
        if self._filtering or self.path is None or self._filtered_upto >= self.index.end:
            return
        self._filtering = True
        self._scan(str(self.path), self.filter_term, self._filtered_upto, self._generation)

    @work(thread=True, exclusive=True, group="log-filter", exit_on_error=False)
    def _scan(self, path: str, term: str, start: int, generation: int) -> None:
        # Only whole lines: a last line without its newline yet is scanned when it ends.
        stop = self.index.starts[-1] if self.index.line_count else 0
        try:
            lines = lines_matching(path, term.encode("utf-8"), self.index, start, stop)
        except OSError:
            lines = array("Q")
        self.post_message(self._Filtered(generation, term, lines, max(start, stop)))

    @on(_Filtered)
    def _on_filtered(self, message: _Filtered) -> None:
        if message.generation != self._generation or message.term != self.filter_term:
            return
        assert self.filtered is not None
        last = self.filtered[-1] if self.filtered else -1
        self.filtered.extend(line for line in message.lines if line > last)
        self._filtered_upto = message.upto
        self._filtering = False
        self._resize()
        if self.follow:
            self._to_end()
        self.post_message(self.Searched())
        self.refresh()
        if self.index.starts[-1] > self._filtered_upto:
            self._filter_more()

    # -- following -----------------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(new_value) >= self.max_scroll_y:
            self.follow = True
        elif new_value < old_value:
            self.follow = False

    def watch_follow(self, following: bool) -> None:
        self.post_message(self.Followed(self, following))

    def action_follow(self) -> None:
        self.follow = True
        self._to_end()

    # Moves are immediate, as in `less`: an animation racing new lines would fight following.
    def action_scroll_up(self) -> None:
        self.scroll_up(animate=False)

    def action_scroll_down(self) -> None:
        self.scroll_down(animate=False)

    def action_page_up(self) -> None:
        self.scroll_page_up(animate=False)

    def action_page_down(self) -> None:
        self.scroll_page_down(animate=False)

    def action_scroll_home(self) -> None:
        self.scroll_home(animate=False)

    def _to_end(self) -> None:
        # forced: the scrollbars may not know yet of lines that just arrived
        self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)

    def on_resize(self, event: Resize) -> None:
        if self.follow:
            self._to_end()

    def watch_show_horizontal_scrollbar(self, shown: bool) -> None:
        # the scrollbar a wide line brings takes a row of the view (no resize is sent):
        # following, the last line would stay under it
        if self.follow:
            self._to_end()

    # -- rendering -----------------------------------------------------------------------

    def line_text(self, line: int) -> Text:
        """The decoded text of `line` (read from the file unless recently shown)."""
        cached = self.cache.get(line)
        if cached is not None:
            return cached
        start, end = self.index.span(line)
        raw = self._read(start, min(end - start, MAX_LINE_BYTES))
        text = decode_log_line(raw, cut=end - start > MAX_LINE_BYTES)
        if len(raw) == min(end - start, MAX_LINE_BYTES):
            self.cache[line] = text
        return text

    def _read(self, start: int, length: int) -> bytes:
        if self.path is None or length <= 0:
            return b""
        try:
            if self._reader is None:
                self._reader = open(self.path, "rb")  # noqa: SIM115 -- kept for redraws
            self._reader.seek(start)
            return self._reader.read(length)
        except OSError:
            return b""

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        line = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.base_style
        if self.row_count == 0:
            if y != 0:
                return Strip.blank(width, base)
            style = self.get_component_rich_style("loglines--placeholder")
            placeholder = f"no line holds {self.filter_term!r}" if self.filter_term else ""
            text = Text(placeholder or self.placeholder, style=style)
        elif line >= self.row_count:
            return Strip.blank(width, base)
        else:
            line = self.line_of(line)
            text = self._highlighted(line, self.line_text(line))
        strip = Strip(text.render(self.app.console), cell_len(text.plain))
        strip = strip.apply_style(base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _highlighted(self, line: int, text: Text) -> Text:
        if not (self.search_term or self.filter_term):
            return text
        plain = text.plain.lower()
        term = (self.search_term or self.filter_term).lower()
        at = plain.find(term)
        if at == -1:
            return text
        style = self.get_component_rich_style(
            "loglines--current-match" if line == self.current_match else "loglines--match"
        )
        text = text.copy()
        while at != -1:
            text.stylize(style, at, at + len(term))
            at = plain.find(term, at + len(term))
        return text

    # -- search --------------------------------------------------------------------------

    def search(self, term: str, *, backwards: bool = False) -> None:
        """Find `term` after (or before) the current match, or from the top of the screen."""
        self.search_term = term
        self.match_count = None
        self.post_message(self.Searched())
        self.refresh()
        if not term or self.path is None or self.line_count == 0:
            return
        if self.current_match is not None and self.current_match < self.line_count:
            after, before = self.current_match + 1, self.current_match
        else:
            top = round(self.scroll_y)
            after = self.line_of(top) if top < self.row_count else self.line_count
            bottom = min(self.row_count, top + self.scrollable_content_region.height)
            before = self.line_of(bottom - 1) + 1 if bottom > 0 else 0
        if backwards:
            start, stop = 0, self.index.offset_of(before)
            wrap_start, wrap_stop = stop, self.index.end
        else:
            start, stop = self.index.offset_of(after), self.index.end
            wrap_start, wrap_stop = 0, start
        self._find(
            str(self.path),
            term,
            (start, stop),
            (wrap_start, wrap_stop),
            backwards,
            self._generation,
        )

    @work(thread=True, exclusive=True, group="log-find", exit_on_error=False)
    def _find(
        self,
        path: str,
        term: str,
        first: tuple[int, int],
        wrapped: tuple[int, int],
        backwards: bool,
        generation: int,
    ) -> None:
        needle = term.encode("utf-8")
        offset: int | None = None
        ordinal = total = 0
        end = max(first[1], wrapped[1])
        try:
            offset = find_in_file(path, needle, *first, backwards=backwards)
            if offset is None:
                offset = find_in_file(path, needle, *wrapped, backwards=backwards)
            if offset is not None:
                total = count_in_file(path, needle, 0, end)
                ordinal = count_in_file(path, needle, 0, offset + len(needle) - 1) + 1
        except OSError:
            offset = None
        self.post_message(self._Found(generation, offset, term, ordinal, total))

    def _column_showing(self, line: int, offset: int, term: str) -> float:
        """The horizontal scroll that shows the match of `term` at file `offset` in `line`:
        where the view is when the match is in it, else a third of a view before it."""
        start, _ = self.index.span(line)
        needle = term.lower().encode("utf-8")
        earlier = self._read(start, min(offset - start, MAX_LINE_BYTES)).lower().count(needle)
        plain, wanted = self.line_text(line).plain.lower(), term.lower()
        at = plain.find(wanted)
        for _ in range(earlier):  # the match found, not the line's first (as decoded)
            later = plain.find(wanted, at + len(wanted))
            if later == -1:
                break
            at = later
        if at == -1:  # past the cut of a very long line: not shown
            return self.scroll_x
        left = cell_len(plain[:at])
        width = self.scrollable_content_region.width
        if self.scroll_x <= left and left + cell_len(wanted) <= self.scroll_x + width:
            return self.scroll_x
        return max(0, left - width // 3)

    @on(_Found)
    def _on_found(self, message: _Found) -> None:
        if message.generation != self._generation or message.term != self.search_term:
            return
        if message.offset is None:
            self.current_match = None
            self.notify(
                f"{message.term!r} is not in this log.", severity="warning", timeout=3, markup=False
            )
            self.refresh()
            return
        line = self.index.line_at(message.offset)
        self.current_match = line
        self.match_count = (message.ordinal, message.total)
        self.post_message(self.Searched())
        past = message.offset + len(message.term.encode("utf-8")) - self.index.span(line)[0]
        if past > MAX_LINE_BYTES:  # "match 5 of 5", and nothing on screen to show it
            self.notify(
                f"Match {message.ordinal} is past the first {MAX_LINE_BYTES:,} bytes of its "
                "line, the part shown; flowtui logs prints the line whole.",
                severity="warning",
                timeout=5,
                markup=False,
            )
        self.follow = False
        top = max(0, self.row_of(line) - self.scrollable_content_region.height // 2)
        self.scroll_to(
            y=top,
            x=self._column_showing(line, message.offset, message.term),
            animate=False,
            immediate=True,
        )
        if self.follow:  # the match is on the last screen: scrolling there resumed following
            self.follow = False
        self.refresh()
