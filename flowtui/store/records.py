"""What the metadata holds, as plain frozen records (read from or written to SQLite)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NewTask:
    step: str
    foreach_index: int | None
    foreach_stack: list[Any]
    frames: list[Any]
    parents: list[str]


@dataclass(frozen=True)
class RunnerRecord:
    """Where a run's runner is, as it recorded itself: `place` (host and PID namespace, see
    `store.liveness.runner_place`), `pid`, last `heartbeat`; and the run's `created` time."""

    run_id: str
    status: str  # as stored: running until the runner records how the run ended
    place: str
    pid: int | None
    heartbeat: float | None
    created: float


#: How a task its run never started reads once that run has ended (failed, cancelled,
#: crashed): stored as pending, it will never start. What the DAG says of a step without tasks.
NOT_RUN = "not run"
# The error types of a task that found an input's stored value damaged or gone (store.blobs).
LOST_VALUE = ("BlobCorruptError", "BlobMissingError")

#: The tag of a `flowtui spin --persist` run: listed among the flow's runs like any run.
SPIN_PERSISTED_TAG = "spin:persisted"


@dataclass(frozen=True)
class RunRecord:
    flow: str
    run_id: str
    status: str  # running, succeeded, failed, cancelled, crashed
    kind: str  # run, resume, spin
    created: float
    finished: float | None
    file: str
    params: dict[str, Any]
    origin_run_id: str | None
    resume_step: str | None
    user: str
    tags: tuple[str, ...]
    system_tags: tuple[str, ...]
    error: str | None
    source: str = "flowtui"  # which engine made it: flowtui, or metaflow (read through its client)

    @property
    def pathspec(self) -> str:
        return f"{self.flow}/{self.run_id}"

    @property
    def listed(self) -> bool:
        """Whether it counts as one of the flow's runs (spins kept apart do not)."""
        return self.kind != "spin" or SPIN_PERSISTED_TAG in self.tags


@dataclass(frozen=True)
class TaskRecord:
    flow: str
    run_id: str
    step: str
    task_id: str
    status: str  # pending, running, retrying, succeeded, failed, cloned; read: not run (NOT_RUN)
    foreach_index: int | None
    foreach_stack: list[Any]
    frames: list[Any]
    parents: list[str]  # parent task ids
    attempts: int
    created: float
    started: float | None
    finished: float | None
    exit_reason: str | None
    error: dict[str, Any] | None
    origin_pathspec: str | None
    foreach_count: int | None

    @property
    def pathspec(self) -> str:
        return f"{self.flow}/{self.run_id}/{self.step}/{self.task_id}"


@dataclass(frozen=True)
class AttemptRecord:
    task_id: str
    attempt: int
    status: str
    started: float
    finished: float | None
    stdout: str
    stderr: str
    exit_reason: str | None
    error: dict[str, Any] | None


@dataclass(frozen=True)
class ArtifactRecord:
    task_id: str
    name: str
    hash: str
    type: str
    size: int
    repr: str
