"""The run header: flow name, file, run id, status, elapsed time and task counts.

On a terminal too narrow for one line it wraps between its fields (never inside one), so
nothing is cut off.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.geometry import Size
from textual.timer import Timer
from textual.widget import Widget

from flowtui.run.labels import (
    NOT_RUN_LABEL,
    WAITING_GLYPH,
    not_run_count,
    run_label,
    task_count,
)
from flowtui.run.status import RunStatus, TaskStatus
from flowtui.tui.widgets.task_detail import pack_fields
from flowtui.units import human_duration

if TYPE_CHECKING:
    from flowtui.graph.model import FlowGraph
    from flowtui.run.state import RunState


class RunHeader(Widget):
    """The top of the screen; the elapsed time ticks while a run is active."""

    DEFAULT_CSS = """
    RunHeader { height: auto; }
    """

    def __init__(
        self,
        flow_name: str,
        file: str,
        *,
        clock: Callable[[], float] = time.time,
        executor: str = "local",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.executor = executor
        self.clock = clock
        self.flow_name = flow_name
        self.file = file
        self.run: RunState | None = None
        self.graph: FlowGraph | None = None  # the graph the run is drawn on (its steps not run)
        self.note = ""
        self.file_changed = False
        self._ticker: Timer | None = None

    def on_mount(self) -> None:
        self._ticker = self.set_interval(1.0, self.refresh_header, pause=True)
        self.refresh_header()

    def show(
        self,
        flow_name: str | None = None,
        run: RunState | None = None,
        graph: FlowGraph | None = None,
    ) -> None:
        """Show `run` (None: no run yet) for `flow_name`; ticks while the run is active.
        `graph`: the one the run's states are drawn on, whose steps an ended run never
        reached count as not run."""
        if flow_name:
            self.flow_name = flow_name
        self.run = run
        self.graph = graph
        active = run is not None and not run.status.done
        shown = None
        if run is not None:
            shown = f"-{run.status.value}" if run.status is not RunStatus.CRASHED else "-failed"
        for name in ("-running", "-succeeded", "-failed", "-cancelled"):
            self.set_class(name == shown, name)  # (restyled only when a class changes)
        if self._ticker is not None:
            if active:
                self._ticker.resume()
            else:
                self._ticker.pause()
        self.refresh_header()

    def set_executor(self, executor: str) -> None:
        self.executor = executor
        self.refresh_header()

    def set_file_changed(self, changed: bool) -> None:
        """Mark (or not) that the file has changed since the run shown started."""
        if changed != self.file_changed:
            self.file_changed = changed
            self.refresh_header()

    def set_note(self, note: str) -> None:
        """A short note after the counts (e.g. "resume plan from train")."""
        self.note = note
        self.refresh_header()

    def refresh_header(self) -> None:
        """Repaint; lay the screen out again only when the header's height changes (a layout
        costs the whole screen, and a run's events come every 60 ms)."""
        width = self.content_size.width
        if width and self.is_mounted:
            height = self.get_content_height(self.size, self.size, width)
            self.refresh(layout=height != self.content_size.height)
        else:
            self.refresh(layout=True)

    def render(self) -> Text:
        return pack_fields(self.header_fields(), self.content_size.width or 1_000)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(pack_fields(self.header_fields(), width).split("\n"))

    def render_header(self) -> Text:
        """The whole header on one line."""
        return pack_fields(self.header_fields(), 1_000_000)

    def header_fields(self) -> list[Text]:
        """Flow, file, run, status, elapsed, counts, note: the pieces a line breaks between."""
        fields = [Text(self.flow_name or "(no flow)", style="bold"), Text(self.file, style="dim")]
        run = self.run
        if run is None:
            fields.append(Text("no run yet — press r to run", style="dim"))
        else:
            whose = "Metaflow run " if run.source == "metaflow" else "run "  # made by Metaflow
            run_field = Text.assemble(whose, (run.run_id or "…", "bold"))
            if run.origin_run_id:
                run_field.append(f" (resumed from {run.origin_run_id})", style="dim")
            fields.append(run_field)
            fields.append(Text(run_label(run.status), style="bold"))
            elapsed = run.elapsed(self.clock())
            if elapsed is not None:
                fields.append(Text(human_duration(elapsed)))
            fields.extend(self._tally(run))
        if self.file_changed and run is not None:
            fields.append(Text("✎ file changed since this run", style="bold italic"))
        if self.note:
            fields.append(Text(self.note, style="italic"))
        if self.executor != "local":
            fields.append(Text(self._where(run), style="dim"))
        return fields

    def _tally(self, run: RunState) -> list[Text]:
        """The task counts: `✔ 3  ● 2  ✖ 0` while the run goes. Once it has ended nothing can
        run, so the running count gives way to how many tasks it never started
        (`✔ 3  ✖ 1  ○ 2 not run`, a field of its own, always there on a run that did not
        succeed, so a failed run's header keeps one shape)."""
        counts = run.counts()
        tally = Text(task_count(TaskStatus.SUCCEEDED, counts[TaskStatus.SUCCEEDED]))
        if counts[TaskStatus.CLONED]:
            tally.append("  " + task_count(TaskStatus.CLONED, counts[TaskStatus.CLONED]))
        if not run.status.done:
            waiting = run.waiting()  # running, but stopped at breakpoint(): said apart
            running = counts[TaskStatus.RUNNING] + counts[TaskStatus.RETRYING] - waiting
            tally.append("  " + task_count(TaskStatus.RUNNING, running))
            if waiting:
                tally.append(f"  {WAITING_GLYPH} {waiting} waiting", style="bold yellow")
        tally.append("  " + task_count(TaskStatus.FAILED, counts[TaskStatus.FAILED]))
        if counts[TaskStatus.CANCELLED]:
            tally.append("  " + task_count(TaskStatus.CANCELLED, counts[TaskStatus.CANCELLED]))
        if not run.status.done or run.status is RunStatus.SUCCEEDED:
            return [tally]
        glyph, said = NOT_RUN_LABEL.split(" ", 1)
        return [tally, Text(f"{glyph} {not_run_count(self.graph, run)} {said}")]

    def _where(self, run: RunState | None) -> str:
        """The executor, and for a run on Ray the cluster's size (the runner's notice)."""
        for notice in run.notices if run is not None else []:
            if notice.startswith(f"Executor: {self.executor} at "):
                return notice.split(": ", 1)[1].rstrip(".")
        return f"{self.executor} (next run)"
