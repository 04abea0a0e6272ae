"""The task detail shows a running task's CPU and memory, live, and its peak once it ended:
a real run of a step that holds 200 MB until the test creates a file (no fixed sleeps)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from flowtui.tui.app import FlowtuiApp
from flowtui.tui.widgets.task_detail import TaskHeader
from tests.engine.test_task_usage import HOLDS  # the same 200 MB step, held on a file
from tests.tui.waiting import wait_until

SIZE = (120, 40)


def header(app: FlowtuiApp) -> str:
    return "  ".join(field.plain for field in app.query_one(TaskHeader).fields)


def megabytes(text: str, after: str) -> float:
    """The size written after `after` in the header, in MB (`mem 212.4 MB` -> 212.4)."""
    value, unit = text.split(after, 1)[1].split()[:2]
    return float(value) * {"MB": 1, "GB": 1024}[unit]


async def run_the_hold_step(pilot: Pilot[None], app: FlowtuiApp, gate: Path) -> None:
    """Press `r`; while the hold step holds its 200 MB, its header shows them live with its
    CPU %; once the gate opens and the run ends, the header shows the stored peak."""
    await pilot.press("r")
    await wait_until(
        pilot,
        lambda: app.run_state is not None and bool(app.run_state.step_tasks("hold")),
        "the hold task to start",
    )
    app.dag.select("hold")
    await wait_until(
        pilot,
        lambda: "mem " in header(app) and megabytes(header(app), "mem ") >= 200,
        "the task's 200 MB in its header",
    )
    assert "CPU " in header(app) and "%" in header(app)
    gate.touch()
    await wait_until(
        pilot,
        lambda: app.run_state is not None and app.run_state.status.done,
        "the run to end",
    )
    app.dag.select("hold")
    await wait_until(pilot, lambda: "peak mem" in header(app), "the stored peak")
    assert megabytes(header(app), "peak mem ") >= 200


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="usage is read from /proc")
async def test_task_detail_shows_live_memory_then_the_stored_peak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "hold.py"
    path.write_text(HOLDS)
    gate = tmp_path / "gate"
    monkeypatch.setenv("HOLD_GATE", str(gate))  # the runner the app starts inherits it
    app = FlowtuiApp(path, store=tmp_path / "store")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await run_the_hold_step(pilot, app, gate)
            assert "%" not in header(app)  # no live figure for a task that has ended
    finally:
        gate.touch()
