"""The resume plan: which of a past run's tasks a resume reuses, and which steps run again.

Pure functions of the flow's graph and the past run's stored tasks, so `flowtui resume`, its
`--plan` and the TUI's plan drawn on the DAG all come from this one place. Tasks are matched
across runs by their step and their place in splits and foreach fan-outs, never by task id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowtui.errors import UsageError
from flowtui.graph.model import FlowGraph
from flowtui.run.status import OK_STORED
from flowtui.store.records import RunRecord, TaskRecord


@dataclass(frozen=True)
class StepPlan:
    """What a resume does with one step: its origin tasks reused, of how many."""

    step: str
    action: str  # "clone" (all reused), "partial" (some reused), "rerun"
    reused: int
    total: int  # tasks the origin run had for the step (0: never reached)


@dataclass(frozen=True)
class ResumePlan:
    origin_run_id: str
    resume_step: str
    steps: tuple[StepPlan, ...]  # in the graph's order

    def _named(self, action: str) -> tuple[str, ...]:
        return tuple(s.step for s in self.steps if s.action == action)

    @property
    def clone(self) -> tuple[str, ...]:
        """Steps whose tasks are all reused."""
        return self._named("clone")

    @property
    def partial(self) -> tuple[str, ...]:
        """Steps where some tasks are reused and the rest run again."""
        return self._named("partial")

    @property
    def rerun(self) -> tuple[str, ...]:
        """Steps that run again (or for the first time)."""
        return self._named("rerun")

    @property
    def tasks_reused(self) -> int:
        return sum(s.reused for s in self.steps)

    @property
    def tasks_rerun(self) -> int:
        """Tasks of the origin run that run again (steps never reached add theirs later)."""
        return sum(s.total - s.reused for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "origin_run_id": self.origin_run_id,
            "resume_step": self.resume_step,
            "clone": list(self.clone),
            "partial": list(self.partial),
            "rerun": list(self.rerun),
            "reused": {s.step: [s.reused, s.total] for s in self.steps if s.total},
        }


def task_place(task: TaskRecord) -> tuple[tuple[str, int], ...]:
    """Where a task sits in splits and foreach fan-outs: what identifies it across runs."""
    return tuple((str(f[1]), int(f[2])) for f in task.frames)


def choose_origin(runs: list[RunRecord], flow: str, origin_run_id: str | None) -> RunRecord:
    """The run to resume among `flow`'s `runs` (newest first): the one asked for, else the
    latest that is not a spin. A running run, or a spin, cannot be resumed."""
    if origin_run_id is not None:
        run = next((r for r in runs if r.run_id == str(origin_run_id)), None)
        if run is None:
            ids = ", ".join(r.run_id for r in runs[:10]) or "none yet"
            raise UsageError(f"{flow} has no run {origin_run_id}; its latest runs are: {ids}.")
        if run.kind == "spin":
            raise UsageError(
                f"Run {run.run_id} is a spin of step '{run.resume_step}' only; resume the run "
                f"it started from instead (--origin-run-id {run.origin_run_id})."
            )
    else:
        candidates = [r for r in runs if r.kind != "spin"]
        if not candidates:
            raise UsageError(f"{flow} has no run to resume yet; start one with flowtui run FILE.")
        run = candidates[0]
    if run.status == "running":
        raise UsageError(
            f"Run {run.run_id} of {flow} is still running; wait for it to finish or cancel it "
            "(Ctrl-C in its terminal), then resume it."
        )
    return run


def reusable_tasks(
    graph: FlowGraph, tasks: list[TaskRecord], forced: set[str]
) -> dict[str, TaskRecord]:
    """The origin's tasks that a resume may clone, by task id.

    A task is reusable when it succeeded, its step still exists and is not forced to re-run,
    and each of its parents is reusable and still leads to its step in the current file. So a
    task whose input will be computed afresh (a step inserted above it, a branch re-wired, an
    upstream step re-run) runs again too, whatever its own status was.
    """
    leads_to = {s.name: set(s.next) for s in graph}  # a step -> the steps it leads to now
    ok: dict[str, TaskRecord] = {}
    for t in sorted(tasks, key=lambda t: int(t.task_id)):  # parents have smaller ids
        if t.status not in OK_STORED or t.step not in leads_to or t.step in forced:
            continue
        for p in t.parents:
            parent = ok.get(p)  # reusable ones only (so present, succeeded, step still there)
            if parent is None or t.step not in leads_to[parent.step]:
                break
        else:
            ok[t.task_id] = t
    return ok


def forced_steps(graph: FlowGraph, step: str | None) -> set[str]:
    """The steps an explicit resume STEP forces to run again: it and all below it."""
    if step is None:
        return set()
    if step not in graph:
        names = ", ".join(s.name for s in graph)
        raise UsageError(f"{graph.flow_name} has no step '{step}'; its steps are: {names}.")
    return graph.descendants(step)


def plan_resume(
    graph: FlowGraph,
    origin: RunRecord,
    tasks: list[TaskRecord],
    step: str | None,
    reusable: dict[str, TaskRecord] | None = None,
) -> ResumePlan:
    """Decide the resume step and which steps are cloned, partly cloned, or re-run.

    Without `step`, the resume step is the first step that did not fully succeed, and every
    succeeded task is reused, so in a foreach only the failed and never-started items re-run.
    `reusable`: `reusable_tasks` of the same arguments, when the caller has it already.
    """
    if reusable is None:
        reusable = reusable_tasks(graph, tasks, forced_steps(graph, step))
    by_step: dict[str, list[TaskRecord]] = {}
    for t in tasks:
        by_step.setdefault(t.step, []).append(t)
    if step is not None:
        resume_step = step
    else:
        first = next(
            (
                s.name
                for s in graph
                if not by_step.get(s.name)
                or any(t.task_id not in reusable for t in by_step[s.name])
            ),
            None,
        )
        if first is None:
            raise UsageError(
                f"Run {origin.run_id} of {graph.flow_name} succeeded, so there is nothing to "
                "resume; name a STEP to re-run from it, or start a new run."
            )
        resume_step = first
    after_resume_step = graph.descendants(resume_step)
    steps = []
    for s in graph:
        mine = by_step.get(s.name, [])
        kept = sum(1 for t in mine if t.task_id in reusable)
        if not kept:
            action = "rerun"
        elif kept == len(mine) and s.name not in after_resume_step:
            action = "clone"
        else:
            action = "partial"
        steps.append(StepPlan(s.name, action, kept, len(mine)))
    return ResumePlan(origin.run_id, resume_step, tuple(steps))
