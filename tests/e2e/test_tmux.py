"""`flowtui examples/…` in a real terminal: tmux starts it, keys are typed, the screen is read."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"
)


class Terminal:
    """A detached 120x40 tmux session running one command."""

    def __init__(self, command: list[str], cwd: Path) -> None:
        self.name = f"flowtui-e2e-{uuid.uuid4().hex[:8]}"
        self.tmux = ["tmux", "-L", self.name]
        self.cwd = cwd
        shell_command = " ".join(_quote(part) for part in command)
        # Each terminal has its own tmux server (-L): tests never share a server that may be
        # exiting just as another test connects, and never touch the user's own tmux.
        session = [*self.tmux, "new-session", "-d", "-s", self.name, "-x", "120", "-y", "40"]
        # COLUMNS/LINES: the app sizes itself from them even before tmux says the size.
        size = ["COLUMNS=120", "LINES=40"]
        # The shell survives a Ctrl-C typed to the program (as an interactive one does): it
        # is in the terminal's foreground group too, and dying it would close the pane.
        script = f"trap : INT; {shell_command}; sleep 30"
        program = ["env", "TERM=xterm-256color", *size, "sh", "-c", script]
        subprocess.run([*session, "-c", str(cwd), *program], check=True)

    def screen(self) -> str:
        result = subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        )
        return result.stdout

    def send(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, *keys], check=True)

    def wait_for(self, text: str, timeout: float = 120.0, *, pattern: bool = False) -> str:
        """The screen once it shows `text` (a regular expression when `pattern`)."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if re.search(text, screen) if pattern else text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared on screen; last screen:\n{screen}")

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


def _quote(part: str) -> str:
    return "'" + part.replace("'", "'\\''") + "'"


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    shutil.copy(EXAMPLES / "hello.py", tmp_path / "hello.py")
    store = tmp_path / "store"
    term = Terminal(
        [sys.executable, "-m", "flowtui", "hello.py", "--store", str(store)], cwd=tmp_path
    )
    try:
        yield term
    finally:
        term.close()


def test_the_dag_is_drawn_and_q_quits(terminal: Terminal) -> None:
    screen = terminal.wait_for("Quit")  # the footer, drawn last
    assert "┌" in screen and "start" in screen and "shout" in screen and "end" in screen
    assert "HelloFlow" in screen
    terminal.send("q")
    deadline = time.monotonic() + 10
    while "┌" in terminal.screen() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "┌" not in terminal.screen()


def test_r_runs_the_flow_to_success(terminal: Terminal) -> None:
    terminal.wait_for("Quit")
    terminal.send("r")
    terminal.wait_for("Run HelloFlow with parameters")
    terminal.send("Enter")
    screen = terminal.wait_for(r"run 1 +✔ succeeded", pattern=True)  # the header
    assert "✔ done" in screen


def test_fail_edit_save_resume_succeeds(tmp_path: Path) -> None:
    """The loop of the issue: a step fails, the file is fixed elsewhere, R resumes it."""
    flow = tmp_path / "flaky.py"
    shutil.copy(EXAMPLES / "flaky.py", flow)
    command = [sys.executable, "-m", "flowtui", "flaky.py", "--store", str(tmp_path / "store")]
    term = Terminal(["env", "-u", "FLOWTUI_FIX", *command], cwd=tmp_path)
    try:
        term.wait_for("Quit")
        term.send("r")
        screen = term.wait_for("RuntimeError")  # the failure panel, drawn last
        assert "✖ failed" in screen
        source = flow.read_text()
        fixed = source.replace('os.environ.get("FLOWTUI_FIX") != "1"', "False")
        assert fixed != source
        flow.write_text(fixed)  # saved from another editor; the resume runs the file as it is now
        term.send("R")
        screen = term.wait_for("Resume run")
        assert "≡ clone" in screen and "↻ rerun" in screen
        term.send("y")
        screen = term.wait_for(r"\(resumed from 1\) +✔ succeeded", pattern=True)
        assert "≡ cloned" in screen and "resumed from 1" in screen
    finally:
        term.close()
