"""`flowtui debug` in a real terminal: pdb's prompt at the failing line, artifacts printable."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.e2e.test_tmux import Terminal, pytestmark  # noqa: F401 - skipped without tmux

FLOW = """
from flowtui import FlowSpec, step

class BrokenFlow(FlowSpec):
    @step
    def start(self):
        self.threshold = 41
        self.next(self.check)

    @step
    def check(self):
        self.total = self.threshold + 1
        assert self.total < self.threshold, "total over threshold"
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_debug_opens_pdb_at_the_failing_line_and_prints_stored_artifacts(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text(textwrap.dedent(FLOW))
    store = tmp_path / "store"
    env = {**os.environ, "FLOWTUI_STORE": str(store)}
    ran = subprocess.run(
        [sys.executable, "-m", "flowtui", "run", "broken.py", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert ran.returncode == 1
    term = Terminal(
        [sys.executable, "-m", "flowtui", "debug", "1/check", "--store", str(store)], tmp_path
    )
    try:
        screen = term.wait_for("(Pdb)")
        assert "AssertionError: total over threshold" in screen
        assert '-> assert self.total < self.threshold, "total over threshold"' in screen
        term.send("p self.threshold * 100", "Enter")
        term.wait_for("4100")
        term.send("q", "Enter")
        screen = term.wait_for("Nothing was stored")
        assert "The step raised AssertionError" in screen
    finally:
        term.close()


SLOW_TO_IMPORT = """
import os, time
from flowtui import FlowSpec, step

if os.environ.get("IMPORTING"):  # `flowtui debug` imports it: say so, then take a long time
    open(os.environ["IMPORTING"], "w").close()
    while True:
        time.sleep(0.05)


class SlowFlow(FlowSpec):
    @step
    def start(self):
        raise ValueError("boom")
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_ctrl_c_while_debug_imports_the_flow_says_one_sentence(tmp_path: Path) -> None:
    """Ctrl-C while `flowtui debug` is still importing the flow ends it with one sentence and
    exit 130, as Ctrl-C elsewhere does: not a KeyboardInterrupt traceback, nor a bare `^C`."""
    (tmp_path / "slow.py").write_text(textwrap.dedent(SLOW_TO_IMPORT))
    store = tmp_path / "store"
    env = {**os.environ, "FLOWTUI_STORE": str(store)}
    ran = subprocess.run(
        [sys.executable, "-m", "flowtui", "run", "slow.py", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert ran.returncode == 1
    importing = tmp_path / "importing"
    debug = f"{sys.executable} -m flowtui debug 1/start --store '{store}'"
    script = f"trap : INT; IMPORTING='{importing}' {debug}; echo exit=$?"  # the shell lives on
    term = Terminal(["sh", "-c", script], tmp_path)
    try:
        deadline = time.monotonic() + 120
        while not importing.exists():
            assert time.monotonic() < deadline, term.screen()
            time.sleep(0.05)
        term.send("C-c")
        screen = term.wait_for("exit=")
        assert "Stopped (Ctrl-C) before 1/start reached the debugger." in screen, screen
        assert "exit=130" in screen
        assert "Traceback" not in screen and "KeyboardInterrupt" not in screen
    finally:
        term.close()


LOOPS = """
import os, time
from flowtui import FlowSpec, step


class LoopFlow(FlowSpec):
    @step
    def start(self):
        self.done = 0
        if os.environ.get("SLOW"):  # under flowtui debug: a step too slow to wait for
            print("looping", flush=True)
            for i in range(100000):
                time.sleep(0.05)
                self.done = i
        raise ValueError("boom")
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_ctrl_c_in_a_slow_step_opens_the_debugger_where_it_was(tmp_path: Path) -> None:
    """Ctrl-C while the step ran under `flowtui debug` ended it with "Stopped (Ctrl-C)
    before 1/start reached the debugger": in a debugger, the question is where it was."""
    (tmp_path / "loops.py").write_text(textwrap.dedent(LOOPS))
    store = tmp_path / "store"
    ran = subprocess.run(
        [sys.executable, "-m", "flowtui", "run", "loops.py", "-q", "--store", str(store)],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    assert ran.returncode == 1
    debug = [sys.executable, "-m", "flowtui", "debug", "1/start", "--store", str(store)]
    term = Terminal(["env", "SLOW=1", *debug], tmp_path)
    try:
        term.wait_for("looping")
        term.send("C-c")
        screen = term.wait_for("(Pdb)")
        assert "the debugger stands where the step was when you stopped it" in screen
        assert "-> time.sleep(0.05)" in screen and "reached the debugger" not in screen
        term.send("p self.done <= i", "Enter")  # the step's local and its artifact (done is
        # i - 1, or i when stopped just past its assignment, or 0 in the first sleep)
        term.wait_for("\nTrue\n")
        term.send("q", "Enter")
        screen = term.wait_for("Nothing was stored")
        assert "You stopped the step (Ctrl-C) before it finished." in screen
    finally:
        term.close()
