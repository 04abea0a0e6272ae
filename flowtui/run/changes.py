"""What a resume should know about the code: which steps changed since the run it resumes.

A step that the plan would clone although its code changed is the trap: the new run would
carry the old code's artifacts. Each step of a plan gets a reason (failed, the resume point,
downstream of it, code changed, unchanged and cloned, ...) for `flowtui resume --plan`; the
CLI and the TUI warn about changed steps that would be cloned, and offer to resume from the
earliest of them instead. The fingerprints come from each run's stored flow file text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowtui.graph.fingerprint import changed_steps, file_hash, step_fingerprints
from flowtui.graph.model import FlowGraph
from flowtui.run.plan import ResumePlan
from flowtui.store.records import TaskRecord

#: A step the plan would reuse although its code changed (its DAG state and label).
CHANGED = "changed"
CHANGED_LABEL = "✎ changed"


@dataclass(frozen=True)
class CodeChanges:
    changed: tuple[str, ...]  # steps whose code differs from the origin run's
    file_changed: bool  # the flow file differs at all (helpers, imports, constants count)
    cloned_changed: tuple[str, ...]  # changed steps the plan would still reuse
    earliest: str | None  # the first of those in the flow: resume from it to run the new code
    reasons: tuple[tuple[str, str, str], ...]  # (step, action, reason) in flow order

    def to_json(self) -> dict[str, Any]:
        return {
            "changed": list(self.changed),
            "file_changed": self.file_changed,
            "cloned_changed": list(self.cloned_changed),
            "earliest_changed": self.earliest,
            "reasons": {step: [action, reason] for step, action, reason in self.reasons},
        }


def code_changes(
    graph: FlowGraph,
    plan: ResumePlan,
    origin_source: str,
    current_source: str,
    tasks: list[TaskRecord],
) -> CodeChanges:
    """Compare the origin run's code (`origin_source`, its stored flow file) with the current
    file's, and give each step of `plan` its reason. `tasks` are the origin run's."""
    steps = [s.name for s in graph]
    changed = changed_steps(origin_source, current_source, graph.flow_name, steps)
    reused = set(plan.clone) | set(plan.partial)
    cloned_changed = tuple(s for s in changed if s in reused)
    return CodeChanges(
        tuple(changed),
        bool(origin_source) and file_hash(origin_source) != file_hash(current_source),
        cloned_changed,
        cloned_changed[0] if cloned_changed else None,
        tuple(_reasons(graph, plan, set(changed), tasks, _added(origin_source, graph, changed))),
    )


def _added(origin_source: str, graph: FlowGraph, changed: list[str]) -> set[str]:
    """The changed steps the origin run's code did not have at all (new since)."""
    if not changed:
        return set()
    before = step_fingerprints(origin_source, graph.flow_name)
    return {s for s in changed if s not in before}


def _reasons(
    graph: FlowGraph,
    plan: ResumePlan,
    changed: set[str],
    tasks: list[TaskRecord],
    added: set[str],  # steps the origin run's code did not have
) -> list[tuple[str, str, str]]:
    statuses: dict[str, set[str]] = {}
    for t in tasks:
        statuses.setdefault(t.step, set()).add(t.status)
    downstream = graph.descendants(plan.resume_step) - {plan.resume_step}
    out = []
    for step_plan in plan.steps:
        step = step_plan.step
        note = "; a new step" if step in added else "; its code changed" if step in changed else ""
        if step_plan.action == "clone":
            if step in changed:
                out.append((step, "reuse", "code changed, but cloned (its old results are kept)"))
            else:
                out.append((step, "reuse", "unchanged and cloned"))
            continue
        if step_plan.action == "partial":
            why = (
                f"{step_plan.reused} of {step_plan.total} tasks succeeded and are cloned, "
                "the rest run again"
            )
            out.append((step, "reuse some", why + note))
            continue
        had = statuses.get(step, set())
        if step == plan.resume_step:
            why = "failed" if "failed" in had else "the resume point"
        elif step in downstream:
            why = "downstream of the resume point"
        elif not had:
            why = "never ran in that run"
        elif "failed" in had:
            why = "failed"
        else:
            why = "its inputs are computed again"
        out.append((step, "run", why + note))
    return out
