"""A resume plan as text for the terminal: each step, what a resume does with it, and why;
and the warning when it would reuse steps whose code changed since the run it resumes."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from flowtui.client.runs import RunReader
from flowtui.errors import UsageError
from flowtui.graph.model import FlowGraph
from flowtui.run.changes import CodeChanges
from flowtui.run.plan import ResumePlan

_STYLES = {"reuse": "green", "reuse some": "yellow", "run": "cyan"}


def plan_with_changes(
    store: str | Path | None,
    graph: FlowGraph,
    source: str,
    origin_run_id: str | None,
    step: str | None,
) -> tuple[ResumePlan, CodeChanges]:
    """The plan for resuming `graph`'s flow (the file's current `source`), and what changed."""
    reader = RunReader(store)
    try:
        if reader.root is None:
            raise UsageError(f"{graph.flow_name} has no run to resume yet; run it first.")
        return reader.plan_with_changes(graph, source, origin_run_id, step)
    finally:
        reader.close()


def plan_text(flow: str, plan: ResumePlan, changes: CodeChanges) -> Text:
    text = Text.assemble(
        "Resuming ",
        (f"{flow}/{plan.origin_run_id}", "bold"),
        " from step ",
        (plan.resume_step, "bold cyan"),
        ":",
    )
    width = max((len(step) for step, _, _ in changes.reasons), default=0)
    for step, action, reason in changes.reasons:
        style = "bold yellow" if step in changes.cloned_changed else _STYLES[action]
        text.append(f"\n  {step:<{width}}  ")
        text.append(f"{action:<10}", style)
        text.append(f" {reason}")
    return text


def changed_warning(file: str, changes: CodeChanges) -> Text | None:
    """Which changed steps a resume would clone, and the command that runs their new code."""
    if not changes.cloned_changed:
        return None
    steps = ", ".join(changes.cloned_changed)
    verb = "has" if len(changes.cloned_changed) == 1 else "have"
    return Text.assemble(
        ("✎ changed: ", "bold yellow"),
        f"{steps} {verb} new code since that run but would be reused (cloned); to run the "
        "new code, resume from there: ",
        (f"flowtui resume {file} {changes.earliest}", "bold"),
    )
