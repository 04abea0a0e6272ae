"""Run history: the flow's past runs, newest first; Enter opens one.

The app reads the runs through `flowtui.client` (the store is the truth: a run started from a
plain shell appears too) and hands them to this screen. When real Metaflow has runs of the flow
beside its file, the app also hands over a reader of those: the screen reads them in a thread
(importing Metaflow takes a while) and adds them, marked as Metaflow's; choosing one dismisses
with `metaflow:RUN` (`chosen_run` splits it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from flowtui.client.tables import started_at
from flowtui.errors import FlowtuiError
from flowtui.run import RunRecord
from flowtui.run.artifacts import inert
from flowtui.run.labels import run_label
from flowtui.run.status import RunStatus
from flowtui.units import human_duration

METAFLOW_RUN = "metaflow:"
"""How a row of Metaflow's runs is keyed (its run ids may equal flowtui's)."""


def run_key(run: RunRecord) -> str:
    """The row key (and the screen's answer) of `run`."""
    return METAFLOW_RUN + run.run_id if run.source == "metaflow" else run.run_id


def chosen_run(key: str) -> tuple[str, str]:
    """(source, run id) of the history's answer: `metaflow:17…` or a flowtui run id."""
    if key.startswith(METAFLOW_RUN):
        return "metaflow", key.removeprefix(METAFLOW_RUN)
    return "flowtui", key


def failed_step(run: RunRecord) -> str | None:
    """The step whose task failed the run (its error reads `Flow/run/step/task: …`)."""
    if run.status != "failed" or not run.error:
        return None
    parts = run.error.split(":", 1)[0].split("/")
    return parts[2] if len(parts) == 4 else None


def describe_params(params: dict[str, Any], width: int = 30) -> str:
    """`alpha=0.5 name='x'`, cut to `width` cells. A flowtui run keeps each parameter as a
    stored value (`{hash, type, size, repr, value}`): its short repr is shown."""
    text = " ".join(f"{name}={shown_param(value)}" for name, value in sorted(params.items()))
    return cut(text, width)


def shown_param(value: Any) -> str:
    """A parameter as the history shows it: a stored value's repr, else the value itself."""
    if isinstance(value, dict) and {"hash", "repr"} <= value.keys():
        return inert(str(value["repr"]))
    return inert(str(value))


def describe_run(run: RunRecord, now: float) -> tuple[Text, ...]:
    """A row of the history: id, status (with the step that failed it: `✖ failed in
    train`), duration, start, what kind of run it was and its parameters. What matters
    comes first, so a narrow terminal cuts only the kind and the parameters."""
    failure = failed_step(run)
    ended = run.finished is not None or RunStatus.of(run.status) is RunStatus.RUNNING
    duration = human_duration((run.finished or now) - run.created) if ended else "—"
    origin = f"resume of {run.origin_run_id}" if run.origin_run_id else run.kind
    if run.source == "metaflow":
        origin = f"Metaflow {origin}"
    status = run_label(RunStatus.of(run.status))
    if failure:
        status += f" in {cut(failure, STEP_WIDTH)}"
    return (
        Text(run.run_id, style="bold"),
        Text(status),
        Text(duration, justify="right"),
        Text(started_at(run.created, now)),
        Text(origin),
        Text(describe_params(run.params)),
    )


#: The most of a failed step's name the status shows (the rest: `…`).
STEP_WIDTH = 16


def cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class RunHistoryScreen(ModalScreen[str | None]):
    """The flow's runs, newest first; Enter opens one (dismisses with its `run_key`).

    `metaflow_runs`, when given, reads the flow's runs that Metaflow made (in a thread)."""

    BINDINGS = [Binding("escape,q", "close", "Close")]

    class _MoreRuns(Message):
        def __init__(self, runs: list[RunRecord], error: str = "") -> None:
            super().__init__()
            self.runs = runs
            self.error = error

    def __init__(
        self,
        flow: str,
        runs: list[RunRecord],
        current: str | None = None,
        *,
        clock: Callable[[], float] = time.time,
        metaflow_runs: Callable[[], list[RunRecord]] | None = None,
    ) -> None:
        super().__init__()
        self.clock = clock
        self.flow = flow
        self.runs = runs
        self.current = current
        self.metaflow_runs = metaflow_runs

    def compose(self) -> ComposeResult:
        with Vertical(id="history-box", classes="dialog"):
            yield Static(Text(self.title_text(), style="bold"), classes="dialog-title")
            yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
            reading = "reading Metaflow's runs beside the file…" if self.metaflow_runs else ""
            yield Static(Text(reading, style="italic"), id="history-note")
            yield Static(Text("enter opens a run · esc closes", style="dim"), id="history-hint")

    def title_text(self) -> str:
        return f"Runs of {self.flow}" if self.runs else f"{self.flow} has no runs yet"

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label in ("run", "status", "took", "started", "kind", "parameters"):
            table.add_column(label, key=label)
        self.fill_table(self.current)
        table.focus()
        self.query_one("#history-note", Static).display = self.metaflow_runs is not None
        if self.metaflow_runs is not None:
            self.read_metaflow_runs(self.metaflow_runs)

    def fill_table(self, current: str | None) -> None:
        """(Re)draw the rows, newest first, the cursor on run key `current`."""
        table = self.query_one(DataTable)
        table.clear()
        now = self.clock()
        for run in self.runs:
            table.add_row(*describe_run(run, now), key=run_key(run))
        keys = [run_key(run) for run in self.runs]
        if current in keys:
            table.move_cursor(row=keys.index(current))

    @work(thread=True, exclusive=True, group="metaflow-runs", exit_on_error=False)
    def read_metaflow_runs(self, read: Callable[[], list[RunRecord]]) -> None:
        try:
            self.post_message(self._MoreRuns(read()))
        except FlowtuiError as e:
            self.post_message(self._MoreRuns([], str(e)))
        except Exception as e:  # Metaflow's own errors: say so, keep flowtui's runs
            self.post_message(
                self._MoreRuns([], f"Metaflow's runs could not be read ({type(e).__name__}: {e}).")
            )

    @on(_MoreRuns)
    def on_more_runs(self, message: _MoreRuns) -> None:
        table = self.query_one(DataTable)
        keys = [run_key(run) for run in self.runs]
        at = keys[table.cursor_row] if 0 <= table.cursor_row < len(keys) else self.current
        self.runs = sorted([*self.runs, *message.runs], key=lambda r: r.created, reverse=True)
        self.fill_table(at)
        self.query_one(".dialog-title", Static).update(Text(self.title_text(), style="bold"))
        note = self.query_one("#history-note", Static)
        note.update(Text(message.error, style="italic"))
        note.display = bool(message.error)

    @on(DataTable.RowSelected)
    def on_row_selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(str(event.row_key.value) if event.row_key.value is not None else None)

    def action_close(self) -> None:
        self.dismiss(None)
