"""Which tasks become ready when a task finishes: splits, foreach fan-out, joins.

Pure bookkeeping over the static `FlowGraph`; it starts nothing. Every task carries a stack of
`Frame`s, one per enclosing split or foreach. A split or foreach pushes a frame onto its
children; a join waits until every branch of its innermost frame has arrived, then pops it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowtui.graph.model import FlowGraph, StepKind


@dataclass(frozen=True)
class Frame:
    split_task: str  # task id of the split or foreach task that opened this frame
    step: str  # that task's step
    index: int  # which branch (static split) or which item (foreach)
    count: int  # how many branches or items
    foreach: bool

    def to_json(self) -> list[Any]:
        return [self.split_task, self.step, self.index, self.count, self.foreach]

    @classmethod
    def from_json(cls, data: list[Any]) -> Frame:
        return cls(str(data[0]), str(data[1]), int(data[2]), int(data[3]), bool(data[4]))


@dataclass(frozen=True)
class PendingTask:
    """A task that can start now (it gets its id when the runner records it)."""

    step: str
    frames: tuple[Frame, ...]
    parents: tuple[str, ...]  # parent task ids, in input order for a join
    parent_steps: tuple[str, ...]

    @property
    def foreach_index(self) -> int | None:
        """The index of the innermost enclosing foreach (Metaflow's `Task.index`)."""
        for frame in reversed(self.frames):
            if frame.foreach:
                return frame.index
        return None

    @property
    def path(self) -> tuple[tuple[str, int], ...]:
        """Where this task sits, independent of task ids: matches the same task across runs."""
        return tuple((f.step, f.index) for f in self.frames)


@dataclass(frozen=True)
class FinishedTask:
    task_id: str
    step: str
    frames: tuple[Frame, ...]
    foreach_count: int | None = None
    chosen: str | None = None  # a switch: the one step that runs next


@dataclass
class Scheduler:
    graph: FlowGraph
    _waiting: dict[tuple[str, str], dict[int, tuple[str, str]]] = field(default_factory=dict)

    def start(self) -> PendingTask:
        return PendingTask("start", (), (), ())

    def finished(self, task: FinishedTask) -> list[PendingTask]:
        """The tasks that `task` finishing makes ready (in a deterministic order)."""
        node = self.graph[task.step]
        if node.kind is StepKind.END or not node.next:
            return []
        if node.kind is StepKind.FOREACH:
            count = task.foreach_count or 0
            return [
                PendingTask(
                    node.next[0],
                    (*task.frames, Frame(task.task_id, task.step, i, count, True)),
                    (task.task_id,),
                    (task.step,),
                )
                for i in range(count)
            ]
        if node.kind is StepKind.SWITCH:  # only the chosen case runs; no frame opens
            if task.chosen is None:
                return []
            return [PendingTask(task.chosen, task.frames, (task.task_id,), (task.step,))]
        if len(node.next) > 1:
            count = len(node.next)
            return [
                PendingTask(
                    child,
                    (*task.frames, Frame(task.task_id, task.step, i, count, False)),
                    (task.task_id,),
                    (task.step,),
                )
                for i, child in enumerate(node.next)
            ]
        child = node.next[0]
        if not self.graph[child].takes_inputs:
            return [PendingTask(child, task.frames, (task.task_id,), (task.step,))]
        if not task.frames:
            # A join with nothing to join (lint reports this); run it with its one input.
            return [PendingTask(child, (), (task.task_id,), (task.step,))]
        top = task.frames[-1]
        arrived = self._waiting.setdefault((child, top.split_task), {})
        arrived[top.index] = (task.task_id, task.step)
        if len(arrived) < top.count:
            return []
        del self._waiting[(child, top.split_task)]
        ordered = [arrived[i] for i in sorted(arrived)]
        return [
            PendingTask(
                child,
                task.frames[:-1],
                tuple(t for t, _ in ordered),
                tuple(s for _, s in ordered),
            )
        ]
