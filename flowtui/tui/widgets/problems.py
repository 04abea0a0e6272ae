"""The problems panel: what is wrong with the flow file, each with its line."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from flowtui.graph.model import Problem


def describe_problems(file: str, problems: Sequence[Problem]) -> Text:
    """One line per problem, errors first: `✖ flow.py:12: message`."""
    text = Text()
    ordered = sorted(problems, key=lambda p: (p.severity != "error", p.line))
    for number, problem in enumerate(ordered):
        if number:
            text.append("\n")
        is_error = problem.severity == "error"
        text.append("✖ " if is_error else "▲ ", style="bold")
        where = f"{file}:{problem.line}" + (f":{problem.column}" if problem.column else "")
        text.append(where, style="bold")
        text.append(": ")
        text.append(problem.message)  # plain text: a message may quote user code
    return text


class ProblemsPanel(Static):
    """Hidden while the file is fine; lists errors and warnings with their lines otherwise.

    Classes: `-errors` when any problem is an error (the DAG shown is then the last good one),
    `-warnings` when there are only warnings, none when the file is clean (the panel hides).
    """

    DEFAULT_CSS = """
    ProblemsPanel { height: auto; max-height: 12; }
    ProblemsPanel.-clean { display: none; }
    """

    def __init__(self, file: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="-clean")
        self.file = file
        self.problems: tuple[Problem, ...] = ()

    def show(self, problems: Sequence[Problem], note: str = "", detail: str = "") -> None:
        """Show `problems` (empty: hide the panel). `note` is a line shown above them, and
        `detail` (say, the user's traceback) plain text below the note."""
        self.problems = tuple(problems)
        has_errors = any(p.severity == "error" for p in problems)
        self.set_class(not problems and not note, "-clean")
        self.set_class(has_errors or bool(note), "-errors")
        self.set_class(bool(problems) and not has_errors and not note, "-warnings")
        text = Text()
        if note:
            text.append(note, style="bold")
            if detail:
                text.append("\n")
                text.append(detail, style="dim")  # plain: it quotes user code
            if problems:
                text.append("\n")
        text.append_text(describe_problems(self.file, problems))
        self.update(text)
