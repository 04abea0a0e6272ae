"""`flowtui debug`: a failed task runs again here, with the inputs it had, under a debugger."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.conftest import FlowDir

FLOW = """
from flowtui import FlowSpec, current, step

class BugFlow(FlowSpec):
    @step
    def start(self):
        self.rate = 0.5
        self.items = [1, 2, 3]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        print("task", current.task_id, "of run", current.run_id)
        self.scaled = self.input * self.rate
        self.half = self.scaled / (self.input - 2)  # item 2 divides by zero
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def debug(flows: FlowDir, *args: str, keys: str, env: dict[str, str] | None = None):
    """`flowtui debug ARGS` with KEYS typed at the debugger's prompt (through a pipe)."""
    return subprocess.run(
        [sys.executable, "-m", "flowtui", "debug", *args],
        cwd=flows.root,
        input=keys,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "FLOWTUI_STORE": str(flows.store_path), **(env or {})},
    )


@pytest.fixture
def failed(flows: FlowDir) -> FlowDir:
    flows.write("bug.py", FLOW)
    ran = flows.run("bug.py", "--max-workers", "1")
    assert ran.code == 1 and "ZeroDivisionError" in ran.output
    return flows


def test_post_mortem_stops_at_the_failing_line_with_the_stored_inputs(failed: FlowDir) -> None:
    failing = failed.tasks("BugFlow")["body"][1]  # item 2 (index 1)
    assert failing.status == "failed"
    proc = debug(failed, "1/body", keys="p self.rate, self.input, self.scaled\nq\n")
    out = proc.stdout
    assert "-> self.half = self.scaled / (self.input - 2)" in out  # the user's frame, selected
    assert "(0.5, 2, 1.0)" in out  # the parent's artifact, the foreach item, what ran before
    assert f"task {failing.task_id} of run 1" in out  # `current` names the debugged task
    assert "The step raised ZeroDivisionError" in out
    assert "Nothing was stored" in out and proc.returncode == 1
    runs = failed.store.meta.runs("BugFlow")
    assert [r.run_id for r in runs] == ["1"]  # the failed run is untouched, nothing added
    assert failed.store.meta.task(failing.task_id).status == "failed"


def test_break_stops_at_the_first_line_and_store_result_keeps_a_spin(failed: FlowDir) -> None:
    first = failed.tasks("BugFlow")["body"][0]  # item 1: succeeds
    proc = debug(failed, f"BugFlow/1/body/{first.task_id}", "--break", "--store-result", keys="c\n")
    out = proc.stdout
    assert '-> print("task", current.task_id, "of run", current.run_id)' in out
    assert "--Call--" not in out  # not pdb's stop at the `def`
    assert proc.returncode == 0 and "The step finished this time" in out
    spin = failed.store.meta.runs("BugFlow")[0]
    assert spin.kind == "spin" and spin.origin_run_id == "1" and "debug" in spin.tags
    (task,) = failed.store.meta.tasks(spin.run_id)
    assert task.status == "succeeded"
    assert failed.artifact(task, "half") == -0.5
    assert f"Recorded as BugFlow/{spin.run_id}/body/{task.task_id}" in out


def test_the_debugger_pythonbreakpoint_names_is_used(failed: FlowDir) -> None:
    (failed.root / "mydebugger.py").write_text(
        "def post_mortem(tb):\n"
        "    while tb.tb_next: tb = tb.tb_next\n"
        "    print('MYDEBUGGER at line', tb.tb_lineno, 'rate', tb.tb_frame.f_locals['self'].rate)\n"
        "def set_trace(): pass\n"
    )
    env = {"PYTHONBREAKPOINT": "mydebugger.set_trace", "PYTHONPATH": str(failed.root)}
    proc = debug(failed, "1/body", keys="", env=env)
    assert "MYDEBUGGER at line 15 rate 0.5" in proc.stdout, proc.stdout + proc.stderr


def test_a_missing_step_is_one_sentence(failed: FlowDir) -> None:
    proc = debug(failed, "1/nosuch", keys="")
    assert proc.returncode == 2 and "has no step 'nosuch'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_moved_flow_file_is_named_with_the_fix(failed: FlowDir, tmp_path: Path) -> None:
    (failed.root / "bug.py").rename(failed.root / "moved.py")
    proc = debug(failed, "1/body", keys="")
    assert proc.returncode == 2
    assert "no longer exists; pass the flow file with --file" in proc.stderr
    proc = debug(failed, "1/body", "--file", "moved.py", keys="q\n")
    assert "-> self.half" in proc.stdout


ASKS = """
from flowtui import FlowSpec, step

class AskFlow(FlowSpec):
    @step
    def start(self):
        self.name = input("name? ")
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_input_in_a_step_says_what_to_do_instead(flows: FlowDir) -> None:
    """input() in a step failed with a bare "EOFError: EOF when reading a line" and "Fix the
    code": nothing said why a step cannot read the terminal, or what to use."""
    flows.write("ask.py", ASKS)
    ran = flows.run("ask.py")
    assert ran.code == 1
    said = " ".join(ran.output.split())
    assert "EOFError: EOF when reading a line: input() in a step reads nothing" in said
    assert "pass the value as a Parameter, or stop at breakpoint()" in said
