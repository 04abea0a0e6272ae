"""Snapshots of the main screens at 120x40: idle, broken file, narrow, mid-run, failed, plan.

Run states come from a fixed event stream fed to the app exactly as the runner's would be, so
the pictures do not depend on timing. Review a changed snapshot before accepting it
(`pytest --snapshot-update`, then look at snapshot_report.html).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static

from flowtui.run.events import (
    Event,
    RunFinished,
    RunStarted,
    StepExpanded,
    TaskFailed,
    TaskFinished,
    TaskStarted,
)
from flowtui.run.plan import ResumePlan, StepPlan
from flowtui.run.state import RunState
from flowtui.run.status import RunStatus, TaskError
from flowtui.tui.app import FlowtuiApp
from flowtui.tui.controller import RunController
from flowtui.tui.widgets.task_detail import TaskDetail

SIZE = (120, 40)
T0 = 1_700_000_000.0

TRACEBACK = 'File "flaky.py", line 40, in train\n    raise RuntimeError("train is broken")'

SnapCompare = Callable[..., bool]


def task_events(flow: str, step: str, task_id: int, ts: float, outcome: str) -> list[Event]:
    pathspec = f"{flow}/1/{step}/{task_id}"
    log = Path("logs") / f"{step}.{task_id}"
    log.parent.mkdir(exist_ok=True)
    log.with_suffix(".out").write_text(f"{step} says hello\n")
    log.with_suffix(".err").write_text("")
    out, err = str(log.with_suffix(".out")), str(log.with_suffix(".err"))
    events: list[Event] = [TaskStarted(pathspec, step, str(task_id), 0, None, out, err, ts=ts)]
    if outcome == "succeeded":
        events.append(TaskFinished(pathspec, step, str(task_id), 0, 1.5, ts=ts + 1.5))
    elif outcome == "failed":
        message = "train is broken on purpose; set FLOWTUI_FIX=1 and resume"
        error = TaskError("RuntimeError", message, TRACEBACK)
        events.append(TaskFailed(pathspec, step, str(task_id), 0, False, error, ts=ts + 2.0))
    return events


def feed(
    app: FlowtuiApp, flow: str, steps: list[tuple[str, str]], finished: str | None, t0: float
) -> None:
    """Post a run's events to the app as the controller does: a batch, then the exit."""
    app.run_state = RunState()
    events: list[Event] = [RunStarted(flow, "1", "store", ts=t0)]
    for number, (step, outcome) in enumerate(steps, start=1):
        events += task_events(flow, step, number, t0 + number * 2, outcome)
    if finished is not None:
        failed = next(
            (f"{flow}/1/{s}/{n}" for n, (s, o) in enumerate(steps, 1) if o == "failed"), None
        )
        status = RunStatus(finished)
        events.append(RunFinished(flow, "1", status, 30.0, failed=failed, ts=t0 + 30))
    app.post_message(RunController.Events(events))
    if finished is not None:
        app.post_message(RunController.Exited(1 if finished == "failed" else 0, cancelled=False))


def test_idle_main_screen(snap_compare: SnapCompare, here: Callable[[str], str]) -> None:
    app = FlowtuiApp(here("branch_join.py"), store="store", follow=False)
    assert snap_compare(app, terminal_size=SIZE)


def test_broken_file_keeps_the_last_dag_dimmed(
    snap_compare: SnapCompare, here: Callable[[str], str]
) -> None:
    name = here("hello.py")
    app = FlowtuiApp(name, store="store", follow=False)

    async def break_the_file(pilot: Pilot[None]) -> None:
        source = Path(name).read_text()
        Path(name).write_text(source.replace("def end(self):", "def end(self)"))
        app.reload()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=break_the_file)


def test_narrow_terminal_rows_view(snap_compare: SnapCompare, here: Callable[[str], str]) -> None:
    app = FlowtuiApp(here("branch_join.py"), store="store", follow=False)
    assert snap_compare(app, terminal_size=(70, 30))


def test_help_screen(snap_compare: SnapCompare, here: Callable[[str], str]) -> None:
    app = FlowtuiApp(here("hello.py"), store="store", follow=False)
    assert snap_compare(app, terminal_size=SIZE, press=["question_mark"])


def test_mid_run(snap_compare: SnapCompare, here: Callable[[str], str]) -> None:
    # The app's clock is fixed: the header and the running tasks read the same times on any
    # machine, however loaded.
    app = FlowtuiApp(here("branch_join.py"), store="store", follow=False, clock=lambda: T0 + 7)

    async def run_halfway(pilot: Pilot[None]) -> None:
        assert app.graph is not None
        steps = [s.name for s in app.graph]
        progress = [(steps[0], "succeeded")] + [(s, "running") for s in steps[1:-2]]
        feed(app, app.graph.flow_name, progress, None, T0)
        await pilot.pause()
        await logs_shown(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_halfway)


async def logs_shown(pilot: Pilot[None], app: FlowtuiApp) -> None:
    """Let the app settle until the selected task's stdout is on screen (read by a worker)."""
    detail = app.query_one(TaskDetail)
    for _ in range(400):  # a bound on the number of turns, not a time
        if detail.stdout.line_count > 0:
            break
        await pilot.pause(0.05)
    assert detail.stdout.line_count > 0, "the selected task's log never loaded"
    await pilot.pause()


