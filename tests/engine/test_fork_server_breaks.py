"""Hostile checks of the fork server (`flowtui/engine/forkserver.py`) as a step meets it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

HEADER = "from flowtui import FlowSpec, step\n"


@pytest.mark.parametrize("server", ["1", "0"])
def test_a_program_the_step_starts_inherits_no_descriptor_of_flowtui(flows, server):
    # A program a step starts (os.system, subprocess with close_fds=False) inherits every
    # descriptor not marked close-on-exec. The task's result pipe arrives at the fork server
    # over SCM_RIGHTS, which does not mark it: a `sleep 600 &` the step left behind held it.
    # The flow's module is imported in the runner first: descriptors open then are the
    # environment's, not flowtui's.
    flows.write(
        "inherit.py",
        HEADER
        + """
import os

def inheritable():
    fds = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.get_inheritable(int(name)):
                fds.add(int(name))
        except OSError:  # the listing's own descriptor, closed by now
            pass
    return fds

BEFORE = inheritable()

class InheritFlow(FlowSpec):
    @step
    def start(self):
        self.items = [0, 1, 2]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.leaked = sorted(
            f"{fd} -> {os.readlink(f'/proc/self/fd/{fd}')}"
            for fd in inheritable() - BEFORE - {0, 1, 2}
        )
        self.next(self.join)

    @step
    def join(self, inputs):
        self.leaked = [fd for i in inputs for fd in i.leaked]
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    ran = flows.run("inherit.py", "--max-workers", "3", env={"FLOWTUI_FORK_SERVER": server})
    assert ran.code == 0, ran.output
    join = flows.tasks("InheritFlow")["join"][0]
    assert flows.artifact(join, "leaked") == []


def test_following_a_finished_task_whose_log_was_deleted_says_it_is_missing(flows):
    # A task now creates its own log files, so a running attempt's missing file is normal
    # and reads empty; an ended attempt's was deleted, and `logs -f` says so as `logs` does
    # (it printed nothing and exited 0).
    flows.write(
        "said.py",
        HEADER
        + """
class SaidFlow(FlowSpec):
    @step
    def start(self):
        print("hello")
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    assert flows.run("said.py", "-q").code == 0
    (out,) = (flows.store_path / "logs" / "1" / "start").glob("1.*.out")
    out.unlink()
    for args in ((), ("-f",)):
        shown = flows.cli("logs", "SaidFlow/1/start/1", *args)
        assert shown.code == 1, (args, shown.output)
        assert "The stdout log of SaidFlow/1/start/1 is missing from the store" in (
            shown.stderr.replace("\n", " ")
        )
        assert "Traceback" not in shown.output


def test_servers_dying_as_they_start_tasks_fail_those_attempts_only(flows):
    # Every task kills its parent, the fork server, so servers die while the runner is
    # starting tasks through them. A server that died after it had a request may have forked
    # that task: the attempt fails (SIGKILL) as its server's other tasks do. It was sent
    # again to a new server instead (the task, created twice, failed on its existing log
    # file: StoreConflictError), and a new server dying too escaped as a traceback.
    flows.write(
        "parricides.py",
        "from flowtui import FlowSpec, step, retry\n"
        + """
import os, signal, time

class ParricidesFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(100))
        self.next(self.body, foreach="items")

    @retry(times=2)
    @step
    def body(self):
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(60)  # never reached: the task dies with its parent
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    ran = flows.run("parricides.py", "--max-workers", "16", "-q")
    assert ran.code == 1, ran.output
    assert "Traceback" not in ran.output and "StoreConflict" not in ran.output, ran.output
    assert flows.latest_run("ParricidesFlow").status == "failed"
    failed = [
        attempt
        for task in flows.tasks("ParricidesFlow")["body"]
        for attempt in flows.store.meta.attempts(task.task_id)
    ]
    assert failed and all(a.status == "failed" for a in failed)
    assert all("SIGKILL" in str(a.error) for a in failed), [
        str(a.error) for a in failed if "SIGKILL" not in str(a.error)
    ]


PIDS = Path("/sys/fs/cgroup/pids")


@pytest.fixture
def few_pids(tmp_path):  # -> a function running a command in a cgroup allowing `n` processes
    """Run commands where at most `n` processes (threads count) may exist: a pids cgroup."""
    group = PIDS / f"flowtui-test-{os.getpid()}-{tmp_path.name}"
    try:
        group.mkdir()
    except OSError:
        pytest.skip("no pids cgroup to write here (needs root and cgroup v1's pids controller)")

    def run(n: int, argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
        (group / "pids.max").write_text(str(n))
        inside = f'echo $$ > "{group}/cgroup.procs" && exec "$@"'
        return subprocess.run(
            ["sh", "-c", inside, "sh", *argv], cwd=cwd, env=env, capture_output=True, text=True
        )

    yield run
    for _ in range(100):  # its last processes may still be exiting
        try:
            group.rmdir()
            return
        except OSError:
            time.sleep(0.05)


@pytest.mark.parametrize("server", ["1", "0"])
def test_a_fork_that_fails_fails_its_attempt_with_a_sentence_and_the_rest_run_on(
    flows, few_pids, server
):
    # With no process to be had (pids.max reached: EAGAIN), the attempt whose fork failed ends
    # with one sentence saying so; the tasks already running finish, and the fork server lives
    # on. Before, the server died on the failed fork and took every running task with it
    # (each failed as killed by SIGKILL); forking from the runner, the runner crashed.
    flows.write(
        "crowd.py",
        HEADER
        + """
import time

class CrowdFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(8))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        time.sleep(0.5)
        self.x = self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    env = {**os.environ, "FLOWTUI_STORE": str(flows.store_path), "FLOWTUI_FORK_SERVER": server}
    argv = [sys.executable, "-m", "flowtui", "run", "crowd.py", "--max-workers", "8", "-q"]
    ran = few_pids(7, argv, flows.root, env)  # the runner's threads, the server, a few tasks
    assert ran.returncode == 1, ran.stdout + ran.stderr
    meta = flows.store.meta
    run = meta.runs("CrowdFlow")[0]
    body = [t for t in meta.tasks(run.run_id) if t.step == "body"]
    errors = [a.error or {} for t in body for a in meta.attempts(t.task_id)]
    refused = [e for e in errors if e.get("type") == "ForkError"]
    assert refused, errors
    assert (
        "no process could be started for the task (Resource temporarily unavailable)"
        in (refused[0]["message"])
    )
    assert not [e for e in errors if "SIGKILL" in str(e)], errors  # none died with the server
    assert any(t.status == "succeeded" for t in body)  # those started finished
    assert "no process could be started" in ran.stdout + ran.stderr
    resumed = flows.cli("resume", "crowd.py", "-q")  # with processes to spare, it finishes
    assert resumed.code == 0, resumed.output
