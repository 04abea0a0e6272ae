"""The help screen (`?`): what the keys do and how the loop goes."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, str], ...] = (
    ("r", "Run the flow (asks for parameters first when it has any)"),
    ("R", "Resume the last run from the selected step (shows the plan, then asks)"),
    ("x / ctrl+c", "Cancel the live run, wherever it was started"),
    ("↑ ↓ / k j", "Select a parent / a child step"),
    ("← → / h l", "Select a sibling step in the same layer"),
    ("g G / home end", "Select the first / the last step"),
    (":", "Go to a step by typing part of its name"),
    ("f / F", "Select the next / the previous failed task of the run"),
    ("o / v", "Task list: order by index, state or duration / show only one state"),
    ("tab", "Move focus between the DAG, the task list and the logs"),
    ("a / enter", "Open the artifacts of the selected task ([ ] page, y copies its load line)"),
    ("D", "Debug the failed task in pdb (or attach at its breakpoint())"),
    ("e", "Open $EDITOR at the failure, the step's def or the problem"),
    ("d", "Compare the task's artifacts with the same task in another run"),
    ("s", "Spin the task's step with its inputs and the current code"),
    ("c", "Open the cards (@card) of the selected task, live while it runs"),
    ("/ n N", "Search the logs from anywhere (the log's border counts the matches)"),
    ("&", "Show only the log lines holding a term (empty shows all)"),
    ("end", "In the logs: follow the tail again"),
    ("T", "The run's timeline (its tasks by step) in place of the DAG"),
    ("z / esc", "Zoom the focused pane (DAG, task list, logs) / back"),
    ("< >", "Move the split between the DAG and the detail"),
    ("ctrl+p", "Command palette: run, resume, go to step, artifacts, run history"),
    ("t", "Switch between the dark and the light theme"),
    ("w", "Where the next run's tasks run: local processes or Ray (kept per flow)"),
    ("?", "This help"),
    ("q", "Quit (while our run is live: stop it, or leave it running)"),
)

LOOP = (
    "Edit the flow file in any editor and save: the DAG redraws at once. An error is listed "
    "with its line, and the last good DAG stays on screen, dimmed, until the file is fixed. "
    "Press r to run; steps light up as their tasks start and finish. When a step fails, select "
    "it to see its traceback and logs, fix the code, save, then press R on it: every task that "
    "succeeded before it is reused, the rest runs again."
)


def help_text() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for keys, what in KEYS:
        table.add_row(keys, what)
    return table


class HelpScreen(ModalScreen[None]):
    """Key bindings and the edit-run-fix-resume loop, in one page."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Text("flowtui — keys", style="bold"), id="help-title")
            yield Static(help_text(), id="help-keys")
            yield Static(Text(LOOP), id="help-loop")
            yield Static(Text("esc closes this page", style="dim"), id="help-close")