def failed_run(app: FlowtuiApp) -> Callable[[Pilot[None]], Any]:
    """flaky.py's run as the runner reports it: start and prepare succeed, train fails."""

    async def fail(pilot: Pilot[None]) -> None:
        outcomes = [("start", "succeeded"), ("prepare", "succeeded"), ("train", "failed")]
        feed(app, "FlakyFlow", outcomes, "failed", T0)
        await pilot.pause()
        await logs_shown(pilot, app)

    return fail


def test_failed_run(snap_compare: SnapCompare, here: Callable[[str], str]) -> None:
    app = FlowtuiApp(here("flaky.py"), store="store", follow=False)
    assert snap_compare(app, terminal_size=SIZE, run_before=failed_run(app))


def test_resume_plan(snap_compare: SnapCompare, here: Callable[[str], str]) -> None:
    app = FlowtuiApp(here("flaky.py"), store="store", follow=False)

    async def plan(pilot: Pilot[None]) -> None:
        await failed_run(app)(pilot)
        assert app.dag.selected == "train"
        steps = [StepPlan(s, "clone", 1, 1) for s in ("start", "prepare")]
        steps += [StepPlan("train", "rerun", 0, 1), StepPlan("end", "rerun", 0, 0)]
        app.push_screen(app.draw_resume_plan(ResumePlan("1", "train", tuple(steps))))
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=plan)


SPIN_FLOW = """
from flowtui import FlowSpec, step


class TrainFlow(FlowSpec):
    @step
    def start(self):
        self.lr = 0.1
        self.losses = [round(1 / (1 + self.lr * i), 4) for i in range(40)]
        self.model = "linear"
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_spin_side_by_side(snap_compare: SnapCompare, here: Any) -> None:
    """A spin of start with a new learning rate: its artifacts beside run 1's, changed first.

    The spin itself ran before (the real CLI); the screen's command only replays its output
    and its run id, so the log reads the same on any machine."""
    from typer.testing import CliRunner

    from flowtui.cli import app as cli
    from flowtui.tui.screens.spin import SpinScreen

    file = Path("train.py")  # in the empty working directory `here` made
    file.write_text(SPIN_FLOW)
    assert CliRunner().invoke(cli, ["run", str(file), "--store", "store", "-q"]).exit_code == 0
    file.write_text(
        SPIN_FLOW.replace("self.lr = 0.1", "self.lr = 0.3").replace(
            'self.model = "linear"', 'self.model = "linear"\n        self.best = min(self.losses)'
        )
    )
    spun = CliRunner().invoke(cli, ["spin", str(file), "start", "--store", "store", "-q"])
    assert spun.exit_code == 0, spun.output
    output = "Spinning TrainFlow/1/start/1 as TrainFlow/2  (store store)\n✔ TrainFlow/2 done."
    replay = f"import sys; print({output!r}); open(sys.argv[1], 'w').write('2')"
    app = FlowtuiApp(file, store="store", follow=False)

    async def spin(pilot: Pilot[None]) -> None:
        for _ in range(400):  # the footer greys Resume until run 1 is read from the store
            if app.run_state is not None and app.run_state.run_id == "1":
                break
            await pilot.pause(0.05)
        title = "Spinning start with the inputs of TrainFlow/1/start/1 and the current code"
        screen = SpinScreen(
            title,
            [sys.executable, "-c", replay, "spin-id"],
            source="TrainFlow/1/start/1",
            store="store",
            run_id_file=Path("spin-id"),
        )
        await app.push_screen(screen)
        for _ in range(1200):  # a bound on the number of turns, not a time
            previews = [
                str(screen.query_one(f"#spin-preview-{side}-text", Static).render())
                for side in ("before", "after")
            ]
            if screen.phase == "compared" and all("Loading" not in p and p for p in previews):
                break
            await pilot.pause(0.05)
        assert screen.phase == "compared", screen.comparison
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=spin)


def test_a_wide_step_mid_run_shows_its_progress(
    snap_compare: SnapCompare, here: Callable[[str], str]
) -> None:
    """A 10,000-wide foreach a third done: the bar and counts (the tasks not started yet
    included), and a list that scrolls through every task started so far."""
    app = FlowtuiApp(here("foreach.py"), store="store", follow=False, clock=lambda: T0 + 400)

    async def a_third_done(pilot: Pilot[None]) -> None:
        flow = "ForeachFlow"
        events: list[Event] = [RunStarted(flow, "1", "store", ts=T0)]
        events += task_events(flow, "start", 1, T0, "succeeded")
        events.append(StepExpanded("score", 10_000, ts=T0 + 2))
        for index in range(3_400):
            pathspec = f"{flow}/1/score/{2 + index}"
            ts = T0 + 3 + index * 0.1
            events.append(TaskStarted(pathspec, "score", str(2 + index), 0, index, "", "", ts=ts))
            if index == 17:
                error = TaskError("ValueError", "bad item 17", "")
                events.append(TaskFailed(pathspec, "score", str(2 + index), 0, False, error, ts=ts))
            elif index < 3_398:
                events.append(TaskFinished(pathspec, "score", str(2 + index), 0, 0.1, ts=ts + 0.1))
        app.run_state = RunState()
        app.post_message(RunController.Events(events))
        await pilot.pause()
        app.dag.select("score")
        await pilot.pause()
        await pilot.press("tab")  # the task list
        await pilot.press("G")  # its last task: one still running
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=a_third_done)
