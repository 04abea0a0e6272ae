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
