"""TimelineView: the run's tasks as a Gantt chart, by step, live while the run goes.

One row per task, grouped by step in the DAG's order; each bar spans the task's start to
its end (to now while it runs), on a time axis from the run's start. A wide foreach shows
its first `TASKS_PER_STEP` tasks and one summary row for the rest. Bars are coloured by the
task's state through component classes (the theme decides the colours). Only the lines on
screen are rendered (line API); the clock is injectable, so a test decides what "now" is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from flowtui.graph.model import FlowGraph
from flowtui.run.status import TaskStatus
from flowtui.tui.widgets.base_style import BaseStyleOnce
from flowtui.units import human_duration

if TYPE_CHECKING:
    from flowtui.run.state import RunState, TaskState

#: Tasks of one step drawn as their own rows; the rest of a wide foreach is one summary row.
TASKS_PER_STEP = 8
#: Columns of the label (step name and task index) before the bars.
LABEL_WIDTH = 18
#: Columns after the bars for the duration.
DURATION_WIDTH = 8


@dataclass(frozen=True)
class Row:
    """One line of the chart: a label, and a bar from `start` to `end` (seconds since the
    run's start; None for a label-only line) in `state`."""

    label: str
    start: float | None = None
    end: float | None = None
    state: str = "pending"


def timeline_rows(run: RunState, graph: FlowGraph | None, now: float) -> tuple[list[Row], float]:
    """The chart's rows for `run` (steps in `graph`'s order) and its span in seconds."""
    origin = run.started if run.started is not None else _first_start(run) or now
    by_step: dict[str, list[TaskState]] = {}
    for task in run.tasks.values():
        by_step.setdefault(task.step, []).append(task)
    order = [node.name for node in graph] if graph is not None else []
    order += sorted(step for step in by_step if step not in order)
    rows: list[Row] = []
    span = 0.0
    for step in order:
        tasks = sorted(by_step.get(step, []), key=lambda t: (t.index or 0, t.pathspec))
        if not tasks:
            continue
        rows.append(Row(step))
        for task in tasks[:TASKS_PER_STEP]:
            start, end = _bar(task, origin, now)
            label = f"  [{task.index}]" if task.index is not None else f"  task {task.task_id}"
            rows.append(Row(label, start, end, task.status.value))
            span = max(span, end or 0.0)
        rest = tasks[TASKS_PER_STEP:]
        if rest:
            bars = [_bar(t, origin, now) for t in rest]
            starts = [s for s, _ in bars if s is not None]
            ends = [e for _, e in bars if e is not None]
            state = _worst(rest)
            rows.append(
                Row(
                    f"  +{len(rest)} more",
                    min(starts, default=None),
                    max(ends, default=None),
                    state,
                )
            )
            span = max(span, max(ends, default=0.0))
    return rows, span


def _first_start(run: RunState) -> float | None:
    starts = [t.started for t in run.tasks.values() if t.started is not None]
    return min(starts, default=None)


def _bar(task: TaskState, origin: float, now: float) -> tuple[float | None, float | None]:
    if task.started is None:
        return None, None
    end = task.finished if task.finished is not None else now
    return task.started - origin, max(task.started, end) - origin


def _worst(tasks: list[TaskState]) -> str:
    states = {t.status.value for t in tasks}
    for state in ("failed", "retrying", "running", "cancelled", "pending", "succeeded"):
        if state in states:
            return state
    return "cloned"


class TimelineView(BaseStyleOnce, ScrollView, can_focus=True):
    """The Gantt chart of a run; `set_run()` on every change, and it ticks while running."""

    COMPONENT_CLASSES = {
        "timeline--step",
        "timeline--axis",
        *(f"timeline--{status.value}" for status in TaskStatus),
    }

    DEFAULT_CSS = """
    TimelineView { overflow-y: auto; overflow-x: hidden; }
    """

    def __init__(self, *, id: str | None = None, clock: Callable[[], float] = time.time) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.run: RunState | None = None
        self.graph: FlowGraph | None = None
        self.rows: list[Row] = []
        self.span = 0.0

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)

    def set_run(self, run: RunState | None, graph: FlowGraph | None) -> None:
        """Follow `run`; its rows are worked out now if the timeline is shown, else when it
        is (a 10,000-task run costs tens of ms a batch to lay out, for nobody)."""
        self.run, self.graph = run, graph
        if self.display:
            self.recompute()

    def recompute(self) -> None:
        if self.run is None:
            self.rows, self.span = [], 0.0
        else:
            self.rows, self.span = timeline_rows(self.run, self.graph, self.clock())
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.rows) + 1)
        self.refresh()

    def _tick(self) -> None:
        if self.display and self.run is not None and not self.run.status.done:
            self.recompute()

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"timeline--{name}", partial=True)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.base_style
        line = round(self.scroll_y) + y
        bars = max(1, width - LABEL_WIDTH - DURATION_WIDTH)
        if line == 0:
            return self._axis(width, bars, base)
        if self.run is None and y == 1:
            text = "No run yet: the timeline fills in as tasks run."
            return Strip([Segment(text, base + self._style("axis"))]).crop_extend(0, width, base)
        if not 0 < line <= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[line - 1]
        label = row.label[: LABEL_WIDTH - 1].ljust(LABEL_WIDTH)
        if row.start is None or row.end is None:
            style = base + self._style("step" if not row.label.startswith(" ") else "pending")
            return Strip([Segment(label, style)]).crop_extend(0, width, base)
        scale = bars / self.span if self.span > 0 else 0.0
        first = min(bars - 1, int(row.start * scale))
        last = max(first + 1, min(bars, round(row.end * scale)))
        duration = human_duration(row.end - row.start).rjust(DURATION_WIDTH)
        segments = [
            Segment(label, base),
            Segment(" " * first, base),
            Segment("█" * (last - first), base + self._style(row.state)),
            Segment(" " * (bars - last), base),
            Segment(duration, base + self._style("axis")),
        ]
        return Strip(segments).crop_extend(0, width, base)

    def _axis(self, width: int, bars: int, base: Style) -> Strip:
        ticks = [" "] * bars
        labels = "".ljust(LABEL_WIDTH)
        taken: list[tuple[int, int]] = []
        # the run's start and its length first; a label that would touch one already placed
        # is left out (on a narrow screen "11.6" and "15.5s" ran together as "11.615.5s")
        for fraction in (0.0, 1.0, 0.5, 0.25, 0.75):
            at = min(bars - 1, int(fraction * (bars - 1)))
            text = human_duration(self.span * fraction) if self.span else "0s"
            start = max(0, min(at, bars - len(text)))
            end = start + len(text)
            if any(start <= right and left <= end for left, right in taken):
                continue
            taken.append((start, end))
            ticks[start:end] = list(text)
        style = base + self._style("axis")
        return Strip([Segment(labels + "".join(ticks), style)]).crop_extend(0, width, base)
