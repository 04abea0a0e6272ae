"""A resume that knows what changed: steps whose code changed since the run it resumes."""

from __future__ import annotations

import json

import pytest

from flowtui.graph.fingerprint import changed_steps
from tests.engine.conftest import FlowDir

FLOW = """
from flowtui import FlowSpec, step

class EditFlow(FlowSpec):
    @step
    def start(self):
        self.a = 1
        self.next(self.middle)

    @step
    def middle(self):
        self.b = self.a + 1
        self.next(self.last)

    @step
    def last(self):
        self.c = self.b * 2
        raise ValueError("boom")
        self.next(self.end)

    @step
    def end(self):
        pass
"""


@pytest.fixture
def failed(flows: FlowDir) -> FlowDir:
    flows.write("edit.py", FLOW)
    assert flows.run("edit.py").code == 1
    return flows


def _edit(flows: FlowDir, old: str, new: str) -> None:
    path = flows.root / "edit.py"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_the_plan_gives_each_step_its_reason_and_names_a_changed_cloned_step(
    failed: FlowDir,
) -> None:
    _edit(failed, "self.b = self.a + 1", "self.b = self.a + 100")
    plan = failed.cli("resume", "edit.py", "--plan")
    assert plan.code == 0, plan.output
    rows = {row.split()[0]: " ".join(row.split()[1:]) for row in plan.stdout.splitlines()[1:5]}
    assert rows["start"] == "reuse unchanged and cloned"
    assert rows["middle"] == "reuse code changed, but cloned (its old results are kept)"
    assert rows["last"] == "run failed"
    assert rows["end"] == "run downstream of the resume point"
    assert "✎ changed: middle has new code" in plan.stdout
    assert "flowtui resume edit.py middle" in plan.stdout

    as_json = json.loads(failed.cli("resume", "edit.py", "--plan", "--json").stdout)
    assert as_json["cloned_changed"] == ["middle"] and as_json["earliest_changed"] == "middle"
    assert as_json["reasons"]["last"] == ["run", "failed"]

    from_middle = json.loads(failed.cli("resume", "edit.py", "middle", "--plan", "--json").stdout)
    assert from_middle["cloned_changed"] == []  # resuming from there runs the new code
    assert from_middle["reasons"]["middle"] == ["run", "the resume point; its code changed"]


def test_resume_warns_with_the_command_that_runs_the_new_code(failed: FlowDir) -> None:
    _edit(failed, "self.b = self.a + 1", "self.b = self.a + 100")
    _edit(failed, 'raise ValueError("boom")', "pass")
    ran = failed.cli("resume", "edit.py", "-q")
    assert ran.code == 0, ran.output
    assert "✎ changed: middle" in ran.stderr
    assert "flowtui resume edit.py middle" in ran.stderr
    last = failed.tasks("EditFlow")["last"][0]
    assert failed.artifact(last, "c") == 4  # the old middle's b, as warned


def test_comments_and_formatting_are_not_changes() -> None:
    before = "class F:\n    def a(self):\n        x = 1  # one\n    def b(self):\n        pass\n"
    after = (
        "class F:\n    def a(self):\n        # a comment\n        x = (1)\n"
        "    def b(self):\n        return\n"
    )
    assert changed_steps(before, after, "F", ["a", "b"]) == ["b"]
    assert changed_steps("", after, "F", ["a", "b"]) == []  # a run stored without code


def test_a_step_added_since_the_run_is_said_to_be_new(failed: FlowDir) -> None:
    """A step the resumed run's code did not have read "its code changed"."""
    _edit(
        failed,
        "        self.next(self.last)\n",
        "        self.next(self.extra)\n\n    @step\n    def extra(self):\n"
        "        self.next(self.last)\n",
    )
    plan = json.loads(failed.cli("resume", "edit.py", "--plan", "--json").stdout)
    assert plan["reasons"]["extra"] == ["run", "the resume point; a new step"]
    assert plan["reasons"]["last"] == ["run", "downstream of the resume point"]
