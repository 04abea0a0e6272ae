"""Starting and stopping the runner subprocess, and reading its event stream.

The TUI never runs user code: a run is the real CLI (`flowtui run FILE --events`, or
`flowtui resume ... --events`) in a child process of its own session. Its stdout is the
event stream (docs/events.md), read line by line and posted to the app in batches; its stderr
lines (the runner's own notices and errors) are posted one by one. `detach` leaves the runner
going when the app quits ("Leave it running"): the run goes on, and the store has it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from textual.message import Message
from textual.message_pump import MessagePump

if TYPE_CHECKING:
    from flowtui.run.events import Event

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
        """One line the runner wrote to stderr, its escape codes written out (it may be the
        user's: a flow's import printing ESC[2J would clear the screen it is shown on)."""

        def __init__(self, line: str) -> None:
            from flowtui.run.artifacts import inert_text  # with the first run, not at start

            super().__init__()
            self.line = inert_text(line)

    class Exited(Message):
        """The runner exited (after all its events were posted)."""

        def __init__(self, returncode: int, cancelled: bool) -> None:
            super().__init__()
            self.returncode = returncode
            self.cancelled = cancelled

    def __init__(self, target: MessagePump, args: list[str]) -> None:
        self.target = target
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None
        self.cancelled = False
        self.detached = False
        self._pending: list[Event] = []
        self._streams: list[asyncio.ReadTransport] = []
        self._readers: list[tuple[asyncio.StreamReader, int]] = []  # and the pipe's fd

    @property
    def running(self) -> bool:
        return not self.detached and self.process is not None and self.process.poll() is None

    async def run(self) -> int:
        """Start the runner and follow it to the end; returns its exit code (-1: detached).

        A plain `Popen`, not an asyncio subprocess: asyncio kills a child whose transport it
        closes, and a runner left running must outlive this app (see `detach`)."""
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            runner_command(self.args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # its own session: a cancel reaches its whole group, and the terminal's hangup or
            # this app's exit never does
            start_new_session=True,
            env=env,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        stdout = await self._stream(self.process.stdout)
        stderr = await self._stream(self.process.stderr)
        flusher = asyncio.create_task(self._flush_periodically())
        try:
            await asyncio.gather(self._read_stdout(stdout), self._read_stderr(stderr))
            returncode = await self._wait()
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            for transport in self._streams:  # the app may be closing: stop reading, no more
                transport.close()
        if self.detached:
            return -1
        self._flush()
        self.target.post_message(self.Exited(returncode, self.cancelled))
        return returncode

    async def _stream(self, pipe: IO[bytes]) -> asyncio.StreamReader:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_LINE_BYTES, loop=loop)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader, loop=loop), pipe
        )
        self._streams.append(transport)
        self._readers.append((reader, pipe.fileno()))
        return reader

    @contextlib.contextmanager
    def reading_aside(self) -> Iterator[None]:
        """Keep reading the runner's pipes while the app's loop is blocked (the terminal
        handed to pdb or an editor), and give the readers what was read, in order, after.
        Unread, the events pipe filled in about 130 tasks and the runner waited on it: the
        whole run stood still while the user was in the editor."""
        if not self.running:
            yield
            return
        stop = threading.Event()
        held = [bytearray() for _ in self._readers]
        threads = [
            threading.Thread(target=_read_into, args=(fd, into, stop), daemon=True)
            for (_, fd), into in zip(self._readers, held, strict=True)
        ]
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            stop.set()
            for thread in threads:
                thread.join()
            for (reader, _), data in zip(self._readers, held, strict=True):
                if data:
                    reader.feed_data(bytes(data))

    async def _wait(self) -> int:
        """The runner's exit code, once it has exited (its pipes are closed by then)."""
        assert self.process is not None
        while (code := self.process.poll()) is None and not self.detached:
            await asyncio.sleep(0.02)
        return -1 if code is None else code

    def detach(self) -> None:
        """Stop following the runner and leave it running: this app may exit, the run goes on
        (the runner stops writing events once nobody reads them; the store records the run)."""
        self.detached = True
        for transport in self._streams:
            transport.close()

    async def _read_stdout(self, stdout: asyncio.StreamReader) -> None:
        from flowtui.run.events import decode_event

        async for raw in stdout:
            line = raw.decode("utf-8", errors="replace")
            event = decode_event(line)
            if event is not None:
                self._pending.append(event)
            elif line.strip():
                self.target.post_message(self.Stderr(line.rstrip("\n")))

    async def _read_stderr(self, stderr: asyncio.StreamReader) -> None:
        async for raw in stderr:
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

    def interrupt_now(self) -> None:
        """SIGINT to the runner's group, now, without waiting: the runner cancels the run
        (stopping its tasks) on its own, even after this process is gone."""
        if self.running:
            assert self.process is not None
            self.cancelled = True
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGINT)

    async def cancel(self) -> None:
        """Stop the run: SIGINT to the runner's group, then SIGTERM, then SIGKILL."""
        if not self.running:
            return
        process = self.process
        assert process is not None
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
                await asyncio.wait_for(self._wait(), grace)
                return
            except asyncio.TimeoutError:
                continue
        await self._wait()


def _read_into(fd: int, into: bytearray, stop: threading.Event) -> None:
    """Read `fd` into `into` until `stop` is set or the pipe ends (its end is left for the
    loop's own reader to see, as a pipe's end is seen again)."""
    while not stop.is_set():
        try:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            continue
        except (OSError, ValueError):
            return
        if not data:
            return
        into.extend(data)
