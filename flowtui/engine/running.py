"""The runner's records of a run: the attempts it has in flight, and how the run ended."""

from __future__ import annotations

from dataclasses import dataclass, field

from flowtui.engine.executor import TaskHandle
from flowtui.engine.scheduler import PendingTask
from flowtui.engine.task import TaskRequest
from flowtui.run.status import RunStatus, TaskError


@dataclass
class RunResult:
    """How a run ended, for the CLI."""

    flow: str
    run_id: str
    status: RunStatus
    failed: list[tuple[str, TaskError]]  # (pathspec, error) of tasks that failed for good
    duration: float
    tasks_run: int = 0
    tasks_cloned: int = 0

    @property
    def exit_code(self) -> int:
        return self.status.exit_code


@dataclass
class Running:
    """A task attempt in flight: what the runner knows of it until its outcome is in."""

    pending: PendingTask
    task_id: str
    attempt: int
    proc: TaskHandle
    request: TaskRequest
    started: float
    deadline: float | None
    buffer: bytearray = field(default_factory=bytearray)
    killed: str | None = None  # why the runner killed it: "timeout" or "cancel"
    eof: bool = False  # its pipe closed (the task may still run: it closed the pipe's fd)
