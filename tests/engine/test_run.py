"""`flowtui run` end to end: real flows, real processes, a real store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.gate import wait_for

HEADER = "from flowtui import FlowSpec, step, Parameter, JSONType, IncludeFile, current\n"
COMPAT_FLOWS = Path(__file__).resolve().parents[1] / "compat" / "flows"


def test_linear_flow_runs_and_stores_artifacts_and_logs(flows):
    flows.write(
        "lin.py",
        HEADER
        + """
class LinFlow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        print("hello from start")
        self.next(self.middle)

    @step
    def middle(self):
        self.x += 1
        self.y = [self.x] * 3
        print("to stderr", file=__import__("sys").stderr)
        self.next(self.end)

    @step
    def end(self):
        print("x is", self.x, "y is", self.y)
""",
    )
    ran = flows.run("lin.py")
    assert ran.code == 0, ran.output
    assert "LinFlow/" in ran.output and "succeeded" in ran.output
    assert "hello from start" in ran.output  # task output is shown as it happens
    run = flows.latest_run("LinFlow")
    assert run.status == "succeeded"
    tasks = flows.tasks("LinFlow")
    assert [s for s in tasks] == ["start", "middle", "end"]
    end = tasks["end"][0]
    assert flows.artifact(end, "x") == 2
    assert flows.artifact(end, "y") == [2, 2, 2]
    attempt = flows.store.meta.attempts(tasks["middle"][0].task_id)[0]
    assert "to stderr" in Path(attempt.stderr).read_text()
    end_log = Path(flows.store.meta.attempts(end.task_id)[0].stdout).read_text()
    assert "x is 2 y is [2, 2, 2]" in end_log


BRANCHES = (
    HEADER
    + """
