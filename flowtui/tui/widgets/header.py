"""The run header: flow name, file, run id, status, elapsed time and task counts."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

from flowtui.run.labels import run_label, task_count
from flowtui.run.state import RunState
from flowtui.run.status import RunStatus, TaskStatus
from flowtui.units import human_duration


class RunHeader(Static):
    """One line at the top of the screen; the elapsed time ticks while a run is active."""

    DEFAULT_CSS = """
    RunHeader { height: 1; }
    """

    def __init__(
        self,
        flow_name: str,
        file: str,
        *,
        clock: Callable[[], float] = time.time,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.flow_name = flow_name
        self.file = file
        self.run: RunState | None = None
        self.note = ""
        self._ticker: Timer | None = None

    def on_mount(self) -> None:
        self._ticker = self.set_interval(1.0, self.refresh_header, pause=True)
        self.refresh_header()

    def show(self, flow_name: str | None = None, run: RunState | None = None) -> None:
        """Show `run` (None: no run yet) for `flow_name`; ticks while the run is active."""
        if flow_name:
            self.flow_name = flow_name
        self.run = run
        active = run is not None and not run.status.done
        for name in ("-running", "-succeeded", "-failed", "-cancelled"):
            self.remove_class(name)
        if run is not None:
            self.add_class(
                f"-{run.status.value}" if run.status is not RunStatus.CRASHED else "-failed"
            )
        if self._ticker is not None:
            if active:
                self._ticker.resume()
            else:
                self._ticker.pause()
        self.refresh_header()

    def set_note(self, note: str) -> None:
        """A short note after the counts (e.g. "resume plan from train")."""
        self.note = note
        self.refresh_header()

    def refresh_header(self) -> None:
        self.update(self.render_header())

    def render_header(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(self.flow_name or "(no flow)", style="bold")
        text.append("  ")
        text.append(self.file, style="dim")
        run = self.run
        if run is None:
            text.append("   no run yet — press r to run", style="dim")
        else:
            text.append("   run ")
            text.append(run.run_id or "…", style="bold")
            if run.origin_run_id:
                text.append(f" (resumed from {run.origin_run_id})", style="dim")
            text.append("   ")
            text.append(run_label(run.status), style="bold")
            elapsed = run.elapsed(self.clock())
            if elapsed is not None:
                text.append(f"   {human_duration(elapsed)}")
            counts = run.counts()
            running = counts[TaskStatus.RUNNING] + counts[TaskStatus.RETRYING]
            text.append("   ")
            text.append(task_count(TaskStatus.SUCCEEDED, counts[TaskStatus.SUCCEEDED]))
            if counts[TaskStatus.CLONED]:
                text.append("  " + task_count(TaskStatus.CLONED, counts[TaskStatus.CLONED]))
            text.append("  " + task_count(TaskStatus.RUNNING, running))
            text.append("  " + task_count(TaskStatus.FAILED, counts[TaskStatus.FAILED]))
            if counts[TaskStatus.CANCELLED]:
                text.append("  " + task_count(TaskStatus.CANCELLED, counts[TaskStatus.CANCELLED]))
        if self.note:
            text.append(f"   {self.note}", style="italic")
        return text
