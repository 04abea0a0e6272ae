"""What the runner notices about its running tasks between their outcomes: a task starting or
stopping to wait at a `breakpoint()`, and each task's CPU and memory (about once a second)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from flowtui.engine.breakpoints import BreakpointWatch, socket_path
from flowtui.engine.running import Running
from flowtui.engine.usage import UsageMonitor
from flowtui.run.events import TaskUsage, TaskWaiting


def waiting_events(
    watch: BreakpointWatch, running: Iterable[Running], store_root: Path
) -> list[TaskWaiting]:
    """The tasks that started or stopped waiting at a breakpoint() since the last look. A
    waiting task drops its @timeout (time in a debugger is the user's, not the step's)."""
    by_id = {r.task_id: r for r in running}
    events = []
    for task_id, now_waiting in watch.changes(list(by_id), time.time()):
        task = by_id[task_id]
        task.deadline, task.untimed = None, True
        pending = task.pending
        path = socket_path(str(store_root), task_id)
        events.append(
            TaskWaiting(
                task.pathspec, pending.step, task_id, pending.foreach_index, now_waiting, path
            )
        )
    return events


def usage_events(monitor: UsageMonitor, running: Iterable[Running]) -> list[TaskUsage]:
    """Each running task's CPU and memory now, one `task_usage` event each."""
    samples = monitor.sample()
    events = []
    for task in running:
        usage = samples.get((task.task_id, task.attempt))
        if usage is not None:
            events.append(
                TaskUsage(
                    task.pathspec,
                    task.pending.step,
                    task.task_id,
                    task.attempt,
                    usage.cpu or 0.0,
                    usage.rss,
                    usage.cpu_time,
                )
            )
    return events
