"""Runs for a long-lived reader such as the TUI: the flow's runs, a run's state, a task's
artifacts, the resume plan of a run, and the runs still live (which it may cancel, as
`flowtui cancel` does), all from one store.

`RunReader` keeps one connection to the store, opened when the store first exists (a store
appears with the first run), and serialises calls, so the TUI's worker threads can share it.
Nothing here loads an artifact's value: that runs user code, which a reader like the TUI must
never do in its own process.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

from flowtui.client.control import CANCEL_WAIT, LiveRun, cancel_run, live_runs
from flowtui.errors import FlowtuiError, UsageError
from flowtui.graph.model import FlowGraph
from flowtui.graph.parse import parse_flow
from flowtui.run.changes import CodeChanges, code_changes
from flowtui.run.plan import ResumePlan, choose_origin, plan_resume
from flowtui.run.state import RunState
from flowtui.store import Store
from flowtui.store.records import ArtifactRecord, RunRecord, TaskRecord


def task_id_of(pathspec: str) -> str:
    """`Flow/run/step/task` -> `task`; a `UsageError` for anything else."""
    parts = pathspec.strip("/").split("/")
    if len(parts) != 4 or not parts[3].isdigit():
        raise UsageError(f"{pathspec} is not a task pathspec (Flow/run/step/task).")
    return parts[3]


class RunReader:
    """Reads the runs of the store at `store` (None: the one found as the CLI finds it)."""

    def __init__(self, store: str | Path | None = None) -> None:
        self._explicit = store
        self._store: Store | None = None
        self._lock = threading.Lock()

    def _open(self) -> Store | None:
        if self._store is None:
            try:
                self._store = Store.open(self._explicit, create=False)
            except FlowtuiError:
                return None  # no store yet: the first run makes one
        return self._store

    @property
    def root(self) -> Path | None:
        """The store's directory, once it exists."""
        with self._lock:
            store = self._open()
            return store.root if store is not None else None

    def runs(self, flow: str) -> list[RunRecord]:
        """`flow`'s runs, newest first, spins kept apart left out (empty without a store)."""
        with self._lock:
            store = self._open()
            return [r for r in store.meta.runs(flow) if r.listed] if store is not None else []

    def run_state(self, run_id: str) -> RunState | None:
        """Run `run_id` as the store holds it now (None when it is not there)."""
        with self._lock:
            store = self._open()
            run = store.meta.run(run_id) if store is not None else None
            if store is None or run is None:
                return None
            tasks = store.meta.tasks(run_id)
            return RunState.from_store(
                run,
                tasks,
                store.meta.last_attempts(run_id),
                str(store.root),
                store.meta.run_task_metadata(run_id),
            )

    def run_graph(self, run_id: str, flow: str, file: str) -> FlowGraph | None:
        """The graph run `run_id` ran with, from the code the store keeps (read, never run);
        None when the store has no code for it or the code no longer parses."""
        with self._lock:
            store = self._open()
            source = store.meta.run_source(run_id) if store is not None else ""
        if not source:
            return None
        try:
            return parse_flow(source, file, flow)
        except FlowtuiError:
            return None

    def artifacts(self, pathspec: str) -> list[ArtifactRecord]:
        """Task `pathspec`'s artifacts (names, types, sizes, short reprs); no value is loaded."""
        task_id = task_id_of(pathspec)
        with self._lock:
            store = self._open()
            if store is None:
                raise UsageError("There is no flowtui store yet; run the flow first.")
            return store.meta.artifacts(task_id)

    def task_status(self, pathspec: str) -> str | None:
        """Task `pathspec`'s status as the store reads it (`TaskRecord.status`); None when
        the store or the task is not there."""
        with self._lock:
            store = self._open()
            record = store.meta.task(task_id_of(pathspec)) if store is not None else None
            return record.status if record is not None else None

    def _resumable(
        self, graph: FlowGraph, origin_run_id: str | None
    ) -> tuple[Store, RunRecord, list[TaskRecord]]:
        """The store, the run of `graph`'s flow to resume and its tasks (the caller holds the
        lock); a `UsageError` saying why when there is none."""
        store = self._open()
        if store is None:
            raise UsageError(f"{graph.flow_name} has no run to resume yet; run it first.")
        flow = graph.flow_name
        origin = choose_origin(store.meta.runs(flow), flow, origin_run_id)
        return store, origin, store.meta.resumable_tasks(origin.run_id)

    def resume_plan(
        self, graph: FlowGraph, origin_run_id: str | None, step: str | None
    ) -> ResumePlan:
        """What resuming run `origin_run_id` of `graph`'s flow from `step` would reuse and run
        again; a `UsageError` saying why when it cannot be resumed."""
        with self._lock:
            _, origin, tasks = self._resumable(graph, origin_run_id)
        return plan_resume(graph, origin, tasks, step)

    def plan_with_changes(
        self, graph: FlowGraph, current_source: str, origin_run_id: str | None, step: str | None
    ) -> tuple[ResumePlan, CodeChanges]:
        """`resume_plan`, and which of its steps changed since the origin run (whose code the
        store keeps), the origin's tasks read once (a 10,000-task origin takes longer to read
        than to plan)."""
        with self._lock:
            store, origin, tasks = self._resumable(graph, origin_run_id)
            origin_source = store.meta.run_source(origin.run_id)
        plan = plan_resume(graph, origin, tasks, step)
        return plan, code_changes(graph, plan, origin_source, current_source, tasks)

    def live_runs(self, flow: str) -> list[LiveRun]:
        """`flow`'s runs whose runner is alive (started anywhere), newest first."""
        with self._lock:
            store = self._open()
            return live_runs(store.meta, flow) if store is not None else []

    def cancel_run(self, run_id: str, wait: float = CANCEL_WAIT) -> RunRecord:
        """Cancel live run `run_id`, wherever it was started, as `flowtui cancel` does; the run
        as stored once its runner recorded the end (or `wait` s passed). Blocks: call it from
        a worker thread. A `UsageError` sentence when it cannot be cancelled from here."""
        with self._lock:
            store = self._open()
        if store is None:
            raise UsageError("There is no flowtui store yet, so no run to cancel.")
        return cancel_run(store.meta, run_id, wait=wait, locked=lambda: self._lock)

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


