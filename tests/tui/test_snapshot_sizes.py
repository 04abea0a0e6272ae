"""The main states at the three sizes people use: 80x24, 120x40 and 220x60.

Idle, running, failed, the resume plan, the timeline, and artifacts with a chart and a picture. Run
states come from a fixed event stream (see test_snapshots.py), so the pictures do not depend
on timing. Review a changed snapshot before accepting it (`pytest --snapshot-update`, then
look at snapshot_report.html, or convert the SVGs with rsvg-convert and look at them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from textual.pilot import Pilot

from flowtui.run.plan import ResumePlan, StepPlan
from flowtui.tui.app import FlowtuiApp
from flowtui.tui.screens.artifacts import ArtifactsScreen
from tests.tui.test_artifact_visuals import make_task
from tests.tui.test_artifacts import ArtifactsApp
from tests.tui.test_snapshots import T0, failed_run, feed, logs_shown

SIZES = [(80, 24), (120, 40), (220, 60)]
#: The app's clock, fixed: elapsed times read the same on any machine.
CLOCK = lambda: T0 + 30  # noqa: E731
SnapCompare = Callable[..., bool]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_idle(snap_compare: SnapCompare, here: Callable[[str], str], size: Any) -> None:
    app = FlowtuiApp(here("branch_join.py"), store="store", follow=False, clock=CLOCK)
    assert snap_compare(app, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_running(snap_compare: SnapCompare, here: Callable[[str], str], size: Any) -> None:
    app = FlowtuiApp(here("branch_join.py"), store="store", follow=False, clock=CLOCK)

    async def run_halfway(pilot: Pilot[None]) -> None:
        assert app.graph is not None
        steps = [s.name for s in app.graph]
        progress = [(steps[0], "succeeded")] + [(s, "running") for s in steps[1:-2]]
        feed(app, app.graph.flow_name, progress, None, T0)
        await pilot.pause()
        await logs_shown(pilot, app)

    assert snap_compare(app, terminal_size=size, run_before=run_halfway)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_failed(snap_compare: SnapCompare, here: Callable[[str], str], size: Any) -> None:
    app = FlowtuiApp(here("flaky.py"), store="store", follow=False, clock=CLOCK)
    assert snap_compare(app, terminal_size=size, run_before=failed_run(app))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_plan(snap_compare: SnapCompare, here: Callable[[str], str], size: Any) -> None:
    app = FlowtuiApp(here("flaky.py"), store="store", follow=False, clock=CLOCK)

    async def plan(pilot: Pilot[None]) -> None:
        await failed_run(app)(pilot)
        steps = [StepPlan(s, "clone", 1, 1) for s in ("start", "prepare")]
        steps += [StepPlan("train", "rerun", 0, 1), StepPlan("end", "rerun", 0, 0)]
        app.push_screen(app.draw_resume_plan(ResumePlan("1", "train", tuple(steps))))
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=plan)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_timeline(snap_compare: SnapCompare, here: Callable[[str], str], size: Any) -> None:
    app = FlowtuiApp(here("flaky.py"), store="store", follow=False, clock=CLOCK)

    async def timeline(pilot: Pilot[None]) -> None:
        await failed_run(app)(pilot)
        await pilot.press("T")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=timeline)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    y, x = np.mgrid[0:48, 0:64]
    photo = np.zeros((48, 64, 3), dtype=np.uint8)
    photo[..., 0] = (x * 4).astype(np.uint8)
    photo[..., 1] = (y * 5).astype(np.uint8)
    photo[..., 2] = 160
    values = {
        "losses": [round(2.0 / (1 + 0.1 * i), 4) for i in range(120)],
        "photo": photo,
    }
    return make_task(tmp_path_factory.mktemp("pictures"), values)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("row", [0, 1], ids=["chart", "picture"])
def test_artifacts(
    snap_compare: SnapCompare, pictures: tuple[str, str], size: Any, row: int
) -> None:
    store, pathspec = pictures
    app = ArtifactsApp(store, pathspec)

    async def loaded(pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, ArtifactsScreen)
        deadline = time.monotonic() + 60
        while len(screen.artifacts) < 2 and time.monotonic() < deadline:
            await pilot.pause(0.05)
        screen.query_one("#artifact-list").move_cursor(row=row)  # type: ignore[attr-defined]
        name = screen.artifacts[row].name
        while not (screen.previewing == name and screen.preview is not None):
            assert time.monotonic() < deadline, "the preview never came"
            await pilot.pause(0.05)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=loaded)
