"""One `flowtui run`/`resume` subprocess of a `Runner` (`client/runner.py`): the FIFO its run id
comes back through, its output copied to files (and echoed) by threads, waiting for it from
threads or an event loop, stopping it, and removing what it made."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import IO

from flowtui.client.errors import MetaflowException

#: Seconds a run asked to stop (SIGINT, as Ctrl-C) gets before its tasks are killed at once (a
#: second SIGINT), and again before its process group is killed.
STOP_GRACE = 5.0

STREAMS = ("stdout", "stderr")


class RunnerError(MetaflowException, ValueError):
    """A run that could not be started (or a Runner that cannot be made): the message names
    what is wrong and what to do. A `ValueError`, as Metaflow's Runner raises for a bad
    argument, and a `MetaflowException` like the client's other errors."""


class RunnerProcess:
    """One `flowtui run`/`resume` subprocess: its run id FIFO, its output copied to files (and
    echoed), waiting for it, stopping it. Its temporary folder goes with `close()`, or when
    this object is collected (or the interpreter exits), stopping the process if it runs."""

    def __init__(self, *, echo: bool) -> None:
        self.echo = echo
        self.dir = tempfile.mkdtemp(prefix="flowtui-runner-")
        self.run_id_file = os.path.join(self.dir, "run-id")
        os.mkfifo(self.run_id_file, 0o600)
        # Non-blocking, opened now: the runner's open for writing never waits for a reader,
        # and what it writes stays in the pipe until read.
        self._fifo = os.open(self.run_id_file, os.O_RDONLY | os.O_NONBLOCK)
        self._run_id: str | None = None
        self.logs = {name: os.path.join(self.dir, f"{name}.log") for name in STREAMS}
        self.popen: subprocess.Popen[bytes] | None = None
        self.timed_out = False
        self._copied = {name: threading.Event() for name in STREAMS}
        self._copiers: list[threading.Thread] = []
        self._listeners: set[Callable[[], None]] = set()
        self._listeners_lock = threading.Lock()
        self._ended = threading.Event()  # the process exited and all it wrote is copied
        self._closed = False
        self._popens: list[subprocess.Popen[bytes]] = []  # what the finalizer stops
        self._finalizer = weakref.finalize(self, _left_behind, self.dir, self._fifo, self._popens)

    def start(self, argv: list[str], env: Mapping[str, str], cwd: Path) -> None:
        for path in self.logs.values():
            Path(path).touch(mode=0o600)
        self.popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,  # only this Runner signals it (a kernel's interrupt too)
        )
        self._popens.append(self.popen)
        consoles = {"stdout": sys.stdout, "stderr": sys.stderr}
        pipes = {"stdout": self.popen.stdout, "stderr": self.popen.stderr}
        for name in STREAMS:
            pipe = pipes[name]
            assert pipe is not None
            thread = threading.Thread(
                target=self._copy,
                args=(pipe, name, consoles[name] if self.echo else None),
                name=f"flowtui-runner-{name}",
                daemon=True,
            )
            thread.start()
            self._copiers.append(thread)
        threading.Thread(target=self._reap, name="flowtui-runner-wait", daemon=True).start()

    def _copy(self, pipe: IO[bytes], name: str, console: IO[str] | None) -> None:
        """Copy the runner's `name` stream to its file, line by line (and to `console`)."""
        try:
            with pipe, open(self.logs[name], "ab", buffering=0) as out:
                for line in iter(pipe.readline, b""):
                    out.write(line)
                    if console is not None:
                        try:
                            console.write(line.decode("utf-8", "replace"))
                            console.flush()
                        except (OSError, ValueError):
                            console = None  # a closed console stops the echo, not the copy
                    self._changed()
        except OSError:
            pass  # the folder was removed under it (cleanup while a run still wrote)
        finally:
            self._copied[name].set()
            self._changed()

    def _changed(self) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    # -- state -----------------------------------------------------------------------------
    @property
    def returncode(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    def run_id(self) -> str | None:
        """The run's id once the runner wrote it (None before, or if it never will)."""
        if self._run_id is None and not self._closed:
            try:
                data = os.read(self._fifo, 4096)
            except BlockingIOError:
                data = b""
            self._run_id = data.decode().strip() or None
        return self._run_id

    def text(self, name: str) -> str:
        try:
            return Path(self.logs[name]).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            raise RunnerError(
                f"The run's {name} was removed when its Runner was cleaned up (at the end of "
                f"the with block); read .{name} inside it."
            ) from None

    # -- waiting ---------------------------------------------------------------------------
    def wait(self) -> None:
        """Until the process has ended and all it wrote is copied."""
        assert self.popen is not None
        self.popen.wait()
        for thread in self._copiers:
            thread.join()

    def _reap(self) -> None:
        """In a thread of its own (never the loop's executor, which `asyncio.run` waits for at
        its end): the process's end, told to the async waiters."""
        self.wait()
        self._ended.set()
        self._changed()

    async def async_wait(self) -> None:
        await self._until(self._ended.is_set)

    async def _until(self, condition: Callable[[], bool]) -> None:
        """Until `condition()`, checked on the loop each time the process reports a change."""
        loop = asyncio.get_running_loop()
        reached: asyncio.Future[None] = loop.create_future()

        def check() -> None:
            if not reached.done() and condition():
                reached.set_result(None)

        def listener() -> None:
            with contextlib.suppress(RuntimeError):  # a closed loop
                loop.call_soon_threadsafe(check)

        with self._listeners_lock:
            self._listeners.add(listener)
        try:
            check()
            await reached
        finally:
            with self._listeners_lock:
                self._listeners.discard(listener)

    async def run_exists(self, timeout: float) -> None:
        """Until the runner wrote the run's id, or ended without (then all its output is in)."""
        loop = asyncio.get_running_loop()
        written: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            if not written.done():
                written.set_result(None)

        loop.add_reader(self._fifo, readable)
        ended = asyncio.ensure_future(self.async_wait())
        try:
            done, _ = await asyncio.wait(
                {written, ended}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            loop.remove_reader(self._fifo)
            if not ended.done():
                ended.cancel()
        if not done:
            await self.async_stop()
            raise RunnerError(
                f"The run did not start within file_read_timeout={timeout:g} seconds; it was "
                "stopped. Give Runner(...) a longer file_read_timeout."
            )
        if written.done() and self.run_id() is None:  # the writer closed it empty
            await self.async_wait()

    async def lines(self, name: str, position: int) -> AsyncIterator[tuple[int, str]]:
        loop = asyncio.get_running_loop()
        changed = asyncio.Event()

        def listener() -> None:
            with contextlib.suppress(RuntimeError):  # a loop closed with the generator open
                loop.call_soon_threadsafe(changed.set)

        with self._listeners_lock:
            self._listeners.add(listener)
        try:
            with open(self.logs[name], "rb") as f:
                f.seek(position)
                while True:
                    changed.clear()
                    done = self._copied[name].is_set()  # before reading: then nothing is missed
                    line = f.readline()
                    if line.endswith(b"\n") or (line and done):
                        yield f.tell(), line.decode("utf-8", "replace").rstrip()
                        continue
                    if done:
                        return
                    f.seek(-len(line), os.SEEK_CUR)  # a line being written: wait for its end
                    await changed.wait()
        finally:
            with self._listeners_lock:
                self._listeners.discard(listener)

    # -- stopping --------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop the run if it still goes: SIGINT (the run is recorded cancelled), a second one
        (its tasks killed at once), then the process group killed; wait for each."""
        popen = self.popen
        if popen is None:
            return
        for sig in (signal.SIGINT, signal.SIGINT):
            if popen.poll() is not None:
                break
            popen.send_signal(sig)
            try:
                popen.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                continue
        if popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(popen.pid, signal.SIGKILL)
            popen.wait()
        for thread in self._copiers:
            thread.join()

    async def async_stop(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.stop)

    def close(self) -> None:
        """Stop the run if it goes, and remove the temporary folder (once)."""
        if self._closed:
            return
        self.stop()
        self.run_id()  # kept: read before the FIFO goes
        self._closed = True
        self._finalizer()


def _left_behind(folder: str, fifo: int, started: list[subprocess.Popen[bytes]]) -> None:
    """What a Runner made, gone with it: its run asked to stop, its files removed."""
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    with contextlib.suppress(OSError):
        os.close(fifo)
    shutil.rmtree(folder, ignore_errors=True)
