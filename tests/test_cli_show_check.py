"""`flowtui show` and `flowtui check`: output, exit codes, and one sentence for each bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from flowtui.cli import app

WriteFlow = Callable[..., Path]

TWO_FLOWS = """
    from flowtui import FlowSpec, step

    class FirstFlow(FlowSpec):
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    class SecondFlow(FlowSpec):
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass
"""

BROKEN = """
    from flowtui import FlowSpec, step

    class BrokenFlow(FlowSpec):
        @step
        def start(self):
            self.next(self.trian)

        @step
        def train(self):
            self.next(self.end)

        @step
        def end(self):
            pass
"""


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_one_sentence_error(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and lines[0].endswith(".")
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0]


# -- show ------------------------------------------------------------------------------------


def test_show_draws_the_dag_with_every_step(examples_dir: Path) -> None:
    result = cli("show", examples_dir / "branch_join.py")
    assert result.exit_code == 0, result.output
    for name in ("start", "add_up", "measure", "order", "join", "end"):
        assert name in result.stdout
    assert "┌" in result.stdout and "▼" in result.stdout


def test_show_with_an_unknown_format_says_which_it_writes(examples_dir: Path) -> None:
    result = cli("show", examples_dir / "branch_join.py", "--format", "xml")
    assert result.exit_code == 2
    said = " ".join(result.output.replace("│", " ").split())  # typer's box wraps it
    assert "'xml' is not a format show writes; give text or json." in said, said
    assert "Value error" not in said


def test_show_json_is_the_graph_in_topological_order(examples_dir: Path) -> None:
    path = examples_dir / "metaflow_style.py"
    result = cli("show", path, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["flow"] == "MetaflowStyleFlow" and data["file"] == str(path)
    steps = data["steps"]
    assert [s["name"] for s in steps] == ["start", "process", "gather", "end"]
    assert set(steps[0]) == {
        "name",
        "kind",
        "next",
        "foreach",
        "condition",
        "cases",
        "line",
        "decorators",
        "doc",
    }
    assert steps[0]["kind"] == "foreach" and steps[0]["foreach"] == "shard_ids"
    assert steps[0]["next"] == ["process"] and steps[-1]["next"] == []
    assert steps[1]["decorators"] == [
        {"name": "retry", "args": {"times": 2, "minutes_between_retries": 0}},
        {"name": "catch", "args": {"var": "error", "print_exception": False}},
    ]
    assert steps[2]["kind"] == "join" and steps[2]["foreach"] is None
    assert steps[0]["doc"] == "List the shards."
    source_lines = path.read_text().splitlines()
    assert all(source_lines[s["line"] - 1].lstrip().startswith(f"def {s['name']}(") for s in steps)
    assert data["parameters"][0]["name"] == "shards" and data["parameters"][0]["default"] == 3


def test_show_lists_lint_problems_after_the_dag(write_flow: WriteFlow) -> None:
    path = write_flow(BROKEN)
    result = cli("show", path)
    assert result.exit_code == 0
    dag, _, problems = result.stdout.partition(f"\n\n{path}:")
    assert "start" in dag
    assert problems.startswith("7: Step start transitions to self.trian")


def test_show_picks_a_flow_with_flow_option(write_flow: WriteFlow) -> None:
    path = write_flow(TWO_FLOWS)
    result = cli("show", path, "--flow", "SecondFlow", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["flow"] == "SecondFlow"


def test_show_reports_a_syntax_error_with_its_place(write_flow: WriteFlow) -> None:
    path = write_flow("from flowtui import FlowSpec\n\nclass F(FlowSpec)\n    pass\n")
    result = cli("show", path)
    assert_one_sentence_error(result, f"{path}:3:18: Syntax error")


# -- check -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "summary"),
    [
        ("hello.py", "HelloFlow in {path}, 4 steps"),
        ("branch_join.py", "BranchJoinFlow in {path}, 6 steps"),
        ("foreach.py", "ForeachFlow in {path}, 4 steps"),
        ("flaky.py", "FlakyFlow in {path}, 4 steps"),
        ("metaflow_style.py", "MetaflowStyleFlow in {path}, 4 steps"),
    ],
)
def test_check_passes_every_example(examples_dir: Path, name: str, summary: str) -> None:
    path = examples_dir / name
    result = cli("check", path)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"ok: {summary.format(path=path)}.\n"


def test_check_prints_each_problem_at_its_line_and_exits_1(write_flow: WriteFlow) -> None:
    path = write_flow(BROKEN)
    result = cli("check", path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"{path}:7: Step start transitions to self.trian, which is not a step; "
        "did you mean self.train?"
    )
    assert lines[-1] == f"BrokenFlow: 1 error in {path}."


def test_check_gives_a_syntax_error_line_and_column(write_flow: WriteFlow) -> None:
    path = write_flow("from flowtui import FlowSpec\n\nclass F(FlowSpec):\n    x = (1,\n")
    result = cli("check", path)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{path}:4:9: Syntax error")
    assert "Traceback" not in result.output


def test_check_with_flow_option_checks_that_flow(write_flow: WriteFlow) -> None:
    path = write_flow(TWO_FLOWS)
    result = cli("check", path, "--flow", "FirstFlow")
    assert result.exit_code == 0 and "FirstFlow" in result.stdout


# -- bad input: the same sentence and exit code 2 from both commands --------------------------


@pytest.mark.parametrize("command", ["show", "check"])
def test_a_missing_file(tmp_path: Path, command: str) -> None:
    assert_one_sentence_error(cli(command, tmp_path / "nope.py"), "nope.py does not exist")


@pytest.mark.parametrize("command", ["show", "check"])
def test_a_directory(tmp_path: Path, command: str) -> None:
    assert_one_sentence_error(cli(command, tmp_path), "is a directory")


@pytest.mark.parametrize("command", ["show", "check"])
def test_a_file_that_is_not_python(tmp_path: Path, command: str) -> None:
    path = tmp_path / "flow.txt"
    path.write_text("hello")
    assert_one_sentence_error(cli(command, path), "not a Python file")


@pytest.mark.parametrize("command", ["show", "check"])
def test_a_file_that_is_not_utf8(tmp_path: Path, command: str) -> None:
    path = tmp_path / "flow.py"
    path.write_bytes(b"# \xff\xfe\n")
    assert_one_sentence_error(cli(command, path), "not UTF-8")


@pytest.mark.parametrize("command", ["show", "check"])
def test_a_file_with_no_flow(write_flow: WriteFlow, command: str) -> None:
    path = write_flow("print('just a script')\n", name="script.py")
    assert_one_sentence_error(cli(command, path), "defines no flow", "FlowSpec")


@pytest.mark.parametrize("command", ["show", "check"])
def test_several_flows_without_flow_option(write_flow: WriteFlow, command: str) -> None:
    path = write_flow(TWO_FLOWS)
    assert_one_sentence_error(cli(command, path), "FirstFlow, SecondFlow", "--flow NAME")


@pytest.mark.parametrize("command", ["show", "check"])
def test_an_unknown_flow_name(write_flow: WriteFlow, command: str) -> None:
    path = write_flow(TWO_FLOWS)
    assert_one_sentence_error(cli(command, path, "--flow", "ThirdFlow"), "no flow named ThirdFlow")


def test_the_installed_command_exits_2_without_traceback(tmp_path: Path) -> None:
    """Through `python -m flowtui` (the console script's main), not only the Typer app."""
    run = subprocess.run(
        [sys.executable, "-m", "flowtui", "check", str(tmp_path / "gone.py")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    assert (
        run.stderr.strip()
        == f"error: {tmp_path / 'gone.py'} does not exist; check the path of the flow file."
    )
