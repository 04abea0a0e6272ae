"""A Ray task's CPU and memory, sampled on its worker, reach the runner as a local task's do:
live `task_usage` events (the TUI's task detail) and the attempt's stored peak.

The step holds 200 MB until the test creates a file, so a live sample is taken while the memory
is surely held (no fixed sleeps); the same flow as the local executor's tests; and the TUI's task
detail shows it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import RayFlows

from flowtui.client import Task, default_metadata, default_namespace, metadata
from flowtui.tui.app import FlowtuiApp
from tests.engine.test_task_usage import (  # the local executor's 200 MB step, held on a file
    HOLDS,
    events_while_held,
)

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="usage is read from Linux's /proc"
)

MB = 1024 * 1024


def test_a_ray_task_holding_200_mb_reports_it_live_and_stores_its_peak(
    ray_flows: RayFlows,
) -> None:
    ray_flows.write("hold.py", HOLDS)
    gate = ray_flows.root / "gate"
    proc = ray_flows.start("run", "hold.py", "--events", env={"HOLD_GATE": str(gate)})
    live, rest = events_while_held(proc, gate, timeout=300)
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


async def test_the_task_detail_shows_a_ray_tasks_live_memory_then_its_peak(
    ray_flows: RayFlows, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.tui.test_usage_in_detail import SIZE, run_the_hold_step

    path = ray_flows.write("hold.py", HOLDS)
    gate = ray_flows.root / "gate"
    monkeypatch.setenv("HOLD_GATE", str(gate))  # the runner the app starts inherits it
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    app = FlowtuiApp(
        path, store=ray_flows.store_path, executor="ray", ray_address=ray_flows.cluster.address
    )

    try:
        async with app.run_test(size=SIZE) as pilot:
            await run_the_hold_step(pilot, app, gate)
    finally:
        gate.touch()
