"""`flowtui FILE`: the path to the TUI's first frame skips the CLI framework, and says what is
wrong with a bad path in one sentence, as every other command does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flowtui.store import Store
from flowtui.tui.settings import CONFIG_ENV

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def flowtui(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowtui", *args], cwd=cwd, capture_output=True, text=True
    )


#: What `flowtui FILE` has loaded when its first frame draws the DAG: `flowtui.entry.main`
#: runs the real app (headless, in a child process) and the DAG's first line holding the start
#: step's box lists `sys.modules`.
FIRST_FRAME_PROBE = """
import asyncio, sys
from flowtui import entry
from flowtui.tui.app import FlowtuiApp
from flowtui.tui.widgets.dag import DagView

loaded = []
settled = []
render_line = DagView.render_line

def probe(view, y):
    strip = render_line(view, y)
    if not loaded and "start" in strip.text:
        loaded.extend(sys.modules)
    return strip

async def until_drawn(pilot):
    while not loaded:
        await asyncio.sleep(0.01)
    from textual.widgets._footer import FooterKey
    # the footer has asked which keys can be used now (`a` for the artifacts among them)
    while not any(key.action == "artifacts" for key in pilot.app.query(FooterKey)):
        await asyncio.sleep(0.01)
    settled.extend(sys.modules)
    pilot.app.exit()

DagView.render_line = probe
entry.without_terminal = lambda: None  # headless here: no terminal is needed
run = FlowtuiApp.run
FlowtuiApp.run = lambda app: run(app, headless=True, size=(120, 40), auto_pilot=until_drawn)
entry.main(sys.argv[1:])
print(" ".join(loaded))
print(" ".join(settled))
"""

#: Nothing the first frame draws needs these: the CLI framework (and the pydantic it brings),
#: the engine, the authoring API, the client and the store behind it (read by a worker once the
#: frame is up), a run's state and events (with the first run), Metaflow, the libraries
#: previews draw with, the task detail's logs (no task is selected yet: their tabs and log
#: views are made when one is shown) and the timeline (made by the first `T`).
NOT_BEFORE_THE_FIRST_FRAME = (
    "typer",
    "pydantic",
    "click",
    "flowtui.cli",
    "flowtui.engine",
    "flowtui.flow.spec",
    "flowtui.flow.decorators",
    "flowtui.flow.parameters",
    "flowtui.flow.cards",
    "flowtui.compat",
    "flowtui.store",
    "flowtui.client",
    "flowtui.run.state",
    "flowtui.run.events",
    "flowtui.run.plan",
    "flowtui.run.changes",
    "flowtui.tui.widgets.logs",
    "flowtui.tui.widgets.loglines",
    "flowtui.tui.logfile",
    "textual.widgets._tabbed_content",
    "flowtui.tui.widgets.timeline",
    "cloudpickle",
    "sqlite3",
    "metaflow",
    "numpy",
    "pandas",
    "plotext",
    "PIL",
)


def test_the_first_frame_loads_only_what_it_draws(tmp_path: Path) -> None:
    flow = tmp_path / "branch_join.py"
    flow.write_text((EXAMPLES / "branch_join.py").read_text())
    store = tmp_path / "store"
    Store(store).close()  # a real store the app reads (after the first frame)
    done = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME_PROBE, str(flow), "--store", str(store)],
        cwd=tmp_path,
        env={**os.environ, CONFIG_ENV: str(tmp_path / "tui.json")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    at_frame, settled = (line.split() for line in done.stdout.splitlines()[-2:])
    assert "flowtui.tui.app" in at_frame  # the probe saw the app's first frame
    early = sorted(
        name
        for name in at_frame
        if any(name == gone or name.startswith(f"{gone}.") for gone in NOT_BEFORE_THE_FIRST_FRAME)
    )
    assert early == []
    # The footer asks which keys can be used on every refresh; answering must not import the
    # screens those keys open (the artifacts screen and the client behind it, ~25 ms).
    assert [name for name in settled if name.startswith("flowtui.tui.screens")] == []


def test_a_missing_flow_file_is_one_sentence_and_exit_code_2(tmp_path: Path) -> None:
    done = flowtui("nothere.py", "--store", str(tmp_path / "store"), cwd=tmp_path)
    assert done.returncode == 2
    assert "nothere.py does not exist; check the path of the flow file." in done.stderr
    assert "Traceback" not in done.stderr


def test_other_command_lines_still_reach_the_cli(tmp_path: Path) -> None:
    help_text = flowtui("hello.py", "--help", cwd=tmp_path)
    assert help_text.returncode == 0
    assert "Open the TUI on FILE" in help_text.stdout
    unknown = flowtui("hello.py", "--bogus", "1", cwd=tmp_path)
    assert unknown.returncode == 2
    assert "--bogus" in unknown.stderr


def test_a_flow_file_still_imports_the_authoring_api_from_flowtui() -> None:
    probe = "from flowtui import FlowSpec, step, current; print(FlowSpec.__name__, callable(step))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.split() == ["FlowSpec", "True"]


def test_without_a_terminal_the_tui_says_so_and_runs_nothing(tmp_path: Path) -> None:
    """`flowtui FILE < /dev/null` read no key and spun the CPU; `flowtui FILE 2>&1 | head`
    drew escape codes into the pipe and spun for minutes until killed. Both paths to the TUI
    now say in one sentence that it needs a terminal (stdin and stderr), and exit 2."""
    for args in ([str(EXAMPLES / "hello.py")], ["open", str(EXAMPLES / "hello.py")]):
        result = subprocess.run(
            [sys.executable, "-m", "flowtui", *args],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2, result.stderr
        said = " ".join(result.stderr.split())
        assert "draws in a terminal, and its input is not one" in said
        assert "flowtui run FILE" in said and "Traceback" not in said
        assert "\x1b" not in result.stdout + result.stderr  # nothing was drawn


def test_ctrl_c_before_a_command_has_started_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """Ctrl-C in the first tenth of a second of any command (while the CLI framework was
    importing) printed a KeyboardInterrupt traceback. The interrupt is raised here at that
    moment by the process's own SIGINT, as a terminal's Ctrl-C raises it."""
    script = (
        "import os, signal, flowtui.cli\n"
        "flowtui.cli.main = lambda args: os.kill(os.getpid(), signal.SIGINT)\n"
        "from flowtui import entry\n"
        "entry.main(['run', 'flow.py'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 130
    assert result.stderr.strip() == "flowtui: stopped (Ctrl-C)."
