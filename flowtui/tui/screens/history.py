"""Run history: the flow's past runs from the store, and any one of them as a `RunState`.

The store is the truth: a run read back here shows the same states, logs and failures as the
event stream showed live, and a run started from a plain shell appears too. Reading the store
is blocking, so the app calls these functions from thread workers.
"""

from __future__ import annotations

import time
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from flowtui.engine.events import RunState, RunStatus, TaskError, TaskState, TaskStatus
from flowtui.errors import FlowtuiError

if TYPE_CHECKING:  # the store is imported when first read, off the first frame's path
    from flowtui.store import Store
    from flowtui.store.records import RunRecord, TaskRecord
from flowtui.tui.widgets.header import STATUS_GLYPHS, format_elapsed


def open_store(store: str | None) -> Store | None:
    """The store at `store` (or the default one), or None when there is none yet."""
    try:
        from flowtui.store import Store

        return Store.open(store, create=False)
    except FlowtuiError:
        return None


def list_runs(store: str | None, flow: str) -> list[RunRecord]:
    """`flow`'s runs, newest first (empty when there is no store yet)."""
    opened = open_store(store)
    if opened is None:
        return []
    try:
        return opened.meta.runs(flow)
    finally:
        opened.close()


def _status(value: str, enum: type[Any], default: Any) -> Any:
    try:
        return enum(value)
    except ValueError:
        return default


def _error(record: dict[str, Any] | None, reason: str | None) -> TaskError | None:
    if not record:
        return None
    return TaskError(
        type=str(record.get("type", "Error")),
        message=str(record.get("message", "")),
        traceback=str(record.get("traceback", "")),
        reason=str(reason or record.get("reason") or "exception"),
    )


def _task_state(store: Store, record: TaskRecord) -> TaskState:
    attempts = store.meta.attempts(record.task_id)
    last = attempts[-1] if attempts else None
    return TaskState(
        pathspec=record.pathspec,
        step=record.step,
        task_id=record.task_id,
        status=_status(record.status, TaskStatus, TaskStatus.PENDING),
        attempt=last.attempt if last else max(0, record.attempts - 1),
        index=record.foreach_index,
        stdout=last.stdout if last else None,
        stderr=last.stderr if last else None,
        started=record.started,
        finished=record.finished,
        error=_error(record.error or (last.error if last else None), record.exit_reason),
        origin_pathspec=record.origin_pathspec,
    )


def load_run(store: str | None, run_id: str) -> RunState | None:
    """Run `run_id` as the store holds it now (None when it is not there)."""
    opened = open_store(store)
    if opened is None:
        return None
    try:
        run = opened.meta.run(run_id)
        if run is None:
            return None
        state = RunState(
            flow=run.flow,
            run_id=run.run_id,
            store=str(opened.root),
            status=_status(run.status, RunStatus, RunStatus.CRASHED),
            started=run.created,
            finished=run.finished,
            origin_run_id=run.origin_run_id,
        )
        for record in opened.meta.tasks(run_id):
            task = _task_state(opened, record)
            state.tasks[task.pathspec] = task
            if task.status is TaskStatus.FAILED and state.failed is None:
                state.failed = task.pathspec
        return state
    finally:
        opened.close()


def describe_run(run: RunRecord) -> tuple[Text, Text, Text, Text, Text]:
    status = _status(run.status, RunStatus, RunStatus.CRASHED)
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.created))
    end = run.finished if run.finished is not None else time.time()
    origin = f"resume of {run.origin_run_id}" if run.origin_run_id else run.kind
    return (
        Text(run.run_id, style="bold"),
        Text(f"{STATUS_GLYPHS[status]} {status.value}"),
        Text(started),
        Text(format_elapsed(end - run.created), justify="right"),
        Text(origin),
    )


class RunHistoryScreen(ModalScreen[str | None]):
    """The flow's runs, newest first; Enter opens one (dismisses with its run id)."""

    BINDINGS = [Binding("escape,q", "close", "Close")]

    def __init__(self, flow: str, runs: list[RunRecord], current: str | None = None) -> None:
        super().__init__()
        self.flow = flow
        self.runs = runs
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="history-box", classes="dialog"):
            title = f"Runs of {self.flow}" if self.runs else f"{self.flow} has no runs yet"
            yield Static(Text(title, style="bold"), classes="dialog-title")
            yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
            yield Static(Text("enter opens a run · esc closes", style="dim"))

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label in ("run", "status", "started", "took", "kind"):
            table.add_column(label, key=label)
        for run in self.runs:
            table.add_row(*describe_run(run), key=run.run_id)
        with suppress(Exception):
            if self.current is not None:
                table.move_cursor(row=table.get_row_index(self.current))
        table.focus()

    @on(DataTable.RowSelected)
    def on_row_selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(str(event.row_key.value) if event.row_key.value is not None else None)

    def action_close(self) -> None:
        self.dismiss(None)
