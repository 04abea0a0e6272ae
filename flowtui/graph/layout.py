"""A layered (Sugiyama-style) layout of a flow's DAG, in character cells, as plain data.

`layout_layers` places one box per step, top to bottom from `start`, and routes every
transition as an orthogonal polyline from the bottom border of its source box to the top
border of its target box. Drawing is somewhere else (`render.draw_canvas`), so the TUI's DAG
widget and `flowtui show` share the same geometry.

The steps, in order:

1. Break cycles (a flow mid-edit may have one): a depth-first walk from `start` marks the
   edges that close a cycle as *back edges*; they are left out of layering and routed around
   the right-hand side of the drawing instead.
2. Layer by longest path: a step sits one layer below the lowest of its parents.
3. Replace each edge that spans several layers by a chain of one-cell *dummy* nodes, one per
   layer it crosses, so it gets a lane of its own.
4. Order each layer by barycenter sweeps (down, then up, a few times), keeping the order with
   the fewest crossings.
5. Assign x by pulling each node toward the mean position of its neighbours in the previous
   layer, subject to the layer's order and spacing (pool-adjacent-violators, which finds the
   closest positions that keep the order), alternating down and up sweeps.
6. Between two layers, give each group of horizontal edge pieces (a fan-out from one step, a
   fan-in to one step) its own track row, so distinct edges never share a line.

Steps 4 to 6 live in `flowtui.graph.placement`. Everything is deterministic: ties break on
the order of the steps in the graph, never on dict or set order.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise

from rich.cells import cell_len, set_cell_size

from flowtui.graph.model import FlowGraph, StepKind, StepNode
from flowtui.graph.placement import assign_tracks, assign_x, order_layers

BOX_HEIGHT = 4
"""Rows in a box: top border, name line, status line, bottom border."""
MIN_INNER_WIDTH = 14
MAX_INNER_WIDTH = 28
ELLIPSIS = "…"

KIND_MARKERS: Mapping[StepKind, str] = {
    StepKind.START: "▷",
    StepKind.LINEAR: "◇",
    StepKind.SPLIT: "⋔",
    StepKind.FOREACH: "∀",
    StepKind.JOIN: "⋈",
    StepKind.END: "□",
    StepKind.SWITCH: "⎇",
}
"""The one-cell glyph before a step's name, by kind: outlined shapes, so that none is read as
a state (flowtui.run.labels draws states with filled ones: ● running, ■ cancelled)."""

Point = tuple[int, int]


@dataclass(frozen=True)
class Box:
    """One step's box, in cells. Rows: border, name line, status line, border."""

    step: str
    x: int
    y: int
    w: int
    h: int
    label: str = ""
    """The name line's text (kind marker, name, foreach variable), fitted to the inner width."""
    layer: int = 0

    @property
    def right(self) -> int:
        """The last column of the box (its right border)."""
        return self.x + self.w - 1

    @property
    def bottom(self) -> int:
        """The last row of the box (its bottom border)."""
        return self.y + self.h - 1

    @property
    def center_x(self) -> int:
        """The column where edges leave (bottom border) and arrive (top border)."""
        return self.x + self.w // 2

    @property
    def inner_x(self) -> int:
        """The first column of the box's text."""
        return self.x + 2

    @property
    def inner_width(self) -> int:
        """Cells of text on the name and status lines."""
        return self.w - 4

    @property
    def name_row(self) -> int:
        return self.y + 1

    @property
    def status_row(self) -> int:
        """The row the caller fills with run state (e.g. ``✔ 37/100``) at draw time."""
        return self.y + 2

    def contains(self, x: int, y: int) -> bool:
        return self.x <= x <= self.right and self.y <= y <= self.bottom


@dataclass(frozen=True)
class EdgeRoute:
    """A transition drawn as an orthogonal polyline, corner points only.

    The first point is on the bottom border of ``src``'s box, the last on the top border of
    ``dst``'s box. ``back`` marks an edge that closes a cycle (only in a broken flow); it runs
    up the right-hand side of the drawing.
    """

    src: str
    dst: str
    points: tuple[Point, ...]
    back: bool = False
    label: str = ""
    """A switch's case label(s) for this edge (drawn beside the edge above ``dst``)."""


