"""A task its run never started reads "not run" once the run has ended, whether the run
failed or its runner was killed: on the DAG, in the task list, in the task's header and in
the client, as a step without tasks does (never "pending", which says it will still run)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from textual.widgets import Static

from flowtui.client import Flow
from flowtui.store import Store
from flowtui.tui.app import FlowtuiApp
from flowtui.tui.widgets.header import RunHeader
from flowtui.tui.widgets.task_detail import TaskDetail, TaskHeader
from flowtui.tui.widgets.tasks import TaskList
from tests.gate import wait_for
from tests.tui.waiting import wait_until

SIZE = (120, 40)

STRANDED = """
import os, time
from flowtui import FlowSpec, step


class StrandFlow(FlowSpec):
    @step
    def start(self):
        self.items = [0, 1, 2]
        self.next(self.wait, self.fan)

    @step
    def wait(self):
        open({started!r}, "w").close()
        if {fail!r}:
            raise ValueError("wait fails")
        while True:  # until its runner is killed
            time.sleep(0.05)
        self.next(self.join)

    @step
    def fan(self):
        self.next(self.each, foreach="items")

    @step
    def each(self):
        self.next(self.fan_in)

    @step
    def fan_in(self, inputs):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def _recorded_running(store: Path, step: str) -> bool:
    """Whether the store records `step`'s task of run 1 as running."""
    opened = Store(store, create=False)
    try:
        return any(t.step == step and t.status == "running" for t in opened.meta.tasks("1"))
    finally:
        opened.close()


def stranded_run(root: Path, ending: str) -> Path:
    """A run of StrandFlow (one task at a time) that ended while `wait` ran, before `fan` could
    start: `wait` failed, or its runner was killed (kill -9)."""
    started = root / "started"
    path = root / "strand.py"
    source = STRANDED.format(started=str(started), fail=ending == "failed")
    path.write_text(textwrap.dedent(source))
    runner = subprocess.Popen(
        [sys.executable, "-m", "flowtui", "run", str(path), "--max-workers", "1", "-q"],
        cwd=root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "FLOWTUI_STORE": str(root / "store")},
    )
    try:
        wait_for(lambda: started.exists() or runner.poll() is not None, "the wait step")
        if ending == "crashed":
            # the task runs before its runner records it started (a loaded machine shows it):
            # the kill waits for the store to say so, so `wait` reads failed, not not-run
            wait_for(lambda: _recorded_running(root / "store", "wait"), "wait recorded")
            os.kill(runner.pid, signal.SIGKILL)
        runner.wait(timeout=300)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    return path


@pytest.mark.parametrize("ending", ["crashed", "failed"])
async def test_a_task_its_ended_run_never_started_reads_not_run_everywhere(
    tmp_path: Path, ending: str
) -> None:
    path = stranded_run(tmp_path, ending)

    run = Flow("StrandFlow", _store=Store(tmp_path / "store", create=False)).latest_run
    assert run.status == ending
    assert run["fan"].task.status == "not run"  # the client: not "pending"
    assert run["wait"].task.status == "failed"

    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.run_state is not None and app.run_state.status.done)
        states = app.dag.states
        assert states["fan"].label == "○ not run"  # created, never started: as a step without
        assert states["each"].label == states["end"].label == "○ not run"  # tasks reads
        app.dag.select("fan")
        await pilot.pause()
        tasks = app.query_one(TaskList)
        assert tasks.get_row_at(0)[2].plain == "○ not run"
        assert "○ not run" in str(app.query_one(TaskHeader).render())
        stdout = app.query_one(TaskDetail).stdout.lines
        await wait_until(pilot, lambda: stdout.placeholder == "no output")  # not "… yet"
        tasks.focus()
        await pilot.press("v", "v", "v")  # every task, only failed, only running, only pending
        await pilot.pause()
        assert tasks.arrangement == "only not run"
        assert "(only not run)" in str(app.query_one("#step-info", Static).render())


@pytest.mark.parametrize("ending", ["crashed", "failed"])
def test_logs_and_artifacts_of_a_task_that_never_ran_say_so(tmp_path: Path, ending: str) -> None:
    """`flowtui logs` and `flowtui artifacts` on such a task: one sentence and exit 1, on the
    plain command line and through the typer app, never an empty log or "has no artifacts",
    which read as a task that ran and said nothing."""
    stranded_run(tmp_path, ending)
    said = f"error: StrandFlow/1/fan/3 never ran: its run ended ({ending}) before starting it"
    env = {k: v for k, v in os.environ.items() if k != "FLOWTUI_STORE"}
    plain = [sys.executable, "-m", "flowtui"]
    typer_app = [sys.executable, "-c", "from flowtui.cli import main; main()"]
    for command in (
        [*plain, "logs", "1/fan/3"],
        [*plain, "logs", "StrandFlow/1/fan"],  # the step's one task
        [*typer_app, "logs", "1/fan/3", "--stdout"],
        [*plain, "artifacts", "1/fan/3"],
    ):
        proc = subprocess.run(
            [*command, "--store", str(tmp_path / "store")],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert (proc.returncode, proc.stdout) == (1, ""), (command, proc.stdout, proc.stderr)
        assert proc.stderr.startswith(said), (command, proc.stderr)
        assert "Traceback" not in proc.stderr


def _tally(app: FlowtuiApp) -> str:
    """The header's counts, from the first one (`✔ …`) on."""
    line = app.query_one(RunHeader).render_header().plain
    return line[line.index("✔") :]


@pytest.mark.parametrize("ending", ["crashed", "failed"])
async def test_an_ended_runs_header_counts_the_tasks_it_never_started_and_none_running(
    tmp_path: Path, ending: str
) -> None:
    """`fan`'s task was created but never started; `each`, `fan_in`, `join` and `end` were
    never reached (the DAG draws all five `○ not run`): the header says 5, and no `● 0`."""
    path = stranded_run(tmp_path, ending)
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.run_state is not None and app.run_state.status.done)
        await wait_until(pilot, lambda: "not run" in _tally(app), "the header's not-run count")
        assert _tally(app).startswith("✔ 1  ✖ 1  ○ 5 not run"), _tally(app)
        assert "●" not in _tally(app)


LINEAR = """
from flowtui import FlowSpec, step


class LineFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.breaks)

    @step
    def breaks(self):
        raise ValueError("breaks")
        self.next(self.after)

    @step
    def after(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


async def test_a_run_followed_live_counts_not_run_as_the_same_run_read_back(
    tmp_path: Path,
) -> None:
    """Run in the TUI, the failed run's header says `○ 2 not run` (after, end) the moment it
    ends, and opened again later from the store it says the same."""
    path = tmp_path / "line.py"
    path.write_text(LINEAR)
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_until(
            pilot, lambda: app.run_state is not None and app.run_state.status.done, "the end"
        )
        live = _tally(app)
        assert live.startswith("✔ 1  ✖ 1  ○ 2 not run"), live
    again = FlowtuiApp(path, store=tmp_path / "store")
    async with again.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: again.run_state is not None, "the stored run")
        assert _tally(again) == live
