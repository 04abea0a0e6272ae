"""`breakpoint()` in a step: the task waits, a terminal attaches, the step continues."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.e2e.test_tmux import Terminal, pytestmark  # noqa: F401 - skipped without tmux

FLOW = """
from flowtui import FlowSpec, step

class PauseFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.secret = self.input * 7
        if self.input == 2:
            breakpoint()
            self.after = "went on"
        print("item", self.input, "done")
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.secret for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total)
"""


@pytest.fixture
def flow_dir(tmp_path: Path) -> Path:
    (tmp_path / "pause.py").write_text(textwrap.dedent(FLOW))
    return tmp_path


def test_run_in_a_terminal_gives_the_stopped_task_the_terminal(flow_dir: Path) -> None:
    store = flow_dir / "store"
    term = Terminal(
        [sys.executable, "-m", "flowtui", "run", "pause.py", "--store", str(store)], flow_dir
    )
    try:
        screen = term.wait_for("(Pdb)")
        assert "stopped at breakpoint()" in screen
        assert '-> self.after = "went on"' in screen
        term.send("p f'secret={self.secret}'", "Enter")
        term.wait_for("'secret=14'")
        term.send("c", "Enter")
        screen = term.wait_for("succeeded in")
        assert "item 2 done" in screen and "total 42" in screen
    finally:
        term.close()


def test_a_run_says_its_breakpoint_is_pdb_when_pythonbreakpoint_names_another(
    flow_dir: Path,
) -> None:
    """PYTHONBREAKPOINT=ipdb.set_trace was ignored by a run without a word."""
    store = flow_dir / "store"
    command = [sys.executable, "-m", "flowtui", "run", "pause.py", "--store", str(store)]
    term = Terminal(["env", "PYTHONBREAKPOINT=ipdb.set_trace", *command], flow_dir)
    try:
        screen = " ".join(term.wait_for("(Pdb)").split())
        assert "PYTHONBREAKPOINT names ipdb.set_trace: a run's breakpoint() is pdb" in screen
        term.send("c", "Enter")
        term.wait_for("succeeded in")
    finally:
        term.close()


def _start_runner(flow_dir: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flowtui", "run", "pause.py", "--events"],
        cwd=flow_dir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "FLOWTUI_STORE": str(flow_dir / "store"), **(env or {})},
        start_new_session=True,
    )


def _events_until(proc: subprocess.Popen[str], kind: str) -> dict:
    assert proc.stdout is not None
    for line in proc.stdout:  # the stream ends when the runner exits: never an endless wait
        event = json.loads(line)
        if event["event"] == kind:
            return event
    raise AssertionError(f"the runner ended without a {kind} event")


def test_a_waiting_task_is_announced_and_flowtui_debug_attaches_to_it(flow_dir: Path) -> None:
    runner = _start_runner(flow_dir)
    try:
        waiting = _events_until(runner, "task_waiting")
        assert waiting["waiting"] is True and waiting["step"] == "body" and waiting["index"] == 1
        term = Terminal(
            [sys.executable, "-m", "flowtui", "debug", waiting["pathspec"], "--store", "store"],
            flow_dir,
        )
        try:
            term.wait_for("(Pdb)")
            term.send("p f'secret={self.secret + 1}'", "Enter", "c", "Enter")  # typed ahead
            term.wait_for("'secret=15'")
            term.wait_for("the step continues")
        finally:
            term.close()
        finished = _events_until(runner, "run_finished")
        assert finished["status"] == "succeeded"
    finally:
        runner.kill()
        runner.communicate()


def test_a_run_waiting_at_a_breakpoint_can_be_cancelled(flow_dir: Path) -> None:
    runner = _start_runner(flow_dir)
    try:
        _events_until(runner, "task_waiting")
        runner.send_signal(signal.SIGTERM)
        finished = _events_until(runner, "run_finished")
        assert finished["status"] == "cancelled"
        assert runner.wait(timeout=30) == 130
    finally:
        runner.kill()
        runner.communicate()


def test_pythonbreakpoint_0_runs_through(flow_dir: Path) -> None:
    runner = _start_runner(flow_dir, {"PYTHONBREAKPOINT": "0"})
    out, _ = runner.communicate(timeout=60)
    events = [json.loads(line) for line in out.splitlines()]
    assert not any(e["event"] == "task_waiting" for e in events)
    assert events[-1]["event"] == "run_finished" and events[-1]["status"] == "succeeded"


def test_a_run_without_a_terminal_says_why_its_breakpoint_was_skipped(flow_dir: Path) -> None:
    """It said "(no terminal to debug in, or --no-debug)" whichever it was, and no way on."""
    base = [sys.executable, "-m", "flowtui", "run", "pause.py", "--store", "store"]
    for extra, why in (
        ([], "this run has no terminal to lend the debugger: run it in a terminal, or stop "),
        (["--no-debug"], "(--no-debug)."),
    ):
        ran = subprocess.run(
            [*base, *extra],
            cwd=flow_dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert ran.returncode == 0, ran.stderr
        said = " ".join(ran.stdout.split())  # the task's log, as the run echoes it
        assert "flowtui: breakpoint() at" in said and why in said, said


TWICE = """
from flowtui import FlowSpec, step


