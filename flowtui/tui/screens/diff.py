"""The artifacts of the selected task compared with the same task in another run (`d`)."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from flowtui.errors import FlowtuiError


class DiffScreen(ModalScreen[None]):
    """What differs between task `pathspec` and its counterpart in run `other_run_id`."""

    BINDINGS = [Binding("escape,q,d", "close", "Close")]

    def __init__(self, store: str | None, pathspec: str, other_run_id: str) -> None:
        super().__init__()
        self.store = store
        self.pathspec = pathspec
        self.other_run_id = other_run_id

    def compose(self) -> ComposeResult:
        with Vertical(id="diff-box", classes="dialog"):
            title = f"{self.pathspec} compared with run {self.other_run_id}"
            yield Static(Text(title, style="bold"), classes="dialog-title")
            with VerticalScroll(id="diff-scroll"):
                yield Static(Text("Comparing…", style="dim"), id="diff-body")
            yield Static(Text("esc closes", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#diff-scroll").focus()
        self.compare()

    @work(thread=True, exclusive=True, group="diff", exit_on_error=False)
    def compare(self) -> None:
        from flowtui.client.diff import compare_in, render

        try:
            body = render(
                compare_in(self.store, self.pathspec, self.other_run_id, task_in_run=True)
            )
        except FlowtuiError as e:
            body = Text(str(e), style="bold red")
        except Exception as e:  # a value's own code failed while loading: say so, never crash
            body = Text(f"The comparison failed: {type(e).__name__}: {e}", style="bold red")
        self.app.call_from_thread(self.query_one("#diff-body", Static).update, body)

    def action_close(self) -> None:
        self.dismiss(None)
