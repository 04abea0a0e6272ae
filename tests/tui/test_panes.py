"""The panes at every terminal size: stacked when narrow, a movable split, zoom, `/` anywhere."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Footer, Input

from flowtui.tui.app import FlowtuiApp
from flowtui.tui.widgets.dag import DagView
from flowtui.tui.widgets.header import RunHeader
from flowtui.tui.widgets.logs import LogLines, LogView
from flowtui.tui.widgets.task_detail import TaskDetail
from flowtui.tui.widgets.tasks import TaskList
from tests.tui.conftest import EXAMPLES
from tests.tui.test_snapshots import T0, feed
from tests.tui.waiting import wait_until

FAILED = [("start", "succeeded"), ("prepare", "succeeded"), ("train", "failed")]


@pytest.fixture
def flaky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLOWTUI_STORE", raising=False)
    shutil.copy(EXAMPLES / "flaky.py", tmp_path / "flaky.py")
    return "flaky.py"


async def logs_laid_out(pilot: Pilot[None], app: FlowtuiApp) -> None:
    """Wait for the selected task's logs (mounted when a task is first shown) on screen."""
    detail = app.query_one(TaskDetail)
    await wait_until(pilot, lambda: detail.logs_up and detail.shown_log.region.height > 0)


def inside(inner: Region, outer: Region) -> bool:
    return outer.contains_region(inner)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_nothing_is_cut_and_the_paused_mark_is_on_screen(
    flaky: str, size: tuple[int, int]
) -> None:
    app = FlowtuiApp(flaky, store="store", follow=False)
    async with app.run_test(size=size) as pilot:
        feed(app, "FlakyFlow", FAILED, "failed", T0)
        await pilot.pause(0.3)
        await logs_laid_out(pilot, app)
        screen = app.screen.region
        footer = app.query_one(Footer).region
        log = app.query_one(TaskDetail).shown_log
        # the log's border, where "paused · End to follow" is written, sits above the footer
        assert log.region.height >= 3 and log.region.bottom <= footer.y
        for widget in (app.dag, app.query_one(TaskList), log, app.query_one(RunHeader)):
            assert inside(widget.region, screen), widget
        log.lines.follow = False
        await pilot.pause()
        assert log.border_subtitle == "paused · End to follow"
        assert "-stacked" in app.query_one("#main").classes or size[0] >= 100


async def test_a_narrow_terminal_stacks_the_panes_and_the_header_wraps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "a_rather_long_project_folder_name" / "pipelines"
    folder.mkdir(parents=True)
    shutil.copy(EXAMPLES / "flaky.py", folder / "flaky.py")
    app = FlowtuiApp(folder.relative_to(tmp_path) / "flaky.py", store="store", follow=False)
    async with app.run_test(size=(80, 24)) as pilot:
        feed(app, "FlakyFlow", FAILED, "failed", T0)
        await pilot.pause(0.3)
        await logs_laid_out(pilot, app)
        left, detail = app.query_one("#left").region, app.query_one("#detail").region
        assert detail.y >= left.bottom and detail.width >= 76  # below the DAG, full width
        header = app.query_one(RunHeader)
        shown = "\n".join(header.render_line(y).text for y in range(header.region.height))
        assert header.region.height == 2
        for piece in ("FlakyFlow", "pipelines/flaky.py", "run 1", "failed", "✔ 2", "✖ 1"):
            assert piece in shown
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        left, detail = app.query_one("#left").region, app.query_one("#detail").region
        assert detail.x >= left.right and detail.y == left.y  # side by side again


async def test_z_zooms_the_focused_pane_and_z_again_restores(flaky: str) -> None:
    app = FlowtuiApp(flaky, store="store", follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        feed(app, "FlakyFlow", FAILED, "failed", T0)
        await pilot.pause(0.3)
        await logs_laid_out(pilot, app)
        main = app.query_one("#main").region
        await pilot.press("z")  # the DAG has the focus
        await pilot.pause()
        assert not app.query_one("#detail").display
        assert app.dag.region.width == main.width
        await pilot.press("z")
        await pilot.pause()
        assert app.query_one("#detail").display and app.dag.region.width < main.width
        app.query_one(TaskDetail).shown_log.lines.focus()
        await pilot.press("z")  # the log has the focus: only the log (and its task) remain
        await pilot.pause()
        assert not app.query_one("#left").display and not app.query_one(TaskList).display
        log = app.query_one(TaskDetail).shown_log
        assert log.region.width >= main.width - 2 and log.region.height >= 30
        await pilot.press("escape")
        await pilot.pause()
        assert app.query_one("#left").display and app.query_one(TaskList).display


async def test_the_split_moves_with_angle_brackets(flaky: str) -> None:
    app = FlowtuiApp(flaky, store="store", follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        before = app.query_one("#left").region.width
        await pilot.press("less_than_sign", "less_than_sign")
        await pilot.pause()
        narrower = app.query_one("#left").region.width
        assert narrower < before - 10
        for _ in range(10):  # the DAG never grows past its bound
            await pilot.press("greater_than_sign")
        await pilot.pause()
        assert before < app.query_one("#left").region.width < 120 - 20


async def test_slash_searches_the_log_from_anywhere(flaky: str) -> None:
    app = FlowtuiApp(flaky, store="store", follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        feed(app, "FlakyFlow", FAILED, "failed", T0)
        await pilot.pause(0.3)
        await logs_laid_out(pilot, app)
        assert isinstance(app.focused, DagView)
        await pilot.press("slash")
        await pilot.pause()
        search = app.query_one(TaskDetail).shown_log.query_one("#search", Input)
        assert search.has_focus
        await pilot.press(*"hello", "enter")
        log = app.query_one(TaskDetail).shown_log
        lines = log.query_one(LogLines)

        await wait_until(pilot, lambda: lines.current_match == 0, "the search's first match")
        assert isinstance(app.focused, LogLines) and isinstance(app.focused.parent, LogView)


@pytest.mark.parametrize("width", [100, 110, 120])
async def test_the_task_list_s_columns_fit_beside_the_dag(flaky: str, width: int) -> None:
    # Side by side from 100 columns: the detail pane keeps the five columns whole (at 100 the
    # duration was cut to "duratio" behind a scrollbar).
    app = FlowtuiApp(flaky, store="store", follow=False)
    async with app.run_test(size=(width, 30)) as pilot:
        feed(app, "FlakyFlow", [("start", "succeeded")], "succeeded", T0)
        await pilot.pause(0.3)
        assert "-stacked" not in app.query_one("#main").classes
        tasks = app.query_one(TaskList)
        lines = [strip.text for strip in app.screen._compositor.render_strips()]
        header = next(line for line in lines if " task " in line and " item " in line)
        assert header.rstrip().endswith("duration"), header
        assert tasks.virtual_size.width <= tasks.scrollable_content_region.width
        rows = [line.rstrip() for line in lines if "✔ succeeded" in line]
        assert any(row.endswith("1.5s") for row in rows), rows
