"""The runner's event stream (docs/events.md): one typed event per state change.

The runner builds these dataclasses and writes them with `encode_event` as one JSON object per
line; a follower (the TUI, or any program) reads them back with `decode_event`. The JSON is the
documented contract; these classes are its one definition in code.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from flowtui.run.status import RunStatus, TaskError
from flowtui.run.usage import Usage


def _now() -> float:
    return time.time()


@dataclass(frozen=True)
class RunStarted:
    kind: ClassVar[str] = "run_started"
    flow: str
    run_id: str
    store: str  # absolute path of the store
    origin_run_id: str | None = None  # the run a resume reuses
    params: dict[str, str] = field(default_factory=dict)  # name -> short repr
    file: str | None = None  # the flow file
    spin_of: str | None = None  # a spin: the task whose inputs it uses
    ts: float = field(default_factory=_now)

    @property
    def pathspec(self) -> str:
        return f"{self.flow}/{self.run_id}"


@dataclass(frozen=True)
class Notice:
    kind: ClassVar[str] = "notice"
    message: str
    ts: float = field(default_factory=_now)


@dataclass(frozen=True)
class TaskStarted:
    kind: ClassVar[str] = "task_started"
    pathspec: str
    step: str
    task_id: str
    attempt: int
    index: int | None  # foreach index
    stdout: str  # log file paths, being written
    stderr: str
    ts: float = field(default_factory=_now)


@dataclass(frozen=True)
class TaskCloned:
    kind: ClassVar[str] = "task_cloned"
    pathspec: str
    step: str
    task_id: str
    origin_pathspec: str
    index: int | None = None
    ts: float = field(default_factory=_now)


@dataclass(frozen=True)
class TaskFinished:
    kind: ClassVar[str] = "task_finished"
    pathspec: str
    step: str
    task_id: str
    attempt: int
    duration: float
    ts: float = field(default_factory=_now)
    node: str = ""  # where it ran, when not on this machine (run.where.node_label)
    peak_rss: int | None = None  # bytes at the attempt's peak, where measured (run.usage)
    cpu_time: float | None = None  # seconds of CPU it used, where measured

    @property
    def peak(self) -> Usage | None:
        return _peak(self.peak_rss, self.cpu_time)


@dataclass(frozen=True)
class TaskFailed:
    kind: ClassVar[str] = "task_failed"
    pathspec: str
    step: str
    task_id: str
    attempt: int
    will_retry: bool
    error: TaskError  # its reason is the event's `reason`
    ts: float = field(default_factory=_now)
    node: str = ""  # where it ran, when not on this machine (run.where.node_label)
    peak_rss: int | None = None  # bytes at the attempt's peak, where measured (run.usage)
    cpu_time: float | None = None  # seconds of CPU it used, where measured

    @property
    def reason(self) -> str:
        return self.error.reason

    @property
    def peak(self) -> Usage | None:
        return _peak(self.peak_rss, self.cpu_time)


@dataclass(frozen=True)
class TaskUsage:
    """A running task's CPU and memory, sampled from the OS about once a second."""

    kind: ClassVar[str] = "task_usage"
    pathspec: str
    step: str
    task_id: str
    attempt: int
    cpu: float  # percent of one core over the last interval (200: two cores busy)
    rss: int  # bytes resident now (the task's process and its children)
    cpu_time: float  # seconds of CPU used so far
    ts: float = field(default_factory=_now)

    @property
    def usage(self) -> Usage:
        return Usage(self.rss, self.cpu_time, self.cpu)


def _peak(rss: int | None, cpu_time: float | None) -> Usage | None:
    return None if rss is None or cpu_time is None else Usage(rss, cpu_time)


@dataclass(frozen=True)
class TaskWaiting:
    kind: ClassVar[str] = "task_waiting"
    pathspec: str
    step: str
    task_id: str
    index: int | None
    waiting: bool  # stopped at breakpoint() for a debugger (False: one attached, or it went on)
    socket: str  # where `flowtui debug PATHSPEC` attaches
    ts: float = field(default_factory=_now)


@dataclass(frozen=True)
class StepExpanded:
    kind: ClassVar[str] = "step_expanded"
    step: str
    count: int  # tasks a foreach will run for this step
    ts: float = field(default_factory=_now)


@dataclass(frozen=True)
class RunFinished:
    kind: ClassVar[str] = "run_finished"
    flow: str
    run_id: str
    status: RunStatus
    duration: float
    failed: str | None = None  # pathspec of the first task that failed for good
    ts: float = field(default_factory=_now)

    @property
    def pathspec(self) -> str:
        return f"{self.flow}/{self.run_id}"


Event = (
    RunStarted | Notice | TaskStarted | TaskCloned | TaskFinished | TaskFailed | StepExpanded
) | (RunFinished | TaskWaiting | TaskUsage)
EVENT_TYPES: dict[str, type[Any]] = {
    cls.kind: cls
    for cls in (
        RunStarted,
        Notice,
        TaskStarted,
        TaskCloned,
        TaskFinished,
        TaskFailed,
        StepExpanded,
        RunFinished,
        TaskWaiting,
        TaskUsage,
    )
}


def encode_event(event: Event) -> str:
    """One line of the stream (no trailing newline)."""
    data: dict[str, Any] = {"event": event.kind}
    for f in fields(event):
        data[f.name] = getattr(event, f.name)
    if isinstance(event, TaskFailed):
        error = event.error.to_json()
        data["reason"] = error.pop("reason")
        data["error"] = error
    elif isinstance(event, (RunStarted, RunFinished)):
        data["pathspec"] = event.pathspec
        if isinstance(event, RunFinished):
            data["status"] = event.status.value
    return json.dumps(data, default=str)


def decode_event(line: str) -> Event | None:
    """Parse one line; None for a line that is not an event (blank, foreign or malformed)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    cls = EVENT_TYPES.get(str(data.get("event")))
    if cls is None:
        return None
    names = {f.name for f in fields(cls)}
    values = {k: v for k, v in data.items() if k in names}
    if cls is TaskFailed:
        values["error"] = TaskError.from_json(
            data.get("error") or {}, str(data.get("reason") or "")
        )
    elif cls is RunFinished:
        values["status"] = RunStatus.of(str(data.get("status")))
    try:
        return cls(**values)
    except TypeError:  # a field is missing: not an event of this version
        return None
