"""The runner's event stream (docs/events.md): one JSON object per line, one per state change.

The runner writes these with `encode_event`; the TUI reads them with `decode_event`, and folds
them into a `RunState` with `apply_event`. Kept free of any other engine import so a reader
does not pull the engine in.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any


class TaskStatus(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CLONED = "cloned"

    @property
    def done(self) -> bool:
        return self in (TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CLONED)

    @property
    def ok(self) -> bool:
        return self in (TaskStatus.SUCCEEDED, TaskStatus.CLONED)


class RunStatus(str, Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    CRASHED = "crashed"  # the runner died without finishing the run

    @property
    def done(self) -> bool:
        return self is not RunStatus.RUNNING


@dataclass(frozen=True)
class TaskError:
    type: str
    message: str
    traceback: str = ""
    reason: str = "exception"  # exception, signal, exit, timeout, pickle

    def summary(self) -> str:
        return f"{self.type}: {self.message}" if self.message else self.type


def encode_event(event: str, **fields: Any) -> str:
    """One line of the stream (no trailing newline)."""
    return json.dumps({"event": event, "ts": time.time(), **fields}, default=str)


def decode_event(line: str) -> dict[str, Any] | None:
    """Parse one line; None for a line that is not an event (blank or foreign output)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) and "event" in obj else None


@dataclass(frozen=True)
class TaskState:
    """What is known of one task of a run, folded from events (or read from the store)."""

    pathspec: str
    step: str
    task_id: str
    status: TaskStatus
    attempt: int = 0
    index: int | None = None
    stdout: str | None = None
    stderr: str | None = None
    started: float | None = None
    finished: float | None = None
    error: TaskError | None = None
    origin_pathspec: str | None = None

    @property
    def duration(self) -> float | None:
        if self.started is None:
            return None
        return (self.finished or time.time()) - self.started


@dataclass
class RunState:
    """A run as the event stream has told it so far."""

    flow: str = ""
    run_id: str = ""
    store: str = ""
    status: RunStatus = RunStatus.RUNNING
    started: float | None = None
    finished: float | None = None
    origin_run_id: str | None = None
    failed: str | None = None  # pathspec of the first task that failed for good
    tasks: dict[str, TaskState] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)  # step -> foreach task count
    notices: list[str] = field(default_factory=list)

    def step_tasks(self, step: str) -> list[TaskState]:
        return [t for t in self.tasks.values() if t.step == step]


def _error(event: dict[str, Any]) -> TaskError | None:
    err = event.get("error")
    if not isinstance(err, dict):
        return None
    return TaskError(
        type=str(err.get("type", "Error")),
        message=str(err.get("message", "")),
        traceback=str(err.get("traceback", "")),
        reason=str(event.get("reason", "exception")),
    )


def apply_event(state: RunState, event: dict[str, Any]) -> RunState:
    """Fold one decoded event into `state` (mutated and returned)."""
    kind = event.get("event")
    ts = float(event.get("ts", time.time()))
    if kind == "run_started":
        state.flow = str(event.get("flow", ""))
        state.run_id = str(event.get("run_id", ""))
        state.store = str(event.get("store", ""))
        state.origin_run_id = event.get("origin_run_id")
        state.started = ts
    elif kind == "notice":
        state.notices.append(str(event.get("message", "")))
    elif kind == "step_expanded":
        state.expected[str(event["step"])] = int(event.get("count", 0))
    elif kind in ("task_started", "task_cloned", "task_finished", "task_failed"):
        pathspec = str(event["pathspec"])
        prev = state.tasks.get(pathspec) or TaskState(
            pathspec=pathspec,
            step=str(event.get("step", "")),
            task_id=str(event.get("task_id", "")),
            status=TaskStatus.PENDING,
            index=event.get("index"),
        )
        if kind == "task_started":
            task = replace(
                prev,
                status=TaskStatus.RUNNING,
                attempt=int(event.get("attempt", 0)),
                stdout=event.get("stdout"),
                stderr=event.get("stderr"),
                started=prev.started if prev.started is not None else ts,
                finished=None,
            )
        elif kind == "task_cloned":
            task = replace(
                prev,
                status=TaskStatus.CLONED,
                origin_pathspec=event.get("origin_pathspec"),
                started=ts,
                finished=ts,
            )
        elif kind == "task_finished":
            task = replace(prev, status=TaskStatus.SUCCEEDED, finished=ts, error=None)
        else:
            retry = bool(event.get("will_retry"))
            task = replace(
                prev,
                status=TaskStatus.RETRYING if retry else TaskStatus.FAILED,
                finished=None if retry else ts,
                error=_error(event),
            )
            if not retry and state.failed is None:
                state.failed = pathspec
        state.tasks[pathspec] = task
    elif kind == "run_finished":
        state.status = RunStatus(str(event.get("status", "failed")))
        state.finished = ts
        state.failed = event.get("failed") or state.failed
    return state
