"""A Ray task's CPU and memory, sampled on its worker, reach the runner as a local task's do:
live `task_usage` events (the TUI's task detail) and the attempt's stored peak.

The step holds 200 MB until the test creates a file, so a live sample is taken while the memory
is surely held (no fixed sleeps); the same flow as the local executor's test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import RayFlows

from flowtui.client import Task, default_metadata, default_namespace, metadata

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
        deadline = time.time() + 300
        while not os.path.exists(os.environ["HOLD_GATE"]) and time.time() < deadline:
            time.sleep(0.02)
        self.held = len(block)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_a_ray_task_holding_200_mb_reports_it_live_and_stores_its_peak(
    ray_flows: RayFlows,
) -> None:
    ray_flows.write("hold.py", HOLDS)
    gate = ray_flows.root / "gate"
    proc = ray_flows.start("run", "hold.py", "--events", env={"HOLD_GATE": str(gate)})
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
        assert proc.wait(timeout=300) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        gate.touch()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert live is not None, "no task_usage event showed the 200 MB the Ray task held"
    assert live["step"] == "hold" and live["cpu"] >= 0 and live["cpu_time"] >= 0
    finished = next(e for e in rest if e["event"] == "task_finished" and e["step"] == "hold")
    assert finished["peak_rss"] >= 200 * MB

    metadata(str(ray_flows.store_path))
    default_namespace()
    try:
        hold = Task(live["pathspec"])
        assert hold.metadata_dict["executor"] == "ray"
        assert hold.peak_memory is not None and hold.peak_memory >= 200 * MB
        assert hold.cpu_time is not None and hold.cpu_time > 0
        # the peak is the attempt's own: a step that holds nothing (in a worker that may be the
        # same, reused) has a peak about 200 MB lower
        ended = next(e for e in rest if e["event"] == "task_finished" and e["step"] == "end")
        end = Task(ended["pathspec"])
        assert end.peak_memory is not None and end.peak_memory > 0
        assert hold.peak_memory - end.peak_memory >= 150 * MB
    finally:
        default_metadata()
        default_namespace()
