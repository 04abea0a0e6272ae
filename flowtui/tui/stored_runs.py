"""The app's stored runs: the store and Metaflow's folders read through the client (made on
first use, after the first frame), runs started elsewhere found and followed by polling, and
the history (`h`) that opens any past run.

A mixin of `FlowtuiApp`, kept apart so the app module stays a composition. Reads happen in
worker threads; the app's state changes on the event loop (`show_stored_run`).
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING

from textual import work
from textual.app import App

from flowtui.tui.widgets.dag import step_of

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable
    from pathlib import Path

    from flowtui.client.metaflow_state import MetaflowReader
    from flowtui.client.runs import RunReader
    from flowtui.graph.model import FlowGraph
    from flowtui.run.state import RunState
    from flowtui.tui.widgets.dag import DagView

#: `RunState.source` of a run real Metaflow made (`flowtui.client.metaflow_state.METAFLOW`, which
#: the first frame does not import; a test holds them equal).
METAFLOW = "metaflow"


class StoredRuns(App[None]):
    """Past and outside runs, for an app that has these (FlowtuiApp):"""

    if TYPE_CHECKING:
        path: Path
        store: Path | None
        graph: FlowGraph | None
        run_state: RunState | None
        run_graph: FlowGraph | None
        clock: Callable[[], float]
        _newest_run_seen: int

        @property
        def dag(self) -> DagView: ...

        @property
        def run_active(self) -> bool: ...

        def refresh_run_view(self) -> None: ...

        _readers_lock: threading.Lock
        _reader: RunReader | None
        _metaflow: MetaflowReader | None

    def close_readers(self) -> None:
        with self._readers_lock:
            if self._reader is not None:
                self._reader.close()
            if self._metaflow is not None:
                self._metaflow.close()

    @property
    def reader(self) -> RunReader:
        """The store, read only through the client (imported on first use: after the first
        frame, by the first look at the store)."""
        with self._readers_lock:
            if self._reader is None:
                from flowtui.client.runs import RunReader

                self._reader = RunReader(self.store)
            return self._reader

    @property
    def metaflow(self) -> MetaflowReader:
        """Runs real Metaflow made beside the file (Metaflow is imported only when read)."""
        with self._readers_lock:
            if self._metaflow is None:
                from flowtui.client.metaflow_state import MetaflowReader

                self._metaflow = MetaflowReader(self.path.resolve().parent)
            return self._metaflow

    def poll_store(self) -> None:
        if self.graph is not None and not self.run_active:
            shown = self.run_state
            live = shown.run_id if shown is not None and not shown.status.done else None
            if shown is not None and shown.source == METAFLOW:
                live = None  # Metaflow's run: a snapshot, not in flowtui's store
            self.check_store(self.graph.flow_name, self._newest_run_seen, live)

    @work(thread=True, exclusive=True, group="store", exit_on_error=False)
    def check_store(self, flow: str, newest_seen: int, live: str | None) -> None:
        """Show a run of this flow newer than `newest_seen` (e.g. started from a shell), and
        keep the shown run current (`live`) while the store says it is still going. Reads
        only; the app's state changes on the event loop, in `show_stored_run`."""
        runs = self.reader.runs(flow)
        if not runs:
            return
        newest = runs[0]
        target = newest.run_id if int(newest.run_id) > newest_seen else live
        if target is not None:
            state = self.reader.run_state(target)
            # a run not shown yet comes with the graph it ran with (from its stored code)
            graph = None if target == live else self.reader.run_graph(target, flow, str(self.path))
            if state is not None:
                self.call_from_thread(self.show_stored_run, state, graph)

    def show_stored_run(
        self, state: RunState, graph: FlowGraph | None = None, *, draw: bool = False
    ) -> None:
        """Show run `state` as the store has it. `graph` is the one it ran with: the run's
        states are drawn only on a graph of its shape, and `draw` (a run opened from the
        history) draws that graph when the file's is shaped otherwise."""
        if self.run_active:
            return  # the event stream is the fresher source while our own run goes
        if state.run_id.isdigit() and state.source != METAFLOW:
            self._newest_run_seen = max(self._newest_run_seen, int(state.run_id))
        if self.run_state is None or state.run_id != self.run_state.run_id:
            self.run_graph = graph
            drawn = self.dag.graph
            if draw and graph is not None and (drawn is None or drawn.shape != graph.shape):
                self.dag.set_graph(graph)
        self.run_state = state
        self.refresh_run_view()

    def action_history(self) -> None:
        if self.graph is None:
            self.notify("Fix the file first: run history is per flow.", severity="warning")
            return
        self.open_history(self.graph.flow_name)

    @work(exclusive=True, group="history", exit_on_error=False)
    async def open_history(self, flow: str) -> None:
        from flowtui.tui.screens.history import RunHistoryScreen, chosen_run

        runs = await asyncio.to_thread(self.reader.runs, flow)
        theirs = await asyncio.to_thread(self.metaflow.has_runs, flow)  # folders only
        shown = self.run_state
        current = None
        if shown is not None:
            current = f"{METAFLOW}:{shown.run_id}" if shown.source == METAFLOW else shown.run_id
        choice = await self.push_screen_wait(
            RunHistoryScreen(
                flow,
                runs,
                current,
                clock=self.clock,
                metaflow_runs=partial(self.metaflow.runs, flow) if theirs else None,
            )
        )
        if choice is None:
            return
        if self.run_active:
            self.notify("A run is active; cancel it to look at another run.", severity="warning")
            return
        source, run_id = chosen_run(choice)
        graph: FlowGraph | None = None  # Metaflow's run: drawn on the file's graph
        try:
            if source == METAFLOW:
                state = await asyncio.to_thread(self.metaflow.run_state, flow, run_id)
            else:
                state = await asyncio.to_thread(self.reader.run_state, run_id)
                graph = await asyncio.to_thread(self.reader.run_graph, run_id, flow, str(self.path))
        except Exception as e:  # Metaflow's client failing: one sentence
            self.notify(f"Run {run_id} could not be read: {e}", severity="error", markup=False)
            return
        if state is not None:
            self.show_stored_run(state, graph, draw=True)
            failed = step_of(state.failed)
            if failed is not None:  # a failed run opens on its failure
                self.dag.select(failed)
