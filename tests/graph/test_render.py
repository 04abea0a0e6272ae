"""Drawing the DAG: the boxed canvas, the narrow rows view, and the choice between them."""

from __future__ import annotations

from itertools import pairwise

import pytest
from rich.cells import cell_len

from flowtui.graph.layout import layout_layers
from flowtui.graph.model import FlowGraph, StepKind, StepNode
from flowtui.graph.render import draw_canvas, render_dag, render_rows
from flowtui.graph.synthetic import (
    diamond_chain_flow,
    nested_foreach_flow,
    nested_split_flow,
    random_flow,
    wide_split_flow,
)


def flow(*steps: tuple[str, StepKind, list[str]]) -> FlowGraph:
    nodes = tuple(
        StepNode(
            name=name,
            kind=kind,
            next=tuple(targets),
            line=line,
            end_line=line,
            foreach="items" if kind is StepKind.FOREACH else None,
            takes_inputs=kind is StepKind.JOIN,
        )
        for line, (name, kind, targets) in enumerate(steps, start=1)
    )
    return FlowGraph(flow_name="HandFlow", file="hand.py", line=1, steps=nodes)


DIAMOND = flow(
    ("start", StepKind.SPLIT, ["a", "b"]),
    ("a", StepKind.LINEAR, ["join"]),
    ("b", StepKind.LINEAR, ["join"]),
    ("join", StepKind.JOIN, ["end"]),
    ("end", StepKind.END, []),
)
CYCLE = flow(
    ("start", StepKind.START, ["a"]),
    ("a", StepKind.LINEAR, ["b"]),
    ("b", StepKind.LINEAR, ["a", "end"]),
    ("end", StepKind.END, []),
)
GENERATED = {
    "wide split": wide_split_flow(6).graph,
    "nested splits": nested_split_flow(2, 3).graph,
    "foreach in foreach": nested_foreach_flow(3).graph,
    "diamond chain": diamond_chain_flow(4).graph,
    "random 200": random_flow(200, 3).graph,
    "cycle": CYCLE,
}

DIAMOND_DRAWING = """\
           ┌─────────────────┐
           │ ⋔ start         │
           │                 │
           └────────┬────────┘
                    │
         ╭──────────┴──────────╮
         │                     │
┌────────▼────────┐   ┌────────▼────────┐
│ ◇ a             │   │ ◇ b             │
│ ✔ done          │   │ ⠋ running       │
└────────┬────────┘   └────────┬────────┘
         │                     │
         ╰──────────┬──────────╯
                    │
           ┌────────▼────────┐
           │ ⋈ join          │
           │                 │
           └────────┬────────┘
                    │
           ┌────────▼────────┐
           │ □ end           │
           │                 │
           └─────────────────┘"""


def test_a_diamond_is_drawn_with_boxes_split_and_merge() -> None:
    canvas = draw_canvas(layout_layers(DIAMOND), {"a": "✔ done", "b": "⠋ running"})
    assert canvas.text() == DIAMOND_DRAWING


@pytest.mark.parametrize("name", list(GENERATED))
def test_canvas_shows_every_step_with_its_box_where_the_layout_says(name: str) -> None:
    graph = GENERATED[name]
    layout = layout_layers(graph)
    canvas = draw_canvas(layout)
    assert len(canvas.lines) == canvas.height == layout.height
    assert all(cell_len(line) == canvas.width for line in canvas.lines)
    for step in graph.steps:
        box = canvas.boxes[step.name]
        assert canvas.lines[box.y][box.x] == "┌" and canvas.lines[box.bottom][box.right] == "┘"
        assert step.name in canvas.lines[box.name_row][box.x : box.right + 1]


@pytest.mark.parametrize("name", list(GENERATED))
def test_every_edge_is_an_unbroken_line_from_port_to_arrowhead(name: str) -> None:
    layout = layout_layers(GENERATED[name])
    lines = draw_canvas(layout).lines
    for edge in layout.edges:
        (sx, sy), (ex, ey) = edge.points[0], edge.points[-1]
        assert lines[sy][sx] == "┬"
        assert lines[ey][ex] == "▼"
        for (ax, ay), (bx, by) in pairwise(edge.points):
            for y in range(min(ay, by), max(ay, by) + 1):
                for x in range(min(ax, bx), max(ax, bx) + 1):
                    assert lines[y][x] in "│─┼┬┴├┤╭╮╰╯▼", f"gap in {edge} at {(x, y)}"


def test_status_fills_the_status_line_and_moves_nothing() -> None:
    layout = layout_layers(DIAMOND)
    plain = draw_canvas(layout)
    busy = draw_canvas(layout, {"a": "✔ 37/100", "b": "a status far too long for the box"})
    box_a, box_b = layout.boxes["a"], layout.boxes["b"]
    assert "✔ 37/100" in busy.lines[box_a.status_row]
    b_status = busy.lines[box_b.status_row][box_b.x : box_b.right + 1]
    assert b_status.startswith("│ a status") and b_status.endswith("… │")
    changed = [y for y, (p, q) in enumerate(zip(plain.lines, busy.lines, strict=True)) if p != q]
    assert changed == [box_a.status_row]  # a and b share their status row


def test_wide_characters_keep_every_line_the_same_width() -> None:
    graph = flow(
        ("start", StepKind.START, ["数据"]),
        ("数据", StepKind.LINEAR, ["end"]),
        ("end", StepKind.END, []),
    )
    canvas = draw_canvas(layout_layers(graph), {"数据": "✔ 数据 done"})
    assert {cell_len(line) for line in canvas.lines} == {canvas.width}
    assert "数据" in canvas.text()


def test_rows_view_shows_splits_and_joins_git_style() -> None:
    assert render_rows(DIAMOND) == [
        "⋔─╮ start",
        "◇ │ a",
        "│ ◇ b",
        "⋈─╯ join",
        "□   end",
    ]


def test_rows_view_marks_foreach_and_appends_status() -> None:
    rows = render_rows(nested_foreach_flow(1).graph, {"step_002": "✔ 2/2"})
    assert rows[1].startswith("∀ each_001 (items_001)")
    assert rows[2] == "◇ step_002  ✔ 2/2"


@pytest.mark.parametrize("name", list(GENERATED))
def test_rows_view_has_one_row_per_step_in_topological_order(name: str) -> None:
    graph = GENERATED[name]
    rows = render_rows(graph)
    assert len(rows) == len(graph.steps)
    names = {s.name for s in graph.steps}
    order = [next(word for word in row.split() if word in names) for row in rows]
    assert sorted(order) == sorted(s.name for s in graph.steps)
    if name != "cycle":
        seen: set[str] = set()
        for step_name in order:
            assert all(p in seen for p in graph.parents(step_name))
            seen.add(step_name)


def test_rows_view_writes_a_cycle_as_a_pointer_back() -> None:
    rows = render_rows(CYCLE)
    assert rows[2] == "◇ b  ↑ a"


def test_render_dag_draws_boxes_when_they_fit_and_rows_when_not() -> None:
    boxed = render_dag(DIAMOND)
    assert "┌" in boxed and "⋈ join" in boxed
    assert render_dag(DIAMOND, max_width=41) == boxed
    narrow = render_dag(DIAMOND, max_width=40)
    assert "┌" not in narrow
    assert narrow.splitlines() == render_rows(DIAMOND)


def test_render_dag_passes_status_to_either_view() -> None:
    assert "✔ done" in render_dag(DIAMOND, status={"a": "✔ done"})
    assert "◇ │ a  ✔ done" in render_dag(DIAMOND, max_width=10, status={"a": "✔ done"})
