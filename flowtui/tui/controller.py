"""Starting and stopping the runner subprocess, and reading its event stream.

The TUI never runs user code: a run is the real CLI (`flowtui run FILE --events`, or
`flowtui resume ... --events`) in a child process of its own process group. Its stdout is the
event stream (docs/events.md), read line by line and posted to the app in batches; its stderr
lines (the runner's own notices and errors) are posted one by one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys

from textual.message import Message
from textual.message_pump import MessagePump

from flowtui.run.events import Event, decode_event

#: How often decoded events are handed to the app (s): the UI redraws at most this often.
BATCH_INTERVAL = 0.06
#: How long a cancelled runner gets to stop after SIGINT, then after SIGTERM (s).
INTERRUPT_GRACE = 5.0
TERMINATE_GRACE = 2.0
#: Longest event line accepted (a task's traceback travels in one line).
MAX_LINE_BYTES = 16 * 1024 * 1024


def runner_command(args: list[str]) -> list[str]:
    """The argv that runs the flowtui CLI with `args` under this interpreter."""
    return [sys.executable, "-m", "flowtui", *args]


class RunController:
    """One runner subprocess: start it, follow its events, stop it cleanly.

    Messages are posted to `target` (the app): `Events` with a batch of decoded events,
    `Stderr` per line the runner wrote to stderr, and `Exited` once, after the last event.
    """

    class Events(Message):
        """A batch of decoded events, in stream order."""

        def __init__(self, events: list[Event]) -> None:
            super().__init__()
            self.events = events

    class Stderr(Message):
        """One line the runner wrote to stderr."""

        def __init__(self, line: str) -> None:
            super().__init__()
            self.line = line

    class Exited(Message):
        """The runner exited (after all its events were posted)."""

        def __init__(self, returncode: int, cancelled: bool) -> None:
            super().__init__()
            self.returncode = returncode
            self.cancelled = cancelled

    def __init__(self, target: MessagePump, args: list[str]) -> None:
        self.target = target
        self.args = args
        self.process: asyncio.subprocess.Process | None = None
        self.cancelled = False
        self._pending: list[Event] = []

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def run(self) -> int:
        """Start the runner and follow it to the end; returns its exit code."""
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = await asyncio.create_subprocess_exec(
            *runner_command(self.args),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group, so a cancel reaches every task
            limit=MAX_LINE_BYTES,
            env=env,
        )
        flusher = asyncio.create_task(self._flush_periodically())
        try:
            await asyncio.gather(self._read_stdout(), self._read_stderr())
            returncode = await self.process.wait()
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
        self._flush()
        self.target.post_message(self.Exited(returncode, self.cancelled))
        return returncode

    async def _read_stdout(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode("utf-8", errors="replace")
            event = decode_event(line)
            if event is not None:
                self._pending.append(event)
            elif line.strip():
                self.target.post_message(self.Stderr(line.rstrip("\n")))

    async def _read_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        async for raw in self.process.stderr:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            if line.strip():
                self.target.post_message(self.Stderr(line))

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(BATCH_INTERVAL)
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            batch, self._pending = self._pending, []
            self.target.post_message(self.Events(batch))

    async def cancel(self) -> None:
        """Stop the run: SIGINT to the runner's group, then SIGTERM, then SIGKILL."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        self.cancelled = True
        for sig, grace in (
            (signal.SIGINT, INTERRUPT_GRACE),
            (signal.SIGTERM, TERMINATE_GRACE),
            (signal.SIGKILL, None),
        ):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            if grace is None:
                break
            try:
                await asyncio.wait_for(process.wait(), grace)
                return
            except asyncio.TimeoutError:
                continue
        await process.wait()
