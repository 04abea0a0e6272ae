"""What a new user trips on at the command line: wrong input gets one sentence naming the thing
and the fix, and `--help` says how the commands are called."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner, Result

from flowtui.cli import app

ROOT = Path(__file__).resolve().parent.parent

FAILING = """
from flowtui import FlowSpec, step

class FailFlow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        raise ValueError("broken")
        self.next(self.end)

    @step
    def end(self):
        pass

if __name__ == "__main__":
    FailFlow()
"""

SYNTAX_ERROR = """
from flowtui import FlowSpec, step

class A(FlowSpec):
    @step
    def start(self)
        self.next(self.end)
"""


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def python(*args: str | Path, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """A real process, as a user's shell starts it (flowtui from this tree)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONBREAKPOINT": "", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_runs_of_a_file_with_a_syntax_error_names_its_line(tmp_path: Path) -> None:
    file = tmp_path / "broken.py"
    file.write_text(SYNTAX_ERROR)
    plain = python("-m", "flowtui", "runs", "broken.py", cwd=tmp_path)  # no typer
    typed = cli("runs", file, "--all")  # the typer command
    for code, message in ((plain.returncode, plain.stderr), (typed.exit_code, typed.output)):
        assert code == 2
        assert "broken.py:6:20: Syntax error: expected ':'" in message
        assert "Traceback" not in message


def test_a_flow_name_where_a_file_goes_says_to_give_the_file(tmp_path: Path) -> None:
    for command in ("run", "show", "spin"):
        result = cli(command, "TrainFlow", *(["start"] if command == "spin" else []))
        assert result.exit_code == 2
        assert "There is no file TrainFlow; give the flow's .py file" in result.output
        assert "check the path" not in result.output


def test_python_flow_file_with_an_unknown_command_names_the_commands(tmp_path: Path) -> None:
    (tmp_path / "failflow.py").write_text(FAILING)
    done = python("failflow.py", "logs", "1/start", cwd=tmp_path)
    assert done.returncode == 2
    assert "python failflow.py has no command 'logs'; use one of: run, resume, spin" in done.stderr
    assert "flowtui open" not in done.stderr + done.stdout  # not the TUI's usage
    usage = python("failflow.py", "--help", cwd=tmp_path)
    assert usage.returncode == 0
    assert usage.stdout.startswith("Usage: python failflow.py {run|resume|spin|show|check}")


def test_quitting_the_debugger_at_the_first_line_says_so(tmp_path: Path) -> None:
    (tmp_path / "failflow.py").write_text(FAILING)
    store = tmp_path / "store"
    ran = python("-m", "flowtui", "run", "failflow.py", "--store", store, "-q", cwd=tmp_path)
    assert ran.returncode == 1, ran.stderr
    debug = ("-m", "flowtui", "debug", "1/start", "--break", "--store", store)
    done = python(*debug, cwd=tmp_path, stdin="q\n")
    assert done.returncode == 1
    assert "You quit the debugger before the step finished." in done.stdout
    assert "without calling self.next" not in done.stdout  # the step did not end by itself
    post_mortem = python(*debug[:-3], "--store", store, cwd=tmp_path, stdin="q\n")
    assert "The step raised ValueError: broken.\n" in post_mortem.stdout


def test_help_names_the_arguments_as_the_text_does(tmp_path: Path) -> None:
    top = cli("--help").output
    assert "flowtui FILE opens the TUI" in top  # the main use, not only `open`
    run = cli("run", "--help").output
    assert "flowtui run [OPTIONS] {FILE}" in run
    assert "[default: 0]" not in run  # --max-workers: the CPU count, as its help says
    assert "{file}" not in run
    assert "flowtui spin [OPTIONS] {FILE} {STEP}" in cli("spin", "--help").output
    assert "flowtui runs [OPTIONS] {FILE|FLOW}" in cli("runs", "--help").output  # as README
    assert "flowtui resume [OPTIONS] {FILE} [STEP]" in cli("resume", "--help").output
    assert "{RUN/STEP[/TASK]} [NAME]" in cli("artifacts", "--help").output
    logs = " ".join(cli("logs", "--help").output.replace("│", " ").split())
    assert "A task, 12/train/34, or a step, 12/train: each of its tasks" in logs
    assert "Flow/ prefix optional" not in logs  # what a pathspec may be, in words and examples
    # the command list holds each command's first sentence, not a paragraph cut mid-line
    assert "each problem as" not in top.lower()
    assert "its runner stops its" not in top


