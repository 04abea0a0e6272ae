"""`flowtui diff A B`: what changed between two tasks or two runs, told in each value's terms."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from flowtui.cli import app
from flowtui.client.diff import ArtifactPair, Diff, describe
from tests.client.conftest import RunCli

FLOW = """
from flowtui import FlowSpec, Parameter, step

class DiffFlow(FlowSpec):
    scale = Parameter("scale", default=1)

    @step
    def start(self):
        import numpy as np
        import pandas as pd
        self.count = 10 * self.scale
        self.text = "alpha\\nbeta\\ngamma\\n" if self.scale == 1 else "alpha\\nBETA\\ngamma\\n"
        self.arr = np.arange(6, dtype="float64") * self.scale
        self.df = pd.DataFrame({"x": [1, 2, 3], "y": [1.0, 2.0, 3.0 * self.scale]})
        self.same = "unchanged"
        if self.scale == 1:
            self.old_only = 1
        else:
            self.new_only = "yes"
        self.items = [1, 2]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.out = self.input * self.scale
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.out for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def _diff(store: Path, *args: str):
    return CliRunner().invoke(app, ["diff", *args, "--store", str(store)])


def _two_runs(flowtui: RunCli, tmp_path: Path) -> None:
    file = tmp_path / "flow.py"
    file.write_text(FLOW)
    assert flowtui("run", file).exit_code == 0
    assert flowtui("run", file, "--scale", "2").exit_code == 0


def test_two_tasks_list_added_removed_and_each_change_in_the_values_terms(
    flowtui: RunCli, tmp_path: Path, store: Path
) -> None:
    _two_runs(flowtui, tmp_path)
    result = _diff(store, "1/start", "2/start")
    assert result.exit_code == 1, result.output  # they differ, as diff(1) says
    out = result.output
    assert "+ new_only (str) = 'yes'" in out
    assert "- old_only (int) = 1" in out
    assert "10 → 20 (+10, +100.00%)" in out  # a number: the delta
    assert "-beta" in out and "+BETA" in out  # a string: a text diff of its lines
    assert "5 of 6 elements differ" in out and "largest absolute difference: 5" in out
    assert "[1]: 1.0 → 2.0" in out  # the first differing elements
    assert "1 of 6 cells differ" in out and "row 2: y: 3.0 → 6.0" in out
    assert "~ same" not in out and "unchanged" in out


def test_json_lists_each_artifact_with_its_mark_both_reprs_and_the_difference(
    flowtui: RunCli, tmp_path: Path, store: Path
) -> None:
    _two_runs(flowtui, tmp_path)
    result = _diff(store, "1/start", "2/start", "--json")
    assert result.exit_code == 1, result.output
    diff = Diff.from_json(json.loads(result.stdout))
    assert not diff.same
    pairs = {p.name: p for p in diff.tasks[0].pairs()}
    assert pairs["count"] == ArtifactPair(
        "count", "changed", "10", "20", ("10 → 20 (+10, +100.00%)",)
    )
    assert (pairs["new_only"].mark, pairs["new_only"].after) == ("added", "'yes'")
    assert (pairs["old_only"].mark, pairs["old_only"].before) == ("removed", "1")
    assert pairs["same"] == ArtifactPair("same", "same", "'unchanged'", "'unchanged'")
    marks = [p.mark for p in diff.tasks[0].pairs()]
    assert marks == sorted(marks, key=["changed", "added", "removed", "same"].index)


def test_two_runs_match_tasks_by_place_and_tell_an_inherited_change_once(
    flowtui: RunCli, tmp_path: Path, store: Path
) -> None:
    _two_runs(flowtui, tmp_path)
    out = _diff(store, "1", "DiffFlow/2").output
    assert "DiffFlow/1/body/2 → DiffFlow/2/body/7" in out  # foreach item 0 with item 0
    assert "1 → 2 (+1, +100.00%)" in out and "2 → 4 (+2, +100.00%)" in out
    assert out.count("5 of 6 elements differ") == 1  # the array is told where it changed
    assert "as above: +new_only, -old_only, ~arr" in out
    assert "0 of 5 matched tasks have the same artifacts." in out


def test_a_task_compared_with_itself_is_the_same_and_exits_0(
    flowtui: RunCli, tmp_path: Path, store: Path
) -> None:
    _two_runs(flowtui, tmp_path)
    result = _diff(store, "1/end", "DiffFlow/1/end")
    assert result.exit_code == 0
    assert "The artifacts are the same." in result.output


def test_mismatched_or_missing_pathspecs_are_one_sentence(
    flowtui: RunCli, tmp_path: Path, store: Path
) -> None:
    _two_runs(flowtui, tmp_path)
    mixed = _diff(store, "1/start", "2")
    assert mixed.exit_code == 2
    assert "Cannot compare step DiffFlow/1/start with run DiffFlow/2" in mixed.output
    missing = _diff(store, "1", "9")
    assert missing.exit_code == 2 and "has no run 9" in missing.output
    assert "Traceback" not in mixed.output + missing.output


def test_describe_shape_dtype_and_column_changes() -> None:
    lines = describe(np.zeros((2, 3)), np.zeros((3, 3), dtype="int32"))
    assert lines == ["dtype float64 → int32", "shape (2, 3) → (3, 3)"]
    before = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]})
    after = pd.DataFrame({"a": [1.0, 2.0], "c": ["x", "y"]})
    lines = describe(before, after) or []
    assert "columns added: c" in lines and "columns removed: b" in lines
    assert "column a: dtype int64 → float64" in lines
    assert describe(np.array([1.0, np.nan]), np.array([1.0, np.nan])) is None  # NaN == NaN here


def test_describe_reprs_of_other_values_as_a_text_diff() -> None:
    lines = describe({"lr": 0.1, "layers": [1, 2]}, {"lr": 0.2, "layers": [1, 2]}) or []
    assert lines == ["{'layers': [1, 2], 'lr': 0.1} → {'layers': [1, 2], 'lr': 0.2}"]
    assert describe(3, "3") == ["type int → str", "3 → '3'"]
    assert describe([1, 2], [1, 2]) is None


def test_a_value_whose_class_was_defined_again_says_so_not_the_same_name_twice() -> None:
    """A class of the flow file whose code changed between two runs is another class with
    the same name: the diff read "type flow.Model → flow.Model", a change to nothing."""

    def model_class(weights: int) -> type:
        class Model:
            def __repr__(self) -> str:
                raise RuntimeError("no repr")

            def size(self) -> int:
                return weights

        Model.__module__, Model.__qualname__ = "flow", "Model"
        return Model

    lines = describe(model_class(1)(), model_class(2)()) or []
    assert lines and lines[0] == "class flow.Model: defined again, with other code", lines
    assert not any("flow.Model → flow.Model" in line for line in lines)
