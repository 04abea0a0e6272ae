"""LogView: one task's log file, live, searchable, bounded in memory whatever its size.

The file is never held as text. A thread worker tails it and keeps, for every line, only the
byte offset where it starts (`LineIndex`, 8 bytes a line); the view reads and decodes just
the lines on screen (plus a small LRU of recent ones). Lines are decoded as UTF-8 with
replacement, ANSI colour codes are rendered and every other escape is dropped, and nothing is
ever parsed as markup: a log line reading `[red]` shows `[red]`.

The view follows the tail until the user scrolls up, and follows again once back at the
bottom (`end`); "paused · End to follow" on its bottom border says when it does not. `/`
searches (`n`/`N` for the next/previous match; the top border says "match 3 of 17"), `&`
filters (only the lines holding a term are shown, live as the file grows; empty shows all).
The body, `LogLines`, is in `loglines.py`; the file's offsets and scans in `tui/logfile.py`.
"""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Input

from flowtui.tui.widgets.loglines import (
    CACHED_LINES,
    FINISHED_PLACEHOLDER,
    MISSING_PLACEHOLDER,
    PLACEHOLDER,
    LogLines,
)

__all__ = [
    "CACHED_LINES",
    "FINISHED_PLACEHOLDER",
    "MISSING_PLACEHOLDER",
    "PLACEHOLDER",
    "LogLines",
    "LogView",
]


SEARCH_PROMPT = "search (Enter to find, Esc to close)"


def search_title(lines: LogLines) -> str:
    """`match 3 of 17` for a search, `12 lines hold 'err'` for a filter, both, or ""."""
    parts = []
    if lines.filter_term and lines.filtered is not None:
        count = len(lines.filtered)
        holds = "line holds" if count == 1 else "lines hold"
        parts.append(f"{count} {holds} {lines.filter_term!r}")
    if lines.search_term and lines.match_count is not None:
        ordinal, total = lines.match_count
        parts.append(f"match {ordinal} of {total}")
    return " · ".join(parts)


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
        Binding("ampersand", "filter", "Filter", show=False),
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
        self.add_class("-following")  # before the mount: cheaper than restyling after
        self._up = False  # mounted: its lines can read a file
        self._ask_pending: bool | None = None  # `/` (False) or `&` (True) before the mount
        self._pending: tuple[Path | None, bool, bool] | None = None
        """What `open` was asked before the view was mounted: (path, follow, finished)."""
        if path is not None:
            self._pending = (Path(path), True, False)
        self.lines = LogLines()
        self.filtering = False
        """The input at the bottom sets the filter (`&`), not the search (`/`)."""

    def compose(self) -> ComposeResult:
        yield self.lines
        yield Input(placeholder=SEARCH_PROMPT, id="search")

    def on_mount(self) -> None:
        self._up = True
        if self._pending is not None:
            path, follow, finished = self._pending
            self._pending = None
            self.open(path, follow=follow, finished=finished)
        if self._ask_pending is not None:
            self._ask(filtering=self._ask_pending)

    @property
    def path(self) -> Path | None:
        if self._pending is not None:
            return self._pending[0]
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
        if not self._up:  # opened once mounted
            self._pending = (new, follow, finished)
            return
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
        self._ask(filtering=False)

    def action_filter(self) -> None:
        self._ask(filtering=True)

    def _ask(self, *, filtering: bool) -> None:
        if not self._up:  # asked as the view is being mounted: asked once it is
            self._ask_pending = filtering
            return
        self._ask_pending = None
        self.filtering = filtering
        self.add_class("-searching")
        search = self.query_one("#search", Input)
        if filtering:
            search.placeholder = "show only lines holding… (Enter; empty shows all; Esc closes)"
            search.value = self.lines.filter_term
        else:
            search.placeholder = SEARCH_PROMPT
            search.value = self.lines.search_term
        search.focus()

    @on(LogLines.Searched)
    def _on_searched(self, message: LogLines.Searched) -> None:
        message.stop()
        # the user's term, never markup: "[/bold" raised MarkupError and ended the app
        self.border_title = Content(search_title(self.lines))

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
        if self.filtering:
            self.lines.set_filter(event.value)
        else:
            self.lines.search(event.value)

    def key_escape(self) -> None:
        if self.has_class("-searching"):
            self.remove_class("-searching")
            self.lines.focus()
