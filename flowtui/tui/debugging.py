"""The app's debugging keys: `e` edit at the line that matters, `D` debug the selected task,
`s` spin its step, `d` compare it with the same task in another run.

A mixin of `FlowtuiApp`, kept apart so the app module stays a composition. Terminal hand-overs
(editor, `flowtui debug`, `flowtui spin`) are in `flowtui.tui.handoff`; the diff screen in
`flowtui.tui.screens.diff`.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App

from flowtui.run.status import TaskStatus
from flowtui.tui.widgets.tasks import TaskList

if TYPE_CHECKING:
    from collections.abc import Callable

    from flowtui.client.runs import RunReader
    from flowtui.graph.model import FlowGraph, Problem
    from flowtui.run.state import RunState
    from flowtui.tui.controller import RunController
    from flowtui.tui.widgets.dag import DagView


class DebuggingActions(App[None]):
    """`e`, `D`, `s` and `d`, for an app that has these (FlowtuiApp):"""

    if TYPE_CHECKING:
        path: Path
        flow: str | None
        store: Path | None

        @property
        def reader(self) -> RunReader: ...  # the store, through the client

        clock: Callable[[], float]
        controller: RunController | None
        graph: FlowGraph | None
        problems: list[Problem]
        run_state: RunState | None

        @property
        def dag(self) -> DagView: ...
        @property
        def run_active(self) -> bool: ...
        def reload(self) -> None: ...
        def poll_store(self) -> None: ...

    def hand_over(self, commands: list[list[str]], *, pause: bool) -> None:
        """Suspend the app, run `commands` in the terminal, come back and re-read."""
        from textual.app import SuspendNotSupported

        from flowtui.tui.handoff import run_in_terminal

        controller = self.controller  # its pipes read meanwhile: the run goes on
        aside = controller.reading_aside() if controller is not None else contextlib.nullcontext()
        try:
            with self.suspend(), aside:
                run_in_terminal(commands, pause=pause)
        except SuspendNotSupported:
            self.notify("This terminal cannot be handed to another program.", severity="error")
            return
        self.reload()
        self.poll_store()

    def action_edit(self) -> None:
        from flowtui.tui.handoff import editor_command, editor_missing, line_that_matters

        task = self.query_one(TaskList).selected
        line = line_that_matters(self.path, self.graph, self.problems, self.dag.selected, task)
        command = editor_command(self.path, line)
        missing = editor_missing(command)
        if missing is not None:  # said where the user looks (in the suspended terminal it
            self.notify(missing, severity="error", markup=False)  # flashed by, unread)
            return
        self.hand_over([command], pause=False)

    def metaflow_run_shown(self, what: str) -> bool:
        """The run shown is one that Metaflow made (read through its client): say that `what`
        needs one of flowtui's runs."""
        run = self.run_state
        if run is None or run.source != "metaflow":
            return False
        self.notify(
            f"Run {run.run_id} is Metaflow's: {what} works on flowtui's runs; run the flow "
            "here (r) first.",
            severity="warning",
            markup=False,
        )
        return True

    def action_debug(self) -> None:
        from flowtui.tui.handoff import debug_args

        if self.metaflow_run_shown("debugging a task"):
            return
        task = self.query_one(TaskList).selected
        args = debug_args(task, self.run_store) if task is not None else None
        if task is None or args is None:
            self.notify("Select a failed task, or one waiting in the debugger, to debug it.")
            return
        running = task.status is TaskStatus.RUNNING and not task.waiting
        if running and self.run_active:  # our run's events say so: `flowtui debug` would refuse
            self.notify(
                f"{task.pathspec} is running; D debugs it once it has failed, or once it stops "
                "at a breakpoint() in the step.",
                markup=False,
            )
            return
        self.hand_over([args], pause=True)

    def action_spin(self) -> None:
        from flowtui.tui.handoff import spin_args

        if self.metaflow_run_shown("spinning a step"):
            return
        task = self.query_one(TaskList).selected
        if task is None or self.run_active:
            self.notify("Select a task of a finished run to spin its step with its inputs.")
            return
        from flowtui.tui.screens.spin import SpinScreen

        with tempfile.NamedTemporaryFile(prefix="flowtui-spin-", delete=False) as file:
            run_id_file = Path(file.name)  # the screen removes it when it closes
        command = spin_args(self.path, task, self.flow, self.run_store, run_id_file)
        title = f"Spinning {task.step} with the inputs of {task.pathspec} and the current code"
        self.push_screen(
            SpinScreen(
                title,
                command,
                source=task.pathspec,
                store=self.run_store,
                run_id_file=run_id_file,
            )
        )

    def action_diff(self) -> None:
        if self.metaflow_run_shown("comparing runs"):
            return
        task = self.query_one(TaskList).selected
        if task is None or self.graph is None:
            self.notify("Select a task to compare it with the same task in another run.")
            return
        self.pick_run_to_compare(self.graph.flow_name, task.pathspec)

    @work(exclusive=True, group="diff", exit_on_error=False)
    async def pick_run_to_compare(self, flow: str, pathspec: str) -> None:
        from flowtui.tui.screens.diff import DiffScreen
        from flowtui.tui.screens.history import RunHistoryScreen

        run_id = pathspec.split("/")[1]
        runs = await asyncio.to_thread(self.reader.runs, flow)
        older = [r.run_id for r in runs if int(r.run_id) < int(run_id)]
        default = older[0] if older else None  # the previous run of the flow
        other = await self.push_screen_wait(RunHistoryScreen(flow, runs, default, clock=self.clock))
        if other is not None:
            await self.push_screen_wait(DiffScreen(self.run_store, pathspec, other))

    @property
    def run_store(self) -> str | None:
        """The store of the run shown (as the runner reported it), else the app's own."""
        run = self.run_state
        return (run.store if run and run.store else None) or (
            str(self.store) if self.store is not None else None
        )
