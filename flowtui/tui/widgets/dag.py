"""`DagView`: the flow's DAG, drawn from the graph layout, coloured by each step's state.

The drawing itself (boxes, edges, the text of each line) comes from `flowtui.graph.render`;
this widget shows the visible part of it (line API: only the lines on screen are rendered),
colours each box's cells by its step's state through component classes (so the theme decides
the colours), and moves a selection along the edges with the arrow keys, `hjkl` or a click;
`g`/Home and `G`/End go to the first and the last step.
A terminal too narrow for the drawing gets one row per step instead, with hysteresis: the
boxes give way only when the drawing is `ROWS_SLACK` cells wider than the view (the rest
scrolls), and come back only once they fit, so renaming a step by one character never flips
the view.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from flowtui.graph.layout import DagLayout, layout_layers
from flowtui.graph.model import FlowGraph
from flowtui.graph.render import draw_canvas, render_rows, row_order
from flowtui.run.labels import STEP_STATES, StepState
from flowtui.tui.widgets.base_style import BaseStyleOnce

#: Component classes that only add a background (and text attributes) to a box.
OVERLAYS = frozenset({"selected", "first-failed"})
#: Runs of blanks and runs of anything else, in a drawn line.
_RUNS = re.compile(r" +|[^ ]+")
_BLANK = Style(blink2=False)
#: How many cells wider than the view the boxes may be (scrolling) before rows replace them.
ROWS_SLACK = 8


def use_rows(width: int, available: int, rows_now: bool | None) -> bool | None:
    """Draw one row per step rather than boxes `width` cells wide in a view `available`
    cells wide, given the view now (None: none chosen yet; see the module docstring)."""
    if not available:
        return rows_now
    if rows_now is None or rows_now:
        return width > available
    return width > available + ROWS_SLACK


@dataclass(frozen=True)
class Span:
    """The cells [start, end) of one line that belong to `step`'s box."""

    start: int
    end: int
    step: str


def step_of(pathspec: str | None) -> str | None:
    """`Flow/run/step/task` -> `step`."""
    parts = (pathspec or "").split("/")
    return parts[2] if len(parts) >= 3 else None