@dataclass(frozen=True)
class DagLayout:
    """Where every box and edge goes, in cells; ``width`` x ``height`` holds them all."""

    width: int
    height: int
    boxes: dict[str, Box] = field(hash=False)
    edges: tuple[EdgeRoute, ...]
    inner_width: int
    layers: tuple[tuple[str, ...], ...] = ()
    """Step names per layer, left to right (edge lanes left out)."""


def step_label(step: StepNode) -> str:
    """The text of a step's name line: kind marker, name and, for a foreach, its variable
    (`num_parallel` for the start of a `@parallel` gang)."""
    marker = KIND_MARKERS.get(step.kind, "●")
    label = f"{marker} {step.name}"
    if step.kind is StepKind.FOREACH and step.foreach:
        label += " (num_parallel)" if step.is_gang_split else f" ({step.foreach})"
    if step.kind is StepKind.SWITCH and step.condition:
        label += f" ({step.condition})"
    return label


def case_label(step: StepNode, dst: str) -> str:
    """The case label(s) of a switch's edge to ``dst`` (``high``, or ``a|b`` for several)."""
    return "|".join(case for case, target in step.cases if target == dst)


def fit_cells(text: str, width: int) -> str:
    """``text`` padded or cut to exactly ``width`` cells, cut text ending in an ellipsis."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    if width <= 0:
        return ""
    return set_cell_size(text, width - 1) + ELLIPSIS


def layout_layers(graph: FlowGraph, *, inner_width: int | None = None) -> DagLayout:
    """Lay out ``graph`` top to bottom in layers; see the module docstring for the method.

    ``inner_width`` fixes the text width of every box; by default it is the widest step label
    (at least 14, at most 28 cells, longer labels cut with an ellipsis). Box width never
    depends on run state, so the status line can change without moving anything.
    """
    return _Layout(graph, inner_width).build()


def layer_numbers(graph: FlowGraph) -> dict[str, int]:
    """Each step's layer (0 for ``start``), by longest path, edges closing a cycle ignored."""
    layout = _Layout(graph, MIN_INNER_WIDTH)
    back = layout.find_back_edges()
    fwd = [[w for w in layout.succ[v] if (v, w) not in back] for v in range(layout.n)]
    layers = layout.assign_layers(fwd)
    return {step.name: layers[i] for i, step in enumerate(layout.steps)}


# --------------------------------------------------------------------------------------------
# The algorithm. Nodes are ints: 0..n-1 are the steps in graph order, n.. are dummy nodes.


