"""Run history: the flow's past runs, newest first; Enter opens one.

The app reads the runs through `flowtui.client` (the store is the truth: a run started from a
plain shell appears too) and hands them to this screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from flowtui.run import RunRecord
from flowtui.run.labels import run_label
from flowtui.run.status import RunStatus
from flowtui.units import human_duration


def describe_run(run: RunRecord, now: float) -> tuple[Text, Text, Text, Text, Text]:
    """A row of the history: id, status, start, duration, and what kind of run it was."""
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.created))
    end = run.finished if run.finished is not None else now
    origin = f"resume of {run.origin_run_id}" if run.origin_run_id else run.kind
    return (
        Text(run.run_id, style="bold"),
        Text(run_label(RunStatus.of(run.status))),
        Text(started),
        Text(human_duration(end - run.created), justify="right"),
        Text(origin),
    )


class RunHistoryScreen(ModalScreen[str | None]):
    """The flow's runs, newest first; Enter opens one (dismisses with its run id)."""

    BINDINGS = [Binding("escape,q", "close", "Close")]

    def __init__(
        self,
        flow: str,
        runs: list[RunRecord],
        current: str | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.clock = clock
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
        now = self.clock()
        for run in self.runs:
            table.add_row(*describe_run(run, now), key=run.run_id)
        ids = [run.run_id for run in self.runs]
        if self.current in ids:
            table.move_cursor(row=ids.index(self.current))
        table.focus()

    @on(DataTable.RowSelected)
    def on_row_selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(str(event.row_key.value) if event.row_key.value is not None else None)

    def action_close(self) -> None:
        self.dismiss(None)
