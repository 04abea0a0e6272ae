"""Tasks are forked by a fork server, not by the runner (`flowtui/engine/forkserver.py`): the
run behaves as before, and the server is one more process that can fail without the run failing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HEADER = "from flowtui import FlowSpec, step, retry, current\n"


def test_a_step_that_kills_its_parent_fails_that_attempt_and_the_run_goes_on(flows):
    # The task's parent is the fork server, not the runner: killing it fails that attempt
    # (the server's tasks die with it), @retry runs it again through a new server, and the
    # run succeeds. Forked by the runner, the same step killed the runner: the run crashed.
    flows.write(
        "parricide.py",
        HEADER
        + """
import os, signal, time

class ParricideFlow(FlowSpec):
    @step
    def start(self):
        self.items = [0, 1, 2]
        self.next(self.body, foreach="items")

    @retry(times=1)
    @step
    def body(self):
        if self.input == 1 and current.retry_count == 0:
            os.kill(os.getppid(), signal.SIGKILL)
            time.sleep(60)  # never reached: the task dies with its parent
        self.x = self.input * 10
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.x for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    ran = flows.run("parricide.py", "--max-workers", "1")
    assert ran.code == 0, ran.output
    run = flows.latest_run("ParricideFlow")
    assert run.status == "succeeded"
    tasks = flows.tasks("ParricideFlow")
    assert flows.artifact(tasks["join"][0], "total") == 30
    killed = next(t for t in tasks["body"] if t.attempts == 2)
    first, second = flows.store.meta.attempts(killed.task_id)
    assert (first.status, second.status) == ("failed", "succeeded")
    assert "SIGKILL" in str(first.error)


def test_a_join_of_many_wide_inputs_gets_every_one(flows):
    # A join's request names every input's artifacts: here ~100 KB, sent to the fork server
    # in several packets.
    names = "\n".join(f"        self.a{i} = self.input + {i}" for i in range(40))
    flows.write(
        "widejoin.py",
        HEADER
        + f"""
class WideJoinFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(60))
        self.next(self.body, foreach="items")

    @step
    def body(self):
{names}
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.a39 for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    ran = flows.run("widejoin.py")
    assert ran.code == 0, ran.output
    join = flows.tasks("WideJoinFlow")["join"][0]
    assert flows.artifact(join, "total") == sum(i + 39 for i in range(60))


def test_each_task_forked_by_the_server_has_its_own_fresh_streams(flows):
    # The server makes the tasks' text streams (and sets FLOWTUI_STORE) once and each task it
    # forks only puts its log files on fds 1 and 2: every task still reads nothing from stdin
    # (not the terminal's input), writes UTF-8 with what cannot be encoded escaped, unbuffered,
    # into its own logs, and its client reads the run's store (not the one the shell names).
    flows.write(
        "streams.py",
        HEADER
        + """
import os
import sys

class StreamsFlow(FlowSpec):
    @step
    def start(self):
        self.items = [0, 1, 2]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        out = sys.stdout
        print(f"stdin {sys.stdin.read()!r}")
        print(out.encoding, out.errors, out.line_buffering, out.seekable())
        print("caf\\u00e9 \\udcff")
        print(f"err {self.input} {os.environ['FLOWTUI_STORE']}", file=sys.stderr)
        out.write(f"partial {self.input}")  # no newline, no flush: still in the log
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    args = ["run", "streams.py", "--max-workers", "1", "--store", str(flows.store_path)]
    ran = subprocess.run(
        [sys.executable, "-m", "flowtui", *args],
        cwd=flows.root,
        input="typed at the runner's terminal\n",
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "FLOWTUI_STORE": str(flows.root / "another-store")},
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    bodies = flows.tasks("StreamsFlow")["body"]
    assert len(bodies) == 3
    for task in bodies:
        (attempt,) = flows.store.meta.attempts(task.task_id)
        index = task.foreach_index
        stdout = Path(attempt.stdout).read_text(encoding="utf-8")
        assert stdout == (
            f"stdin ''\nutf-8 backslashreplace True True\ncafé \\udcff\npartial {index}"
        )
        assert Path(attempt.stderr).read_text() == f"err {index} {flows.store_path}\n"
