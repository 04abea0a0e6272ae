"""`flowtui runs`, `flowtui logs` and `flowtui artifacts`: what they print, and their errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from flowtui.cli import app

FLOW = """
from flowtui import FlowSpec, Parameter, step

class ReadFlow(FlowSpec):
    fail = Parameter("fail", default=False)

    @step
    def start(self):
        self.items = ["a", "b"]
        self.big = list(range(5000))
        self.markup = "[red]not markup[/red]"
        print("hello from start")
        self.next(self.each, foreach="items")

    @step
    def each(self):
        import sys
        print("item", self.input)
        print("careful", self.input, file=sys.stderr)
        if self.fail and self.input == "b":
            raise RuntimeError("b broke")
        self.letter = self.input.upper()
        self.next(self.join)

    @step
    def join(self, inputs):
        self.letters = [i.letter for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        pass
"""


@pytest.fixture
def cli(tmp_path: Path):
    store = tmp_path / "store"
    file = tmp_path / "readflow.py"
    file.write_text(textwrap.dedent(FLOW))

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(app, [*args, "--store", str(store)])

    invoke.file = file  # type: ignore[attr-defined]
    invoke.store = store  # type: ignore[attr-defined]
    return invoke


def test_runs_lists_status_origin_and_tags_newest_first(cli):
    assert cli("run", str(cli.file), "-q", "--tag", "first").exit_code == 0
    assert cli("run", str(cli.file), "-q", "--fail", "true").exit_code == 1
    assert cli("resume", str(cli.file), "-q").exit_code == 1

    by_file = cli("runs", str(cli.file))
    assert by_file.exit_code == 0
    rows = [line.split() for line in by_file.stdout.splitlines()[1:]]
    assert [r[:2] for r in rows] == [["3", "failed"], ["2", "failed"], ["1", "succeeded"]]
    assert "resume of 2 from each" in by_file.stdout
    assert rows[2][-1] == "first"
    assert cli("runs", "ReadFlow").stdout == by_file.stdout
    header = by_file.stdout.splitlines()[0].split()
    assert header == ["id", "status", "start", "duration", "origin", "tags"]


def test_runs_shows_a_killed_runner_as_crashed(cli, tmp_path):
    slow = tmp_path / "slow.py"
    slow.write_text(
        textwrap.dedent(
            """
            import os, time
            from flowtui import FlowSpec, step

            class SlowFlow(FlowSpec):
                @step
                def start(self):
                    print("started", flush=True)
                    runner = os.getppid()
                    while os.getppid() == runner:  # until the runner is gone
                        time.sleep(0.05)
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowtui", "run", str(slow), "--store", str(cli.store), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait_for(lambda: "started" in cli("logs", "SlowFlow/1/start").stdout)
        assert "running" in cli("runs", "SlowFlow").stdout
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # the runner dies without recording anything
        proc.wait()
    out = cli("runs", "SlowFlow").stdout
    assert out.splitlines()[1].split()[:2] == ["1", "crashed"]


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_runs_refuses_a_limit_below_one_in_a_sentence(cli, limit):
    """`--limit -1` listed one run of two and said three were hidden; `-n 0` an empty table."""
    assert cli("run", str(cli.file), "-q").exit_code == 0
    assert cli("run", str(cli.file), "-q").exit_code == 0
    # each through the typer app and through `python -m flowtui` (its plain, faster path)
    for args in (["--limit", limit], [f"--limit={limit}"], ["-n", limit]):
        typed = cli("runs", "ReadFlow", *args)
        plain = subprocess.run(
            [sys.executable, "-m", "flowtui", "runs", "ReadFlow", "--store", str(cli.store), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        said = f"error: --limit must be 1 or more (got {limit}); it is how many runs to show.\n"
        assert (typed.exit_code, typed.stdout, typed.stderr) == (2, "", said)
        assert (plain.returncode, plain.stdout, plain.stderr) == (2, "", said)


def test_runs_of_an_unknown_flow_names_the_flows_there(cli):
    assert cli("run", str(cli.file), "-q").exit_code == 0
    result = cli("runs", "NoSuchFlow")
    assert result.exit_code == 2
    assert "no runs of NoSuchFlow; flows with runs: ReadFlow." in result.stderr
    assert "Traceback" not in result.output


def test_logs_prints_a_tasks_stdout_and_stderr(cli):
    assert cli("run", str(cli.file), "-q").exit_code == 0
    start = cli("logs", "1/start")
    assert (start.exit_code, start.stdout, start.stderr) == (0, "hello from start\n", "")
    assert cli("logs", "ReadFlow/1/start").stdout == "hello from start\n"

    both = cli("logs", "1/each")
    assert both.stdout.splitlines() == [
        "── ReadFlow/1/each/2 [0] ──",
        "item a",
        "── ReadFlow/1/each/3 [1] ──",
        "item b",
    ]
    assert both.stderr == "careful a\ncareful b\n"
    only_err = cli("logs", "1/each/3", "--stderr")
    assert (only_err.stdout, only_err.stderr) == ("", "careful b\n")
    assert cli("logs", "1/each/3", "--stdout").stdout == "item b\n"


def test_logs_follow_prints_a_live_task_until_it_finishes(cli, tmp_path):
    gated = tmp_path / "gated.py"
    gated.write_text(
        textwrap.dedent(
            """
            import time
            from pathlib import Path
            from flowtui import FlowSpec, step

            class GatedFlow(FlowSpec):
                @step
                def start(self):
                    print("before", flush=True)
                    while not Path(__file__).with_name("go").exists():
                        time.sleep(0.02)
                    print("after", flush=True)
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """
        )
    )
    flowtui = [sys.executable, "-m", "flowtui"]
    run = subprocess.Popen(
        [*flowtui, "run", str(gated), "--store", str(cli.store), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait_for(lambda: "before" in cli("logs", "GatedFlow/1/start").stdout)
        follow = subprocess.Popen(
            [*flowtui, "logs", "GatedFlow/1/start", "-f", "--store", str(cli.store)],
            stdout=subprocess.PIPE,
            text=True,
        )
        (tmp_path / "go").touch()
        out, _ = follow.communicate(timeout=60)
        assert out == "before\nafter\n"
        assert run.wait(timeout=60) == 0
    finally:
        run.kill()
        run.wait()


def test_logs_of_a_missing_pathspec_names_the_missing_part(cli):
    assert cli("run", str(cli.file), "-q").exit_code == 0
    missing_step = cli("logs", "1/train")
    assert missing_step.exit_code == 2
    assert "Run ReadFlow/1 has no step 'train'; its steps: start, each, join, end." in (
        missing_step.stderr.replace("\n", " ")
    )
    missing_run = cli("logs", "42/start")
    assert missing_run.exit_code == 2
    assert "has no run 42; latest runs: 1 (ReadFlow)." in missing_run.stderr.replace("\n", " ")
    missing_task = cli("logs", "ReadFlow/1/start/99")
    assert "no task 99; its tasks: 1." in missing_task.stderr.replace("\n", " ")
    bad = cli("logs", "start")
    assert bad.exit_code == 2 and "RUN/STEP[/TASK]" in bad.stderr
    assert "Traceback" not in missing_step.output + missing_run.output + bad.output


def test_logs_follow_needs_one_task(cli):
    assert cli("run", str(cli.file), "-q").exit_code == 0
    result = cli("logs", "1/each", "--follow")
    assert result.exit_code == 2
    assert "has 2 tasks; name one as ReadFlow/1/each/TASK, from: 2 [0], 3 [1]." in (
        result.stderr.replace("\n", " ")
    )


def test_artifacts_lists_name_type_size_and_short_repr(cli):
    assert cli("run", str(cli.file), "-q").exit_code == 0
    result = cli("artifacts", "1/start")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["name", "type", "size", "value"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert sorted(rows) == ["big", "fail", "items", "markup", "name"]
    assert rows["items"].split()[1:] == ["list", *rows["items"].split()[2:4], "['a',", "'b']"]
    assert "KB" in rows["big"]  # a 5000-item list takes kilobytes
    assert "[red]not markup[/red]" in rows["markup"]  # user text is never Rich markup


ESCAPING_REPR = """
from flowtui import FlowSpec, step


class Loud:
    def __repr__(self):
        return "Loud(\\x1b[2J\\x1b]0;pwned\\x07\\x1b[31mred\\x1b[0m)"


class LoudFlow(FlowSpec):
    @step
    def start(self):
        self.loud = Loud()
        self.after = 1
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_a_repr_with_escape_sequences_is_listed_inert_and_in_line(cli, tmp_path):
    """A class's repr is the user's text: `flowtui artifacts` wrote its escapes raw (clearing
    the screen, setting the window title) and the table's columns went out of line."""
    file = tmp_path / "loud.py"
    file.write_text(ESCAPING_REPR)
    assert cli("run", str(file), "-q").exit_code == 0
    result = cli("artifacts", "LoudFlow/1/start")
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith("loud "))
    assert "Loud(\\x1b[2J\\x1b]0;pwned\\x07\\x1b[31mred\\x1b[0m)" in row
    header, *rows = result.stdout.splitlines()
    assert {len(line.rstrip()) <= len(header) for line in rows} == {True}
    assert header.index("value") == row.index("Loud(")  # the value column starts in line


def test_artifacts_list_keeps_names_on_a_narrow_terminal(cli):
    assert cli("run", str(cli.file), "-q").exit_code == 0
    result = CliRunner().invoke(
        app, ["artifacts", "1/start", "--store", str(cli.store)], env={"COLUMNS": "40"}
    )
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["name", "type", "size", "value"]
    names = sorted(line.split()[0] for line in lines[1:])
    assert names == ["big", "fail", "items", "markup", "name"]
    assert all(len(line) <= 40 for line in lines)
    big = next(line for line in lines if line.startswith("big"))
    assert big.endswith("…")  # the long value is cut, not the columns before it


def test_artifacts_prints_one_value_and_truncates_big_ones(cli):
    assert cli("run", str(cli.file), "-q").exit_code == 0
    letters = cli("artifacts", "1/join", "letters")
    assert (letters.exit_code, letters.stdout) == (0, "['A', 'B']\n")
    assert cli("artifacts", "ReadFlow/1/each/3", "letter").stdout == "'B'\n"

    big = cli("artifacts", "1/start", "big")
    assert big.exit_code == 0
    assert "... +4800" in big.stdout
    assert "5,000 items; showing the first 200" in big.stdout
    assert 'Task("ReadFlow/1/start/1").data.big' in big.stdout.replace("\n", "")


def test_artifacts_errors_name_what_exists(cli):
    assert cli("run", str(cli.file), "-q").exit_code == 0
    missing = cli("artifacts", "1/start", "model")
    assert missing.exit_code == 2
    assert "has no artifact 'model'; its artifacts: big, fail, items, markup, name." in (
        missing.stderr.replace("\n", " ")
    )
    several = cli("artifacts", "1/each")
    assert several.exit_code == 2 and "has 2 tasks" in several.stderr
    assert "Traceback" not in missing.output + several.output


def test_readers_on_a_store_that_does_not_exist(tmp_path):
    result = CliRunner().invoke(app, ["runs", "X", "--store", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "No flowtui store at" in result.stderr


def _wait_for(condition, limit: float = 60.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


SIBLING_FLOW = """
from flowtui import FlowSpec, Parameter, step
from sibling_shapes import Box


class SiblingFlow(FlowSpec):
    width = Parameter("width", default=3)

    @step
    def start(self):
        self.box = Box(self.width)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_a_value_of_a_class_from_a_module_beside_the_flow_prints_and_diffs(tmp_path):
    """`flowtui artifacts` said "cannot be loaded here: No module named 'sibling_shapes'" even
    in the flow's own folder (the TUI's preview imported it from there), and `flowtui diff`
    fell back to the stored reprs."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "sibling_shapes.py").write_text(
        "class Box:\n"
        "    def __init__(self, w):\n"
        "        self.w = w\n\n"
        "    def __eq__(self, other):\n"
        "        return isinstance(other, Box) and other.w == self.w\n\n"
        "    def __repr__(self):\n"
        "        return f'Box({self.w})'\n"
    )
    (folder / "sibling.py").write_text(SIBLING_FLOW)
    store = tmp_path / "store"

    def flowtui(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "flowtui", *args, "--store", str(store)],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert flowtui("run", "sibling.py", "-q", cwd=folder).returncode == 0
    assert flowtui("run", "sibling.py", "-q", "--width", "4", cwd=folder).returncode == 0
    elsewhere = tmp_path  # not the flow's folder, nor on the path
    for cwd in (folder, elsewhere):
        shown = flowtui("artifacts", "SiblingFlow/1/start", "box", cwd=cwd)
        assert (shown.returncode, shown.stdout.strip(), shown.stderr) == (0, "Box(3)", "")
    diff = flowtui("diff", "1", "2", cwd=elsewhere)
    assert diff.returncode == 1
    assert "Box(3) → Box(4)" in diff.stdout and "cannot load" not in diff.stdout


def test_logs_follow_of_a_task_whose_runner_died_says_it_will_not_finish(cli, tmp_path):
    """`logs -f` on a task whose runner is killed (kill -9, a crash, the machine's OOM killer)
    ended as if the task had finished: exit 0, nothing said."""
    gated = tmp_path / "stuck.py"
    gated.write_text(
        textwrap.dedent(
            """
            import time
            from flowtui import FlowSpec, step

            class StuckFlow(FlowSpec):
                @step
                def start(self):
                    print("working", flush=True)
                    while True:
                        time.sleep(0.05)
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """
        )
    )
    flowtui = [sys.executable, "-m", "flowtui"]
    run = subprocess.Popen(
        [*flowtui, "run", str(gated), "--store", str(cli.store), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait_for(lambda: "working" in cli("logs", "StuckFlow/1/start").stdout)
        follow = subprocess.Popen(
            [*flowtui, "logs", "StuckFlow/1/start", "-f", "--store", str(cli.store)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert _wait_for(lambda: follow.stdout is not None and follow.stdout.readline())
        run.kill()  # the runner, and with it its fork server and the task
        run.wait()
        rest, err = follow.communicate(timeout=120)
        assert rest == ""  # nothing more than the line read above
        assert follow.returncode == 1
        assert "StuckFlow/1/start/1 will not finish: its run crashed" in err.replace("\n", " ")
        assert "Traceback" not in err
    finally:
        run.kill()
        run.wait()