def helper(x):
    doubled = x * 2
    breakpoint()
    return doubled + 1


class TwiceFlow(FlowSpec):
    @step
    def start(self):
        self.x = 5
        breakpoint()
        self.y = helper(self.x)
        self.z = helper(self.y)
        self.next(self.end)

    @step
    def end(self):
        print("z is", self.z)
"""


def _run_twice(tmp_path: Path) -> Terminal:
    (tmp_path / "twice.py").write_text(textwrap.dedent(TWICE))
    command = [sys.executable, "-m", "flowtui", "run", "twice.py", "--store", "store"]
    return Terminal(command, tmp_path)


def _wait_count(term: Terminal, text: str, count: int) -> str:
    """The screen once `text` shows `count` times on it."""
    return term.wait_for(rf"(?s)(.*{re.escape(text)}){{{count}}}", timeout=60, pattern=True)


def test_a_task_that_stops_again_after_c_gets_the_terminal_again(tmp_path: Path) -> None:
    """The runner, paused while its terminal was lent, never saw the task leave its first
    breakpoint() before the second: it never attached again, and the run waited for ever."""
    term = _run_twice(tmp_path)
    try:
        term.wait_for("-> self.y = helper(self.x)")
        term.send("c", "Enter")
        _wait_count(term, "-> return doubled + 1", 1)  # helper's breakpoint(), helper(5)
        term.send("p doubled", "Enter")
        term.wait_for("\n10\n")
        term.send("c", "Enter")
        _wait_count(term, "-> return doubled + 1", 2)  # and again, helper(11)
        term.send("p doubled", "Enter")
        term.wait_for("\n22\n")
        term.send("c", "Enter")
        screen = term.wait_for("succeeded in", timeout=60)
        assert "z is 23" in screen
    finally:
        term.close()


def test_stepping_onto_a_breakpoint_keeps_the_debugger(tmp_path: Path) -> None:
    """`s` into a helper, `n` over its breakpoint(): it waited for a second terminal that
    would never come, while this one waited for it; nothing answered, not even Ctrl-C."""
    term = _run_twice(tmp_path)
    try:
        term.wait_for("-> self.y = helper(self.x)")
        term.send("s", "Enter")
        term.wait_for("-> def helper(x):")
        term.send("n", "Enter")
        term.wait_for("-> doubled = x * 2")
        term.send("n", "Enter")
        _wait_count(term, "-> breakpoint()", 1)
        term.send("n", "Enter")
        screen = _wait_count(term, "-> return doubled + 1", 1)
        assert "bdb.py" not in screen  # never a stop in the debugger's own lines
        term.send("p doubled", "Enter")
        term.wait_for("\n10\n")
        term.send("c", "Enter")  # detached: helper(11)'s breakpoint() attaches anew
        _wait_count(term, "-> return doubled + 1", 2)
        term.send("c", "Enter")
        screen = term.wait_for("succeeded in", timeout=60)
        assert "z is 23" in screen
    finally:
        term.close()


SLOW = """
import time
from flowtui import FlowSpec, step


class SlowFlow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        breakpoint()
        time.sleep(600)
        self.x = 2
        self.next(self.end)

    @step
    def end(self):
        print("x is", self.x)
