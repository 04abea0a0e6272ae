"""Each running task's CPU and memory, read from the OS, live in the event stream; each
attempt's peak stored with the task's metadata and read back through the client.

A step allocates 200 MB and holds it until the test creates a file, so the live sample is
taken while the memory is surely held (no fixed sleeps)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flowtui.client import Task, default_metadata, default_namespace, metadata
from flowtui.client.runs import RunReader

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="usage is read from Linux's /proc"
)

MB = 1024 * 1024
HOLDS = """
import os
import time

from flowtui import FlowSpec, step


class HoldFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.hold)

    @step
    def hold(self):
        block = bytearray(200 * 1024 * 1024)
        for i in range(0, len(block), 4096):  # touch every page: resident, not just reserved
            block[i] = 1
        deadline = time.time() + 120
        while not os.path.exists(os.environ["HOLD_GATE"]) and time.time() < deadline:
            time.sleep(0.02)
        self.held = len(block)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    HoldFlow()
"""


def events_while_held(
    proc: subprocess.Popen[str], gate: Path, timeout: float
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """From a `--events` run of HOLDS: the first `task_usage` event showing the 200 MB held
    (None if none came), then, the gate opened, the rest of the run's events. The run must
    succeed; it is never left running."""
    assert proc.stdout is not None
    live = None
    try:
        for line in proc.stdout:  # the task holds its memory until the gate appears
            event = json.loads(line)
            if event["event"] == "task_usage" and event["rss"] >= 200 * MB:
                live = event
                break
        gate.touch()
        rest = [json.loads(line) for line in proc.stdout]
        assert proc.wait(timeout=timeout) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        gate.touch()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return live, rest


def test_a_task_holding_200_mb_reports_it_live_and_stores_its_peak(tmp_path: Path) -> None:
    (tmp_path / "hold.py").write_text(HOLDS)
    gate = tmp_path / "gate"
    store = tmp_path / "store"
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowtui", "run", "hold.py", "--events"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "FLOWTUI_STORE": str(store), "HOLD_GATE": str(gate)},
    )
    live, rest = events_while_held(proc, gate, timeout=60)
    assert live is not None, "no task_usage event showed the 200 MB the task held"
    assert live["cpu"] >= 0 and live["cpu_time"] >= 0
    finished = next(e for e in rest if e["event"] == "task_finished" and e["step"] == "hold")
    assert finished["peak_rss"] >= 200 * MB

    metadata(str(store))
    default_namespace()
    try:
        task = Task(live["pathspec"])
        assert task.peak_memory is not None and task.peak_memory >= 200 * MB
        assert task.cpu_time is not None and task.cpu_time > 0
        assert int(task.metadata_dict["peak-rss"]) == task.peak_memory
        # A task that ran for a blink has a peak too (the kernel's account of it).
        run_id = live["pathspec"].split("/")[1]
        # A run opened later (run history) shows the same peak: read back from the store.
        later = RunReader(store).run_state(run_id)
        assert later is not None
        peak = later.tasks[live["pathspec"]].peak
        assert peak is not None and peak.rss == task.peak_memory
        quick = Task(f"HoldFlow/{run_id}/start/1")  # the store's first task
        assert quick.peak_memory is not None and quick.peak_memory > 0
    finally:
        default_metadata()
        default_namespace()


def test_the_run_summary_names_the_task_with_the_most_memory(tmp_path: Path) -> None:
    (tmp_path / "hold.py").write_text(HOLDS)
    gate = tmp_path / "gate"
    gate.touch()  # no need to hold: the peak is the kernel's, at the task's exit
    ran = subprocess.run(
        [sys.executable, "-m", "flowtui", "run", "hold.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FLOWTUI_STORE": str(tmp_path / "store"), "HOLD_GATE": str(gate)},
    )
    assert ran.returncode == 0, ran.stderr
    summary = ran.stdout.strip().splitlines()[-1]
    assert "succeeded" in summary
    peak = summary.split("peak memory ")[1]  # `2xx.x MB in hold/2)`
    assert peak.split(" MB")[0].startswith("2") and " MB in hold/" in peak