class ValueUnavailable(FlowtuiError):
    """An artifact's value cannot be loaded; the message says why, in one sentence."""


def import_beside(flow_file: str | None) -> None:
    """Let this process unpickle values of classes defined next to a run's flow file (in a
    sibling module, pickled by reference): put the flow's folder on `sys.path`, as it was in
    the run. Only for processes of flowtui's own (the preview, `flowtui artifacts`, `flowtui
    diff`); a notebook imports as its user set it up."""
    if flow_file:
        folder = str(Path(flow_file).resolve().parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)


def import_beside_run(store: Store, pathspec: str) -> None:
    """`import_beside` for the run of a pathspec (`Flow/RUN[/STEP[/TASK]]`) in `store`."""
    parts = pathspec.split("/")
    run = store.meta.run(parts[1]) if len(parts) > 1 else None
    import_beside(run.file if run is not None else None)


def load_value(store_root: Path, pathspec: str, name: str) -> Any:
    """Unpickle artifact `name` of task `pathspec` from the store at `store_root`.

    Unpickling runs code of the user's classes: the TUI calls this only in a process of its
    own (`python -m flowtui.tui.preview`). Every failure is a `ValueUnavailable` sentence.
    """
    from flowtui.store.blobs import BlobCorruptError, BlobMissingError

    try:
        store = Store.open(store_root, create=False)
    except FlowtuiError:
        raise ValueUnavailable(f"There is no flowtui store at {store_root}.") from None
    task_id = task_id_of(pathspec)
    record = next((a for a in store.meta.artifacts(task_id) if a.name == name), None)
    if record is None:
        raise ValueUnavailable(f"Task {pathspec} has no artifact named {name}.")
    run = store.meta.run(pathspec.split("/")[1])
    import_beside(run.file if run is not None else None)
    try:
        # Classes defined in the flow file itself were pickled by value by the runner.
        return store.blobs.get_value(record.hash)
    except BlobMissingError:
        raise ValueUnavailable(
            f"The stored value of {name} ({record.hash[:12]}) is missing from the store; "
            "re-run the step to store it again."
        ) from None
    except BlobCorruptError:
        raise ValueUnavailable(
            f"The stored value of {name} ({record.hash[:12]}) is damaged: its bytes no longer "
            "match their hash; re-run the step to store it again."
        ) from None
    except (ImportError, AttributeError) as e:
        raise ValueUnavailable(
            f"{name} is a {record.type} whose class cannot be imported here ({e}); "
            "load it from the flow's own environment."
        ) from None
    except MemoryError:
        raise ValueUnavailable(f"{name} ({record.type}) is too big to load here.") from None
    except Exception as e:
        raise ValueUnavailable(
            f"{name} ({record.type}) could not be loaded: {type(e).__name__}: {e}."
        ) from None
