"""`flowtui resume`, end to end through the CLI: fail, fix the file, resume, and check which
tasks were reused (by their origin pathspec) and which ran again with the current code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from flowtui.cli import app
from flowtui.client import Run, Task, default_metadata, metadata, namespace


class Env:
    """A flow file and a store in tmp_path, driven through the CLI."""

    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path
        self.store = tmp_path / "store"
        self.file = tmp_path / "flow.py"

    def write(self, source: str) -> None:
        self.file.write_text(textwrap.dedent(source))

    def edit(self, old: str, new: str) -> None:
        text = self.file.read_text()
        assert old in text
        self.file.write_text(text.replace(old, new))

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(app, [*args, "--store", str(self.store)])

    def run(self, *args: str) -> Result:
        return self.cli("run", str(self.file), "-q", "--max-workers", "1", *args)

    def resume(self, *args: str) -> Result:
        return self.cli("resume", str(self.file), *args, "-q", "--max-workers", "1")


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    e = Env(tmp_path)
    metadata(str(e.store))
    namespace(None)
    yield e
    default_metadata()


def tasks_by_place(run: Run) -> dict[tuple[str, tuple[int, ...]], Task]:
    """Every task of the run, keyed by its step and its foreach indices."""
    return {(t.parent.id, t.foreach_indices): t for step in run for t in step}


def assert_reused_exactly_what_succeeded(origin: Run, resumed: Run, rerun_steps: set[str]) -> None:
    """The resume's core promise: a task that succeeded in the origin (outside the steps that
    must re-run) is cloned from it; every other task ran again."""
    before = tasks_by_place(origin)
    for place, task in tasks_by_place(resumed).items():
        old = before.get(place)
        if old is not None and old.successful and place[0] not in rerun_steps:
            assert task.status == "cloned", place
            assert task.origin_pathspec == (old.origin_pathspec or old.pathspec), place
            assert {a.id: a.sha for a in task} == {a.id: a.sha for a in old}, place
        else:
            assert task.status == "succeeded", place
            assert task.origin_pathspec is None, place


FOREACH = """
from pathlib import Path
from flowtui import FlowSpec, Parameter, step

BAD = Path(__file__).with_name("bad")

