"""Closing the terminal mid-run stops the run at once: its task is stopped and the run is
recorded cancelled, long before the step would have finished on its own."""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path

from flowtui.store import Store
from tests.e2e.test_tmux import Terminal, pytestmark  # noqa: F401 -- skipped without tmux

SLOW = textwrap.dedent(
    """
    import os, time
    from flowtui import FlowSpec, step

    class SlowFlow(FlowSpec):
        @step
        def start(self):
            self.next(self.wait)

        @step
        def wait(self):
            with open("task.pid", "w") as fh:
                fh.write(str(os.getpid()))
            time.sleep(600)  # far longer than the test waits
            self.next(self.end)

        @step
        def end(self):
            pass
    """
)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def poll(condition, what: str, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout  # generous: the machine is shared
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_closing_the_terminal_cancels_the_run_at_once(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(SLOW)
    store = tmp_path / "store"
    term = Terminal([sys.executable, "-m", "flowtui", "slow.py", "--store", str(store)], tmp_path)
    try:
        term.wait_for("Quit")
        term.send("r")
        pid_file = tmp_path / "task.pid"
        poll(lambda: pid_file.is_file() and pid_file.read_text().isdigit(), "the task to start")
        task = int(pid_file.read_text())
    finally:
        term.close()  # the terminal goes away, as when its window is closed

    def cancelled() -> bool:
        opened = Store.open(str(store), create=False)
        try:
            runs = opened.meta.runs("SlowFlow")
        finally:
            opened.close()
        return bool(runs) and runs[0].status == "cancelled"

    poll(cancelled, "the run to be recorded cancelled")
    poll(lambda: not alive(task), "the task process to stop")
