"""A run as far as it is known: folded from the event stream, or read back from the store.

`RunState.apply(event)` follows a live run; `RunState.from_store(...)` rebuilds the same state
from what the store holds, so a run watched live and a run opened later look the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from flowtui.run.events import (
    Event,
    Notice,
    RunFinished,
    RunStarted,
    StepExpanded,
    TaskCloned,
    TaskFailed,
    TaskFinished,
    TaskStarted,
    TaskUsage,
    TaskWaiting,
)
from flowtui.run.status import RunStatus, TaskError, TaskStatus
from flowtui.run.usage import Usage
from flowtui.run.where import node_label
from flowtui.store.records import NOT_RUN, AttemptRecord, RunRecord, TaskRecord


@dataclass(frozen=True)
class TaskState:
    """What is known of one task of a run."""

    pathspec: str
    step: str
    task_id: str
    status: TaskStatus
    attempt: int = 0
    index: int | None = None  # foreach index
    stdout: str | None = None  # log files of the current (or last) attempt
    stderr: str | None = None
    started: float | None = None
    finished: float | None = None
    error: TaskError | None = None
    origin_pathspec: str | None = None  # a cloned task: the task it reuses
    node: str = ""  # the node it ran on, when not on this machine (run.where.node_label)
    waiting: bool = False  # stopped at breakpoint(), waiting for a debugger to attach
    usage: Usage | None = None  # the latest live sample, while it runs (local runs on Linux)
    peak: Usage | None = None  # the most memory seen so far (running), or the stored peak
    not_run: bool = False  # pending in a run that has ended: it never started and never will

    def elapsed(self, now: float) -> float | None:
        """Seconds it ran (until `now` while it runs); None before it started, and when it
        ended without an end time (its runner died): not the time since it started."""
        if self.started is None or (self.finished is None and self.status.done):
            return None
        return (self.finished if self.finished is not None else now) - self.started

    @property
    def label(self) -> str:
        """`start/1`, or `train[3]/12` for a foreach task: how the CLI names a task."""
        suffix = f"[{self.index}]" if self.index is not None else ""
        return f"{self.step}{suffix}/{self.task_id}"

    @classmethod
    def from_store(cls, record: TaskRecord, last: AttemptRecord | None) -> TaskState:
        reason = record.exit_reason or (last.exit_reason if last else None)
        error = TaskError.from_json(record.error or (last.error if last else None), reason)
        return cls(
            pathspec=record.pathspec,
            step=record.step,
            task_id=record.task_id,
            status=TaskStatus.of(record.status, reason),
            attempt=last.attempt if last else max(0, record.attempts - 1),
            index=record.foreach_index,
            stdout=last.stdout if last else None,
            stderr=last.stderr if last else None,
            started=record.started,
            finished=record.finished,
            error=error,
            origin_pathspec=record.origin_pathspec,
            not_run=record.status == NOT_RUN,
        )


def _ran(task: TaskState) -> bool:
    """The task ran in this run (started, and not reused from another run)."""
    return task.started is not None and task.status is not TaskStatus.CLONED


def _retry(task: TaskState) -> int:
    """The retry a task is on (0: its first try, or not retrying)."""
    if task.status is TaskStatus.RETRYING:
        return task.attempt + 1
    return task.attempt if task.status is TaskStatus.RUNNING else 0


class StepTally:
    """One step's tasks, counted as they change (`TaskTable` keeps one per step): how many are
    in each status, the retries under way, and the first start and last end of the tasks that
    ran. What a step's summary, the header and the tally above the task list show, without
    walking 10,000 tasks on every batch of events."""

    __slots__ = ("_first", "_last", "_stale", "counts", "retries", "tasks", "waiting")

    def __init__(self) -> None:
        self.tasks: dict[str, TaskState] = {}  # pathspec -> task, in the order first seen
        self.counts: dict[TaskStatus, int] = dict.fromkeys(TaskStatus, 0)
        self.retries: dict[str, int] = {}  # pathspec -> its retry, for tasks retrying
        self.waiting: set[str] = set()  # the running tasks stopped at breakpoint()
        self._first: float | None = None
        self._last: float | None = None
        self._stale = False  # a task that set _first or _last changed: recount on demand

    def put(self, old: TaskState | None, task: TaskState | None) -> None:
        """Task `old` (None: new) is now `task` (None: gone)."""
        if old is not None:
            self.counts[old.status] -= 1
            self.retries.pop(old.pathspec, None)
            self.waiting.discard(old.pathspec)
            if _ran(old) and not self._stale:
                kept = task is not None and _ran(task)
                first = old.started == self._first
                last = old.finished is not None and old.finished == self._last
                if first and not (kept and task.started == old.started):  # type: ignore[union-attr]
                    self._stale = True
                if last and not (kept and task.finished == old.finished):  # type: ignore[union-attr]
                    self._stale = True
        if task is None:
            if old is not None:
                del self.tasks[old.pathspec]
            return
        self.tasks[task.pathspec] = task
        self.counts[task.status] += 1
        if (retry := _retry(task)) > 0:
            self.retries[task.pathspec] = retry
        if task.waiting and task.status is TaskStatus.RUNNING:
            self.waiting.add(task.pathspec)
        if not self._stale and _ran(task):
            started, finished = task.started, task.finished
            if self._first is None or (started is not None and started < self._first):
                self._first = started
            if finished is not None and (self._last is None or finished > self._last):
                self._last = finished

    @property
    def span(self) -> tuple[float | None, float | None]:
        """The first start and the last end of the tasks that ran (None: none did, or none
        has ended)."""
        if self._stale:
            ran = [t for t in self.tasks.values() if _ran(t)]
            self._first = min((t.started for t in ran if t.started is not None), default=None)
            self._last = max((t.finished for t in ran if t.finished is not None), default=None)
            self._stale = False
        return self._first, self._last

    @property
    def ran(self) -> bool:
        return self.span[0] is not None

    @property
    def active(self) -> int:
        return self.counts[TaskStatus.RUNNING] + self.counts[TaskStatus.RETRYING]

    def __len__(self) -> int:
        return len(self.tasks)

    @classmethod
    def of(cls, tasks: Iterable[TaskState]) -> StepTally:
        tally = cls()
        for task in tasks:
            tally.put(tally.tasks.get(task.pathspec), task)
        return tally


class TaskTable(dict[str, TaskState]):
    """A run's tasks by pathspec (a dict), with a `StepTally` per step kept as tasks are set,
    replaced or removed."""

    def __init__(self, tasks: Mapping[str, TaskState] | Iterable[Any] = (), /) -> None:
        super().__init__()
        self.steps: dict[str, StepTally] = {}
        self.update(tasks)

    def step(self, name: str) -> StepTally:
        """The tally of step `name` (an empty one when it has no task yet)."""
        return self.steps.get(name) or StepTally()

    def _put(self, old: TaskState | None, task: TaskState | None) -> None:
        if old is not None and (task is None or task.step != old.step):
            self.steps[old.step].put(old, None)
            old = None
        if task is not None:
            tally = self.steps.get(task.step)
            if tally is None:
                tally = self.steps[task.step] = StepTally()
            tally.put(old, task)

    def __setitem__(self, pathspec: str, task: TaskState) -> None:
        self._put(self.get(pathspec), task)
        super().__setitem__(pathspec, task)

    def __delitem__(self, pathspec: str) -> None:
        self._put(self[pathspec], None)
        super().__delitem__(pathspec)

    def pop(self, pathspec: str, *default: Any) -> Any:
        if pathspec in self:
            self._put(self[pathspec], None)
        return super().pop(pathspec, *default)

    def popitem(self) -> tuple[str, TaskState]:
        pathspec, task = super().popitem()
        self._put(task, None)
        return pathspec, task

    def setdefault(self, pathspec: str, task: TaskState) -> TaskState:
        if pathspec not in self:
            self[pathspec] = task
        return self[pathspec]

    def update(self, *others: Any, **more: TaskState) -> None:
        for other in (*others, more):
            items = other.items() if isinstance(other, Mapping) else other
            for pathspec, task in items:
                self[pathspec] = task

    def clear(self) -> None:
        super().clear()
        self.steps.clear()

    def __ior__(self, other: Any) -> TaskTable:  # type: ignore[override,misc]
        self.update(other)
        return self

    def copy(self) -> TaskTable:
        return TaskTable(self)

    def __reduce__(self) -> tuple[type[TaskTable], tuple[dict[str, TaskState]]]:
        return TaskTable, (dict(self),)  # (copy and pickle count the tasks afresh)


@dataclass
class RunState:
    """A run as the event stream (or the store) has told it so far."""

    flow: str = ""
    run_id: str = ""
    store: str = ""
    status: RunStatus = RunStatus.RUNNING
    started: float | None = None
    finished: float | None = None
    origin_run_id: str | None = None
    failed: str | None = None  # pathspec of the first task that failed for good (not cancelled)
    tasks: TaskTable = field(default_factory=TaskTable)  # a dict, with per-step tallies
    expected: dict[str, int] = field(default_factory=dict)  # step -> foreach task count
    notices: list[str] = field(default_factory=list)
    source: str = "flowtui"  # which engine made it: flowtui, or metaflow (read through its client)

    def __post_init__(self) -> None:
        if not isinstance(self.tasks, TaskTable):  # given a plain dict
            self.tasks = TaskTable(self.tasks)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "tasks" and not isinstance(value, TaskTable):
            value = TaskTable(value)
        super().__setattr__(name, value)

    @property
    def pathspec(self) -> str:
        return f"{self.flow}/{self.run_id}"

    def step_tasks(self, step: str) -> list[TaskState]:
        return list(self.tasks.step(step).tasks.values())

    def step_tally(self, step: str) -> StepTally:
        """Step `step`'s tasks and their counts (kept as events fold: no walk over the run)."""
        return self.tasks.step(step)

    def elapsed(self, now: float) -> float | None:
        """Seconds the run took (until `now` while it runs); None when it ended without an
        end time (crashed: `flowtui runs` says "—"), never the time since it started."""
        if self.started is None or (self.finished is None and self.status.done):
            return None
        return (self.finished if self.finished is not None else now) - self.started

    def counts(self) -> dict[TaskStatus, int]:
        """How many tasks are in each status."""
        counts = dict.fromkeys(TaskStatus, 0)
        for tally in self.tasks.steps.values():
            for status, n in tally.counts.items():
                counts[status] += n
        return counts

    def waiting(self) -> int:
        """How many running tasks are stopped at `breakpoint()`, waiting for a debugger."""
        return sum(len(tally.waiting) for tally in self.tasks.steps.values())

    def apply(self, event: Event) -> RunState:
        """Fold one event into this state (mutated and returned)."""
        if isinstance(event, RunStarted):
            self.flow, self.run_id, self.store = event.flow, event.run_id, event.store
            self.origin_run_id = event.origin_run_id
            self.started = event.ts
        elif isinstance(event, Notice):
            self.notices.append(event.message)
        elif isinstance(event, StepExpanded):
            self.expected[event.step] = event.count
        elif isinstance(event, (TaskStarted, TaskCloned, TaskFinished, TaskFailed)):
            self.tasks[event.pathspec] = self._task(event)
        elif isinstance(event, TaskWaiting) and event.pathspec in self.tasks:
            task = self.tasks[event.pathspec]
            self.tasks[event.pathspec] = replace(task, waiting=event.waiting)
        elif isinstance(event, TaskUsage) and event.pathspec in self.tasks:
            task = self.tasks[event.pathspec]
            if task.status is TaskStatus.RUNNING and task.attempt == event.attempt:
                peak = task.peak
                if peak is None or event.rss >= peak.rss:
                    peak = Usage(event.rss, event.cpu_time)
                else:
                    peak = Usage(peak.rss, event.cpu_time)
                self.tasks[event.pathspec] = replace(task, usage=event.usage, peak=peak)
        elif isinstance(event, RunFinished):
            self.status = event.status
            self.finished = event.ts
            self.failed = event.failed or self.failed
        return self

    def _task(self, event: TaskStarted | TaskCloned | TaskFinished | TaskFailed) -> TaskState:
        index = event.index if isinstance(event, (TaskStarted, TaskCloned)) else None
        prev = self.tasks.get(event.pathspec) or TaskState(
            event.pathspec, event.step, event.task_id, TaskStatus.PENDING, index=index
        )
        if isinstance(event, TaskStarted):
            return replace(
                prev,
                status=TaskStatus.RUNNING,
                attempt=event.attempt,
                stdout=event.stdout,
                stderr=event.stderr,
                started=prev.started if prev.started is not None else event.ts,
                finished=None,
                usage=None,
                peak=None,
            )
        if isinstance(event, TaskCloned):
            return replace(
                prev,
                status=TaskStatus.CLONED,
                origin_pathspec=event.origin_pathspec,
                started=event.ts,
                finished=event.ts,
            )
        ended = replace(prev, usage=None, peak=event.peak or prev.peak, node=event.node)
        if isinstance(event, TaskFinished):
            return replace(ended, status=TaskStatus.SUCCEEDED, finished=event.ts, error=None)
        if event.will_retry:
            return replace(ended, status=TaskStatus.RETRYING, error=event.error)
        status = TaskStatus.CANCELLED if event.error.cancelled else TaskStatus.FAILED
        if status is TaskStatus.FAILED and self.failed is None:
            self.failed = event.pathspec
        return replace(ended, status=status, finished=event.ts, error=event.error)

    @classmethod
    def from_store(
        cls,
        run: RunRecord,
        tasks: list[TaskRecord],
        last_attempts: dict[str, AttemptRecord],
        store: str,
        metadata: dict[str, dict[str, str]] | None = None,
    ) -> RunState:
        """The run as the store holds it (`last_attempts`: each task's latest attempt;
        `metadata`: the fields recorded for each task's latest finished attempt: where it
        ran, its peak usage)."""
        state = cls(
            flow=run.flow,
            run_id=run.run_id,
            store=store,
            status=RunStatus.of(run.status),
            started=run.created,
            finished=run.finished,
            origin_run_id=run.origin_run_id,
            notices=[run.error] if run.error else [],  # the runner's last word on the run
        )
        for record in tasks:
            task = TaskState.from_store(record, last_attempts.get(record.task_id))
            fields = (metadata or {}).get(record.task_id)
            if fields:
                peak = None if task.status is TaskStatus.RUNNING else Usage.from_metadata(fields)
                task = replace(task, node=node_label(fields), peak=peak)
            state.tasks[task.pathspec] = task
            if task.status is TaskStatus.FAILED and state.failed is None:
                state.failed = task.pathspec
        return state
