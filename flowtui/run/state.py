"""A run as far as it is known: folded from the event stream, or read back from the store.

`RunState.apply(event)` follows a live run; `RunState.from_store(...)` rebuilds the same state
from what the store holds, so a run watched live and a run opened later look the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

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
from flowtui.store.records import AttemptRecord, RunRecord, TaskRecord


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

    def elapsed(self, now: float) -> float | None:
        """Seconds it ran (until `now` while it runs); None before it started."""
        if self.started is None:
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
        )


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
    tasks: dict[str, TaskState] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)  # step -> foreach task count
    notices: list[str] = field(default_factory=list)
    source: str = "flowtui"  # which engine made it: flowtui, or metaflow (read through its client)

    @property
    def pathspec(self) -> str:
        return f"{self.flow}/{self.run_id}"

    def step_tasks(self, step: str) -> list[TaskState]:
        return [t for t in self.tasks.values() if t.step == step]

    def elapsed(self, now: float) -> float | None:
        if self.started is None:
            return None
        return (self.finished if self.finished is not None else now) - self.started

    def counts(self) -> dict[TaskStatus, int]:
        """How many tasks are in each status."""
        counts = dict.fromkeys(TaskStatus, 0)
        for task in self.tasks.values():
            counts[task.status] += 1
        return counts

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
