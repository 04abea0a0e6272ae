"""`flowtui debug` in a real terminal: pdb's prompt at the failing line, artifacts printable."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.e2e.test_tmux import Terminal, pytestmark  # noqa: F401 - skipped without tmux

FLOW = """
from flowtui import FlowSpec, step

class BrokenFlow(FlowSpec):
    @step
    def start(self):
        self.threshold = 41
        self.next(self.check)

    @step
    def check(self):
        self.total = self.threshold + 1
        assert self.total < self.threshold, "total over threshold"
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_debug_opens_pdb_at_the_failing_line_and_prints_stored_artifacts(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text(textwrap.dedent(FLOW))
    store = tmp_path / "store"
    env = {**os.environ, "FLOWTUI_STORE": str(store)}
    ran = subprocess.run(
        [sys.executable, "-m", "flowtui", "run", "broken.py", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert ran.returncode == 1
    term = Terminal(
        [sys.executable, "-m", "flowtui", "debug", "1/check", "--store", str(store)], tmp_path
    )
    try:
        screen = term.wait_for("(Pdb)")
        assert "AssertionError: total over threshold" in screen
        assert '-> assert self.total < self.threshold, "total over threshold"' in screen
        term.send("p self.threshold * 100", "Enter")
        term.wait_for("4100")
        term.send("q", "Enter")
        screen = term.wait_for("Nothing was stored")
        assert "The step raised AssertionError" in screen
    finally:
        term.close()
