"""CardsScreen: a task's cards (`@card`), drawn for the terminal, following a running task.

The cards are read through the client and drawn (`flowtui.client.card_render`: Markdown,
tables, images as pictures, progress bars, Vega-Lite charts) in a thread worker, so decoding
an image or drawing a chart never blocks the UI. While the task runs, the screen checks twice
a second whether a card file changed and redraws it: a step that calls `current.card.refresh()`
is watched live. Card data is JSON written by the task; it is never imported or unpickled.
A run that Metaflow made (`source="metaflow"`, `store_path` the folder holding its datastore)
shows the cards Metaflow stored, read through its client from the data in its card pages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from flowtui.client.card_render import card_renderables
from flowtui.client.cards import task_cards_at
from flowtui.client.metaflow_state import METAFLOW, MetaflowReader

POLL_SECONDS = 0.5
"""How often a running task's cards are checked for changes."""


class CardsScreen(Screen[None]):
    """The cards of task `pathspec` in the store at `store_path`; Escape closes."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]

    DEFAULT_CSS = """
    CardsScreen #cards-body {
        height: 1fr;
    }
    """

    class _Drawn(Message):
        """A worker's reading: what to draw (None: unchanged), whether the task still runs."""

        def __init__(
            self, generation: int, drawing: RenderableType | None, live: bool, stamp: object
        ) -> None:
            super().__init__()
            self.generation = generation
            self.drawing = drawing
            self.live = live
            self.stamp = stamp

    def __init__(self, store_path: str, pathspec: str, *, source: str = "flowtui") -> None:
        super().__init__()
        self.store_path = store_path
        self.source = source
        self.pathspec = pathspec
        self.stamp: object = None
        self.live = True
        self.draws = 0
        self._timer: Timer | None = None
        self._asked = 0  # generation of the latest reading asked for
        self._applied = 0  # generation of the latest reading shown (older ones are dropped)
        self._width = 0

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("Cards of ", "bold"), self.pathspec), id="cards-title")
        with VerticalScroll(id="cards-body"):
            yield Static(Text("Loading the cards…"), id="cards-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#cards-body", VerticalScroll).focus()
        self.call_after_refresh(self._read)  # once laid out, so the width is the real one
        self._timer = self.set_interval(POLL_SECONDS, self._poll)

    def _poll(self) -> None:
        if self.live:
            self._read()
        elif self._timer is not None:
            self._timer.stop()

    def _read(self) -> None:
        body = self.query_one("#cards-body", VerticalScroll)
        width = max(30, (body.scrollable_content_region.width or 80) - 2)
        self._asked += 1
        previous = self.stamp if width == self._width else None  # resized: draw again
        self._width = width
        self._draw(self._asked, self.store_path, self.pathspec, width, previous)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll_down(self) -> None:
        self.query_one("#cards-body", VerticalScroll).scroll_down()

    def action_scroll_up(self) -> None:
        self.query_one("#cards-body", VerticalScroll).scroll_up()

    @work(thread=True, exclusive=True, group="cards", exit_on_error=False)
    def _draw(
        self, generation: int, store: str, pathspec: str, width: int, previous: object
    ) -> None:
        try:
            cards, finished = self._read_cards(store, pathspec)
        except Exception as e:  # a missing store or task: say so, stay open
            self.post_message(self._Drawn(generation, Text(str(e)), False, None))
            return
        stamp = tuple((c.get("updated"), bool(c.get("final"))) for c in cards)
        live = not finished or any(not c.get("final") for c in cards)
        if stamp == previous and cards:
            self.post_message(self._Drawn(generation, None, live, stamp))
            return
        if not cards:
            message = (
                "No cards yet: the task is running and has not saved one."
                if not finished
                else f"Task {pathspec} has no cards; add @card to its step."
            )
            self.post_message(self._Drawn(generation, Text(message), live, stamp))
            return
        parts: list[RenderableType] = []
        for i, card in enumerate(cards):
            if i:
                parts.append(Rule(style="dim"))
            parts += card_renderables(card, width)
        self.post_message(self._Drawn(generation, Group(*parts), live, stamp))

    def _read_cards(self, store: str, pathspec: str) -> tuple[list[dict[str, Any]], bool]:
        """The task's card documents, and whether the task has finished."""
        if self.source == METAFLOW:  # a snapshot: Metaflow's run is not followed live
            reader = MetaflowReader(Path(store))
            try:
                return reader.cards(pathspec), True
            finally:
                reader.close()
        cards, finished = task_cards_at(store, pathspec)
        return [c.document for c in cards], finished

    @on(_Drawn)
    def _on_drawn(self, message: _Drawn) -> None:
        if message.generation < self._applied:
            return  # a slower, older reading: what it saw is already superseded
        self._applied = message.generation
        self.live = message.live
        self.set_class(message.live, "-live")
        if message.drawing is None:
            return  # the cards have not changed since they were drawn
        self.stamp = message.stamp
        self.draws += 1
        self.query_one("#cards-text", Static).update(message.drawing)