class ResumeFlow(FlowSpec):
    alpha = Parameter("alpha", default=3)

    @step
    def start(self):
        self.items = [1, 2, 3, 4]
        print("start ran")
        self.next(self.body, foreach="items")

    @step
    def body(self):
        if BAD.exists() and str(self.input) in BAD.read_text().split():
            raise ValueError(f"item {self.input} is bad")
        self.value = self.input * self.alpha  # VERSION 1
        self.next(self.join)

    @step
    def join(self, inputs):
        self.values = [i.value for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        self.total = sum(self.values)
"""


def test_fail_fix_resume_reuses_what_succeeded_and_runs_the_rest_with_new_code(env):
    env.write(FOREACH)
    (env.dir / "bad").write_text("2")
    failed = env.run()
    assert failed.exit_code == 1
    origin = Run("ResumeFlow/1")
    assert origin.status == "failed"
    statuses = [t.status for t in sorted(origin["body"], key=lambda t: t.id)]
    assert statuses == ["succeeded", "failed", "not run", "not run"]  # the failure stopped them

    env.edit("self.input * self.alpha  # VERSION 1", "self.input * self.alpha * 10  # VERSION 2")
    (env.dir / "bad").unlink()
    result = env.resume()
    assert result.exit_code == 0, result.output

    resumed = Run("ResumeFlow/2")
    assert resumed.successful and resumed.origin == origin and resumed.resume_step == "body"
    assert_reused_exactly_what_succeeded(origin, resumed, rerun_steps=set())
    bodies = {t.index: t for t in resumed["body"]}
    assert bodies[0].origin_pathspec == next(t.pathspec for t in origin["body"] if t.index == 0)
    # item 0 kept the old code's value; the others ran with the fix
    assert [bodies[i].data.value for i in range(4)] == [3, 60, 90, 120]
    assert resumed.data.total == 273
    assert resumed["start"].task.stdout == "start ran\n"  # the clone's logs are the origin's


def test_a_failure_inside_a_foreach_body_reruns_only_failed_and_unstarted_items(env):
    env.write(FOREACH)
    (env.dir / "bad").write_text("3")
    assert env.run("--max-workers", "4").exit_code == 1  # all four items start at once
    origin = Run("ResumeFlow/1")
    statuses = {t.index: t.status for t in origin["body"]}
    assert statuses == {0: "succeeded", 1: "succeeded", 2: "failed", 3: "succeeded"}

    (env.dir / "bad").unlink()
    assert env.resume().exit_code == 0
    resumed = Run("ResumeFlow/2")
    assert_reused_exactly_what_succeeded(origin, resumed, rerun_steps=set())
    ran = sorted(t.index for t in resumed["body"] if t.status == "succeeded")
    assert ran == [2]
    assert resumed.data.values == [3, 6, 9, 12]


NESTED = """
from pathlib import Path
from flowtui import FlowSpec, step

BAD = Path(__file__).with_name("bad")

class NestedFlow(FlowSpec):
    @step
    def start(self):
        self.xs = [0, 1, 2]
        self.next(self.outer, foreach="xs")

    @step
    def outer(self):
        self.x = self.input
        self.ys = [0, 1]
        self.next(self.inner, foreach="ys")

    @step
    def inner(self):
        here = f"{self.x},{self.input}"
        if BAD.exists() and here in BAD.read_text().split():
            raise RuntimeError(f"cell {here} failed")
        self.cell = self.x * 10 + self.input
        self.next(self.inner_join)

    @step
    def inner_join(self, inputs):
        self.row = [i.cell for i in inputs]
        self.next(self.outer_join)

    @step
    def outer_join(self, inputs):
        self.grid = [i.row for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_nested_foreach_resume_matches_tasks_by_their_place_in_both_foreaches(env):
    env.write(NESTED)
    (env.dir / "bad").write_text("1,1")
    assert env.run("--max-workers", "2").exit_code == 1
    origin = Run("NestedFlow/1")
    failed = [t for t in origin["inner"] if t.status == "failed"]
    assert [t.foreach_indices for t in failed] == [(1, 1)]

    (env.dir / "bad").unlink()
    result = env.resume()
    assert result.exit_code == 0, result.output
    resumed = Run("NestedFlow/2")
    assert_reused_exactly_what_succeeded(origin, resumed, rerun_steps=set())
    inner = {t.foreach_indices: t for t in resumed["inner"]}
    assert sorted(inner) == [(x, y) for x in range(3) for y in range(2)]
    assert inner[(1, 1)].status == "succeeded" and inner[(1, 1)].origin_pathspec is None
    # (0, 0) is reused when it finished before (1, 1)'s failure stopped the run; with two
    # workers it may not have started by then (then it runs again, as every unfinished task)
    first = next(t for t in origin["inner"] if t.foreach_indices == (0, 0))
    assert inner[(0, 0)].status == ("cloned" if first.status == "succeeded" else "succeeded")
    assert resumed["outer_join"].task.data.grid == [[0, 1], [10, 11], [20, 21]]


def test_resume_from_an_explicit_step_reruns_it_and_everything_after(env):
    env.write(FOREACH)
    assert env.run().exit_code == 0
    env.edit("self.total = sum(self.values)", "self.total = -sum(self.values)")

    assert env.resume("join").exit_code == 0
    resumed = Run("ResumeFlow/2")
    assert resumed.resume_step == "join"
    assert_reused_exactly_what_succeeded(Run("ResumeFlow/1"), resumed, {"join", "end"})
    assert resumed.data.total == -30

    env.edit("self.input * self.alpha  # VERSION 1", "self.input * 100  # VERSION 2")
    assert env.resume("body").exit_code == 0  # origin: the latest run, the resume above
    again = Run("ResumeFlow/3")
    assert again.origin == resumed
    assert [t.status for t in again["body"]] == ["succeeded"] * 4  # every item of the step
    assert again["start"].task.origin_pathspec == Run("ResumeFlow/1")["start"].task.pathspec
    assert again.data.total == -1000


def test_resume_of_a_resume_points_clones_at_the_task_that_really_ran(env):
    env.write(FOREACH)
    (env.dir / "bad").write_text("2")
    assert env.run().exit_code == 1  # item 1 ok, item 2 fails, 3 and 4 never start
    (env.dir / "bad").write_text("3")
    assert env.resume().exit_code == 1  # item 2 now ok, item 3 fails
    (env.dir / "bad").unlink()
    assert env.resume().exit_code == 0  # the default origin: the latest run (run 2)

    first, second, third = (Run(f"ResumeFlow/{i}") for i in (1, 2, 3))
    assert third.origin == second and second.origin == first
    assert_reused_exactly_what_succeeded(second, third, rerun_steps=set())
    bodies = {t.index: t for t in third["body"]}
    original = {t.index: t for t in first["body"]}
    middle = {t.index: t for t in second["body"]}
    assert bodies[0].origin_pathspec == original[0].pathspec  # not run 2's clone of it
    assert bodies[1].origin_pathspec == middle[1].pathspec
    assert [bodies[i].status for i in range(4)] == ["cloned", "cloned", "succeeded", "succeeded"]
    assert bodies[0].data.value == 3


def test_resume_after_the_runner_was_killed_with_sigkill(env):
    env.write(
        """
        import os, time
        from pathlib import Path
        from flowtui import FlowSpec, step

        GO = Path(__file__).with_name("go")

        class KilledFlow(FlowSpec):
            @step
            def start(self):
                self.x = 1
                self.next(self.slow)

            @step
            def slow(self):
                print("slow started", flush=True)
                runner = os.getppid()
                while not GO.exists():
                    if os.getppid() != runner:  # the runner is gone: so is this run
                        os._exit(1)
                    time.sleep(0.02)
                self.y = self.x + 1
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowtui", "run", str(env.file), "--store", str(env.store), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait_for(lambda: "slow started" in env.cli("logs", "KilledFlow/1/slow").stdout)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    killed = Run("KilledFlow/1")
    assert killed.status == "crashed"
    slow = killed["slow"].task
    assert slow.status == "failed" and not slow.successful  # not shown running forever
    assert slow.exception is not None and "runner stopped" in str(slow.exception)
    assert "crashed" in env.cli("runs", "KilledFlow").stdout

    plan = env.resume("--plan", "--json")
    assert json.loads(plan.stdout) == {
        "origin_run_id": "1",
        "resume_step": "slow",
        "clone": ["start"],
        "partial": [],
        "rerun": ["slow", "end"],
        "reused": {"start": [1, 1], "slow": [0, 1]},
        "changed": [],
        "file_changed": False,
        "cloned_changed": [],
        "earliest_changed": None,
        "reasons": {
            "start": ["reuse", "unchanged and cloned"],
            "slow": ["run", "failed"],
            "end": ["run", "downstream of the resume point"],
        },
    }
    (env.dir / "go").touch()
    result = env.resume()
    assert result.exit_code == 0, result.output
    resumed = Run("KilledFlow/2")
    assert resumed.successful and resumed.origin == killed
    assert resumed["start"].task.origin_pathspec == killed["start"].task.pathspec
    assert resumed["slow"].task.status == "succeeded"
    assert resumed["slow"].task.data.y == 2


def test_plan_prints_what_is_reused_and_what_runs_without_running_anything(env):
    env.write(FOREACH)
    (env.dir / "bad").write_text("2")
    assert env.run().exit_code == 1

    text = env.resume("--plan")
    assert text.exit_code == 0
    assert text.stdout.splitlines() == [  # each step, what happens to it, and why
        "Resuming ResumeFlow/1 from step body:",
        "  start  reuse      unchanged and cloned",
        "  body   reuse some 1 of 4 tasks succeeded and are cloned, the rest run again",
        "  join   run        downstream of the resume point",
        "  end    run        downstream of the resume point",
    ]
    as_json = json.loads(env.resume("--plan", "--json").stdout)
    assert as_json == {
        "origin_run_id": "1",
        "resume_step": "body",
        "clone": ["start"],
        "partial": ["body"],
        "rerun": ["join", "end"],
        "reused": {"start": [1, 1], "body": [1, 4]},
        "changed": [],  # the file is the one that ran
        "file_changed": False,
        "cloned_changed": [],
        "earliest_changed": None,
        "reasons": {
            "start": ["reuse", "unchanged and cloned"],
            "body": ["reuse some", "1 of 4 tasks succeeded and are cloned, the rest run again"],
            "join": ["run", "downstream of the resume point"],
            "end": ["run", "downstream of the resume point"],
        },
    }
    explicit = json.loads(env.resume("start", "--plan", "--json").stdout)
    assert explicit["clone"] == [] and explicit["rerun"] == ["start", "body", "join", "end"]
    assert [r.id for r in Run("ResumeFlow/1").parent.runs()] == ["1"]  # nothing ran


def test_a_changed_parameter_is_refused_and_the_same_value_accepted(env):
    env.write(FOREACH)
    (env.dir / "bad").write_text("2")
    assert env.run("--alpha", "5").exit_code == 1
    (env.dir / "bad").unlink()

    changed = env.resume("--alpha", "6")
    assert changed.exit_code == 2
    message = changed.stderr.replace("\n", " ")
    assert "Parameter --alpha differs from the resumed run's value" in message
    assert "flowtui run" in message and "Traceback" not in changed.output
    assert [r.id for r in Run("ResumeFlow/1").parent.runs()] == ["1"]

    same = env.resume("--alpha", "5")
    assert same.exit_code == 0, same.output
    assert Run("ResumeFlow/2").data.values == [5, 10, 15, 20]  # the origin's alpha


def test_a_parameter_added_since_the_run_is_refused_as_new_not_as_changed(env):
    """`--lr` for a parameter the resumed run never had said it "differs from the resumed
    run's value", which it has none of."""
    env.write(FOREACH)
    (env.dir / "bad").write_text("2")
    assert env.run().exit_code == 1
    (env.dir / "bad").unlink()
    env.write(
        FOREACH.replace(
            '    alpha = Parameter("alpha", default=3)\n',
            '    alpha = Parameter("alpha", default=3)\n    lr = Parameter("lr", default=0.1)\n',
        ).replace("self.input * self.alpha", "self.input * self.alpha * self.lr")
    )
    # Not given: the re-run tasks that read it fail, saying why (it read "'ResumeFlow' has no
    # artifact or attribute 'lr' in this step").
    assert env.resume().exit_code == 1
    failed = next(t for t in Run("ResumeFlow/2")["body"] if t.status == "failed")
    assert str(failed.exception) == (
        "AttributeError: Parameter 'lr' has no value in this run: it was added to the flow "
        "after the run whose tasks this one reuses (a resume or a spin keeps that run's "
        "parameters); start a new run (flowtui run) to use it."
    )
    added = env.resume("--lr", "0.5")
    assert added.exit_code == 2
    assert added.stderr.replace("\n", " ").startswith(
        "error: Parameter --lr is new since the resumed run, which has no value for it (a "
        "resume keeps that run's parameters); start a new run (flowtui run) to use it."
    )
    assert [r.id for r in Run("ResumeFlow/1").parent.runs()] == ["2", "1"]


def test_only_parameters_given_again_are_compared_and_by_value(env):
    env.write(
        FOREACH.replace(
            "from flowtui import FlowSpec, Parameter, step",
            "from flowtui import FlowSpec, JSONType, Parameter, step",
        ).replace(
            '    alpha = Parameter("alpha", default=3)\n',
            '    alpha = Parameter("alpha", default=3)\n'
            '    config = Parameter("config", default="{}", type=JSONType)\n',
        )
    )
    (env.dir / "bad").write_text("2")
    assert env.run("--alpha", "5", "--config", '{"k": [1, 2]}').exit_code == 1
    (env.dir / "bad").unlink()
    # alpha is not given again (its default differs from the run's 5): not a change;
    # the JSON value given again equals the run's: not a change either.
    same = env.resume("--config", '{"k": [1, 2]}')
    assert same.exit_code == 0, same.output
    assert Run("ResumeFlow/2").data.values == [5, 10, 15, 20]
    changed = env.resume("--config", '{"k": [3]}')
    assert changed.exit_code == 2
    assert "Parameter --config differs" in changed.stderr.replace("\n", " ")


def test_resume_errors_are_one_sentence(env):
    env.write(FOREACH)
    nothing = env.resume()
    assert nothing.exit_code == 2 and "run a flow first" in nothing.stderr  # no store yet
    assert env.run().exit_code == 0
    done = env.resume()
    assert done.exit_code == 2
    assert "succeeded, so there is nothing to resume" in done.stderr.replace("\n", " ")
    no_step = env.resume("train")
    assert no_step.exit_code == 2
    assert "has no step 'train'; its steps are: start, body, join, end." in (
        no_step.stderr.replace("\n", " ")
    )
    no_run = env.resume("--origin-run-id", "7")
    assert no_run.exit_code == 2 and "has no run 7" in no_run.stderr
    assert env.cli("spin", str(env.file), "end", "-q").exit_code == 0
    spin = env.resume("--origin-run-id", "2")
    assert spin.exit_code == 2
    assert "Run 2 is a spin of step 'end' only" in spin.stderr.replace("\n", " ")
    assert "Traceback" not in nothing.output + done.output + no_step.output + no_run.output


BRANCHES = """
from pathlib import Path
from flowtui import FlowSpec, step

class BranchFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.side = "left"
        self.next(self.join)

    @step
    def right(self):
        self.side = 1 / 0  # BUG
        self.next(self.join)

    @step
    def join(self, inputs):
        self.sides = sorted(i.side for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_a_failed_branch_reruns_alone(env):
    env.write(BRANCHES)
    assert env.run().exit_code == 1
    env.edit("1 / 0  # BUG", '"right"')
    assert env.resume().exit_code == 0
    origin, resumed = Run("BranchFlow/1"), Run("BranchFlow/2")
    assert resumed.resume_step == "right"
    assert_reused_exactly_what_succeeded(origin, resumed, rerun_steps=set())
    assert resumed["left"].task.status == "cloned"
    assert resumed.data is not None and resumed["join"].task.data.sides == ["left", "right"]


def _wait_for(condition, limit: float = 60.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_step_inserted_above_succeeded_tasks_makes_them_run_again(env):
    """Their input now comes from the new step: reusing them would silently mix old and new."""
    env.write(FOREACH)
    (env.dir / "bad").write_text("2")
    assert env.run().exit_code == 1
    (env.dir / "bad").unlink()
    env.edit('self.next(self.body, foreach="items")', 'self.next(self.prep, foreach="items")')
    env.edit(
        "    @step\n    def body(self):",
        "    @step\n    def prep(self):\n        self.bonus = 1000\n"
        "        self.next(self.body)\n\n    @step\n    def body(self):",
    )
    env.edit("self.input * self.alpha  # VERSION 1", "self.input * self.alpha + self.bonus")

    plan = json.loads(env.resume("--plan", "--json").stdout)
    assert plan["resume_step"] == "prep"
    assert plan["clone"] == ["start"] and plan["partial"] == []
    assert env.resume().exit_code == 0
    resumed = Run("ResumeFlow/2")
    assert [t.status for t in resumed["body"]] == ["succeeded"] * 4
    assert resumed.data.values == [1003, 1006, 1009, 1012]


def test_resume_of_a_cancelled_run(env):
    env.write(
        """
        import time
        from pathlib import Path
        from flowtui import FlowSpec, step

        GO = Path(__file__).with_name("go")

        class CancelFlow(FlowSpec):
            @step
            def start(self):
                self.x = 1
                self.next(self.wait)

            @step
            def wait(self):
                print("waiting", flush=True)
                while not GO.exists():
                    time.sleep(0.02)
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowtui", "run", str(env.file), "--store", str(env.store), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait_for(lambda: "waiting" in env.cli("logs", "CancelFlow/1/wait").stdout)
        live = env.resume("--plan")  # a run still running cannot be resumed yet
        assert live.exit_code == 2
        assert "Run 1 of CancelFlow is still running" in live.stderr.replace("\n", " ")
        proc.send_signal(signal.SIGINT)  # Ctrl-C: the runner stops its task and records it
        assert proc.wait(timeout=60) == 130
    finally:
        proc.kill()
        proc.wait()
    assert Run("CancelFlow/1").status == "cancelled"
    (env.dir / "go").touch()
    assert env.resume().exit_code == 0
    resumed = Run("CancelFlow/2")
    assert resumed.resume_step == "wait"
    assert resumed["start"].task.status == "cloned"
    assert resumed["wait"].task.status == "succeeded"


def test_a_reused_foreach_is_one_line_of_output_not_one_per_task(env):
    env.write(FOREACH)
    assert env.run().exit_code == 0
    result = env.cli("resume", str(env.file), "join", "--max-workers", "1")
    assert result.exit_code == 0, result.output
    assert "body: 4 foreach tasks reused from ResumeFlow/1" in result.output
    assert "reused from ResumeFlow/1/start/" in result.output  # a single task keeps its line
    assert result.output.count("reused from") == 2
    resumed = Run("ResumeFlow/2")
    assert [t.status for t in resumed["body"]] == ["cloned"] * 4
    assert resumed.data.total == 30
