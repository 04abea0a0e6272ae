"""Drawing a flow's DAG as text: boxes and routed edges, or one row per step when narrow.

`draw_canvas` turns a `DagLayout` into lines of box-drawing characters (the TUI's DAG widget
draws those same lines and colours each box by state); `render_rows` is the narrow,
git-graph-style view; `render_dag` picks one for a given width (what `flowtui show` prints).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise

from rich.cells import cell_len

from flowtui.graph.layout import (
    Box,
    DagLayout,
    fit_cells,
    layer_numbers,
    layout_layers,
    step_label,
)
from flowtui.graph.model import FlowGraph, StepNode

# Arms of a line cell, combined as bits.
UP, DOWN, LEFT, RIGHT = 1, 2, 4, 8

LINE_GLYPHS: Mapping[int, str] = {
    UP: "│",
    DOWN: "│",
    UP | DOWN: "│",
    LEFT: "─",
    RIGHT: "─",
    LEFT | RIGHT: "─",
    DOWN | RIGHT: "╭",
    DOWN | LEFT: "╮",
    UP | RIGHT: "╰",
    UP | LEFT: "╯",
    UP | DOWN | RIGHT: "├",
    UP | DOWN | LEFT: "┤",
    LEFT | RIGHT | DOWN: "┬",
    LEFT | RIGHT | UP: "┴",
    UP | DOWN | LEFT | RIGHT: "┼",
}
"""The glyph for a cell crossed by edge lines reaching out in the given directions."""

PORT_OUT = "┬"
"""Where edges leave a box's bottom border."""
ARROWHEAD = "▼"
"""Where edges enter a box's top border."""


@dataclass(frozen=True)
class Canvas:
    """A drawn DAG: ``lines`` of exactly ``width`` cells each, and where each box sits.

    A cell holding a double-width character is followed by no character of its own, so a
    line's *cell* width is ``width`` even when its ``len`` is smaller.
    """

    lines: list[str]
    boxes: dict[str, Box] = field(hash=False)
    width: int = 0
    height: int = 0

    def text(self) -> str:
        """The drawing as one string, trailing blanks trimmed."""
        return "\n".join(line.rstrip() for line in self.lines)


def draw_canvas(layout: DagLayout, status: Mapping[str, str] | None = None) -> Canvas:
    """Draw ``layout``; ``status`` maps step names to the text of their box's status line."""
    width, height = layout.width, layout.height
    grid: list[list[str]] = [[" "] * width for _ in range(height)]
    arms: dict[tuple[int, int], int] = {}
    ends: set[tuple[int, int]] = set()
    starts: set[tuple[int, int]] = set()
    for edge in layout.edges:
        points = edge.points
        if len(points) < 2:
            continue
        starts.add(points[0])
        ends.add(points[-1])
        for (ax, ay), (bx, by) in pairwise(points):
            if ax == bx:
                step = 1 if by > ay else -1
                for y in range(ay, by + step, step):
                    bits = 0
                    if y != ay:
                        bits |= UP if step == 1 else DOWN
                    if y != by:
                        bits |= DOWN if step == 1 else UP
                    arms[(ax, y)] = arms.get((ax, y), 0) | bits
            else:
                step = 1 if bx > ax else -1
                for x in range(ax, bx + step, step):
                    bits = 0
                    if x != ax:
                        bits |= LEFT if step == 1 else RIGHT
                    if x != bx:
                        bits |= RIGHT if step == 1 else LEFT
                    arms[(x, ay)] = arms.get((x, ay), 0) | bits
    for (x, y), bits in arms.items():
        if 0 <= y < height and 0 <= x < width:
            grid[y][x] = LINE_GLYPHS.get(bits, "┼")

    status = status or {}
    for box in layout.boxes.values():
        _draw_box(grid, box, status.get(box.step, ""))
    for edge in layout.edges:
        if edge.label and len(edge.points) >= 2:
            _draw_edge_label(grid, edge.points[-1], edge.label)
    for x, y in starts:
        grid[y][x] = PORT_OUT
    for x, y in ends:
        grid[y][x] = ARROWHEAD
    return Canvas(
        lines=["".join(row) for row in grid],
        boxes=dict(layout.boxes),
        width=width,
        height=height,
    )


def _draw_edge_label(grid: list[list[str]], end: tuple[int, int], label: str) -> None:
    """A switch case's label on the row above the arrow into its step: right of the edge
    where there is room, else left of it; left out where neither side is free."""
    x, y = end[0], end[1] - 1
    if y < 0:
        return
    row, cells = grid[y], _cells(label)
    right = range(x + 2, x + 2 + len(cells))
    left = range(x - 1 - len(cells), x - 1)
    for span in (right, left):
        if span.start >= 0 and span.stop <= len(row) and all(row[i] == " " for i in span):
            row[span.start : span.stop] = cells
            return