class _Layout:
    def __init__(self, graph: FlowGraph, inner_width: int | None) -> None:
        steps: list[StepNode] = []
        index: dict[str, int] = {}
        for s in graph.steps:
            if s.name not in index:  # a duplicated method name: the first one wins
                index[s.name] = len(steps)
                steps.append(s)
        self.steps = steps
        self.index = index
        self.n = len(steps)
        self.succ: list[list[int]] = []
        for s in steps:
            targets: list[int] = []
            for t in s.next:
                j = index.get(t)
                if j is not None and j not in targets:
                    targets.append(j)
            self.succ.append(targets)
        self.labels = [step_label(s) for s in steps]
        if inner_width is None:
            widest = max((cell_len(label) for label in self.labels), default=0)
            inner = min(max(widest, MIN_INNER_WIDTH), MAX_INNER_WIDTH)
        else:
            inner = max(inner_width, 3)
        if (inner + 4) % 2 == 0:
            inner += 1  # an odd box width puts the edge port exactly in the middle
        self.inner = inner
        self.box_w = inner + 4

    # -- 1. cycles ------------------------------------------------------------------------

    def find_back_edges(self) -> set[tuple[int, int]]:
        n = self.n
        state = [0] * n  # 0 new, 1 on the stack, 2 done
        back: set[tuple[int, int]] = set()
        roots = list(range(n))
        start = self.index.get("start")
        if start is not None:
            roots.remove(start)
            roots.insert(0, start)
        for root in roots:
            if state[root]:
                continue
            state[root] = 1
            stack: list[tuple[int, int]] = [(root, 0)]
            while stack:
                v, i = stack[-1]
                targets = self.succ[v]
                if i < len(targets):
                    stack[-1] = (v, i + 1)
                    w = targets[i]
                    if state[w] == 1:
                        back.add((v, w))
                    elif state[w] == 0:
                        state[w] = 1
                        stack.append((w, 0))
                else:
                    state[v] = 2
                    stack.pop()
        return back

    # -- 2. layers --------------------------------------------------------------------------

    def assign_layers(self, fwd: list[list[int]]) -> list[int]:
        n = self.n
        indegree = [0] * n
        for targets in fwd:
            for w in targets:
                indegree[w] += 1
        layer = [0] * n
        ready = [v for v in range(n) if indegree[v] == 0]
        heapq.heapify(ready)
        while ready:
            v = heapq.heappop(ready)
            for w in fwd[v]:
                if layer[v] + 1 > layer[w]:
                    layer[w] = layer[v] + 1
                indegree[w] -= 1
                if indegree[w] == 0:
                    heapq.heappush(ready, w)
        return layer

    # -- the whole thing --------------------------------------------------------------------

    def build(self) -> DagLayout:
        n = self.n
        if n == 0:
            return DagLayout(0, 0, {}, (), self.inner, ())
        back = self.find_back_edges()
        fwd = [[w for w in self.succ[v] if (v, w) not in back] for v in range(n)]
        layer = self.assign_layers(fwd)

        # 3. dummy nodes: every layered edge joins adjacent layers.
        node_layer = list(layer)
        lsucc: list[list[int]] = [[] for _ in range(n)]
        lpred: list[list[int]] = [[] for _ in range(n)]
        chains: list[tuple[int, int, list[int]]] = []  # (src, dst, nodes along the edge)
        for v in range(n):
            for w in fwd[v]:
                chain = [v]
                for lay in range(layer[v] + 1, layer[w]):
                    d = len(node_layer)
                    node_layer.append(lay)
                    lsucc.append([])
                    lpred.append([])
                    chain.append(d)
                chain.append(w)
                for a, b in pairwise(chain):
                    lsucc[a].append(b)
                    lpred[b].append(a)
                chains.append((v, w, chain))
        total = len(node_layer)
        is_dummy = [i >= n for i in range(total)]
        depth = max(node_layer) + 1
        layers: list[list[int]] = [[] for _ in range(depth)]
        for v in range(total):
            layers[node_layer[v]].append(v)

        # 4. order within layers.
        layers = order_layers(layers, lsucc, lpred)

        # 5. x coordinates.
        widths = [1 if is_dummy[v] else self.box_w for v in range(total)]
        ports = [0 if is_dummy[v] else self.box_w // 2 for v in range(total)]
        xs = assign_x(layers, lsucc, lpred, widths, ports, is_dummy)
        left = min(xs)
        xs = [x - left for x in xs]
        port_x = [xs[v] + ports[v] for v in range(total)]
        content_width = max(xs[v] + widths[v] for v in range(total))

        # 6. rows: tracks between layers, back-edge detours, then y of each layer.
        tracks = [
            assign_tracks(layers[lay], lsucc, port_x) for lay in range(depth - 1)
        ]  # tracks[l]: for the gap below layer l, {(a, b): track} and the track count
        back_list = sorted(back, key=lambda e: (abs(layer[e[0]] - layer[e[1]]), e))
        departures: list[list[tuple[int, int]]] = [[] for _ in range(depth)]
        arrivals: list[list[tuple[int, int]]] = [[] for _ in range(depth)]
        for e in back_list:
            departures[layer[e[0]]].append(e)
            arrivals[layer[e[1]]].append(e)

        layer_y: list[int] = []
        track_row: list[dict[tuple[int, int], int]] = []
        dep_row: dict[tuple[int, int], int] = {}
        arr_row: dict[tuple[int, int], int] = {}
        y = 0
        if arrivals[0]:
            for e in arrivals[0]:
                arr_row[e] = y
                y += 1
            y += 1
        for lay in range(depth):
            layer_y.append(y)
            y += BOX_HEIGHT
            deps = departures[lay]
            if lay == depth - 1:
                if deps:
                    y += 1
                    for e in deps:
                        dep_row[e] = y
                        y += 1
                break
            assignment, count = tracks[lay]
            arrs = arrivals[lay + 1]
            if not (deps or count or arrs):
                track_row.append({})
                y += 1
                continue
            y += 1  # a plain row under the boxes
            for e in deps:
                dep_row[e] = y
                y += 1
            track_row.append({seg: y + t for seg, t in assignment.items()})
            y += count
            for e in arrs:
                arr_row[e] = y
                y += 1
            y += 1  # a plain row over the next boxes (room for the arrowheads' stems)
        height = y

        boxes: dict[str, Box] = {}
        for lay, nodes in enumerate(layers):
            for v in nodes:
                if v < n:
                    name = self.steps[v].name
                    boxes[name] = Box(
                        step=name,
                        x=xs[v],
                        y=layer_y[lay],
                        w=self.box_w,
                        h=BOX_HEIGHT,
                        label=fit_cells(self.labels[v], self.inner).rstrip(),
                        layer=lay,
                    )

        routes: list[tuple[int, int, EdgeRoute]] = []
        for v, w, chain in chains:
            points: list[Point] = []
            for a, b in pairwise(chain):
                lay = node_layer[a]
                top = layer_y[lay] + BOX_HEIGHT - 1
                bottom = layer_y[lay + 1]
                px, qx = port_x[a], port_x[b]
                points.append((px, top))
                if px != qx:
                    row = track_row[lay][(a, b)]
                    points.append((px, row))
                    points.append((qx, row))
                points.append((qx, bottom))
            routes.append(
                (
                    v,
                    w,
                    EdgeRoute(
                        self.steps[v].name,
                        self.steps[w].name,
                        _corners(points),
                        label=case_label(self.steps[v], self.steps[w].name),
                    ),
                )
            )
        channel = content_width + 1
        width = content_width
        for v, w in back_list:  # the shortest detours take the innermost channels
            cx = channel
            channel += 2
            width = cx + 1
            src_box = boxes[self.steps[v].name]
            dst_box = boxes[self.steps[w].name]
            points = [
                (src_box.center_x, src_box.bottom),
                (src_box.center_x, dep_row[(v, w)]),
                (cx, dep_row[(v, w)]),
                (cx, arr_row[(v, w)]),
                (dst_box.center_x, arr_row[(v, w)]),
                (dst_box.center_x, dst_box.y),
            ]
            routes.append(
                (v, w, EdgeRoute(src_box.step, dst_box.step, _corners(points), back=True))
            )
        routes.sort(key=lambda r: (r[0], self.succ[r[0]].index(r[1])))

        ordered = {name: boxes[name] for name in (s.name for s in self.steps)}
        return DagLayout(
            width=width,
            height=height,
            boxes=ordered,
            edges=tuple(r[2] for r in routes),
            inner_width=self.inner,
            layers=tuple(tuple(self.steps[v].name for v in nodes if v < n) for nodes in layers),
        )


def _corners(points: list[Point]) -> tuple[Point, ...]:
    """Drop repeated points and points in the middle of a straight run."""
    out: list[Point] = []
    for p in points:
        if out and out[-1] == p:
            continue
        if len(out) >= 2:
            (ax, ay), (bx, by) = out[-2], out[-1]
            if (ax == bx == p[0]) or (ay == by == p[1]):
                out[-1] = p
                continue
        out.append(p)
    return tuple(out)
