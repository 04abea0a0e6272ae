"""A run runs the flow file's text as it was checked when the run started, in every task,
however the file is edited while the run goes on (the start method does not matter)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.engine.conftest import FlowDir
from tests.gate import wait_for

EDITED_FLOW = """
import os, time
from flowtui import FlowSpec, step

VERSION = {version}


class EditedFlow(FlowSpec):
    @step
    def start(self):
        self.seen = VERSION
        self.next(self.wait)

    @step
    def wait(self):
        self.seen = VERSION
        open({started!r}, "w").close()
        while not os.path.exists({go!r}):
            time.sleep(0.02)
        self.next(self.after)

    @step
    def after(self):
        self.seen = VERSION
        self.next(self.end)

    @step
    def end(self):
        self.seen = VERSION
"""


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_a_flow_edited_mid_run_runs_the_text_the_run_checked_in_every_task(
    flows: FlowDir, method: str
) -> None:
    started, go = flows.root / "started", flows.root / "go"

    def text(version: int) -> str:
        flow = EDITED_FLOW.format(version=version, started=str(started), go=str(go))
        return textwrap.dedent(flow)

    path: Path = flows.root / "edited.py"
    path.write_text(text(1))
    runner = subprocess.Popen(
        [sys.executable, "-m", "flowtui", "run", str(path), "-q"],
        cwd=flows.root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={
            **os.environ,
            "FLOWTUI_STORE": str(flows.store_path),
            "FLOWTUI_START_METHOD": method,
        },
    )
    try:
        wait_for(lambda: started.exists() or runner.poll() is not None, "the wait step to start")
        path.write_text(text(2))  # saved while `wait` runs: `after` and `end` are still to start
        go.touch()
        output, _ = runner.communicate(timeout=600)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    assert runner.returncode == 0, output
    tasks = flows.tasks("EditedFlow")
    seen = {step: flows.artifact(found[0], "seen") for step, found in tasks.items()}
    assert seen == {"start": 1, "wait": 1, "after": 1, "end": 1}
    assert flows.store.meta.run_source(flows.latest_run("EditedFlow").run_id) == text(1)