"""


def test_ctrl_c_at_a_breakpoint_is_pdbs_not_a_cancel(tmp_path: Path) -> None:
    """Ctrl-C reached the runner, not pdb: the first did nothing to be seen, the second
    killed the run. Now it is pdb's, as with pdb at a terminal: at the prompt a new prompt,
    in a slow line stepped over (`n`), that line stops and pdb stands there."""
    (tmp_path / "slow.py").write_text(textwrap.dedent(SLOW))
    command = [sys.executable, "-m", "flowtui", "run", "slow.py", "--store", "store"]
    term = Terminal(command, tmp_path)
    try:
        screen = term.wait_for("-> time.sleep(600)")
        # the status line was cleared before the terminal was lent (the console's thread,
        # printing the task's last lines meanwhile, left it on the line pdb then wrote to)
        assert "⏵" not in screen, screen
        assert "(c continues, q stops the step, Ctrl-C interrupts it)" in " ".join(screen.split())
        term.send("C-c")
        term.wait_for("--KeyboardInterrupt--")
        term.send("n", "Enter")
        term.wait_for("(Pdb) n")
        term.send("C-c")
        _wait_count(term, "-> time.sleep(600)", 2)  # pdb stands at the stopped line again
        screen = term.screen()
        assert "Cancelling" not in screen and "cancelled" not in screen
        term.send("p self.x", "Enter")
        term.wait_for("\n1\n")
        term.send("q", "Enter")
        screen = term.wait_for("failed after", timeout=60)
        assert "cancelled" not in screen
    finally:
        term.close()


def test_interact_at_a_breakpoint_is_a_console_on_the_terminal(flow_dir: Path) -> None:
    """pdb's `interact` read the task's stdin (empty) and wrote its banner to the task's log:
    it returned at once, with nothing on the terminal."""
    command = [sys.executable, "-m", "flowtui", "run", "pause.py", "--store", "store"]
    term = Terminal(command, flow_dir)
    try:
        term.wait_for("(Pdb)")
        term.send("interact", "Enter")
        term.wait_for(">>>")
        term.send("print(f'twice={self.secret * 2}')", "Enter")
        term.wait_for("twice=28")
        term.send("C-d")  # ends the console only: pdb again, in the same frame
        term.wait_for("now back in pdb\n(Pdb)")
        term.send("p self.input", "Enter")
        term.wait_for("\n2\n")
        term.send("c", "Enter")
        screen = term.wait_for("succeeded in")
        assert "total 42" in screen
    finally:
        term.close()


def test_q_at_a_breakpoint_fails_the_task_in_a_sentence(flow_dir: Path) -> None:
    """`q` failed the task with bdb's own traceback (its bdb.py lines) and a bare "BdbQuit"."""
    command = [sys.executable, "-m", "flowtui", "run", "pause.py", "--store", "store"]
    term = Terminal(command, flow_dir)
    try:
        term.wait_for("(Pdb)")
        term.send("q", "Enter")
        screen = term.wait_for("failed after")
        assert "BdbQuit: you quit the debugger (q) at line 15; the step stopped there" in screen
        assert "bdb.py" not in screen
    finally:
        term.close()


RETRIED = """
from flowtui import FlowSpec, retry, step


class RetriedFlow(FlowSpec):
    @retry(times=2)
    @step
    def start(self):
        self.x = 1
        breakpoint()
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_q_at_a_breakpoint_is_not_retried(tmp_path: Path) -> None:
    """`q` in a step with @retry ran the step again, to the same breakpoint(), twice more:
    quitting is the user's word, not a failure another attempt could fix."""
    (tmp_path / "retried.py").write_text(textwrap.dedent(RETRIED))
    command = [sys.executable, "-m", "flowtui", "run", "retried.py", "--store", "store"]
    term = Terminal(command, tmp_path)
    try:
        term.wait_for("(Pdb)")
        term.send("q", "Enter")
        screen = term.wait_for("failed after", timeout=60)
        assert "retrying" not in screen and screen.count("(Pdb)") == 1
        assert "you quit the debugger (q)" in screen
    finally:
        term.close()


IN_A_THREAD = """
import threading
from flowtui import FlowSpec, step


def work(box):
    box["v"] = 42
    breakpoint()


class ThreadFlow(FlowSpec):
    @step
    def start(self):
        box = {}
        worker = threading.Thread(target=work, args=(box,))
        worker.start()
        worker.join()
        self.v = box["v"]
        self.next(self.end)

    @step
    def end(self):
        print("v is", self.v)
"""


def test_ctrl_c_at_a_breakpoint_in_a_thread_leaves_the_task_alive(tmp_path: Path) -> None:
    """pdb in a thread of the step cannot take SIGINT (only a main thread sets handlers):
    sent there, the terminal's Ctrl-C killed the task. It is not sent to such a task."""
    (tmp_path / "threaded.py").write_text(textwrap.dedent(IN_A_THREAD))
    command = [sys.executable, "-m", "flowtui", "run", "threaded.py", "--store", "store"]
    term = Terminal(command, tmp_path)
    try:
        term.wait_for("(Pdb)")
        term.send("C-c")
        term.send("p box", "Enter")
        term.wait_for("{'v': 42}")
        term.send("c", "Enter")
        screen = term.wait_for("succeeded in|failed after", timeout=60, pattern=True)
        assert "v is 42" in screen
    finally:
        term.close()
