"""`flowtui runs` and `flowtui logs` answer without loading the CLI framework (typer, click and
the pydantic typer parses options with), and answer exactly as the typer commands do; any
other command line of theirs (help, an unknown option) still reaches the typer app."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer

from flowtui.cli import app
from flowtui.cli_fast import READ_COMMANDS, RUNS_LIMIT, SOURCE

FLOW = """
import sys
from flowtui import FlowSpec, step

class FastFlow(FlowSpec):
    @step
    def start(self):
        print("hello from start")
        print("[red]not markup[/red]", file=sys.stderr)
        self.items = [1, 2]
        self.next(self.each, foreach="items")

    @step
    def each(self):
        print("item", self.input)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
"""

#: Runs `flowtui.entry.main` on argv and prints, after a line of its own, which of the CLI
#: framework's modules it loaded (exit code kept).
PROBE = """
import sys
from flowtui import entry
code = 0
try:
    entry.main(sys.argv[1:])
except SystemExit as e:
    code = e.code or 0
framework = sorted(
    m for m in sys.modules if m.split(".")[0] in ("typer", "click", "pydantic", "pydantic_core")
)
print("\\n@@loaded " + " ".join(framework), flush=True)
sys.exit(code)
"""

#: The same command line through the typer app, as before this path existed.
THROUGH_TYPER = "import sys; from flowtui.cli import main; main(sys.argv[1:])"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fast")
    (root / "fastflow.py").write_text(textwrap.dedent(FLOW))
    for _ in range(2):  # two runs, so --limit 1 leaves one out
        done = subprocess.run(
            [sys.executable, "-m", "flowtui", "run", "fastflow.py", "--store", "store", "-q"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    return root


def run(root: Path, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "100"},
    )


COMMAND_LINES = [
    ("runs", "FastFlow", "--store", "store"),
    ("runs", "fastflow.py", "--store=store", "-n", "1"),
    ("runs", "--store", "store", "FastFlow", "--all", "--limit=5", "--source", "flowtui"),
    ("runs", "NoSuchFlow", "--store", "store"),
    ("runs", "FastFlow", "--store", "store", "--source", "elsewhere"),
    ("logs", "1/start", "--store", "store"),
    ("logs", "FastFlow/1/each", "--store", "store", "--stdout"),
    ("logs", "2/start", "--stderr", "--store", "store"),
    ("logs", "1/each", "--store", "store", "-f"),
    ("logs", "1/start", "--follow", "--store", "store"),
    ("logs", "9/start", "--store", "store"),
]


@pytest.mark.parametrize("args", COMMAND_LINES, ids=lambda a: " ".join(a))
def test_runs_and_logs_answer_as_the_cli_does_without_loading_typer_or_pydantic(
    store: Path, args: tuple[str, ...]
) -> None:
    fast = run(store, PROBE, *args)
    output, _, loaded = fast.stdout.rpartition("\n@@loaded ")
    assert loaded.split() == []  # no typer, click or pydantic was imported
    typed = run(store, THROUGH_TYPER, *args)
    assert (fast.returncode, output.rstrip("\n"), fast.stderr) == (
        typed.returncode,
        typed.stdout.rstrip("\n"),
        typed.stderr,
    )
    assert fast.stdout.strip() or fast.stderr.strip()  # it said something


@pytest.mark.parametrize(
    "args",
    [
        ("runs", "--help"),
        ("logs", "1/start", "--bogus"),
        ("runs", "FastFlow", "--limit", "many", "--store", "store"),
        ("runs", "FastFlow", "--store", "a", "--store", "store"),
    ],
    ids=lambda a: " ".join(a),
)
def test_other_read_command_lines_reach_the_typer_app(store: Path, args: tuple[str, ...]) -> None:
    fast = run(store, PROBE, *args)
    assert "typer" in fast.stdout.rpartition("\n@@loaded ")[2].split()
    typed = run(store, THROUGH_TYPER, *args)
    assert fast.returncode == typed.returncode
    assert fast.stderr == typed.stderr


@pytest.mark.parametrize("command", sorted(READ_COMMANDS))
def test_the_plain_forms_take_exactly_the_typer_commands_options(command: str) -> None:
    spec = READ_COMMANDS[command]
    click_command = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    options = {}
    for param in click_command.params:
        if param.param_type_name == "option" and "--help" not in param.opts:
            for name in param.opts:
                options[name] = (param.name, param.is_flag, param.default)
    assert set(options) == set(spec.options) | set(spec.flags)
    for name, keyword in spec.options.items():
        assert options[name][:2] == (keyword, False)
    for name, keyword in spec.flags.items():
        assert options[name] == (keyword, True, False)
    defaults = {name: default for name, _, default in options.values()}
    assert defaults.get("source") == SOURCE
    assert command != "runs" or defaults["limit"] == RUNS_LIMIT
