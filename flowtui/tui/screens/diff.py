"""The artifacts of the selected task compared with the same task in another run (`d`)."""

from __future__ import annotations

import json
import subprocess

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from flowtui.client.diff import Diff, render
from flowtui.tui.handoff import flowtui_command

#: How long a comparison may take before it is stopped (s): values are loaded to compare.
DIFF_TIMEOUT = 300.0


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
        """`flowtui diff RUN TASK --json` in a child process: telling values apart loads them,
        and loading a value runs user code, which never happens in the app's process."""
        args = ["diff", self.other_run_id, self.pathspec, "--json"]
        command = flowtui_command(*args, *(["--store", self.store] if self.store else []))
        try:
            done = subprocess.run(
                command, capture_output=True, stdin=subprocess.DEVNULL, timeout=DIFF_TIMEOUT
            )
        except subprocess.TimeoutExpired:
            body = Text(f"Comparing took longer than {DIFF_TIMEOUT:.0f} s and was stopped.")
        else:
            if done.returncode in (0, 1):  # 1: they differ, as diff(1) says
                body = render(Diff.from_json(json.loads(done.stdout)))
            else:
                said = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
                body = Text(said[0] if said else f"The comparison failed ({done.returncode}).")
                body.stylize("bold red")
        self.app.call_from_thread(self.query_one("#diff-body", Static).update, body)

    def action_close(self) -> None:
        self.dismiss(None)
