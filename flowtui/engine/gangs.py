"""`@parallel` gangs: the tasks `self.next(self.train, num_parallel=N)` makes, run together.

The scheduler sees a gang as a foreach of N items (its frame's items are the node indexes).
What is a gang's own is here: its tasks start together, past `--max-workers` (a gang's nodes
may wait for one another, e.g. in a training framework's rendezvous, so a gang started a few at
a time could never finish); node 0 is its control task, whose id every node is told; when one
node fails for good, the others still running are stopped (they would wait for it for ever);
and each task's metadata says its gang's size, and node 0's that it is the control task, under
Metaflow's names (`Step.control_tasks()` reads them).
"""

from __future__ import annotations

import signal
from collections.abc import Iterable
from typing import Any

from flowtui.engine.running import Running
from flowtui.engine.scheduler import PendingTask
from flowtui.errors import UsageError
from flowtui.run.status import CANCEL

CONTROL_TASK = "control_task"  # Metaflow's `internal_task_type` of a gang's node 0


class Gangs:
    """The gangs of one run."""

    def __init__(self, decorators: dict[str, dict[str, dict[str, Any]]], executor: str) -> None:
        self._parallel = {step for step, decos in decorators.items() if "parallel" in decos}
        self._control: dict[str, str] = {}  # the gang's split task -> its node 0's task id
        if self._parallel and executor != "local":
            raise UsageError(
                f"Step '{min(self._parallel)}' is @parallel, whose gang runs on the local "
                "executor only (its nodes find each other at 127.0.0.1); run it without "
                f"--executor {executor}."
            )

    def member(self, pending: PendingTask) -> bool:
        """Whether `pending` is a node of a gang (its step is `@parallel`)."""
        return pending.step in self._parallel and bool(pending.frames)

    def noted(self, pending: PendingTask, task_id: str) -> None:
        """Learn `pending`'s task id (recorded or reused): node 0's is its gang's control."""
        if self.member(pending) and pending.frames[-1].index == 0:
            self._control[pending.frames[-1].split_task] = task_id

    def control(self, pending: PendingTask) -> str | None:
        """The task id of the control task (node 0) of `pending`'s gang."""
        return self._control.get(pending.frames[-1].split_task) if self.member(pending) else None

    def stop_peers(self, failed: PendingTask, running: Iterable[Running]) -> str | None:
        """`failed`, a node, failed for good: the peers still running would wait for it for
        ever (a rendezvous, a collective), so they are killed, and read cancelled. What to
        tell the user, if any was."""
        if not self.member(failed):
            return None
        gang, stopped = failed.frames[-1].split_task, 0
        why = f"node {failed.frames[-1].index} of its @parallel gang failed"
        for peer in running:
            if (
                peer.killed is None
                and self.member(peer.pending)
                and peer.pending.frames[-1].split_task == gang
            ):
                peer.killed, peer.cancelled_because = CANCEL, why
                peer.proc.kill(signal.SIGKILL)
                stopped += 1
        if not stopped:
            return None
        return (
            f"{failed.step}: {why}, so the {stopped} still running were stopped (they would "
            "wait for it for ever)."
        )

    def metadata(self, pending: PendingTask) -> dict[str, str]:
        """What a node's attempts record beside where they ran."""
        if not self.member(pending):
            return {}
        frame = pending.frames[-1]
        out = {"parallel-world-size": str(frame.count)}
        if frame.index == 0:
            out["internal_task_type"] = CONTROL_TASK
        return out
