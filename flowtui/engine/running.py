"""The runner's records of a run: the attempts it has in flight, and how the run ended."""

from __future__ import annotations

from dataclasses import dataclass, field

from flowtui.engine import step_clock
from flowtui.engine.executor import TaskHandle
from flowtui.engine.exits import describe_exit
from flowtui.engine.scheduler import PendingTask
from flowtui.engine.task import TaskOutcome, TaskRequest
from flowtui.run.status import CANCEL, TIMEOUT, RunStatus, TaskError


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
    buffer: bytearray = field(default_factory=bytearray)
    # when the runner kills it if it has not stopped (its @timeout, from when its step's clock
    # started, plus a grace: engine/step_clock.py); None: not counting
    deadline: float | None = None
    untimed: bool = False  # it waited at a breakpoint(): its @timeout is dropped for good
    killed: str | None = None  # why the runner killed it: "timeout" or "cancel"
    cancelled_because: str = "the run was cancelled"  # what a "cancel" says
    eof: bool = False  # its pipe closed (the task may still run: it closed the pipe's fd)

    @property
    def pathspec(self) -> str:
        return f"{self.request.flow_name}/{self.request.run_id}/{self.pending.step}/{self.task_id}"

    def take(self, chunk: bytes, now: float) -> None:
        """What the task wrote on its result pipe: its outcome, and its step clock's notes."""
        data, note = step_clock.read_notes(chunk)
        self.buffer += data
        if note == step_clock.STOPPED:
            self.deadline = None
        elif note == step_clock.STARTED and not self.untimed:
            self.deadline = now + (self.request.timeout or 0) + step_clock.GRACE

    def failure(self, outcome: TaskOutcome | None, status: int) -> TaskError:
        """Why this attempt failed: killed by the runner (timeout, cancel), the step's own
        error, or how its process ended."""
        if self.killed == TIMEOUT:
            message = step_clock.timeout_message(self.pending.step, self.request.timeout or 0)
            return TaskError("TimeoutError", message, reason=TIMEOUT)
        if self.killed == CANCEL:
            return TaskError("Cancelled", self.cancelled_because, reason=CANCEL)
        if outcome is not None and outcome.error is not None:
            return outcome.error
        return self.proc.lost_with() or describe_exit(status)