FOREACH_THEN_FAIL = """
from flowtui import FlowSpec, step

class ReuseFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.each, foreach="items")

    @step
    def each(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.check)

    @step
    def check(self):
        if open("broken.txt").read() == "yes":
            raise RuntimeError("broken")
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_a_resume_lists_the_reused_steps_in_the_flows_order(tmp_path: Path) -> None:
    (tmp_path / "reuse.py").write_text(FOREACH_THEN_FAIL)
    (tmp_path / "broken.txt").write_text("yes")
    store = tmp_path / "store"
    ran = python("-m", "flowtui", "run", "reuse.py", "--store", store, cwd=tmp_path)
    assert ran.returncode == 1, ran.stderr
    (tmp_path / "broken.txt").write_text("no")
    resumed = python("-m", "flowtui", "resume", "reuse.py", "--store", store, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    lines = resumed.stdout.splitlines()
    reused = [line.split(":")[0].split("/")[0] for line in lines if "reused from" in line]
    assert reused == ["start", "each", "join"], resumed.stdout  # join came before each


def test_logs_with_both_stream_flags_prints_both(tmp_path: Path) -> None:
    (tmp_path / "failflow.py").write_text(FAILING.replace("self.x = 1", 'print("to out")'))
    store = tmp_path / "store"
    ran = python("-m", "flowtui", "run", "failflow.py", "--store", store, "-q", cwd=tmp_path)
    assert ran.returncode == 1, ran.stderr
    args = ("logs", "1/start", "--stdout", "--stderr", "--store", str(store))
    plain = python("-m", "flowtui", *args, cwd=tmp_path)  # no typer
    typed = CliRunner().invoke(app, list(args))  # the typer command
    for out, err in ((plain.stdout, plain.stderr), (typed.stdout, typed.stderr)):
        assert out == "to out\n"
        assert "ValueError: broken" in err  # --stderr did not drop stdout, nor --stdout stderr


def test_a_limit_that_is_not_a_number_says_what_to_give(tmp_path: Path) -> None:
    result = cli("runs", "SomeFlow", "-n", "x", "--store", tmp_path / "store")
    assert result.exit_code == 2
    said = " ".join(result.output.replace("│", " ").split())  # typer's box wraps it
    assert "'x' is not a whole number; give how many runs to show, e.g. -n 5." in said
    assert "unable to parse" not in said


def test_a_number_that_is_not_one_says_what_to_give(tmp_path: Path) -> None:
    store = ("--store", tmp_path / "store")
    for args, sentence in (
        (
            ("run", "flow.py", "--max-workers", "x"),
            "'x' is not a whole number; give how many tasks may run at once",
        ),
        (
            ("run", "flow.py", "--max-workers", "-1"),
            "-1 is too few; give how many tasks may run at once, e.g. --max-workers 4.",
        ),
        (
            ("cancel", "1", "--wait", "soon"),
            "'soon' is not a number of seconds; give how long to wait for the run to stop",
        ),
    ):
        result = cli(*args, *store)
        assert result.exit_code == 2
        said = " ".join(result.output.replace("│", " ").split())
        assert sentence in said and "Input should be" not in said, said


def test_the_runs_summary_counts_one_task_in_the_singular(tmp_path: Path) -> None:
    source = FAILING.replace('        raise ValueError("broken")\n', "").replace(
        "        pass\n", '        raise ValueError("end broke")\n'
    )
    (tmp_path / "endfails.py").write_text(source)
    ran = python("-m", "flowtui", "run", "endfails.py", "--store", tmp_path / "s", cwd=tmp_path)
    assert ran.returncode == 1, ran.stderr
    assert "(1 task done, 1 failed;" in ran.stdout


def test_spin_where_nothing_ran_says_so_and_makes_no_store(tmp_path: Path) -> None:
    (tmp_path / "failflow.py").write_text(FAILING)
    env_store = {k: v for k, v in os.environ.items() if k != "FLOWTUI_STORE"}
    done = subprocess.run(
        [sys.executable, "-m", "flowtui", "spin", "failflow.py", "start"],
        cwd=tmp_path,
        env={**env_store, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    said = done.stderr.replace("\n", " ")
    assert "No run of FailFlow has reached step 'start' yet" in said
    assert not (tmp_path / ".flowtui").exists()  # a spin made no empty store


PARAMETERS = """
from flowtui import FlowSpec, IncludeFile, Parameter, step

