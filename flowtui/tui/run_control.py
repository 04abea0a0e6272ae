"""Controlling live runs, wherever they were started: `x` cancels (our runner, or any live run
of the flow through `flowtui.client`, as `flowtui cancel` does), `r`/`R` ask first while
another run of the flow is live, and quitting offers to leave our run going.

A mixin of `FlowtuiApp`, kept apart so the app module stays a composition. Our own runner is
stopped through its `RunController` (SIGINT to its process group, then harder); a run this app
did not start (a terminal's, another TUI's, one we left running and reopened) is stopped by
`RunReader.cancel_run`, from a worker thread: the same SIGINT to the runner, sent only when the
store says it runs here and the pid is still that runner.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import App

from flowtui.errors import FlowtuiError

if TYPE_CHECKING:
    from pathlib import Path

    from flowtui.client.control import LiveRun
    from flowtui.client.runs import RunReader
    from flowtui.graph.model import FlowGraph
    from flowtui.run.state import RunState
    from flowtui.tui.controller import RunController
    from flowtui.tui.widgets.dag import DagView


def alongside_question(live: list[LiveRun]) -> str:
    """ "Run 12 is still running (started from a terminal). Start another alongside?" """
    newest = live[0]
    how = f" ({newest.started})" if newest.started else ""
    more = ""
    if len(live) > 1:
        others = ", ".join(run.run_id for run in live[1:])
        more = f" So {'is run' if len(live) == 2 else 'are runs'} {others}."
    return f"Run {newest.run_id} is still running{how}.{more} Start another alongside?"


class RunControl(App[None]):
    """`x`, the question before `r`/`R`, and quitting, for an app that has these (FlowtuiApp):"""

    if TYPE_CHECKING:
        path: Path

        @property
        def reader(self) -> RunReader: ...  # the store, through the client

        graph: FlowGraph | None
        run_state: RunState | None
        controller: RunController | None
        file_deleted: bool

        @property
        def dag(self) -> DagView: ...

        def poll_store(self) -> None: ...

    @property
    def run_active(self) -> bool:
        """Our own runner is going (started by this app, its events followed)."""
        return self.controller is not None and self.controller.running

    @property
    def live_shown(self) -> RunState | None:
        """The run on screen when it is live but not ours (read from the store)."""
        run = self.run_state
        if self.run_active or run is None or not run.run_id or run.status.done:
            return None
        return run

    def hang_up(self) -> None:
        """The terminal is gone: interrupt our run (it records itself cancelled), end at once:
        Textual's shutdown can block for ever writing to a closed terminal."""
        if self.controller is not None:
            self.controller.interrupt_now()
        os._exit(128 + signal.SIGHUP)

    # -- x --------------------------------------------------------------------------------

    def action_cancel_run(self) -> None:
        if self.controller is not None and self.controller.running:
            self.notify("Stopping the run…", timeout=3)
            self.run_worker(self.controller.cancel(), group="cancel", exit_on_error=False)
            return
        live = self.live_shown
        if live is None:
            self.notify("No run is active.", timeout=3)
            return
        self.notify(f"Stopping run {live.run_id}…", timeout=3)
        self.cancel_elsewhere(live.run_id)

    @work(thread=True, group="cancel", exit_on_error=False)
    def cancel_elsewhere(self, run_id: str) -> None:
        """Cancel a run this app did not start; say how it ended (or why it cannot be)."""
        try:
            run = self.reader.cancel_run(run_id)
        except FlowtuiError as error:
            self.call_from_thread(self.notify, str(error), severity="warning", markup=False)
            return
        if run.status == "running":
            message = f"Run {run_id} is still stopping; its runner was told twice."
        else:
            message = f"Run {run_id} {run.status}."
        self.call_from_thread(self.notify, message, timeout=4, markup=False)
        self.call_from_thread(self.poll_store)

    # -- r and R while another run is live ------------------------------------------------

    def can_start(self) -> bool:
        """Whether a run may start now (not while ours goes, nor from a broken file); says why."""
        if self.run_active:
            self.notify(
                "A run is active; cancel it with x before starting another.", severity="warning"
            )
            return False
        if self.file_deleted:
            self.notify(
                f"{self.path.name} was deleted; save it again to run it.",
                severity="error",
                markup=False,
            )
            return False
        if self.graph is None or self.dag.has_class("-stale"):
            self.notify(
                f"Fix the problems in {self.path.name} before running it.",
                severity="error",
                markup=False,
            )
            return False
        return True

    @work(exclusive=True, group="alongside", exit_on_error=False)
    async def start_unless_declined(self, start: Callable[[], object]) -> None:
        """Call `start` (a run or a resume), first asking when a run of this flow is live."""
        if self.graph is None:
            return
        live = await asyncio.to_thread(self.reader.live_runs, self.graph.flow_name)
        if live:
            from flowtui.tui.screens.params import ConfirmScreen  # a screen opened later

            question = alongside_question(live)
            if not await self.push_screen_wait(
                ConfirmScreen(question, yes="Start another", no="Don't start")
            ):
                return
        start()

    # -- quitting -------------------------------------------------------------------------

    async def action_quit(self) -> None:
        if self.run_active:
            self.ask_quit()
            return
        self.exit()

    @work(exclusive=True, group="quit", exit_on_error=False)
    async def ask_quit(self) -> None:
        from flowtui.tui.screens.quit import LEAVE, STOP, QuitScreen  # a screen opened later

        run = self.run_state
        run_id = run.run_id if run is not None and run.run_id else None
        choice = await self.push_screen_wait(QuitScreen(run_id))
        if self.controller is None or choice is None:
            return
        if choice == STOP:
            await self.controller.cancel()
            self.exit()
        elif choice == LEAVE:
            self.controller.detach()
            self.exit(message=self.left_running_note(run))

    def left_running_note(self, run: RunState | None) -> Text:
        """What the terminal says once the app has quit and left the run going."""
        if run is None or not run.run_id:
            return Text(f"The run goes on; `flowtui {self.path}` shows it again.")
        return Text(
            f"Run {run.pathspec} goes on; `flowtui {self.path}` shows it again, "
            f"`flowtui cancel {run.pathspec}` stops it."
        )
