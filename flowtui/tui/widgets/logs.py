"""LogView: one task's log file, live, searchable, bounded in memory whatever its size.

The file is never held as text. A thread worker tails it and keeps, for every line, only the
byte offset where it starts (`LineIndex`, 8 bytes a line); the view reads and decodes just
the lines on screen (plus a small LRU of recent ones). Lines are decoded as UTF-8 with
replacement, ANSI colour codes are rendered and every other escape is dropped, and nothing is
ever parsed as markup: a log line reading `[red]` shows `[red]`.

The view follows the tail until the user scrolls up, and follows again once back at the
bottom (`end`). `/` searches (`n`/`N` for the next/previous match).
"""

from __future__ import annotations

import os
import time
from array import array
from pathlib import Path
from typing import BinaryIO

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.events import Resize
from textual.geometry import Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input
from textual.worker import get_current_worker

from flowtui.tui.logfile import (
    MAX_LINE_BYTES,
    READ_CHUNK,
    LineIndex,
    decode_log_line,
    find_in_file,
    scan_line_starts,
)

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


class LogLines(ScrollView, can_focus=True):
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
        def __init__(self, generation: int) -> None:
            super().__init__()
            self.generation = generation

    class _Reset(Message, bubble=False):
        def __init__(self, generation: int) -> None:
            super().__init__()
            self.generation = generation

    class _Found(Message, bubble=False):
        def __init__(self, generation: int, offset: int | None, term: str) -> None:
            super().__init__()
            self.generation = generation
            self.offset = offset
            self.term = term

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.path: Path | None = None
        self.index = LineIndex()
        self.cache: LRUCache[int, Text] = LRUCache(CACHED_LINES)
        self.search_term = ""
        self.current_match: int | None = None
        self._generation = 0
        self._reader: BinaryIO | None = None
        self.finished = False
        """The log will not grow: its task has finished (an empty log says "no output")."""
        self.checked = True
        """The file has been looked at since it was opened (so an empty view means empty)."""

    # -- opening and tailing -------------------------------------------------------------

    def open(self, path: str | Path | None, *, follow: bool = True, finished: bool = False) -> None:
        """Show `path` (None shows nothing) and tail it; `follow` starts at the bottom.
        `finished`: the log will not grow (an empty one says "no output", not "… yet")."""
        self._generation += 1
        self._forget()
        self.path = Path(path) if path is not None else None
        self.finished = finished
        self.checked = self.path is None
        self.current_match = None
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
        checked = False

        def rest() -> None:
            nonlocal checked
            if not checked:  # the first look at the file is done: say so once
                checked = True
                self.post_message(self._Checked(generation))
            time.sleep(POLL_SECONDS)

        try:
            while not worker.is_cancelled:
                try:
                    stat = os.stat(path)
                except OSError:  # not created yet, or deleted: keep what is shown
                    rest()
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
            self.checked = True
            self.refresh()

    def set_finished(self, finished: bool) -> None:
        """The log will (not) grow any more: only changes what an empty log says."""
        if finished != self.finished:
            self.finished = finished
            self.refresh()

    @property
    def placeholder(self) -> str:
        """What an empty view says: "no output yet" while the log may grow, "no output" once
        it cannot, nothing while a finished task's file is still being looked at."""
        if not self.finished:
            return PLACEHOLDER
        return FINISHED_PLACEHOLDER if self.checked else ""

    @on(_Reset)
    def _on_reset(self, message: _Reset) -> None:
        if message.generation != self._generation:
            return
        self._forget()
        self.current_match = None
        self.refresh()

    @on(_Grown)
    def _on_grown(self, message: _Grown) -> None:
        if message.generation != self._generation:
            return
        last = self.index.line_count - 1
        self.index.extend(message.starts, message.end, message.widest)
        if last >= 0:
            self.cache.discard(last)  # a partial last line may have grown
        self.virtual_size = Size(min(self.index.widest, MAX_LINE_BYTES) + 2, self.line_count)
        if self.follow:
            self._to_end()
        self.refresh()

    @property
    def line_count(self) -> int:
        return self.index.line_count

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
        base = self.rich_style
        if self.line_count == 0:
            if y != 0:
                return Strip.blank(width, base)
            style = self.get_component_rich_style("loglines--placeholder")
            text = Text(self.placeholder, style=style)
        elif line >= self.line_count:
            return Strip.blank(width, base)
        else:
            text = self._highlighted(line, self.line_text(line))
        strip = Strip(text.render(self.app.console), cell_len(text.plain))
        strip = strip.apply_style(base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _highlighted(self, line: int, text: Text) -> Text:
        if not self.search_term:
            return text
        plain = text.plain.lower()
        term = self.search_term.lower()
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
        self.refresh()
        if not term or self.path is None or self.line_count == 0:
            return
        if self.current_match is not None and self.current_match < self.line_count:
            after, before = self.current_match + 1, self.current_match
        else:
            after = round(self.scroll_y)
            before = min(self.line_count, after + self.scrollable_content_region.height)
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
        try:
            offset = find_in_file(path, needle, *first, backwards=backwards)
            if offset is None:
                offset = find_in_file(path, needle, *wrapped, backwards=backwards)
        except OSError:
            offset = None
        self.post_message(self._Found(generation, offset, term))

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
        self.follow = False
        top = max(0, line - self.scrollable_content_region.height // 2)
        self.scroll_to(y=top, animate=False, immediate=True)
        if self.follow:  # the match is on the last screen: scrolling there resumed following
            self.follow = False
        self.refresh()


class LogView(Widget):
    """A live log file: `open(path)` shows and tails it; `/`, `n`, `N` search it."""

    DEFAULT_CSS = """
    LogView {
        height: 1fr;
        layout: vertical;
    }
    LogView > #search {
        dock: bottom;
        display: none;
    }
    LogView.-searching > #search {
        display: block;
    }
    """

    BINDINGS = [
        Binding("slash", "search", "Search"),
        Binding("n", "find_next", "Next match", show=False),
        Binding("N", "find_previous", "Previous match", show=False),
        Binding("end", "follow", "Follow", show=False),
    ]

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._initial = path
        self.lines = LogLines()

    def compose(self) -> ComposeResult:
        yield self.lines
        yield Input(placeholder="search (Enter to find, Esc to close)", id="search")

    def on_mount(self) -> None:
        self.set_class(True, "-following")
        if self._initial is not None:
            self.open(self._initial)

    @property
    def path(self) -> Path | None:
        return self.lines.path

    @property
    def line_count(self) -> int:
        return self.lines.line_count

    @property
    def following(self) -> bool:
        return self.lines.follow

    def open(self, path: str | Path | None, *, follow: bool = True, finished: bool = False) -> None:
        """Show and tail `path`; None shows "no output yet". Re-opening the same path keeps
        the scroll position and search. `finished`: the log will not grow any more, so an
        empty one says "no output"."""
        new = Path(path) if path is not None else None
        if new is not None and new == self.lines.path:
            self.lines.set_finished(finished)
            return
        self.lines.open(new, follow=follow, finished=finished)

    @on(LogLines.Followed)
    def _on_followed(self, message: LogLines.Followed) -> None:
        message.stop()
        self.set_class(message.following, "-following")
        self.border_subtitle = "" if message.following else "paused · End to follow"

    def action_follow(self) -> None:
        self.lines.action_follow()

    def action_search(self) -> None:
        self.add_class("-searching")
        search = self.query_one("#search", Input)
        search.value = self.lines.search_term
        search.focus()

    def action_find_next(self) -> None:
        if self.lines.search_term:
            self.lines.search(self.lines.search_term)
        else:
            self.action_search()

    def action_find_previous(self) -> None:
        if self.lines.search_term:
            self.lines.search(self.lines.search_term, backwards=True)
        else:
            self.action_search()

    @on(Input.Submitted, "#search")
    def _on_search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.remove_class("-searching")
        self.lines.current_match = None
        self.lines.focus()
        self.lines.search(event.value)

    def key_escape(self) -> None:
        if self.has_class("-searching"):
            self.remove_class("-searching")
            self.lines.focus()
