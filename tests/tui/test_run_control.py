"""Any live run of the flow can be controlled from the TUI, wherever it was started: `x`
cancels a run a terminal started, `r` asks before starting another alongside it, and quitting
can leave our run going (a new TUI finds it, live, and can cancel it)."""

from __future__ import annotations

import re
import subprocess

from textual.widgets import Button, Static

from flowtui.client import Flow, default_metadata, default_namespace, metadata, namespace
from flowtui.client.runs import RunReader
from flowtui.tui.app import FlowtuiApp
from flowtui.tui.screens.history import describe_run
from tests.gate import Gate, wait_for
from tests.tui.test_app import SIZE, header_text
from tests.tui.waiting import wait_until


def question(app: FlowtuiApp) -> str:
    """The open dialog's question, or "" when none is open."""
    found = app.screen.query("#confirm-question")
    return str(found.first(Static).render()) if found else ""


def buttons(app: FlowtuiApp) -> list[str]:
    """The labels of the open dialog's buttons."""
    return [str(button.label) for button in app.screen.query(Button)]


def stored_status(gate: Gate, run_id: str) -> str:
    reader = RunReader(gate.store)
    try:
        state = reader.run_state(run_id)
        return state.status.value if state is not None else ""
    finally:
        reader.close()


def client_status(gate: Gate, run_id: str) -> str:
    """The run's status as a notebook reads it (`Flow(...)[id].status`)."""
    metadata(str(gate.store))
    namespace(None)
    try:
        return Flow("GateFlow")[run_id].status
    finally:
        default_metadata()
        default_namespace()


async def test_x_cancels_a_run_started_from_a_terminal(gate: Gate) -> None:
    cli = gate.cli_run()
    wait_for(gate.started.exists, "the terminal's run to reach its waiting step")
    app = FlowtuiApp(gate.path, store=gate.store)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.run_state is not None and "running" in header_text(app))
        run_id = app.run_state.run_id if app.run_state else ""
        assert app.controller is None  # not ours: read from the store
        assert app.check_action("cancel_run", ()) is True  # x is not greyed
        await pilot.press("x")
        await wait_until(pilot, lambda: "cancelled" in header_text(app))
        assert app.dag.states["wait"].state == "cancelled"
    assert cli.wait(timeout=60) != 0  # the runner ended on its own, as after Ctrl-C
    assert stored_status(gate, run_id) == "cancelled"
    assert client_status(gate, run_id) == "cancelled"


async def test_r_or_R_while_a_terminal_run_is_live_asks_and_no_starts_nothing(gate: Gate) -> None:
    gate.cli_run()
    wait_for(gate.started.exists, "the terminal's run to reach its waiting step")
    app = FlowtuiApp(gate.path, store=gate.store)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "running" in header_text(app))
        run_id = app.run_state.run_id if app.run_state else ""
        await pilot.press("r")
        await wait_until(pilot, lambda: bool(question(app)))
        assert question(app) == (
            f"Run {run_id} is still running (started from a terminal). Start another alongside?"
        )
        await pilot.press("n")
        await wait_until(pilot, lambda: not question(app))
        app.dag.select("wait")
        await pilot.press("R")  # a resume asks the same
        await wait_until(pilot, lambda: bool(question(app)))
        assert question(app).startswith(f"Run {run_id} is still running")
        await pilot.press("n")
        await wait_until(pilot, lambda: not question(app))
        await pilot.pause(0.5)
        assert app.controller is None
        assert [r.run_id for r in RunReader(gate.store).runs("GateFlow")] == [run_id]


async def leave_a_run_going(gate: Gate) -> subprocess.Popen[bytes]:
    """A TUI starts a run, then quits choosing "Leave it running"; the runner it leaves."""
    app = FlowtuiApp(gate.path, store=gate.store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: app.controller is not None)
        assert app.controller is not None and app.controller.process is not None
        runner = app.controller.process
        gate.track(runner.pid)
        await wait_until(pilot, gate.started.exists)
        await pilot.press("q")
        await wait_until(pilot, lambda: "Leave it running" in buttons(app))
        assert buttons(app) == ["Stop and quit", "Leave it running", "Stay"]
        await pilot.press("l")
        await wait_until(pilot, lambda: not app.is_running)
    return runner


async def test_leaving_a_run_going_on_quit_then_a_new_tui_finds_it_live(gate: Gate) -> None:
    runner = await leave_a_run_going(gate)
    assert runner.poll() is None  # the app is gone; its runner is not
    run_id = RunReader(gate.store).runs("GateFlow")[0].run_id
    assert stored_status(gate, run_id) == "running"

    again = FlowtuiApp(gate.path, store=gate.store)
    async with again.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: f"run {run_id}" in header_text(again))
        assert "running" in header_text(again)
        assert again.dag.states["wait"].state == "running"
        assert again.check_action("cancel_run", ()) is True
        gate.release()
        await wait_until(pilot, lambda: "succeeded" in header_text(again))
    assert runner.wait(timeout=60) == 0  # it went on to the end, events unread
    assert stored_status(gate, run_id) == "succeeded"


async def test_a_run_left_going_is_cancelled_by_x_in_the_next_tui(gate: Gate) -> None:
    runner = await leave_a_run_going(gate)

    again = FlowtuiApp(gate.path, store=gate.store)
    async with again.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "running" in header_text(again))
        run_id = again.run_state.run_id if again.run_state else ""
        await pilot.press("r")
        await wait_until(pilot, lambda: bool(question(again)))
        assert "(started from a flowtui window)" in question(again)
        await pilot.press("n")
        await pilot.press("x")
        await wait_until(pilot, lambda: "cancelled" in header_text(again))
    assert runner.wait(timeout=60) != 0
    assert stored_status(gate, run_id) == "cancelled"


async def test_a_runner_killed_under_the_tui_shows_its_tasks_as_the_store_has_them(
    gate: Gate,
) -> None:
    """`kill -9` of our own runner: the header says crashed and the task it was running reads
    as the store has it (failed: the runner died), never still "running" and ticking."""
    app = FlowtuiApp(gate.path, store=gate.store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: app.controller is not None)
        assert app.controller is not None and app.controller.process is not None
        runner = app.controller.process
        gate.track(runner.pid)
        await wait_until(pilot, gate.started.exists, "the run to reach its waiting step")
        await wait_until(pilot, lambda: app.dag.states["wait"].state == "running", "wait running")
        runner.kill()
        await wait_until(pilot, lambda: "crashed" in header_text(app), "the header to say crashed")
        await wait_until(
            pilot, lambda: app.dag.states["wait"].state != "running", "wait to stop running"
        )
        run = app.run_state
        assert run is not None
        wait = run.step_tasks("wait")[0]
        assert app.dag.states["wait"].state == "failed"
        assert wait.status.value == "failed" and wait.error is not None
        assert "runner" in wait.error.message
        assert "●" not in header_text(app)  # nothing counted as running
        assert run.status.value == "crashed"
        assert stored_status(gate, run.run_id) == "crashed"
        # How long it ran is not known (no end was recorded): no duration, rather than the
        # time since it started, growing for as long as the run is looked at.
        assert not re.search(r"\d\.\ds", header_text(app)), header_text(app)
        assert wait.elapsed(app.clock() + 3600) is None
    record = RunReader(gate.store).runs("GateFlow")[0]
    assert describe_run(record, record.created + 3600)[2].plain == "—"  # the history's row
