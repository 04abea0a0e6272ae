"""A flow whose step waits on a gate the test opens (no fixed sleeps), and the runner processes
a test starts, stopped when it ends."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

GATED_FLOW = """
import os, time
from flowtui import FlowSpec, step


class GateFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.wait)

    @step
    def wait(self):
        open({started!r}, "w").close()
        while not os.path.exists({go!r}):
            time.sleep(0.02)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


class Gate:
    """`gate.py` (flow GateFlow) in `root`: its `wait` step touches `started`, then waits until
    `release()`. Runners started through `cli_run` or `track`ed are killed by `close()`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "gate.py"
        self.store = root / "store"
        self.started = root / "started"
        self.go = root / "go"
        self.path.write_text(
            textwrap.dedent(GATED_FLOW.format(started=str(self.started), go=str(self.go)))
        )
        self._pids: list[int] = []
        self._procs: list[subprocess.Popen[bytes]] = []

    def cli_run(self, *args: str) -> subprocess.Popen[bytes]:
        """`python -m flowtui run gate.py` from a terminal-less shell, as a user would type it."""
        command = ["run", str(self.path), "--store", str(self.store), "-q", *args]
        proc = subprocess.Popen(
            [sys.executable, "-m", "flowtui", *command],
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._procs.append(proc)
        return proc

    def track(self, pid: int) -> None:
        """Kill runner `pid` when the test ends, if it is still a runner of this gate's flow."""
        self._pids.append(pid)

    def _recorded_runners(self) -> list[int]:
        """The pids of runners the store has as running (a TUI's too, however started)."""
        if not (self.store / "metadata.db").is_file():
            return []
        try:
            with contextlib.closing(sqlite3.connect(self.store / "metadata.db")) as db:
                rows = db.execute("SELECT pid FROM runs WHERE status = 'running'").fetchall()
        except sqlite3.Error:
            return []
        return [pid for (pid,) in rows if pid]

    def release(self) -> None:
        self.go.touch()

    def close(self) -> None:
        for proc in self._procs:
            proc.kill()
            proc.wait()
        for pid in self._pids + self._recorded_runners():
            with contextlib.suppress(OSError):
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                if str(self.path).encode() in cmdline or b"gate.py\0" in cmdline:
                    os.kill(pid, signal.SIGKILL)


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    """Wait until `condition()` holds (generous: the machine is shared); fail naming `what`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
