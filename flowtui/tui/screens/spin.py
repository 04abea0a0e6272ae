"""`s`: spin the selected task's step in place, its output streamed, then what changed.

The spin is the real CLI (`flowtui spin FILE STEP --run-id RUN --task-id TASK`) in a child
process of its own process group, as runs are: user code never runs in the app. Its output is
shown as it comes (task logs, then the spun task's artifacts, then how they differ from the
task whose inputs it used), as plain text, never as markup. Closing the screen while the spin
runs stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Log, Static


class SpinScreen(ModalScreen[None]):
    """A spin's output, live; `exit_code` is set when it has finished."""

    BINDINGS = [Binding("escape,q", "close", "Close")]

    def __init__(self, title: str, command: list[str]) -> None:
        super().__init__()
        self.title_text = title
        self.command = command
        self.process: asyncio.subprocess.Process | None = None
        self.exit_code: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="spin-box", classes="dialog"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            yield Log(id="spin-log", highlight=False)
            yield Static(Text("spinning… esc stops and closes", style="dim"), id="spin-status")

    def on_mount(self) -> None:
        self.query_one(Log).focus()
        self.run_worker(self.spin(), group="spin", exit_on_error=False)

    @property
    def output(self) -> str:
        return "\n".join(str(line) for line in self.query_one(Log).lines)

    async def spin(self) -> None:
        log = self.query_one(Log)
        env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="100")
        self.process = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            log.write_line(raw.decode("utf-8", errors="replace").rstrip("\n"))
        self.exit_code = await self.process.wait()
        word = "done" if self.exit_code == 0 else f"failed (exit code {self.exit_code})"
        status = Text(f"spin {word} · esc closes", style="dim")
        self.query_one("#spin-status", Static).update(status)

    def action_close(self) -> None:
        process = self.process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        self.dismiss(None)