class DagView(BaseStyleOnce, ScrollView, can_focus=True):
    """The DAG of a flow; select a step with the keys or the mouse.

    Classes: `-stale` while the file is broken (the last good DAG is dimmed), `-rows` while the
    one-row-per-step view is shown.
    """

    BINDINGS = [
        Binding("up", "move('up')", "Parent", show=False),
        Binding("down", "move('down')", "Child", show=False),
        Binding("left", "move('left')", "Sibling", show=False),
        Binding("right", "move('right')", "Sibling", show=False),
        Binding("k", "move('up')", show=False),
        Binding("j", "move('down')", show=False),
        Binding("h", "move('left')", show=False),
        Binding("l", "move('right')", show=False),
        Binding("g", "move('first')", "First step", show=False),
        Binding("home", "move('first')", show=False),
        Binding("G", "move('last')", "Last step", show=False),
        Binding("end", "move('last')", show=False),
    ]

    COMPONENT_CLASSES = {
        "dag--edge",
        "dag--box",
        "dag--selected",
        "dag--first-failed",
        "dag--stale",
        *(f"dag--{state}" for state in STEP_STATES),
    }

    DEFAULT_CSS = """
    DagView { overflow: auto auto; }
    """

    class StepSelected(Message):
        """The selection moved to `step`."""

        def __init__(self, dag: DagView, step: str) -> None:
            super().__init__()
            self.dag = dag
            self.step = step

        @property
        def control(self) -> DagView:
            return self.dag

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.graph: FlowGraph | None = None
        self.dag_layout: DagLayout | None = None  # the graph's layout, computed once per graph
        self.selected: str | None = None
        self.first_failed: str | None = None
        self.states: dict[str, StepState] = {}
        self.lines: list[str] = []
        self.spans: list[list[Span]] = []
        self.boxes: dict[str, Region] = {}
        self.step_layers: dict[str, int] = {}  # step -> its layer (siblings share one)
        self.rows_view = False
        self._rows: bool | None = None  # the view chosen (None: not yet, the view has no width)

    # -- data in ------------------------------------------------------------------------

    def set_graph(self, graph: FlowGraph) -> None:
        """Show `graph`, keeping the selection when the selected step still exists."""
        self.graph = graph
        self.dag_layout = layout_layers(graph)
        if self.selected not in graph:
            self.selected = graph.steps[0].name if graph.steps else None
            if self.selected is not None and self.is_mounted:
                self.post_message(self.StepSelected(self, self.selected))
        self.redraw()

    def set_states(self, states: Mapping[str, StepState], first_failed: str | None = None) -> None:
        """Colour and label the steps (missing steps show no state). The layout stays; the
        lines are redrawn only when a status line's text changed, else only restyled."""
        before, old_states, old_first = self.status_labels, self.states, self.first_failed
        watching = self._watching_the_run(old_states)
        self.states = dict(states)
        labels_changed = self.status_labels != before
        self.first_failed = first_failed
        restyled = {  # the boxes whose colour changed
            step
            for step in old_states.keys() | self.states.keys()
            if getattr(old_states.get(step), "state", None)
            != getattr(self.states.get(step), "state", None)
        }
        if old_first != first_failed:
            restyled |= {step for step in (old_first, first_failed) if step is not None}
        if labels_changed:
            self.redraw(restyled)
        else:
            self._refresh_boxes(restyled)
        if watching:
            self._follow_the_run()

    # -- following a run ------------------------------------------------------------------

    def _running_boxes(self, states: Mapping[str, StepState]) -> list[Region]:
        return [
            box
            for step, state in states.items()
            if state.state in ("running", "retrying") and (box := self.boxes.get(step))
        ]

    def _in_view(self, box: Region) -> bool:
        return self.scrollable_content_region.size.region.translate(
            (round(self.scroll_x), round(self.scroll_y))
        ).overlaps(box)

    def _watching_the_run(self, states: Mapping[str, StepState]) -> bool:
        """Whether the view follows the run: no step was running yet, or one that was is in
        view (scrolled away from every running step, the user is reading something else)."""
        running = self._running_boxes(states)
        return not running or any(self._in_view(box) for box in running)

    def _follow_the_run(self) -> None:
        """Bring the first running step into view when none is (a DAG taller than the pane:
        the run goes on below it)."""
        running = self._running_boxes(self.states)
        if running and not any(self._in_view(box) for box in running):
            self.scroll_to_region(running[0], animate=False, force=True)

    def _refresh_boxes(self, steps: set[str]) -> None:
        """Repaint the lines of the boxes of `steps`."""
        for step in steps:
            box = self.boxes.get(step)
            if box is not None:
                self.refresh_lines(box.y, box.height)

    def select(self, step: str) -> None:
        """Select `step` (if it is in the graph), scroll to it and tell the app."""
        if self.graph is None or step not in self.graph:
            return
        changed = step != self.selected
        self.selected = step
        self.refresh()
        self.scroll_to_selected()
        if changed:
            self.post_message(self.StepSelected(self, step))

    # -- drawing ------------------------------------------------------------------------

    @property
    def status_labels(self) -> dict[str, str]:
        """Each box's status line: the state, and the time the step took where it fits."""
        width = self.dag_layout.inner_width if self.dag_layout is not None else None
        return {step: state.line(width) for step, state in self.states.items()}

    @property
    def row_labels(self) -> dict[str, str]:
        """Each row's status, in the rows view: the state, then the time the step took."""
        return {step: state.line() for step, state in self.states.items()}

    def redraw(self, restyled: set[str] | None = None) -> None:
        """Recompute the drawn lines (canvas or rows) for the current graph and states.
        `restyled`: only states changed, and these boxes' colours; then only the lines that
        changed are repainted (a run's batch of events changes a count or two), not all."""
        graph, layout = self.graph, self.dag_layout
        if graph is None or layout is None:
            self.lines, self.spans, self.boxes = [], [], {}
            self.virtual_size = Size(0, 0)
            self.refresh()
            return
        canvas = draw_canvas(layout, self.status_labels)
        lines = [str(line) for line in canvas.lines]
        width = max((cell_len(line) for line in lines), default=0)
        available = self.scrollable_content_region.width
        self._rows = use_rows(width, available, self._rows)
        self.rows_view = bool(self._rows)
        self.set_class(self.rows_view, "-rows")
        self.step_layers = {name: box.layer for name, box in canvas.boxes.items()}
        if self.rows_view:
            lines = [str(line) for line in render_rows(graph, self.row_labels)]
            boxes = {
                name: Region(0, y, cell_len(lines[y]), 1) for y, name in enumerate(row_order(graph))
            }
        else:
            margin = max(0, (available - width) // 2)  # centred when narrower than the view
            lines = [" " * margin + line for line in lines]
            boxes = {
                name: Region(box.x + margin, box.y, box.w, box.h)
                for name, box in canvas.boxes.items()
            }
        old_lines, old_boxes = self.lines, self.boxes
        self.lines = lines
        self.boxes = boxes
        self.spans = self._spans(boxes, len(lines))
        size = Size(max((cell_len(line) for line in lines), default=0), len(lines))
        if restyled is None or size != self.virtual_size or boxes != old_boxes:
            self.virtual_size = size
            self.refresh()
            return
        for y, (line, old) in enumerate(zip(lines, old_lines, strict=True)):
            if line != old:
                self.refresh_lines(y)
        self._refresh_boxes(restyled)

    @staticmethod
    def _spans(boxes: Mapping[str, Region], height: int) -> list[list[Span]]:
        spans: list[list[Span]] = [[] for _ in range(height)]
        for step, box in boxes.items():
            for y in range(box.y, min(box.bottom, height)):
                spans[y].append(Span(box.x, box.right, step))
        for line in spans:
            line.sort(key=lambda span: span.start)
        return spans

    def _style(self, name: str) -> Style:
        """A component class's text attributes with only its foreground colour, or, for the
        overlays (selection, first failure), only its background: so they combine."""
        full = self.get_component_rich_style(f"dag--{name}")
        if name in OVERLAYS:
            return full.without_color + Style(bgcolor=full.bgcolor)
        return full.without_color + Style(color=full.color)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.base_style
        if index >= len(self.lines):
            return Strip.blank(width, base)
        stale = self.has_class("-stale")
        edge = base + self._style("stale" if stale else "edge")
        # Blank runs in a style of their own (it looks the same): never merged with the glyphs
        # around them, so an SVG export (the screenshots) places each run of glyphs at its own
        # column, and edges meet the boxes in every SVG viewer.
        blank = edge + _BLANK
        line = Strip(
            [
                Segment(run, blank if run.isspace() else edge)
                for run in _RUNS.findall(self.lines[index])
            ]
        )
        spans = self.spans[index]
        cuts = sorted({c for span in spans for c in (span.start, span.end)} | {line.cell_length})
        pieces = line.divide(cuts) if spans else [line]
        starts = [0, *cuts]
        segments: list[Segment] = []
        for start, piece in zip(starts, pieces, strict=False):
            span = next((sp for sp in spans if sp.start <= start < sp.end), None)
            if span is None:
                segments.extend(piece)
            else:
                style = self._box_style(span.step, base, stale)
                segments.extend(Segment(segment.text, style) for segment in piece)
        return Strip(segments).crop_extend(scroll_x, scroll_x + width, base)

    def _box_style(self, step: str, base: Style, stale: bool) -> Style:
        style = base + self._style("box")
        state = self.states.get(step)
        if state is not None:
            style += self._style(state.state)
        if step == self.first_failed:
            style += self._style("first-failed")
        if stale:
            style += self._style("stale")
        if step == self.selected:
            style += self._style("selected")
        return style

    def on_resize(self, event: events.Resize) -> None:
        self.redraw()
        self.scroll_to_selected()

    def scroll_to_selected(self) -> None:
        box = self.boxes.get(self.selected or "")
        if box is not None:
            self.scroll_to_region(box, animate=False, force=True)

    # -- selection ----------------------------------------------------------------------

    def step_at(self, x: int, y: int) -> str | None:
        """The step whose box covers the content cell (x, y), if any."""
        for step, box in self.boxes.items():
            if box.contains(x, y):
                return step
        return None

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        step = self.step_at(offset.x + round(self.scroll_x), offset.y + round(self.scroll_y))
        if step is not None:
            self.select(step)

    def neighbour(self, direction: str) -> str | None:
        """The step to select moving `direction` from the selection, along the DAG's edges."""
        graph, current = self.graph, self.selected
        if graph is None or not graph.steps:
            return None
        if current is None or current not in self.boxes:
            return graph.steps[0].name
        here = self.boxes[current]
        if direction in ("first", "last"):
            ordered = sorted(self.boxes, key=lambda s: (self.boxes[s].y, self.boxes[s].x))
            return ordered[0 if direction == "first" else -1]
        if self.rows_view and direction in ("up", "down"):
            ordered = sorted(self.boxes, key=lambda s: self.boxes[s].y)
            position = ordered.index(current) + (1 if direction == "down" else -1)
            return ordered[max(0, min(len(ordered) - 1, position))]
        if direction in ("up", "down"):
            candidates = graph[current].next if direction == "down" else graph.parents(current)
            placed = [s for s in candidates if s in self.boxes]
            if not placed:
                return None
            centre = here.x + here.width / 2
            return min(
                placed, key=lambda s: abs(self.boxes[s].x + self.boxes[s].width / 2 - centre)
            )
        mine = self.step_layers.get(current)
        layer = sorted(  # siblings: left to right in boxes, top to bottom in rows
            (s for s in self.boxes if self.step_layers.get(s) == mine),
            key=lambda s: (self.boxes[s].x, self.boxes[s].y),
        )
        position = layer.index(current) + (1 if direction == "right" else -1)
        return layer[position] if 0 <= position < len(layer) else None

    def action_move(self, direction: str) -> None:
        step = self.neighbour(direction)
        if step is not None:
            self.select(step)
