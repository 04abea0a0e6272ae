"""The question when quitting while our run is live: stop it, leave it running, or stay."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

#: What the user chose: stop the run and quit, quit and leave the run going, or stay.
STOP, LEAVE = "stop", "leave"


class QuitScreen(ModalScreen[str | None]):
    """`y` stops the run and quits, `l` quits and leaves the run going (a new `flowtui FILE`
    shows it again), `n`/escape stays; dismisses with `STOP`, `LEAVE` or None."""

    BINDINGS = [
        Binding("y", "choose('stop')", "Stop and quit", show=False),
        Binding("l", "choose('leave')", "Leave it running", show=False),
        Binding("n,escape", "choose('')", "Stay", show=False),
    ]

    def __init__(self, run_id: str | None) -> None:
        super().__init__()
        self.run_id = run_id

    def compose(self) -> ComposeResult:
        run = f"Run {self.run_id}" if self.run_id else "A run"
        question = Text.assemble(
            (f"{run} is still running.", "bold"),
            " Stop it and quit, or quit and leave it running"
            " (open this flow again to follow it, or stop it with x)?",
        )
        with Vertical(id="confirm-box", classes="dialog"):
            yield Static(question, id="confirm-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Stop and quit", variant="primary", id=STOP)
                yield Button("Leave it running", id=LEAVE)
                yield Button("Stay", id="stay")

    def on_mount(self) -> None:
        self.query_one(f"#{STOP}", Button).focus()

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice or None)

    @on(Button.Pressed)
    def on_button(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id if event.button.id in (STOP, LEAVE) else None)
