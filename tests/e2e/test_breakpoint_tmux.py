"""`breakpoint()` in a step: the task waits, a terminal attaches, the step continues."""

from __future__ import annotations

import json
import os
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
