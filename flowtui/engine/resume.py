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

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flowtui.engine.scheduler import PendingTask
from flowtui.graph.model import FlowGraph
from flowtui.run.plan import (
    ResumePlan,
    choose_origin,
    forced_steps,
    plan_resume,
    reusable_tasks,
    task_place,
)
from flowtui.store import RunRecord, Store, TaskRecord


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a resume builds its bookkeeping.

    Reading a 10,000-task origin and cloning it allocates some 100,000 small containers, none
    in a cycle; the collector would walk every live object again and again meanwhile (~30% of
    the cloning time at 10,000 tasks). Reference counting still frees everything.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def find_origin(store: Store, flow: str, origin_run_id: str | None) -> RunRecord:
    """The run to resume (see `choose_origin`), read from `store`."""
    return choose_origin(store.meta.runs(flow), flow, origin_run_id)


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
        return cls(origin, step, store.meta.resumable_tasks(origin.run_id))

    @property
    def params(self) -> dict[str, Any]:
        return self.origin.params

    def bind(self, graph: FlowGraph) -> ResumePlan:
        reusable = reusable_tasks(graph, self.tasks, forced_steps(graph, self.requested_step))
        self.plan = plan_resume(graph, self.origin, self.tasks, self.requested_step, reusable)
        self.step = self.plan.resume_step
        self._parent_steps = {
            t.task_id: tuple(reusable[p].step for p in t.parents) for t in reusable.values()
        }
        self._index = {(t.step, task_place(t)): t for t in reusable.values()}
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