def _draw_box(grid: list[list[str]], box: Box, status: str) -> None:
    inner = box.w - 2
    grid[box.y][box.x : box.right + 1] = ["┌", *("─" * inner), "┐"]
    grid[box.bottom][box.x : box.right + 1] = ["└", *("─" * inner), "┘"]
    for row, text in ((box.name_row, box.label), (box.status_row, status)):
        cells = _cells(" " + fit_cells(text, box.inner_width) + " ")
        grid[row][box.x : box.right + 1] = ["│", *cells, "│"]


def _cells(text: str) -> list[str]:
    """One entry per cell: a double-width character is followed by an empty string."""
    if cell_len(text) == len(text):
        return list(text)
    out: list[str] = []
    for ch in text:
        out.append(ch)
        if cell_len(ch) == 2:
            out.append("")
    return out


# -- the narrow view ------------------------------------------------------------------------

NODE_GLYPH = "●"


def render_rows(graph: FlowGraph, status: Mapping[str, str] | None = None) -> list[str]:
    """One row per step, git-graph style: lanes on the left show splits and joins.

    A step's marker sits in its lane; lanes that join into it curve in from the side on its
    row (``●─╯``), lanes it splits into curve out of it (``●─╮``). An edge back to an earlier
    step (a cycle, only in a broken flow) is written after the name as ``↑ target``.
    """
    status = status or {}
    order = row_order(graph)
    steps: dict[str, StepNode] = {}
    for s in graph.steps:
        steps.setdefault(s.name, s)
    position = {name: i for i, name in enumerate(order)}
    lanes: list[str | None] = []  # the step each lane is heading to
    rows: list[tuple[list[str], str]] = []
    for name in order:
        step = steps[name]
        mine = [i for i, target in enumerate(lanes) if target == name]
        if not mine:
            col = _free_lane(lanes, set())
            lanes[col] = name
            mine = [col]
        col = mine[0]
        arms: dict[int, int] = {}
        freed = set(mine)
        for m in mine[1:]:
            arms[m] = arms.get(m, 0) | UP | (LEFT if m > col else RIGHT)
            lanes[m] = None
        lanes[col] = None
        children: list[str] = []
        loops: list[str] = []
        for target in step.next:
            if target in children or target in loops or target not in position:
                continue
            (children if position[target] > position[name] else loops).append(target)
        if children:
            lanes[col] = children[0]
            for child in children[1:]:
                new = _free_lane(lanes, freed)
                lanes[new] = child
                arms[new] = arms.get(new, 0) | DOWN | (LEFT if new > col else RIGHT)
        cells = _lane_cells(lanes, arms, col)
        cells[2 * col] = step_label(step)[0]
        text = step_label(step)[2:]
        if loops:
            text += "  " + " ".join(f"↑ {t}" for t in loops)
        if status.get(name):
            text += "  " + status[name]
        rows.append((cells, text))
    width = max(len(cells) for cells, _ in rows) if rows else 0
    return [("".join(cells).ljust(width) + " " + text).rstrip() for cells, text in rows]


def row_order(graph: FlowGraph) -> list[str]:
    """Steps by layer (a topological order), ties in the graph's own order: the order of
    `render_rows`'s lines, one per step."""
    layer = layer_numbers(graph)
    index: dict[str, int] = {}
    for s in graph.steps:
        index.setdefault(s.name, len(index))
    return sorted(index, key=lambda name: (layer[name], index[name]))


def _free_lane(lanes: list[str | None], taken: set[int]) -> int:
    for i, target in enumerate(lanes):
        if target is None and i not in taken:
            return i
    lanes.append(None)
    return len(lanes) - 1


def _lane_cells(lanes: list[str | None], arms: dict[int, int], col: int) -> list[str]:
    """The lane columns of one row: ``arms`` holds lanes that curve into or out of ``col``."""
    count = max([len(lanes), *(k + 1 for k in arms), col + 1])
    cells = [" "] * (2 * count - 1)
    lo, hi = min([*arms, col]), max([*arms, col])
    for i in range(count):
        if i in arms:
            bits = arms[i] | (LEFT if i > lo else 0) | (RIGHT if i < hi else 0)
            cells[2 * i] = LINE_GLYPHS[bits]
        elif i != col and i < len(lanes) and lanes[i] is not None:
            cells[2 * i] = "│"
    if arms:
        for c in range(2 * lo + 1, 2 * hi):
            if c % 2 == 1:
                cells[c] = "─"
            elif c // 2 not in arms and c != 2 * col:
                cells[c] = "┼" if cells[c] == "│" else "─"
    return cells


def render_dag(
    graph: FlowGraph, max_width: int | None = None, status: Mapping[str, str] | None = None
) -> str:
    """The boxed drawing if it fits in ``max_width`` cells (or no width is given), else rows."""
    layout = layout_layers(graph)
    if max_width is None or layout.width <= max_width:
        return draw_canvas(layout, status).text()
    return "\n".join(render_rows(graph, status))
