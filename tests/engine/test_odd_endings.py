"""Tasks that end oddly (a step that replaces its process, one whose fork server dies, one
that forks and returns twice): each says what happened, in one sentence the user can act on,
from what the engine knows. Real runs through the CLI, a real store."""

from __future__ import annotations

import sys

import pytest

HEADER = "from flowtui import FlowSpec, step\n"


def _error(flows, flow: str, step: str) -> dict:
    task = flows.tasks(flow)[step][0]
    return flows.store.meta.attempts(task.task_id)[-1].error


@pytest.mark.parametrize("server", ["1", "0"])
def test_a_step_that_execs_another_program_says_it_replaced_its_process(flows, server):
    # os.execv replaces the task's process: the program ran and exited 0, the step never
    # finished. It read "exited with code 0 before the step finished (os._exit or a crash in
    # native code?)", neither of which happened.
    flows.write(
        "execs.py",
        HEADER
        + f"""
import os

class ExecsFlow(FlowSpec):
    @step
    def start(self):
        os.execv({sys.executable!r}, ["python", "-c", "print('the other program ran')"])
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    ran = flows.run("execs.py", env={"FLOWTUI_FORK_SERVER": server})
    assert ran.code == 1, ran.output
    error = _error(flows, "ExecsFlow", "start")
    assert error["type"] == "ProcessReplaced", error
    assert error["message"].startswith(
        f"step 'start' replaced its process with another program ({sys.executable}, by "
        "os.execv), so the step never finished; run the program with subprocess.run instead"
    ), error
    assert "os._exit" not in ran.output and "native code" not in ran.output, ran.output


@pytest.mark.parametrize("server", ["1", "0"])
def test_a_step_that_calls_os_exit_says_so(flows, server):
    # It read "exited with code 3 before the step finished (os._exit or a crash in native
    # code?)": a guess between two, where the task can tell which.
    flows.write(
        "exits.py",
        HEADER
        + """
import os

class ExitsFlow(FlowSpec):
    @step
    def start(self):
        os._exit(3)
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    ran = flows.run("exits.py", env={"FLOWTUI_FORK_SERVER": server})
    assert ran.code == 1, ran.output
    error = _error(flows, "ExitsFlow", "start")
    assert error["message"] == (
        "step 'start' called os._exit(3), so the step never finished; raise an exception to "
        "fail it, or let it return"
    ), error
    assert "?" not in ran.output, ran.output


def test_a_task_whose_fork_server_was_killed_says_so(flows):
    # The fork server is the task's parent; killed, it takes its tasks with it. Those read
    # "killed by SIGKILL (out of memory, or killed from outside?)", a guess, while the runner
    # knows its server went and how.
    flows.write(
        "parricide.py",
        HEADER
        + """
import os, signal, time

class ParricideFlow(FlowSpec):
    @step
    def start(self):
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(60)  # never reached: the task dies with its parent
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    ran = flows.run("parricide.py")
    assert ran.code == 1, ran.output
    error = _error(flows, "ParricideFlow", "start")
    assert error["type"] == "ForkServerDied", error
    assert "flowtui's fork server, this task's parent (pid " in error["message"], error
    assert "was killed by SIGKILL, and the task died with it" in error["message"], error
    assert "killed from outside?" not in ran.output, ran.output
    assert "Fix the code" not in ran.output, ran.output  # the last line said so
    assert (
        "The tasks died with flowtui's fork server (killed from outside, or by a step); run "
        "them again: flowtui resume"
    ) in " ".join(ran.output.split()), ran.output


def test_a_forked_child_that_returns_from_the_step_says_so_and_sends_nothing(flows):
    # A step that forks and lets both processes return from it: both sent an outcome and the
    # runner recorded one of them, silently. Only the task's own process finishes the step;
    # the child says so in the task's log and ends.
    flows.write(
        "forks.py",
        HEADER
        + """
import os

class ForksFlow(FlowSpec):
    @step
    def start(self):
        child = os.fork()
        if child:
            os.waitpid(child, 0)  # the child returns from the step first
        self.who = "child" if child == 0 else "parent"
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    ran = flows.run("forks.py")
    assert ran.code == 0, ran.output
    start = flows.tasks("ForksFlow")["start"][0]
    assert flows.artifact(start, "who") == "parent"
    logs = flows.cli("logs", f"ForksFlow/{start.run_id}/start/{start.task_id}", "--stderr")
    assert "a process step 'start' forked (pid " in logs.output, logs.output
    assert "returned from the step; only the task's own process finishes it" in logs.output
