"""Resume: a new run that reuses what an earlier run already computed.

Tasks are matched across runs by their step and their place in splits and foreach fan-outs
(`PendingTask.path`), never by task id. A task that succeeded in the origin run is cloned (its
artifacts and logs referenced, nothing copied) unless its step is the resume step or
downstream of it; everything else runs with the file's current code.

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

    def to_json(self) -> dict[str, Any]:
        return {
            "origin_run_id": self.origin_run_id,
            "resume_step": self.resume_step,
            "clone": list(self.clone),
            "partial": list(self.partial),
            "rerun": list(self.rerun),
        }


def descendants(graph: FlowGraph, step: str) -> set[str]:
    seen = {step}
    todo = [step]
    while todo:
        for child in graph[todo.pop()].next:
            if child not in seen and child in graph:
                seen.add(child)
                todo.append(child)
    return seen


def _task_path(task: TaskRecord) -> tuple[tuple[str, int], ...]:
    return tuple((str(f[1]), int(f[2])) for f in task.frames)


def find_origin(store: Store, flow: str, origin_run_id: str | None) -> RunRecord:
    meta = store.meta
    if origin_run_id is not None:
        run = meta.run(origin_run_id)
        if run is None or run.flow != flow:
            ids = ", ".join(r.run_id for r in meta.runs(flow)[:10]) or "none yet"
            raise UsageError(f"{flow} has no run {origin_run_id}; its latest runs are: {ids}.")
        return run
    runs = [r for r in meta.runs(flow) if r.kind != "spin"]
    if not runs:
        raise UsageError(f"{flow} has no run to resume yet; start one with flowtui run FILE.")
    return runs[0]


def plan_resume(
    graph: FlowGraph, origin: RunRecord, tasks: list[TaskRecord], step: str | None
) -> ResumePlan:
    """Decide the resume step and which steps are cloned, partly cloned, or re-run."""
    by_step: dict[str, list[TaskRecord]] = {}
    for t in tasks:
        by_step.setdefault(t.step, []).append(t)
    if step is not None:
        if step not in graph:
            names = ", ".join(s.name for s in graph)
            raise UsageError(f"{graph.flow_name} has no step '{step}'; its steps are: {names}.")
        forced = descendants(graph, step)
        resume_step = step
    else:
        forced = set()
        first = next(
            (
                s.name
                for s in graph
                if not by_step.get(s.name) or any(t.status not in _OK for t in by_step[s.name])
            ),
            None,
        )
        if first is None:
            raise UsageError(
                f"Run {origin.run_id} of {graph.flow_name} succeeded, so there is nothing to "
                "resume; name a STEP to re-run from it, or start a new run."
            )
        resume_step = first
    clone, partial, rerun = [], [], []
    for s in graph:
        done = [t for t in by_step.get(s.name, []) if t.status in _OK]
        if s.name in forced or not done:
            rerun.append(s.name)
        elif len(done) == len(by_step[s.name]) and s.name not in descendants(graph, resume_step):
            clone.append(s.name)
        else:
            partial.append(s.name)
    return ResumePlan(origin.run_id, resume_step, tuple(clone), tuple(partial), tuple(rerun))


@dataclass
class ResumeSource:
    """The origin run's reusable tasks, consulted by the runner for every ready task."""

    origin: RunRecord
    requested_step: str | None
    tasks: list[TaskRecord]
    step: str | None = None
    plan: ResumePlan | None = None
    _index: dict[tuple[str, tuple[tuple[str, int], ...]], TaskRecord] = field(default_factory=dict)
    _forced: set[str] = field(default_factory=set)

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
        self._forced = descendants(graph, self.step) if self.requested_step else set()
        self._index = {
            (t.step, _task_path(t)): t for t in self.tasks if t.status in _OK and t.step in graph
        }
        return self.plan

    def match(self, pending: PendingTask) -> TaskRecord | None:
        if pending.step in self._forced:
            return None
        return self._index.get((pending.step, pending.path))
