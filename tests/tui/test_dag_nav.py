"""Big DAGs: every navigation key in both views, go-to-step, a view that does not flip."""

from __future__ import annotations

from pathlib import Path

from flowtui.tui.app import FlowtuiApp
from flowtui.tui.widgets.dag import ROWS_SLACK, use_rows
from tests.tui.test_dag import BRANCHES, linear_flow, write
from tests.tui.waiting import wait_until


async def test_navigation_keys_work_in_the_rows_view(tmp_path: Path) -> None:
    app = FlowtuiApp(write(tmp_path, BRANCHES), store=tmp_path / "store", follow=False)
    async with app.run_test(size=(60, 30)) as pilot:
        dag = app.dag
        assert dag.rows_view
        await pilot.press("G")
        assert dag.selected == "end"
        await pilot.press("g")
        assert dag.selected == "start"
        await pilot.press("end")
        assert dag.selected == "end"
        await pilot.press("home", "down")
        first_branch = dag.selected
        assert first_branch in ("left", "middle", "right")
        await pilot.press("l")
        assert dag.selected not in (first_branch, "start", "join")
        await pilot.press("h")
        assert dag.selected == first_branch


async def test_g_and_shift_g_reach_both_ends_of_a_long_flow_in_boxes(tmp_path: Path) -> None:
    app = FlowtuiApp(write(tmp_path, linear_flow(33)), store=tmp_path / "store", follow=False)
    async with app.run_test(size=(160, 40)) as pilot:
        dag = app.dag
        assert not dag.rows_view
        await pilot.press("G")
        assert dag.selected == "end"
        top = round(dag.scroll_y)
        assert top <= dag.boxes["end"].y < top + dag.scrollable_content_region.height
        await pilot.press("g")
        assert dag.selected == "start"


async def test_colon_goes_to_a_step_by_part_of_its_name(tmp_path: Path) -> None:
    app = FlowtuiApp(write(tmp_path, linear_flow(33)), store=tmp_path / "store", follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("colon")
        await pilot.pause()
        await pilot.press(*"step_31")
        await wait_until(  # the palette searches in a worker
            pilot,
            lambda: app.screen.query("CommandList").first().highlighted is not None,  # type: ignore[attr-defined]
            "the palette to find the step",
        )
        await pilot.press("enter")
        await pilot.pause()
        assert app.dag.selected == "step_31"


def test_the_view_changes_only_past_a_band() -> None:
    assert not use_rows(70, 70, rows_now=False)
    assert not use_rows(70 + ROWS_SLACK, 70, rows_now=False)  # boxes scroll a little
    assert use_rows(71 + ROWS_SLACK, 70, rows_now=False)
    assert use_rows(71, 70, rows_now=True)  # back to boxes only once they fit
    assert not use_rows(70, 70, rows_now=True)


async def test_renaming_a_step_by_one_character_never_flips_the_view(tmp_path: Path) -> None:
    path = write(tmp_path, BRANCHES)
    app = FlowtuiApp(path, store=tmp_path / "store", follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        dag = app.dag
        views = []
        for extra in range(0, 40):  # grow one branch's name a character at a time
            path.write_text(BRANCHES.replace("middle", "middle" + "x" * extra))
            app.reload()
            await pilot.pause()
            views.append(dag.rows_view)
            if dag.rows_view:
                break
        flipped = len(views) - 1
        assert views[-1] and not any(views[:-1]) and flipped > 0
        path.write_text(BRANCHES.replace("middle", "middle" + "x" * (flipped - 1)))
        app.reload()
        await pilot.pause()
        assert dag.rows_view  # one character back does not flip it again


def _gated_linear_flow(count: int, gated: str, started: Path, go: Path) -> str:
    """`linear_flow(count)` whose step `gated` touches `started`, then waits for `go`."""
    source = "import os, time\n" + linear_flow(count)
    wait = (
        f"        open({str(started)!r}, 'w').close()\n"
        f"        while not os.path.exists({str(go)!r}):\n"
        "            time.sleep(0.02)\n"
    )
    head = f"    def {gated}(self):\n"
    return source.replace(head, head + wait)


def _in_view(app: FlowtuiApp, step: str) -> bool:
    dag = app.dag
    box = dag.boxes[step]
    top = round(dag.scroll_y)
    return top <= box.y and box.bottom <= top + dag.scrollable_content_region.height


async def test_the_dag_follows_the_running_step_down_a_flow_taller_than_the_pane(
    tmp_path: Path,
) -> None:
    """A run of a 33-step flow at 120x35: the step running is in view (the DAG stayed at the
    top while the run went on out of sight below), unless the user scrolled away from the
    running step, and then it stays where the user put it."""
    started, go = tmp_path / "started", tmp_path / "go"
    source = _gated_linear_flow(33, "step_25", started, go)
    app = FlowtuiApp(write(tmp_path, source), store=tmp_path / "store", follow=False)
    async with app.run_test(size=(120, 35)) as pilot:
        assert not app.dag.rows_view and not _in_view(app, "step_25")
        await pilot.press("r")
        try:  # a failed assertion must not leave the run waiting for `go` for ever
            await wait_until(pilot, started.exists, "step_25 to start")
            await wait_until(pilot, lambda: app.dag.states["step_25"].state == "running")
            assert _in_view(app, "step_25"), app.dag.scroll_y
            app.dag.scroll_home(animate=False)  # the user goes back to read the top
            await pilot.pause()
        finally:
            go.touch()
        await wait_until(pilot, lambda: app.run_state is not None and app.run_state.status.done)
        assert app.dag.scroll_y == 0  # left where the user put it
