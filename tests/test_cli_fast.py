"""`flowtui runs` and `flowtui logs` answer without loading the CLI framework (typer, click and
the pydantic typer parses options with), nor Rich, cloudpickle or the client's objects for a
plain answer, and answer exactly as the typer commands do; any other command line of theirs
(help, an unknown option) still reaches the typer app."""

from __future__ import annotations

import io
import itertools
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import typer
from rich.console import Console

from flowtui.cli import app
from flowtui.cli_fast import READ_COMMANDS, RUNS_LIMIT, SOURCE
from flowtui.client.tables import runs_table, runs_table_text
from flowtui.store.glance import RunRow
from flowtui.store.records import RunRecord

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

#: What answering a plain `runs`/`logs` must not load (each costs more than the answer): Rich,
#: cloudpickle, the store's full reader and its dataclass records, the client's objects, the CLI
#: framework, even `typing` (15 M instructions of the 140 M these commands took with it).
#: `entry.main` runs on argv; the modules it loaded follow, after a line of their own.
PROBE_HEAVY = PROBE.replace(
    '("typer", "click", "pydantic", "pydantic_core")',
    '("typer", "click", "pydantic", "rich", "cloudpickle", "dataclasses", "typing") or m in '
    '("flowtui.store.metadata", "flowtui.client.objects", "flowtui.client.task", "flowtui.flow")',
)

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


def run(
    root: Path, code: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "100", **(env or {})},
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
    ("runs", "FastFlow", "--store", "store", "--limit", "1"),
    ("runs", "FastFlow", "--store", "store", "-n", "0"),
    ("runs", "FastFlow", "--store", "store", "-n=1"),  # a short option written with `=`
    ("runs", "FastFlow", "--store=store", "-n=0"),
    ("logs", "1/each/3", "--store", "store"),
    ("logs", "FastFlow/2/each/8", "--store", "store", "--stderr"),
    ("logs", "Other/1/start", "--store", "store"),
    ("logs", "1/each/4", "--store", "store"),
    ("logs", "1/nothere", "--store", "store"),
    ("logs", "1/start", "--store", "nostore"),
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


PLAIN_ANSWERS = [
    ("runs", "FastFlow", "--store", "store"),
    ("runs", "FastFlow", "--store", "store", "-n", "1", "--source", "flowtui"),
    ("logs", "1/start", "--store", "store"),
    ("logs", "FastFlow/1/each", "--store", "store", "--stdout"),
    ("logs", "2/each/8", "--store", "store"),
]


@pytest.mark.parametrize("args", PLAIN_ANSWERS, ids=lambda a: " ".join(a))
def test_plain_runs_and_logs_load_neither_rich_nor_cloudpickle_nor_the_clients_objects(
    store: Path, args: tuple[str, ...]
) -> None:
    fast = run(store, PROBE_HEAVY, *args)
    output, _, loaded = fast.stdout.rpartition("\n@@loaded ")
    assert fast.returncode == 0, fast.stderr
    assert output.strip() or fast.stderr.strip()  # it answered
    assert loaded.split() == []


def in_a_terminal(root: Path, code: str, *args: str) -> bytes:
    """What `code` writes to a terminal (a pseudo-terminal, 100 columns wide) and exits with."""
    import pty

    main, side = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=root,
        stdin=subprocess.DEVNULL,
        stdout=side,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm-256color"},
    )
    os.close(side)
    out = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the terminal's other side closed
            break
        if not chunk:
            break
        out += chunk
    os.close(main)
    assert proc.wait(timeout=120) == 0
    return out


def test_runs_in_a_terminal_is_rich_s_coloured_table_without_loading_rich(store: Path) -> None:
    args = ("runs", "FastFlow", "--store", "store", "-n", "1")
    fast = in_a_terminal(store, PROBE_HEAVY, *args)
    output, _, loaded = fast.rpartition(b"\r\n@@loaded ")
    assert b"\x1b[32msucceeded\x1b[0m" in output  # coloured, as Rich colours it
    assert loaded.split() == []
    assert output.rstrip(b"\r\n") == in_a_terminal(store, THROUGH_TYPER, *args).rstrip(b"\r\n")


def test_forced_colours_still_get_rich_s(store: Path) -> None:
    forced = {"FORCE_COLOR": "1"}  # as a terminal: Rich draws the table, in colour
    fast = run(store, PROBE, "runs", "FastFlow", "--store", "store", env=forced)
    typed = run(store, THROUGH_TYPER, "runs", "FastFlow", "--store", "store", env=forced)
    assert "\x1b[" in fast.stdout
    assert fast.stdout.rpartition("\n@@loaded ")[0].rstrip("\n") == typed.stdout.rstrip("\n")


