"""`flowtui spin`: one step, once, with a past run's inputs and the file's current code."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from flowtui.cli import app
from flowtui.client import Flow, Run, default_metadata, metadata, namespace

FLOW = """
from flowtui import FlowSpec, Parameter, step

class SpinFlow(FlowSpec):
    scale = Parameter("scale", default=1)

    @step
    def start(self):
        self.items = [10, 20, 30]
        self.base = 5
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.value = self.input * self.scale + self.base  # VERSION 1
        print("body got", self.input)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.values = [i.value for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        self.done = True
"""


@pytest.fixture
def spin_env(tmp_path: Path):
    store = tmp_path / "store"
    file = tmp_path / "spinflow.py"
    file.write_text(textwrap.dedent(FLOW))

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(app, [*args, "--store", str(store)])

    metadata(str(store))
    namespace(None)
    yield invoke, file
    default_metadata()


def _edit(file: Path, old: str, new: str) -> None:
    text = file.read_text()
    assert old in text
    file.write_text(text.replace(old, new))


def test_spin_a_linear_step_uses_the_current_code_and_shows_artifacts(spin_env):
    cli, file = spin_env
    assert cli("run", str(file), "-q", "--scale", "2").exit_code == 0
    _edit(file, "self.done = True", "self.done = 'spun'; print('end ran again')")

    result = cli("spin", str(file), "end")
    assert result.exit_code == 0, result.output
    assert "Spinning SpinFlow/1/end/" in result.stdout
    assert "end ran again" in result.stdout
    assert "Artifacts of SpinFlow/2/end/" in result.stdout
    assert "'spun'" in result.stdout
    spun = Run("SpinFlow/2")
    assert spun.kind == "spin" and spun.origin == Run("SpinFlow/1")
    assert spun["end"].task.data.done == "spun"
    assert spun["end"].task.data.values == [25, 45, 65]  # inputs of run 1's end task
    assert spun.parameters == {"scale": 2}  # the past run's parameters


def test_run_id_file_names_the_spin_and_no_artifacts_leaves_the_listing_out(
    spin_env, tmp_path: Path
):
    cli, file = spin_env
    assert cli("run", str(file), "-q").exit_code == 0
    id_file = tmp_path / "spin-id"
    result = cli("spin", str(file), "end", "--run-id-file", str(id_file), "--no-artifacts")
    assert result.exit_code == 0, result.output
    assert id_file.read_text() == "2"
    assert Run("SpinFlow/2").kind == "spin"
    assert "Artifacts of" not in result.stdout and "Comparing" not in result.stdout


def test_a_spin_is_kept_apart_unless_persisted(spin_env):
    cli, file = spin_env
    assert cli("run", str(file), "-q").exit_code == 0
    assert cli("spin", str(file), "end", "-q").exit_code == 0

    assert [r.id for r in Flow("SpinFlow")] == ["1"]
    assert Flow("SpinFlow").latest_run.id == "1"
    plan = cli("resume", str(file), "body", "--plan", "--json")
    assert '"origin_run_id": "1"' in plan.stdout  # not the spin
    assert "spin" not in cli("runs", str(file)).stdout
    assert "spin of end from 1" in cli("runs", str(file), "--all").stdout

    assert cli("spin", str(file), "end", "-q", "--persist").exit_code == 0
    assert [r.id for r in Flow("SpinFlow")] == ["3", "1"]
    assert "spin:persisted" in Run("SpinFlow/3").tags


def test_spin_a_foreach_body_gets_the_item_of_the_chosen_task(spin_env):
    cli, file = spin_env
    assert cli("run", str(file), "-q").exit_code == 0
    bodies = sorted(Run("SpinFlow/1")["body"], key=lambda t: t.index)
    _edit(file, "+ self.base  # VERSION 1", "+ self.base + 1000  # VERSION 2")

    first = cli("spin", str(file), "body", "-q")
    assert first.exit_code == 0, first.output
    task = Run("SpinFlow/2")["body"].task
    assert (task.index, task.data.value) == (0, 1015)
    assert f"Comparing {bodies[0].pathspec} with {task.pathspec}" in first.stdout
    assert "15 → 1015 (+1000, +6666.67%)" in first.stdout  # what the new code changed

    third = cli("spin", str(file), "body", "--task-id", bodies[2].id)
    assert third.exit_code == 0, third.output
    assert "body got 30" in third.stdout
    task = Run("SpinFlow/3")["body"].task
    assert (task.index, task.data.value) == (2, 1035)
    assert [t.pathspec for t in task.parent_tasks] == [Run("SpinFlow/1")["start"].task.pathspec]


def test_spin_a_join_gets_all_of_its_inputs(spin_env):
    cli, file = spin_env
    assert cli("run", str(file), "-q").exit_code == 0
    _edit(
        file,
        "self.values = [i.value for i in inputs]",
        "self.values = sorted(i.value * -1 for i in inputs)",
    )

    result = cli("spin", str(file), "join", "--run-id", "1", "-q")
    assert result.exit_code == 0, result.output
    assert Run("SpinFlow/2")["join"].task.data.values == [-35, -25, -15]


def test_a_failing_spin_reports_the_error_and_exits_1(spin_env):
    cli, file = spin_env
    assert cli("run", str(file), "-q").exit_code == 0
    _edit(file, "self.done = True", "raise KeyError('nope')")
    result = cli("spin", str(file), "end")
    assert result.exit_code == 1
    assert "KeyError" in result.stdout and "Fix the code and spin again." in result.stdout
    assert Run("SpinFlow/2").status == "failed"
    # nothing of the failed task is compared with the run's (it listed the inherited values
    # as removed)
    assert "Artifacts of" not in result.stdout and "- " not in result.stdout, result.stdout


def test_a_spin_whose_input_was_lost_says_the_store_not_the_code(spin_env, tmp_path: Path):
    """A parent's value gone from the store failed the spin with "Fix the code and spin
    again": no edit of the step could help."""
    cli, file = spin_env
    assert cli("run", str(file), "-q").exit_code == 0
    digest = Run("SpinFlow/1")["start"].task["base"].sha  # body reads start's base
    (tmp_path / "store" / "blobs" / digest[:2] / digest[2:]).unlink()
    result = cli("spin", str(file), "body")
    assert result.exit_code == 1
    assert "BlobMissingError" in result.stdout
    said = result.stdout.replace("\n", " ")
    assert "A value the step reads is missing or damaged in the store, not in the code" in said
    assert "Fix the code" not in result.stdout


def test_spin_errors_name_what_exists(spin_env):
    cli, file = spin_env
    nothing = cli("spin", str(file), "body")
    assert nothing.exit_code == 2
    assert "No run of SpinFlow has reached step 'body' yet" in nothing.stderr.replace("\n", " ")

    assert cli("run", str(file), "-q").exit_code == 0
    no_step = cli("spin", str(file), "train")
    assert no_step.exit_code == 2
    assert "has no step 'train'; its steps are: start, body, join, end." in (
        no_step.stderr.replace("\n", " ")
    )
    no_run = cli("spin", str(file), "body", "--run-id", "9")
    assert "has no run 9; its latest runs are: 1." in no_run.stderr.replace("\n", " ")
    no_task = cli("spin", str(file), "body", "--task-id", "999")
    assert no_task.exit_code == 2
    ids = ", ".join(f"{t.id} [{t.index}]" for t in reversed(list(Run("SpinFlow/1")["body"])))
    assert f"tasks of 'body' in run 1: {ids}." in no_task.stderr.replace("\n", " ")
    assert "Traceback" not in nothing.output + no_step.output + no_run.output + no_task.output
