"""The TUI's debugging keys in a real terminal: `E` opens the editor at the failing line, `D`
hands the terminal to pdb standing in the failed step, and the app comes back as it was."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

from tests.e2e.test_tmux import Terminal, pytestmark  # noqa: F401 - skipped without tmux

FLOW = """
from flowtui import FlowSpec, step

class OopsFlow(FlowSpec):
    @step
    def start(self):
        self.limit = 3
        self.next(self.crunch)

    @step
    def crunch(self):
        values = list(range(self.limit))
        self.picked = values[self.limit]
        self.next(self.end)

    @step
    def end(self):
        pass
"""
FAILING_LINE = 13


def _wait_for_file(path: Path, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.1)
    raise AssertionError(f"{path} was never written")


def test_shift_e_opens_the_editor_at_the_failing_line_and_d_debugs_the_task(tmp_path: Path) -> None:
    (tmp_path / "oops.py").write_text(textwrap.dedent(FLOW))
    assert textwrap.dedent(FLOW).splitlines()[FAILING_LINE - 1].strip().startswith("self.picked")
    editor = tmp_path / "fake-editor"
    editor.write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/editor-args"\n')
    editor.chmod(0o755)
    command = [
        "env",
        f"EDITOR={editor}",
        "VISUAL=",
        sys.executable,
        "-m",
        "flowtui",
        "oops.py",
        "--store",
        "store",
    ]
    term = Terminal(command, tmp_path)
    try:
        term.wait_for("Quit")
        term.send("r")
        term.wait_for("IndexError")  # the run failed; its failed step is selected
        term.send("e")
        assert _wait_for_file(tmp_path / "editor-args") == f"+{FAILING_LINE} oops.py"
        term.wait_for("OopsFlow")  # the app came back, redrawn
        term.send("D")
        screen = term.wait_for("(Pdb)")
        assert "-> self.picked = values[self.limit]" in screen
        term.send("p self.limit, values", "Enter")
        term.wait_for("(3, [0, 1, 2])")
        term.send("q", "Enter")
        term.wait_for("Press Enter to return to flowtui")
        term.send("Enter")
        term.wait_for("OopsFlow")  # back as it was: header, DAG and the failure
        term.wait_for("crunch")
        term.wait_for("IndexError")
    finally:
        term.close()


def test_ctrl_c_in_the_debugger_leaves_the_app_running(tmp_path: Path) -> None:
    """Ctrl-C in pdb (to stop a slow line) reached the suspended app too: asyncio took it as
    the app's own Ctrl-C, and back from the debugger the app quit with no word."""
    (tmp_path / "oops.py").write_text(textwrap.dedent(FLOW))
    app = f"{sys.executable} -m flowtui oops.py --store store"
    term = Terminal(["sh", "-c", f"trap : INT; {app}; echo flowtui-exited"], tmp_path)
    try:
        term.wait_for("Quit")
        term.send("r")
        term.wait_for("IndexError")
        term.send("D")
        term.wait_for("(Pdb)")
        term.send("C-c")
        term.wait_for("KeyboardInterrupt")  # pdb had it, and still stands in the frame:
        term.send("p self.limit", "Enter")
        term.wait_for("\n3\n")
        term.send("q", "Enter")
        term.wait_for("Press Enter to return to flowtui")
        term.send("Enter")
        screen = term.wait_for("palette|flowtui-exited", pattern=True)  # the footer, or gone
        assert "flowtui-exited" not in screen and "IndexError" in screen  # back as it was
        term.send("D")  # again (the terminal still shows the first time's lines)
        twice = r"(?s)the debugger stands where.*the debugger stands where"
        term.wait_for(twice + r".*\(Pdb\)", pattern=True)
        term.send("q", "Enter")
        term.wait_for(twice + r".*Press Enter to return to flowtui", pattern=True)
        term.send("C-c")  # this time Ctrl-C at the last question returns too
        screen = term.wait_for("palette|flowtui-exited", pattern=True)
        assert "flowtui-exited" not in screen
        term.send("?")  # and still answering keys
        screen = term.wait_for("flowtui — keys|flowtui-exited", pattern=True)
        assert "flowtui-exited" not in screen
    finally:
        term.close()


WIDE = """
import os, time
from flowtui import FlowSpec, step

class WideFlow(FlowSpec):
    @step
    def start(self):
        while not os.path.exists("editor-open"):  # the run's bulk happens while it is open
            time.sleep(0.05)
        self.items = list(range(100))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.middle)

    @step
    def middle(self):
        self.items = list(range(100))
        self.next(self.body2, foreach="items")

    @step
    def body2(self):
        self.next(self.join2)

    @step
    def join2(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
"""

# An editor that stays open until the run has succeeded (or 120 s), and says which.
WAITING_EDITOR = """#!/bin/sh
cd "$(dirname "$0")"
touch editor-open
i=0
while [ $i -lt 1200 ]; do
    if "$PYTHON" -m flowtui runs wide.py --store store | grep -q succeeded; then
        echo finished > editor-saw; exit 0
    fi
    sleep 0.1; i=$((i + 1))
done
echo stalled > editor-saw
"""


def test_a_run_goes_on_while_the_editor_has_the_terminal(tmp_path: Path) -> None:
    """While `e` (or `D`) had the terminal the app read none of the runner's events: after
    about 130 tasks its pipe was full, and the runner, writing to it, stood still, with the
    whole run, until the editor was closed."""
    (tmp_path / "wide.py").write_text(textwrap.dedent(WIDE))
    editor = tmp_path / "waiting-editor"
    editor.write_text(WAITING_EDITOR)
    editor.chmod(0o755)
    app = [sys.executable, "-m", "flowtui", "wide.py", "--store", "store"]
    command = ["env", f"EDITOR={editor}", "VISUAL=", f"PYTHON={sys.executable}", *app]
    term = Terminal(command, tmp_path)
    try:
        term.wait_for("Quit")
        term.send("r")
        term.wait_for("● running")
        term.send("e")
        assert _wait_for_file(tmp_path / "editor-saw", timeout=180) == "finished"
        term.wait_for(r"run 1 +✔ succeeded", pattern=True)  # and the app, back, read it all
    finally:
        term.close()