def test_a_deleted_log_is_said_as_the_cli_says_it(store: Path, tmp_path: Path) -> None:
    shutil.copy(store / "fastflow.py", tmp_path)
    subprocess.run(
        [sys.executable, "-m", "flowtui", "run", "fastflow.py", "--store", "store", "-q"],
        cwd=tmp_path,
        check=True,
        timeout=120,
    )
    (err,) = (tmp_path / "store" / "logs" / "1" / "each").glob("3.*.err")
    err.unlink()
    fast = run(tmp_path, PROBE, "logs", "1/each", "--store", "store")
    typed = run(tmp_path, THROUGH_TYPER, "logs", "1/each", "--store", "store")
    assert "missing from the store" in fast.stderr
    output = fast.stdout.rpartition("\n@@loaded ")[0].rstrip("\n")
    assert (fast.returncode, output, fast.stderr) == (
        typed.returncode,
        typed.stdout.rstrip("\n"),
        typed.stderr,
    )


def _record(run_id: int, status: str, created: float, finished: float | None, **more: object):
    fields: dict = {"kind": "run", "origin_run_id": None, "resume_step": None, "tags": ()}
    fields.update(more)
    return RunRecord(
        flow="F",
        run_id=str(run_id),
        status=status,
        created=created,
        finished=finished,
        file="f.py",
        params={},
        user="me",
        system_tags=("user:me",),
        error=None,
        **fields,  # type: ignore[arg-type]
    )


def test_the_runs_table_written_without_rich_is_rich_s_byte_for_byte_in_a_file_or_terminal() -> (
    None
):
    now = time.time()
    records = [
        _record(12, "running", now - 75, None, tags=("nightly", "[red]not markup[/red]")),
        _record(11, "succeeded", now - 4000, now - 10, kind="resume", origin_run_id="9",
                resume_step="train"),
        _record(10, "failed", now - 90_000, now - 89_000, tags=("a",)),
        _record(9, "crashed", now - 50, None),
        _record(8, "cancelled", now - 500, now - 499.5, kind="spin", origin_run_id="7",
                resume_step="each", tags=("spin:persisted",)),
        _record(7, "whatever", now - 5, None),
    ]  # fmt: skip
    rows = [
        RunRow(r.run_id, r.status, r.kind, r.created, r.finished, r.origin_run_id,
               r.resume_step, r.tags, r.system_tags)
        for r in records
    ]  # fmt: skip
    drawn = 0
    for width, count, colours in itertools.product(
        (40, 80, 100, 200), (1, 3, len(records)), (None, "standard", "256", "truecolor")
    ):
        out = io.StringIO()
        console = Console(
            file=out,
            width=width,
            highlight=False,
            force_terminal=colours is not None,
            color_system=colours,  # type: ignore[arg-type]
        )
        console.print(runs_table(records[:count], now=now))
        plain = runs_table_text(rows[:count], width, terminal=colours is not None, now=now)
        if plain is not None:
            assert plain == out.getvalue()
            drawn += 1
        else:  # left to Rich only when Rich has to fit it into the width
            unfitted = runs_table_text(rows[:count], 10_000, now=now) or ""
            assert len(unfitted.splitlines()[0]) > width
    assert drawn >= 24
    wide = rows[0]._replace(tags=("日本",))  # two cells a character: Rich measures them
    assert runs_table_text([wide], 200, now=now) is None


@pytest.mark.parametrize(
    "args",
    [
        ("runs", "--help"),
        ("logs", "1/start", "--bogus"),
        ("runs", "FastFlow", "--limit", "many", "--store", "store"),
        ("runs", "FastFlow", "-n=many", "--store", "store"),
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


ESCAPING_FLOW = """
import sys
from flowtui import FlowSpec, step

class LoudFlow(FlowSpec):
    @step
    def start(self):
        sys.stdout.write("title \\x1b]2;PWNED\\x07 clip \\x1b]52;c;aGk=\\x07 ")
        sys.stdout.write("\\x1b[2Jcleared \\x1b[31mred\\x1b[0m bar 1%\\rbar 100%\\n")
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_logs_in_a_terminal_are_inert_and_byte_for_byte_elsewhere(tmp_path: Path) -> None:
    """`flowtui logs` wrote a task's output raw to the terminal: the task set the window
    title (and could write the clipboard, clear the screen), which `flowtui run` and the TUI
    never let it do. In a terminal, colours stay and the rest is spelled out; to a file or a
    pipe, the log is byte for byte."""
    (tmp_path / "loud.py").write_text(textwrap.dedent(ESCAPING_FLOW))
    subprocess.run(
        [sys.executable, "-m", "flowtui", "run", "loud.py", "--store", "store", "-q"],
        cwd=tmp_path,
        check=True,
        timeout=120,
    )
    args = ("logs", "LoudFlow/1/start", "--store", "store")
    for code in (PROBE, THROUGH_TYPER):  # the plain path and the typer app
        shown = in_a_terminal(tmp_path, code, *args).partition(b"\r\n@@loaded ")[0]
        assert b"\x1b]" not in shown and b"\x07" not in shown and b"\x1b[2J" not in shown
        assert b"title \\x1b]2;PWNED\\x07 clip" in shown and b"\\x1b[2Jcleared" in shown
        assert b"\x1b[31mred\x1b[0m" in shown and b"bar 1%\rbar 100%" in shown
    piped = run(tmp_path, PROBE, *args).stdout.partition("\n@@loaded ")[0]
    assert piped.startswith("title \x1b]2;PWNED\x07 clip \x1b]52;c;aGk=\x07 \x1b[2Jcleared")
