"""What a task and a run can be: their statuses, and how a task failed.

The store keeps statuses as text (`succeeded`, `failed`, ...) and a failure as JSON; these are
the one place where that text becomes a status and that JSON an error. A task stopped because
its run was cancelled is stored as `failed` with the reason `cancel`, and is `CANCELLED` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class TaskStatus(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"  # stopped by its run's cancel; runs again on resume
    CLONED = "cloned"

    @property
    def done(self) -> bool:
        return self in _DONE

    @property
    def ok(self) -> bool:
        """Finished with its artifacts stored (ran, or reused by a resume)."""
        return self in _OK

    @property
    def active(self) -> bool:
        return self in (TaskStatus.RUNNING, TaskStatus.RETRYING)

    @classmethod
    def of(cls, stored: str, reason: str | None = None) -> TaskStatus:
        """The status of a task stored as `stored` (with its failure's reason, if any). A
        task its ended run never started (read as `not run`: `store.records.NOT_RUN`) is
        pending, and `TaskState.not_run` says it will not start."""
        if stored == cls.FAILED.value and reason == CANCEL:
            return cls.CANCELLED
        try:
            return cls(stored)
        except ValueError:
            return cls.PENDING


_DONE = frozenset(
    {TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.CLONED}
)
_OK = frozenset({TaskStatus.SUCCEEDED, TaskStatus.CLONED})
#: The stored statuses of tasks whose artifacts may be read and reused.
OK_STORED = tuple(status.value for status in _OK)


class RunStatus(str, Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    CRASHED = "crashed"  # the runner died without finishing the run

    @property
    def done(self) -> bool:
        return self is not RunStatus.RUNNING

    @classmethod
    def of(cls, stored: str) -> RunStatus:
        try:
            return cls(stored)
        except ValueError:
            return cls.CRASHED

    @property
    def exit_code(self) -> int:
        """What `flowtui run` exits with for a run that ended so."""
        return {RunStatus.SUCCEEDED: 0, RunStatus.CANCELLED: 130}.get(self, 1)


# Why a task attempt failed (`TaskError.reason`).
EXCEPTION = "exception"  # the step raised
SIGNAL = "signal"  # the process was killed by a signal
EXIT = "exit"  # the process exited (sys.exit, os._exit) before the step finished
TIMEOUT = "timeout"  # @timeout
PICKLE = "pickle"  # an artifact could not be stored
CANCEL = "cancel"  # the run was cancelled
RUNNER_DIED = "crashed"  # the runner died while the task ran (derived by the store)
WORKER_LOST = "worker-lost"  # Ray: the worker process running the task died
NODE_LOST = "node-lost"  # Ray: the node running the task went away
INFEASIBLE = "infeasible"  # Ray: no node of the cluster has the @resources asked for
CLUSTER_LOST = "cluster-lost"  # Ray: the whole cluster went away (its GCS stopped answering)
QUIT = "debugger-quit"  # the user quit the debugger (q) at a breakpoint(): the step stopped
#: Failures that another attempt cannot fix (or that the user asked for): @retry does not
#: retry them.
NOT_RETRIED = frozenset({PICKLE, CANCEL, INFEASIBLE, CLUSTER_LOST, QUIT})
#: Why a task stopped, in words, when it was not an exception of the step.
REASON_TEXT = {
    SIGNAL: "the task process was killed by a signal",
    EXIT: "the task process exited before the step finished",
    TIMEOUT: "the step ran past its @timeout",
    PICKLE: "an artifact could not be pickled",
    RUNNER_DIED: "the run's runner stopped while the task ran",
    WORKER_LOST: "the Ray worker running the task died",
    NODE_LOST: "the Ray node running the task went away",
    INFEASIBLE: "no node of the Ray cluster has the resources the step asks for",
    CLUSTER_LOST: "the Ray cluster the run used went away",
}


@dataclass(frozen=True)
class TaskError:
    """How a task attempt failed: the exception's type and message, the user's traceback."""

    type: str
    message: str
    traceback: str = ""
    reason: str = EXCEPTION
    module: str = ""  # the exception class's module, for one the step raised (`builtins`)

    def summary(self) -> str:
        return f"{self.type}: {self.message}" if self.message else self.type

    @property
    def why(self) -> str | None:
        """Why the task stopped, in words, when it was not an exception of the step."""
        return REASON_TEXT.get(self.reason)

    @property
    def cancelled(self) -> bool:
        return self.reason == CANCEL

    @property
    def value_lost(self) -> bool:
        """A stored value the task read was missing or damaged (no fix in the step's code)."""
        return self.module == "flowtui.store.lost_values"

    def to_json(self) -> dict[str, str]:
        data = {
            "type": self.type,
            "message": self.message,
            "traceback": self.traceback,
            "reason": self.reason,
        }
        if self.module:
            data["module"] = self.module
        return data

    @classmethod
    def from_json(cls, data: Any, reason: str | None = None) -> TaskError | None:
        """The error stored or sent as `data` (None for none); `reason` wins when given."""
        if not isinstance(data, dict):
            return None
        return cls(
            type=str(data.get("type") or "Error"),
            message=str(data.get("message") or ""),
            traceback=str(data.get("traceback") or ""),
            reason=str(reason or data.get("reason") or EXCEPTION),
            module=str(data.get("module") or ""),
        )