class BranchFlow(FlowSpec):
    @step
    def start(self):
        self.common = "shared"
        self.next(self.a, self.b, self.c)

    @step
    def a(self):
        self.score = 1
        self.only_a = "a"
        self.next(self.join)

    @step
    def b(self):
        self.score = 2
        self.next(self.join)

    @step
    def c(self):
        self.score = 3
        self.next(self.join)

    @step
    def join(self, inputs):
        self.scores = [i.score for i in inputs]
        self.by_name = inputs.b.score
        self.score = max(self.scores)
        self.merge_artifacts(inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
"""
)


def test_static_split_join_and_merge_artifacts(flows):
    flows.write("branch.py", BRANCHES)
    ran = flows.run("branch.py")
    assert ran.code == 0, ran.output
    join = flows.tasks("BranchFlow")["join"][0]
    assert flows.artifact(join, "scores") == [1, 2, 3]  # inputs in branch order
    assert flows.artifact(join, "by_name") == 2
    assert flows.artifact(join, "score") == 3  # set by the join itself: not merged over
    assert flows.artifact(join, "common") == "shared"
    assert flows.artifact(join, "only_a") == "a"  # present in one input only: merged
    end = flows.tasks("BranchFlow")["end"][0]
    assert flows.artifact(end, "score") == 3


def test_merge_conflict_fails_naming_the_artifact(flows):
    flows.write("branch.py", BRANCHES.replace("        self.score = max(self.scores)\n", ""))
    ran = flows.run("branch.py")
    assert ran.code == 1
    assert "score" in ran.output and "differ" in ran.output
    assert flows.latest_run("BranchFlow").status == "failed"


def test_nested_foreach_with_stack_and_ordered_inputs(flows):
    flows.write(
        "nested.py",
        HEADER
        + """
class NestedFlow(FlowSpec):
    @step
    def start(self):
        self.letters = ["a", "b"]
        self.next(self.outer, foreach="letters")

    @step
    def outer(self):
        self.letter = self.input
        self.numbers = [1, 2, 3]
        self.next(self.inner, foreach="numbers")

    @step
    def inner(self):
        self.pair = f"{self.letter}{self.input}"
        self.stack = [(i, n) for i, n, _ in self.foreach_stack()]
        self.values = [v for _, _, v in self.foreach_stack()]
        self.next(self.join_inner)

    @step
    def join_inner(self, inputs):
        self.pairs = [i.pair for i in inputs]
        self.merge_artifacts(inputs, include=["letter"])
        self.next(self.join_outer)

    @step
    def join_outer(self, inputs):
        self.all = [p for i in inputs for p in i.pairs]
        self.next(self.end)

    @step
    def end(self):
        print(self.all)
""",
    )
    ran = flows.run("nested.py", "--max-workers", "2")
    assert ran.code == 0, ran.output
    tasks = flows.tasks("NestedFlow")
    assert len(tasks["outer"]) == 2 and len(tasks["inner"]) == 6
    end = tasks["end"][0]
    assert flows.artifact(tasks["join_outer"][0], "all") == ["a1", "a2", "a3", "b1", "b2", "b3"]
    by_pair = {flows.artifact(t, "pair"): t for t in tasks["inner"]}
    b3 = by_pair["b3"]
    assert flows.artifact(b3, "stack") == [(1, 2), (2, 3)]
    assert flows.artifact(b3, "values") == ["b", 3]
    assert b3.foreach_index == 2
    assert sorted(flows.artifact(t, "letter") for t in tasks["join_inner"]) == ["a", "b"]
    assert flows.store.meta.runs("NestedFlow")[0].status == "succeeded"
    assert end.status == "succeeded"


PARAMS = (
    HEADER
    + """
class ParamFlow(FlowSpec):
    count = Parameter("count", default=3, help="how many")
    ratio = Parameter("ratio", default=0.5)
    name = Parameter("name", default="world")
    loud = Parameter("loud", default=False, type=bool)
    config = Parameter("config", default='{"k": 1}', type=JSONType)
    notes = IncludeFile("notes", default="notes.txt")

    @step
    def start(self):
        self.seen = (self.count, self.ratio, self.name, self.loud, self.config, self.notes)
        self.next(self.end)

    @step
    def end(self):
        self.again = self.count
"""
)


def test_parameters_defaults_and_each_type_from_the_command_line(flows):
    flows.write("params.py", PARAMS)
    (flows.root / "notes.txt").write_text("default notes")
    (flows.root / "other.txt").write_text("other notes")
    assert flows.run("params.py").code == 0
    start = flows.tasks("ParamFlow")["start"][0]
    assert flows.artifact(start, "seen") == (3, 0.5, "world", False, {"k": 1}, "default notes")
    ran = flows.run(
        "params.py",
        "--count",
        "7",
        "--ratio=0.25",
        "--name",
        "you",
        "--loud",
        "true",
        "--config",
        '{"k": [1, 2]}',
        "--notes",
        "other.txt",
    )
    assert ran.code == 0, ran.output
    tasks = flows.tasks("ParamFlow")
    assert flows.artifact(tasks["start"][0], "seen") == (
        7,
        0.25,
        "you",
        True,
        {"k": [1, 2]},
        "other notes",
    )
    assert flows.artifact(tasks["end"][0], "count") == 7  # parameters are artifacts everywhere
    assert flows.latest_run("ParamFlow").params["count"]["value"] == 7


def test_bad_parameters_are_refused_before_anything_runs(flows):
    flows.write("params.py", PARAMS)
    (flows.root / "notes.txt").write_text("n")
    cases = [
        (["--count", "many"], "Parameter 'count' takes a whole number, not 'many'."),
        (["--colour", "red"], "ParamFlow has no parameter --colour"),
        (["--notes", "missing.txt"], "no file at missing.txt"),
        (["--config", "{oops"], "Parameter 'config' takes valid JSON"),
    ]
    for args, message in cases:
        ran = flows.run("params.py", *args)
        assert ran.code == 2, (args, ran.output)
        assert message in ran.stderr
        assert "Traceback" not in ran.stderr
    assert not (flows.store_path / "metadata.db").exists() or not flows.store.meta.runs()


def test_required_parameter_missing(flows):
    flows.write(
        "req.py",
        HEADER
        + """
class ReqFlow(FlowSpec):
    size = Parameter("size", type=int, required=True)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    ran = flows.run("req.py")
    assert ran.code == 2
    assert "Parameter --size is required" in ran.stderr
    assert flows.run("req.py", "--size", "4").code == 0


def test_retry_counts_attempts_and_catch_keeps_going(flows):
    flows.write(
        "deco.py",
        HEADER.replace("current\n", "current, retry, catch, environment\n")
        + """
import os

class DecoFlow(FlowSpec):
    @retry(times=2)
    @step
    def start(self):
        self.attempts_seen = current.retry_count
        if current.retry_count < 2:
            raise RuntimeError(f"flaky {current.retry_count}")
        self.next(self.risky)

    @catch(var="problem")
    @step
    def risky(self):
        self.before = "set before the failure"
        raise ValueError("boom [bold]not markup[/bold]")
        self.next(self.fine)

    @catch(var="nothing")
    @environment(vars={"GREETING": "hi"})
    @step
    def fine(self):
        self.greeting = os.environ["GREETING"]
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    ran = flows.run("deco.py")
    assert ran.code == 0, ran.output
    tasks = flows.tasks("DecoFlow")
    start = tasks["start"][0]
    assert start.attempts == 3
    assert flows.artifact(start, "attempts_seen") == 2
    assert [a.status for a in flows.store.meta.attempts(start.task_id)] == [
        "failed",
        "failed",
        "succeeded",
    ]
    risky = tasks["risky"][0]
    problem = flows.artifact(risky, "problem")
    assert problem.type == "builtins.ValueError"  # as Metaflow's MetaflowExceptionWrapper
    assert problem.exception == "boom [bold]not markup[/bold]"
    assert flows.artifact(risky, "before") == "set before the failure"
    fine = tasks["fine"][0]
    assert flows.artifact(fine, "nothing") is None
    assert flows.artifact(fine, "greeting") == "hi"


def test_timeout_stops_a_slow_attempt(flows):
    flows.write(
        "slow.py",
        HEADER.replace("current\n", "current, timeout\n")
        + """
import time

class SlowFlow(FlowSpec):
    @timeout(seconds=1)
    @step
    def start(self):
        time.sleep(30)
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    ran = flows.run("slow.py")
    assert ran.code == 1
    assert "@timeout of 1 s" in ran.output
    start = flows.tasks("SlowFlow")["start"][0]
    assert start.status == "failed" and start.exit_reason == "timeout"


def test_a_step_that_does_not_stop_at_its_timeout_is_killed_by_the_runner(flows):
    """The runner's backstop: the step's own @timeout cannot stop it; the runner kills it,
    counting from its start."""
    flows.write("stuck.py", (COMPAT_FLOWS / "timeout_ignored.py").read_text())
    ran = flows.run("stuck.py")
    assert ran.code == 1
    assert "@timeout of 1 s" in ran.output
    start = flows.tasks("StuckFlow")["start"][0]
    assert start.status == "failed" and start.exit_reason == "timeout"


def test_failing_step_reports_user_traceback_and_stops(flows):
    flows.write(
        "fail.py",
        HEADER
        + """
class FailFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.partial = self.input
        if self.input == 2:
            helper(self.input)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass

def helper(n):
    return {}["missing key"]
""",
    )
    ran = flows.run("fail.py")
    assert ran.code == 1
    assert "KeyError" in ran.output and "'missing key'" in ran.output
    assert 'fail.py", line' in ran.output and "in helper" in ran.output
    assert "flowtui/engine" not in ran.output  # user frames only
    assert "flowtui resume" in ran.output
    tasks = flows.tasks("FailFlow")
    assert "join" not in tasks  # fail-fast: nothing downstream started
    failed = [t for t in tasks["work"] if t.status == "failed"]
    assert len(failed) == 1 and failed[0].foreach_index == 1
    assert failed[0].error["type"] == "KeyError"
    assert flows.artifact(failed[0], "partial") == 2  # what it set before failing is kept
    assert flows.latest_run("FailFlow").status == "failed"


def _one_step_flow(body: str, extra: str = "") -> str:
    return (
        HEADER
        + extra
        + f"""
class OneFlow(FlowSpec):
    @step
    def start(self):
{body}
        self.next(self.end)

    @step
    def end(self):
        pass
"""
    )


def test_process_level_failures_each_get_a_clear_message(flows):
    cases = [
        ("        import os, signal\n        os.kill(os.getpid(), signal.SIGKILL)", "SIGKILL"),
        (
            "        import os\n        os._exit(3)",
            "called os._exit(3), so the step never finished",
        ),
        ("        import sys\n        sys.exit(4)", "called sys.exit(4)"),
        ("        self.lock = __import__('threading').Lock()", "self.lock (lock cannot be pickled"),
    ]
    for body, message in cases:
        flows.write("one.py", _one_step_flow(body))
        ran = flows.run("one.py")
        assert ran.code == 1, (body, ran.output)
        assert message in ran.output, (message, ran.output)
        assert "flowtui/engine" not in ran.output  # no traceback from flowtui's internals
        assert flows.latest_run("OneFlow").status == "failed"


def test_foreach_over_nothing_or_not_iterable(flows):
    cases = [
        ("[]", "has no items"),
        ("42", "needs a list or other iterable"),
        # each task takes its item by position: every one had failed with a bare KeyError: 0
        ("{'a': 1, 'b': 2}", "is a dict, whose items are not at positions 0 to 1; make it a list"),
    ]
    for value, message in cases:
        flows.write(
            "fe.py",
            HEADER
            + f"""
class FeFlow(FlowSpec):
    @step
    def start(self):
        self.items = {value}
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
""",
        )
        ran = flows.run("fe.py")
        assert ran.code == 1
        assert message in ran.output
        assert "KeyError" not in ran.output


def test_foreach_over_a_dict_keyed_by_position_runs_as_on_metaflow(flows):
    flows.write(
        "fd.py",
        HEADER
        + """
class FdFlow(FlowSpec):
    @step
    def start(self):
        self.items = {0: "x", 1: "y"}
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.got = self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.got = sorted(i.got for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("got", self.got)
""",
    )
    ran = flows.run("fd.py")
    assert ran.code == 0, ran.output
    assert "got ['x', 'y']" in ran.output


def test_events_stream_is_json_lines_matching_the_store(flows):
    flows.write("branch.py", BRANCHES)
    ran = flows.run("branch.py", "--events")
    assert ran.code == 0, ran.stderr
    events = [json.loads(line) for line in ran.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert events[-1]["status"] == "succeeded"
    finished = {e["pathspec"] for e in events if e["event"] == "task_finished"}
    run = flows.latest_run("BranchFlow")
    stored = {t.pathspec for ts in flows.tasks("BranchFlow").values() for t in ts}
    assert finished == stored
    started = [e for e in events if e["event"] == "task_started"]
    assert all(os.path.exists(e["stdout"]) for e in started)
    assert events[0]["run_id"] == run.run_id


def test_unpicklable_artifact_names_it(flows):
    flows.write("one.py", _one_step_flow("        self.gen = (i for i in range(3))"))
    ran = flows.run("one.py")
    assert ran.code == 1
    assert "self.gen (generator cannot be pickled" in ran.output


def test_identical_values_are_stored_once(flows):
    flows.write(
        "same.py",
        HEADER
        + """
class SameFlow(FlowSpec):
    @step
    def start(self):
        self.big = b"x" * 300_000 + bytes(range(256)) * 100
        self.next(self.a)

    @step
    def a(self):
        self.copy = bytes(self.big)
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    assert flows.run("same.py").code == 0
    assert flows.run("same.py").code == 0
    blobs = [p for p in (flows.store_path / "blobs").rglob("*") if p.is_file()]
    assert len([p for p in blobs if p.stat().st_size > 1000]) == 1


def test_ignored_decorators_are_accepted_with_a_notice(flows):
    flows.write(
        "remote.py",
        "from metaflow import FlowSpec, step, kubernetes, card\n"
        + """
class RemoteFlow(FlowSpec):
    @kubernetes(cpu=4)
    @card
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    ran = flows.run("remote.py")
    assert ran.code == 0, ran.output
    assert "@kubernetes on step 'start' has no effect in a local run" in ran.output
    assert "@card" not in ran.output  # cards work locally: no notice


def test_python_file_run_dispatches_to_the_cli(flows):
    flows.write("branch.py", BRANCHES + "\nif __name__ == '__main__':\n    BranchFlow()\n")
    proc = subprocess.run(
        [sys.executable, "branch.py", "run", "--quiet"],
        cwd=flows.root,
        capture_output=True,
        text=True,
        env={**os.environ, "FLOWTUI_STORE": str(flows.store_path)},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert flows.latest_run("BranchFlow").status == "succeeded"


def test_lint_errors_stop_the_run_with_their_lines(flows):
    flows.write(
        "bad.py",
        BRANCHES.replace(
            "self.next(self.join)\n\n    @step\n    def c",
            "self.next(self.nowhere)\n\n    @step\n    def c",
            1,
        ),
    )
    ran = flows.run("bad.py")
    assert ran.code == 2
    assert "bad.py:" in ran.stderr and "nowhere" in ran.stderr


def test_ctrl_c_cancels_cleanly_and_the_run_can_be_resumed(flows):
    flows.write(
        "sleepy.py",
        HEADER
        + """
import time

class SleepyFlow(FlowSpec):
    @step
    def start(self):
        self.ready = True
        self.next(self.nap)

    @step
    def nap(self):
        print("napping", flush=True)
        time.sleep(60)
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowtui", "run", "sleepy.py", "--events"],
        cwd=flows.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "FLOWTUI_STORE": str(flows.store_path)},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        event = json.loads(line)
        if event["event"] == "task_started" and event["step"] == "nap":
            break
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    rest = proc.stdout.read()
    assert proc.wait(timeout=20) == 130
    last = json.loads(rest.strip().splitlines()[-1])
    assert last["event"] == "run_finished" and last["status"] == "cancelled"
    run = flows.latest_run("SleepyFlow")
    assert run.status == "cancelled"
    nap = flows.tasks("SleepyFlow")["nap"][0]
    assert nap.status == "failed"
    assert flows.tasks("SleepyFlow")["start"][0].status == "succeeded"
    # No task process is left behind.
    out = subprocess.run(["pgrep", "-f", "run sleepy.py"], capture_output=True, text=True)
    assert out.stdout.strip() == ""


def test_two_runs_of_the_same_flow_at_once(flows):
    flows.write(
        "par.py",
        HEADER
        + """
class ParFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(20))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.sq = self.input * self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.sq for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    env = {**os.environ, "FLOWTUI_STORE": str(flows.store_path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "flowtui", "run", "par.py", "--quiet"],
            cwd=flows.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert not any("locked" in err for _, err in outs)
    runs = flows.store.meta.runs("ParFlow")
    assert len(runs) == 2 and {r.status for r in runs} == {"succeeded"}
    for run in runs:
        join = flows.tasks("ParFlow", run.run_id)["join"][0]
        assert flows.artifact(join, "total") == sum(i * i for i in range(20))


def test_spawn_start_method_gives_the_same_results(flows):
    flows.write("branch.py", BRANCHES)
    ran = flows.run("branch.py", env={"FLOWTUI_START_METHOD": "spawn"})
    assert ran.code == 0, ran.output
    join = flows.tasks("BranchFlow")["join"][0]
    assert flows.artifact(join, "scores") == [1, 2, 3]
    assert flows.artifact(join, "common") == "shared"


def test_timeout_raises_in_the_step_so_retry_and_catch_handle_it(flows):
    flows.write(
        "slowcatch.py",
        HEADER.replace("current\n", "current, timeout, retry, catch\n")
        + """
import time

class SlowCatchFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.slow)

    @catch(var="err")
    @retry(times=1)
    @timeout(seconds=1)
    @step
    def slow(self):
        self.tries = current.retry_count
        time.sleep(30)
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    ran = flows.run("slowcatch.py")
    assert ran.code == 0, ran.output
    slow = flows.tasks("SlowCatchFlow")["slow"][0]
    assert slow.attempts == 2  # the first attempt timed out and was retried
    err = flows.artifact(slow, "err")
    assert err.type.endswith("TimeoutException")
    assert "@timeout of 1 s" in err.exception
    assert flows.artifact(slow, "tries") == 1  # set before the timeout, kept by @catch
    assert 'slowcatch.py", line' in str(err)  # the traceback shows where the step was


def test_a_process_forked_by_a_step_does_not_hold_the_run(flows):
    body = (
        "        import os, time\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(45)\n"
        "            os._exit(0)"
    )
    flows.write("bg.py", _one_step_flow(body))
    ran = flows.cli("run", "bg.py", timeout=30)  # would hang for 45 s if the pipe decided
    assert ran.code == 0, ran.output
    assert flows.latest_run("OneFlow").status == "succeeded"


def test_tasks_die_with_a_killed_runner(flows):
    flows.write(
        "forever.py",
        HEADER
        + """
import os, time

class ForeverFlow(FlowSpec):
    @step
    def start(self):
        print("task pid", os.getpid(), flush=True)
        while True:
            time.sleep(0.1)
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowtui", "run", "forever.py", "--events"],
        cwd=flows.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "FLOWTUI_STORE": str(flows.store_path)},
    )
    try:
        assert proc.stdout is not None
        log = None
        for line in proc.stdout:
            event = json.loads(line)
            if event["event"] == "task_started":
                log = Path(event["stdout"])
                break
        assert log is not None
        # the whole line: print writes "task pid", the number and the newline one by one
        wait_for(lambda: log.exists() and "\n" in log.read_text(), "the task to print its pid")
        task_pid = int(log.read_text().split()[2])
    finally:  # SIGKILL: the runner cannot clean up (and a failed test leaves no run behind)
        proc.kill()
        proc.wait(timeout=60)
    wait_for(lambda: not _alive(task_pid), "the task to die with its runner")
    assert flows.latest_run("ForeverFlow").status == "crashed"


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as dead)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_console_shows_every_line_of_a_chatty_task(flows):
    body = (
        "        for i in range(40_000):\n"
        "            print(f'line {i} ' + 'x' * 80)\n"
        "        print('last words', end='')"
    )
    flows.write("loud.py", _one_step_flow(body))
    ran = flows.run("loud.py")
    assert ran.code == 0
    shown = [line for line in ran.stdout.splitlines() if line.startswith("start/")]
    assert len(shown) == 40_001  # more than 3 MB of output, none dropped
    assert shown[-2].endswith("line 39999 " + "x" * 80)
    assert shown[-1].endswith("last words")  # a last line without a newline is shown whole


def test_a_traceback_quotes_the_code_that_ran_though_the_file_changed_since(flows):
    """Editing the flow while it runs (the TUI's loop) must not make a failed task's traceback
    quote the new text at the old line numbers: it quoted `open(...)` as raising ValueError."""
    started, go = flows.root / "started", flows.root / "go"
    path = flows.write(
        "edited.py",
        HEADER
        + f"""
import os, time

class EditedFlow(FlowSpec):
    @step
    def start(self):
        open({str(started)!r}, "w").close()
        while not os.path.exists({str(go)!r}):
            time.sleep(0.02)
        raise ValueError("boom")
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowtui", "run", "edited.py", "--quiet"],
        cwd=flows.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "FLOWTUI_STORE": str(flows.store_path)},
    )
    deadline = time.monotonic() + 120
    while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert started.exists(), proc.stderr.read() if proc.stderr else ""
    before = path.read_text()
    path.write_text("# three lines\n# added above\n# the flow\n" + before.replace("raise", "print"))
    go.touch()
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stderr
    task = flows.tasks("EditedFlow")["start"][0]
    logged = flows.cli("logs", f"EditedFlow/1/start/{task.task_id}", "--stderr").output
    assert task.error is not None
    for said in (task.error["traceback"], logged):  # the failure shown, and the task's stderr
        assert 'raise ValueError("boom")\n' in said
        assert "open(" not in said and 'print ValueError("boom")' not in said


CLASS_VALUES = """
from flowtui import FlowSpec, step


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def norm(self):
        return (self.x**2 + self.y**2) ** 0.5


class PointFlow(FlowSpec):
    @step
    def start(self):
        self.point = Point(3, 4)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_a_value_of_a_class_the_flow_defines_is_the_same_in_two_runs(flows):
    """Its class is pickled with the value, with an id cloudpickle drew at random per process:
    two runs of the same code stored the same point under two hashes, and `flowtui diff` (and
    `s`, `d` in the TUI) said "~ point  type flow.Point → flow.Point"."""
    flows.write("points.py", CLASS_VALUES)
    assert flows.run("points.py", "--quiet").code == 0
    assert flows.run("points.py", "--quiet").code == 0
    first, second = (flows.tasks("PointFlow", r)["start"][0] for r in ("1", "2"))
    hashes = [
        {a.name: a.hash for a in flows.store.meta.artifacts(t.task_id)}["point"]
        for t in (first, second)
    ]
    assert hashes[0] == hashes[1]
    diff = flows.cli("diff", "1", "2")
    assert diff.code == 0, diff.output
    assert "point" not in diff.output and "have the same artifacts" in diff.output

    # The class changed: another class, told apart from the first when both load at once.
    flows.write("points.py", CLASS_VALUES.replace("** 0.5", "** 0.5 + 100"))
    assert flows.run("points.py", "--quiet").code == 0
    third = flows.tasks("PointFlow", "3")["start"][0]
    loaded = [flows.artifact(t, "point") for t in (first, third)]
    assert [p.norm() for p in loaded] == [5.0, 105.0]
    assert flows.cli("diff", "1", "3").code == 1


IMPORT_TIME_CLASS = """
import os
from flowtui import FlowSpec, step


class Made:
    pid = os.getpid()  # set when the runner imports the file: another value each run


class MadeFlow(FlowSpec):
    @step
    def start(self):
        self.made = Made()
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_a_class_whose_attributes_differ_between_imports_stays_two_classes(flows):
    """The same file text, but a class attribute set at import: the two runs' classes are not
    the same class, so a process loading both values gives each its own."""
    flows.write("made.py", IMPORT_TIME_CLASS)
    assert flows.run("made.py", "--quiet").code == 0
    assert flows.run("made.py", "--quiet").code == 0
    tasks = [flows.tasks("MadeFlow", r)["start"][0] for r in ("1", "2")]
    first, second = (flows.artifact(t, "made") for t in tasks)
    assert type(first) is not type(second) and first.pid != second.pid


def test_a_task_waits_for_its_threads_and_runs_its_exit_handlers_as_metaflow_does(flows):
    """A step that leaves a (non-daemon) thread working, or registers an exit handler (a wandb
    or MLflow run flushing, an upload finishing), has them finish before its task ends, as
    its own interpreter does on Metaflow: a task's `os._exit` had killed the thread and
    skipped the handler, losing what they wrote. A thread pool left idle in a global does not
    keep the task from ending."""
    flows.write(
        "late.py",
        HEADER
        + """
import atexit, sys, threading, time
from concurrent.futures import ThreadPoolExecutor

def after_the_step(step_code):
    main = threading.main_thread().ident
    while True:  # until the main thread has left the step
        frame, codes = sys._current_frames().get(main), []
        while frame is not None:
            codes.append(frame.f_code)
            frame = frame.f_back
        if step_code not in codes:
            break
        time.sleep(0.05)
    print("thread: done after its step", flush=True)

class LateFlow(FlowSpec):
    @step
    def start(self):
        global pool
        pool = ThreadPoolExecutor(2)  # left in a global, never shut down (its threads idle)
        self.sizes = list(pool.map(abs, [-1, -2]))
        atexit.register(print, "atexit: the step's handler", flush=True)
        threading.Thread(target=after_the_step, args=(sys._getframe().f_code,)).start()
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    # a thread pool's idle workers are told to stop, as the interpreter's shutdown does (else
    # the task would wait for them for ever: the time limit only stops a hung test)
    ran = flows.cli("run", "late.py", "--quiet", timeout=300)
    assert ran.code == 0, ran.output
    start = next(t for t in flows.store.meta.tasks("1") if t.step == "start")
    logged = flows.cli("logs", f"LateFlow/1/start/{start.task_id}").stdout
    # the thread first, then the handlers, as an interpreter ends
    assert logged.splitlines() == ["thread: done after its step", "atexit: the step's handler"]
