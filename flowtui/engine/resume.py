"""Resume: a new run that reuses what an earlier run already computed.

Tasks are matched across runs by their step and their place in splits and foreach fan-outs
(`PendingTask.path`), never by task id. A task that succeeded in the origin run is cloned (its
artifacts and logs referenced, nothing copied) unless its step is the resume step or
downstream of it, or its inputs will not be the same (a parent that re-runs, or a parent step
that no longer leads to it in the current file); everything else runs with the file's current
code.

Without an explicit step, the resume step is the first step that did not fully succeed, and
every succeeded task is reused, so in a foreach only the failed and never-started items re-run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowtui.engine.scheduler import PendingTask
from flowtui.errors import UsageError
from flowtui.graph.model import FlowGraph
from flowtui.store import RunRecord, Store, TaskRecord

_OK = ("succeeded", "cloned")


@dataclass(frozen=True)
class ResumePlan:
    origin_run_id: str
    resume_step: str
    clone: tuple[str, ...]  # steps whose tasks are all reused
    partial: tuple[str, ...]  # steps where some tasks are reused and the rest re-run
    rerun: tuple[str, ...]  # steps that run again (or for the first time)
    # (step, tasks reused, tasks the origin run had) for every step that had tasks
    reused: tuple[tuple[str, int, int], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "origin_run_id": self.origin_run_id,
            "resume_step": self.resume_step,
            "clone": list(self.clone),
            "partial": list(self.partial),
            "rerun": list(self.rerun),
            "reused": {step: [kept, total] for step, kept, total in self.reused},
        }


def _task_path(task: TaskRecord) -> tuple[tuple[str, int], ...]:
    return tuple((str(f[1]), int(f[2])) for f in task.frames)


def find_origin(store: Store, flow: str, origin_run_id: str | None) -> RunRecord:
    """The run to resume: the one asked for, else the flow's latest (spins are not runs).

    A run that is still running cannot be resumed (its tasks are not done yet), nor can a spin
    (it ran a single step; its origin run is the one to resume).
    """
    meta = store.meta
    if origin_run_id is not None:
        run = meta.run(origin_run_id)
        if run is None or run.flow != flow:
            ids = ", ".join(r.run_id for r in meta.runs(flow)[:10]) or "none yet"
            raise UsageError(f"{flow} has no run {origin_run_id}; its latest runs are: {ids}.")
        if run.kind == "spin":
            raise UsageError(
                f"Run {run.run_id} is a spin of step '{run.resume_step}' only; resume the run "
                f"it started from instead (--origin-run-id {run.origin_run_id})."
            )
    else:
        runs = [r for r in meta.runs(flow) if r.kind != "spin"]
        if not runs:
            raise UsageError(f"{flow} has no run to resume yet; start one with flowtui run FILE.")
        run = runs[0]
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
    by_id = {t.task_id: t for t in tasks}
    ok: dict[str, TaskRecord] = {}
    for t in sorted(tasks, key=lambda t: int(t.task_id)):  # parents have smaller ids
        if t.status not in _OK or t.step not in graph or t.step in forced:
            continue
        parents = [by_id.get(p) for p in t.parents]
        if all(
            p is not None and p.task_id in ok and p.step in graph and t.step in graph[p.step].next
            for p in parents
        ):
            ok[t.task_id] = t
    return ok


def plan_resume(
    graph: FlowGraph, origin: RunRecord, tasks: list[TaskRecord], step: str | None
) -> ResumePlan:
    """Decide the resume step and which steps are cloned, partly cloned, or re-run."""
    if step is not None:
        if step not in graph:
            names = ", ".join(s.name for s in graph)
            raise UsageError(f"{graph.flow_name} has no step '{step}'; its steps are: {names}.")
        forced = graph.descendants(step)
    else:
        forced = set()
    reusable = reusable_tasks(graph, tasks, forced)
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
    clone, partial, rerun = [], [], []
    counts = []
    for s in graph:
        mine = by_step.get(s.name, [])
        kept = [t for t in mine if t.task_id in reusable]
        if mine:
            counts.append((s.name, len(kept), len(mine)))
        if not kept:
            rerun.append(s.name)
        elif len(kept) == len(mine) and s.name not in after_resume_step:
            clone.append(s.name)
        else:
            partial.append(s.name)
    return ResumePlan(
        origin.run_id, resume_step, tuple(clone), tuple(partial), tuple(rerun), tuple(counts)
    )


@dataclass
class ResumeSource:
    """The origin run's reusable tasks, consulted by the runner for every ready task."""

    origin: RunRecord
    requested_step: str | None
    tasks: list[TaskRecord]
    step: str | None = None
    plan: ResumePlan | None = None
    _index: dict[tuple[str, tuple[tuple[str, int], ...]], TaskRecord] = field(default_factory=dict)
    _parent_steps: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def open(
        cls, store: Store, flow: str, origin_run_id: str | None, step: str | None
    ) -> ResumeSource:
        origin = find_origin(store, flow, origin_run_id)
        return cls(origin, step, store.meta.tasks(origin.run_id))

    @property
    def params(self) -> dict[str, Any]:
        return self.origin.params

    def bind(self, graph: FlowGraph) -> ResumePlan:
        self.plan = plan_resume(graph, self.origin, self.tasks, self.requested_step)
        self.step = self.plan.resume_step
        forced = graph.descendants(self.step) if self.requested_step else set()
        reusable = reusable_tasks(graph, self.tasks, forced)
        self._parent_steps = {
            t.task_id: tuple(reusable[p].step for p in t.parents) for t in reusable.values()
        }
        self._index = {(t.step, _task_path(t)): t for t in reusable.values()}
        return self.plan

    def match(self, pending: PendingTask) -> TaskRecord | None:
        """The origin task to clone for `pending`, if it may be reused.

        The task in the same place (step and split/foreach indices) must be reusable and have
        come from the same parent steps, in the same order, as `pending` does now.
        """
        origin = self._index.get((pending.step, pending.path))
        if origin is None or self._parent_steps[origin.task_id] != pending.parent_steps:
            return None
        return origin
