"""The run header: flow name, file, run id, status, elapsed time and task counts."""

from __future__ import annotations

import time

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

from flowtui.engine.events import RunState, RunStatus, TaskStatus
from flowtui.tui.widgets.tasks import was_cancelled

STATUS_GLYPHS = {
    RunStatus.RUNNING: "●",
    RunStatus.SUCCEEDED: "✔",
    RunStatus.FAILED: "✖",
    RunStatus.CANCELLED: "■",
    RunStatus.CRASHED: "✖",
}


def format_elapsed(seconds: float) -> str:
    """`0:07`, `12:34`, `1:02:03`."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def task_counts(run: RunState) -> dict[TaskStatus, int]:
    """Tasks per status; a task stopped by a cancel is not counted as failed."""
    counts = dict.fromkeys(TaskStatus, 0)
    for task in run.tasks.values():
        if not was_cancelled(task):
            counts[task.status] += 1
    return counts


class RunHeader(Static):
    """One line at the top of the screen; the elapsed time ticks while a run is active."""

    DEFAULT_CSS = """
    RunHeader { height: 1; }
    """

    def __init__(self, flow_name: str, file: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
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
            text.append(f"{STATUS_GLYPHS[run.status]} {run.status.value}", style="bold")
            if run.started is not None:
                end = run.finished if run.finished is not None else time.time()
                text.append(f"   {format_elapsed(end - run.started)}")
            counts = task_counts(run)
            text.append("   ")
            text.append(f"✔ {counts[TaskStatus.SUCCEEDED]}")
            if counts[TaskStatus.CLONED]:
                text.append(f"  ≡ {counts[TaskStatus.CLONED]}")
            text.append(f"  ● {counts[TaskStatus.RUNNING] + counts[TaskStatus.RETRYING]}")
            text.append(f"  ✖ {counts[TaskStatus.FAILED]}")
            cancelled = sum(1 for task in run.tasks.values() if was_cancelled(task))
            if cancelled:
                text.append(f"  ■ {cancelled}")
        if self.note:
            text.append(f"   {self.note}", style="italic")
        return text