class ParamFlow(FlowSpec):
    alpha = Parameter("alpha", help="step size", default=0.5)
    epochs = Parameter("epochs", type=int, required=True)
    data = IncludeFile("data", default="data.csv")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_run_help_with_a_file_lists_the_flows_parameters(tmp_path: Path) -> None:
    (tmp_path / "paramflow.py").write_text(PARAMETERS)
    calls = (
        ("run", "paramflow.py", "--help"),
        ("resume", "paramflow.py", "--help"),
        ("run", "--store", "elsewhere", "--max-workers=2", "paramflow.py", "-h"),  # options first
        ("resume", "--flow", "ParamFlow", "paramflow.py", "--help"),
    )
    for call in calls:
        done = python("-m", "flowtui", *call, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        lines = [line.strip() for line in done.stdout.splitlines()]
        start = lines.index("ParamFlow's parameters (give them after FILE):")
        assert lines[start + 1 : start + 4] == [
            "--alpha FLOAT  step size; default: 0.5",
            "--epochs INT  required",
            "--data PATH  default: 'data.csv'",
        ]
    assert not (tmp_path / "elsewhere").exists()  # help writes no store
    plain = python("-m", "flowtui", "run", "--help", cwd=tmp_path)  # no file: the general rule
    assert "Flow parameters go after FILE as --NAME VALUE" in plain.stdout


def test_help_names_what_each_option_takes(tmp_path: Path) -> None:
    """typer wrote `<bool>` beside every flag (which takes no value) and `<str>` for paths."""
    env = {**os.environ, "COLUMNS": "120"}
    for command, rows in (
        ("run", {"--quiet": "-q Do not show", "--store": "PATH The store", "--max-workers": "N"}),
        ("logs", {"--stdout": "Only the", "--attempt": "N The task's"}),
        ("show", {"--format": "text|json text:"}),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "flowtui", command, "--help"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "<bool>" not in done.stdout, done.stdout
        lines = {" ".join(line.strip("│ ").split()) for line in done.stdout.splitlines()}
        for option, then in rows.items():
            assert any(line.startswith(f"{option} {then}") for line in lines), (option, lines)


RETRIED = """
from flowtui import FlowSpec, current, retry, step

class RetriedFlow(FlowSpec):
    @retry(times=2)
    @step
    def start(self):
        print("attempt", current.retry_count)
        if current.retry_count < 2:
            raise ValueError(f"fail {current.retry_count}")
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_logs_of_a_retried_task_reads_any_attempt(tmp_path: Path) -> None:
    (tmp_path / "retried.py").write_text(RETRIED)
    store = tmp_path / "store"
    ran = python("-m", "flowtui", "run", "retried.py", "--store", store, "-q", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "attempt 2 failed: ValueError: fail 1" in ran.stdout  # the run counts from 1
    for attempt, out, err in ((1, "attempt 0\n", "fail 0"), (2, "attempt 1\n", "fail 1")):
        args = ("logs", "1/start", "--attempt", str(attempt), "--store", str(store))
        plain = python("-m", "flowtui", *args, cwd=tmp_path)  # no typer
        typed = CliRunner().invoke(app, list(args))
        for code, stdout, stderr in (
            (plain.returncode, plain.stdout, plain.stderr),
            (typed.exit_code, typed.stdout, typed.stderr),
        ):
            assert code == 0, stderr
            assert stdout == out
            assert f"ValueError: {err}" in stderr
    latest = python("-m", "flowtui", "logs", "1/start", "--store", store, cwd=tmp_path)
    assert latest.stdout == "attempt 2\n"  # without --attempt: the last
    beyond = python(
        "-m", "flowtui", "logs", "1/start", "--attempt", "4", "--store", store, cwd=tmp_path
    )
    assert beyond.returncode == 2
    assert "has 3 attempts; --attempt takes 1 to 3 (1 is the first)." in beyond.stderr


def test_a_mistyped_command_is_named_with_the_closest_one(tmp_path: Path) -> None:
    done = python("-m", "flowtui", "rnu", "flow.py", cwd=tmp_path)
    assert done.returncode == 2
    assert "'rnu' is neither a command nor a file; did you mean 'run'?" in done.stderr
    assert "Traceback" not in done.stderr
    name = python("-m", "flowtui", "TrainFlow", cwd=tmp_path)  # a flow's name, not its file
    assert name.returncode == 2
    assert "flowtui FILE opens a flow's .py file" in name.stderr
    missing = python("-m", "flowtui", "gone.py", cwd=tmp_path)  # a file: as before
    assert "gone.py does not exist; check the path of the flow file." in missing.stderr


def test_version_prints_the_version(tmp_path: Path) -> None:
    from flowtui import __version__

    done = python("-m", "flowtui", "--version", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, f"flowtui {__version__}\n")
    assert "--version" in cli("--help").output


WHERE_IT_FAILS = """
from flowtui import FlowSpec, Parameter, step

class FailingFlow(FlowSpec):
    where = Parameter("where", default="start")

    @step
    def start(self):
        if self.where == "start":
            raise ValueError("bad input")
        self.next(self.middle)

    @step
    def middle(self):
        raise ValueError("bad middle")
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_the_resume_hint_says_what_a_resume_would_reuse(tmp_path: Path) -> None:
    """A run that failed in its first task has nothing to reuse: the hint says so (it said
    'reusing every task that succeeded' of none)."""
    (tmp_path / "failing.py").write_text(WHERE_IT_FAILS)
    store = tmp_path / "store"
    first = python("-m", "flowtui", "run", "failing.py", "--store", store, "-q", cwd=tmp_path)
    assert first.returncode == 1
    hint = first.stdout.strip().splitlines()[-1]
    assert hint.startswith(f"Fix the code, then: flowtui resume failing.py --store {store}")
    assert "no task succeeded, so none is reused" in hint, hint
    later = python(
        "-m", "flowtui", "run", "failing.py", "--store", store, "-q", "--where", "no", cwd=tmp_path
    )
    assert later.returncode == 1
    hint = later.stdout.strip().splitlines()[-1]
    assert "(re-runs from 'middle', reusing every task that succeeded)." in hint, hint


INTERRUPTED = """
from flowtui import FlowSpec, step


class InterruptedFlow(FlowSpec):
    @step
    def start(self):
        raise KeyboardInterrupt  # as Ctrl-C while stepping in the debugger leaves the step
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_a_step_interrupted_with_ctrl_c_is_not_told_to_fix_its_code(tmp_path: Path) -> None:
    """Ctrl-C while stepping through a step at a breakpoint, then `c`, fails the task with a
    KeyboardInterrupt: the last line said "Fix the code" of code that had no fault."""
    (tmp_path / "interrupted.py").write_text(INTERRUPTED)
    store = tmp_path / "store"
    ran = python("-m", "flowtui", "run", "interrupted.py", "--store", store, "-q", cwd=tmp_path)
    assert ran.returncode == 1
    hint = ran.stdout.strip().splitlines()[-1]
    assert hint.startswith(
        f"Interrupted (Ctrl-C: KeyboardInterrupt); to run it again: flowtui resume "
        f"interrupted.py --store {store}"
    ), hint
