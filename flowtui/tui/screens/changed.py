"""The resume question when steps the plan would reuse have new code since the run."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ChangedCodeScreen(ModalScreen[str | None]):
    """Resume from the earliest changed step (the default), from the chosen step anyway, or
    not at all; dismisses with the step to resume from, or None."""

    BINDINGS = [Binding("escape,n", "cancel", "Cancel", show=False)]

    def __init__(self, origin_run_id: str, step: str, changed: list[str], earliest: str) -> None:
        super().__init__()
        self.origin_run_id = origin_run_id
        self.step = step
        self.changed = changed
        self.earliest = earliest

    def compose(self) -> ComposeResult:
        steps = ", ".join(self.changed)
        verb = "has" if len(self.changed) == 1 else "have"
        question = Text.assemble(
            ("✎ ", "bold"),
            (steps, "bold"),
            f" {verb} new code since run {self.origin_run_id}, but resuming from ",
            (self.step, "bold"),
            f" would reuse {'its' if len(self.changed) == 1 else 'their'} old results. "
            "Resume from ",
            (self.earliest, "bold"),
            " to run the new code?",
        )
        with Vertical(id="confirm-box", classes="dialog"):
            yield Static(question, id="confirm-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"Resume from {self.earliest}", variant="primary", id="from-changed")
                yield Button(f"From {self.step} anyway", id="as-planned")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#from-changed", Button).focus()

    @on(Button.Pressed)
    def on_button(self, event: Button.Pressed) -> None:
        choice = {"from-changed": self.earliest, "as-planned": self.step}
        self.dismiss(choice.get(event.button.id or ""))

    def action_cancel(self) -> None:
        self.dismiss(None)
