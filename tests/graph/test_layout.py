"""The layered layout: geometry invariants on hand-built and generated flows."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from itertools import pairwise

import pytest

from flowtui.graph.layout import DagLayout, EdgeRoute, layout_layers
from flowtui.graph.model import FlowGraph, StepKind, StepNode
from flowtui.graph.synthetic import (
    diamond_chain_flow,
    linear_flow,
    nested_foreach_flow,
    nested_split_flow,
    random_flow,
    wide_split_flow,
)


def flow(*steps: tuple[str, StepKind, list[str]], foreach: str | None = None) -> FlowGraph:
    """A graph from (name, kind, targets); ``foreach`` is the variable of the foreach step."""
    nodes = [
        StepNode(
            name=name,
            kind=kind,
            next=tuple(targets),
            line=line,
            end_line=line,
            foreach=foreach if kind is StepKind.FOREACH else None,
            takes_inputs=kind is StepKind.JOIN,
        )
        for line, (name, kind, targets) in enumerate(steps, start=1)
    ]
    return FlowGraph(flow_name="HandFlow", file="hand.py", line=1, steps=tuple(nodes))


BRANCH = flow(
    ("start", StepKind.SPLIT, ["a", "b", "c"]),
    ("a", StepKind.LINEAR, ["join"]),
    ("b", StepKind.LINEAR, ["join"]),
    ("c", StepKind.LINEAR, ["c2"]),
    ("c2", StepKind.LINEAR, ["join"]),
    ("join", StepKind.JOIN, ["end"]),
    ("end", StepKind.END, []),
)
FOREACH = flow(
    ("start", StepKind.FOREACH, ["body"]),
    ("body", StepKind.LINEAR, ["join"]),
    ("join", StepKind.JOIN, ["end"]),
    ("end", StepKind.END, []),
    foreach="items",
)
CYCLE = flow(
    ("start", StepKind.START, ["a"]),
    ("a", StepKind.LINEAR, ["b"]),
    ("b", StepKind.SPLIT, ["a", "b", "end"]),
    ("end", StepKind.END, ["start"]),
)

GENERATED = {
    "linear": linear_flow(12).graph,
    "wide split": wide_split_flow(9).graph,
    "nested splits": nested_split_flow(3, 3).graph,
    "foreach in foreach": nested_foreach_flow(4).graph,
    "diamond chain": diamond_chain_flow(6).graph,
    **{f"random 200 seed {seed}": random_flow(200, seed).graph for seed in range(4)},
    **{f"random 40 seed {seed}": random_flow(40, seed).graph for seed in range(10, 16)},
}
ALL = {"branch": BRANCH, "foreach": FOREACH, "cycle": CYCLE, **GENERATED}


def cells_of(edge: EdgeRoute) -> list[tuple[int, int]]:
    cells: list[tuple[int, int]] = []
    for (ax, ay), (bx, by) in pairwise(edge.points):
        if ax == bx:
            step = 1 if by >= ay else -1
            cells += [(ax, y) for y in range(ay, by + step, step)]
        else:
            step = 1 if bx >= ax else -1
            cells += [(x, ay) for x in range(ax, bx + step, step)]
    return cells


def assert_sound(graph: FlowGraph, layout: DagLayout) -> None:
    """Everything a reader of the drawing relies on."""
    steps: dict[str, StepNode] = {}
    for step in graph.steps:
        steps.setdefault(step.name, step)  # a method defined twice: the first one counts
    assert sorted(layout.boxes) == sorted(steps), "every step has exactly one box"
    boxes = list(layout.boxes.values())
    for box in boxes:
        assert box.h == 4
        assert box.x >= 0 and box.right < layout.width
        assert box.y >= 0 and box.bottom < layout.height
    for a, b in ((a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :]):
        apart = a.right + 1 < b.x or b.right + 1 < a.x or a.bottom + 1 < b.y or b.bottom + 1 < a.y
        assert apart, f"boxes {a.step} and {b.step} touch or overlap"
    expected = {(s.name, t) for s in steps.values() for t in s.next if t in layout.boxes}
    assert {(e.src, e.dst) for e in layout.edges} == expected, "one route per transition"
    for edge in layout.edges:
        src, dst = layout.boxes[edge.src], layout.boxes[edge.dst]
        first, last = edge.points[0], edge.points[-1]
        assert first[1] == src.bottom and src.x < first[0] < src.right, "starts on src bottom"
        assert last[1] == dst.y and dst.x < last[0] < dst.right, "ends on dst top"
        for (ax, ay), (bx, by) in pairwise(edge.points):
            assert ax == bx or ay == by, f"{edge.src}->{edge.dst} has a diagonal segment"
        for x, y in cells_of(edge)[1:-1]:
            assert 0 <= x < layout.width and 0 <= y < layout.height
            inside = [b.step for b in boxes if b.contains(x, y)]
            assert not inside, f"{edge.src}->{edge.dst} runs through {inside} at {(x, y)}"


@pytest.mark.parametrize("name", list(ALL))
def test_layout_is_sound(name: str) -> None:
    graph = ALL[name]
    assert_sound(graph, layout_layers(graph))


@pytest.mark.parametrize("name", [*GENERATED, "branch", "foreach"])
def test_every_edge_points_down_in_an_acyclic_flow(name: str) -> None:
    graph = ALL[name]
    layout = layout_layers(graph)
    for edge in layout.edges:
        assert not edge.back
        assert layout.boxes[edge.src].layer < layout.boxes[edge.dst].layer
        assert layout.boxes[edge.src].bottom < layout.boxes[edge.dst].y


@pytest.mark.parametrize("name", list(ALL))
def test_same_graph_same_layout(name: str) -> None:
    graph = ALL[name]
    assert layout_layers(graph) == layout_layers(graph)


def test_layout_does_not_depend_on_hash_seeds() -> None:
    script = (
        "from flowtui.graph.layout import layout_layers;"
        "from flowtui.graph.synthetic import random_flow;"
        "print(repr(layout_layers(random_flow(120, 7).graph)))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


def test_start_on_top_and_end_at_the_bottom() -> None:
    layout = layout_layers(BRANCH)
    assert layout.boxes["start"].y == min(b.y for b in layout.boxes.values())
    assert layout.boxes["end"].y == max(b.y for b in layout.boxes.values())
    assert layout.layers[0] == ("start",)
    assert set(layout.layers[1]) == {"a", "b", "c"}


def test_layers_follow_the_longest_path() -> None:
    layout = layout_layers(BRANCH)
    # c -> c2 -> join is longer than a -> join, so join sits below c2.
    assert layout.boxes["join"].layer == 3
    assert layout.boxes["c2"].layer == 2


def test_a_linear_flow_is_one_straight_column() -> None:
    layout = layout_layers(GENERATED["linear"])
    assert len({b.x for b in layout.boxes.values()}) == 1
    assert all(len(edge.points) == 2 for edge in layout.edges)


def test_siblings_sit_centred_under_their_split() -> None:
    layout = layout_layers(wide_split_flow(2).graph)
    split = next(b for b in layout.boxes.values() if b.step.startswith("split"))
    left, right = sorted(
        (b for b in layout.boxes.values() if b.step.startswith("step")), key=lambda b: b.x
    )
    assert split.center_x - left.center_x == right.center_x - split.center_x


def test_box_width_is_fixed_by_the_widest_label() -> None:
    short = layout_layers(FOREACH)
    assert short.inner_width >= 14
    assert {b.w for b in short.boxes.values()} == {short.inner_width + 4}
    long_name = "a_really_long_step_name_that_goes_on_and_on"
    graph = flow(
        ("start", StepKind.START, [long_name]),
        (long_name, StepKind.LINEAR, ["end"]),
        ("end", StepKind.END, []),
    )
    layout = layout_layers(graph)
    assert layout.inner_width <= 29
    assert layout.boxes[long_name].label.endswith("…")
    assert layout.boxes[long_name].label.startswith("◇ a_really_long")


def test_inner_width_can_be_chosen() -> None:
    layout = layout_layers(BRANCH, inner_width=21)
    assert layout.inner_width == 21
    assert all(b.inner_width == 21 for b in layout.boxes.values())


def test_foreach_label_names_its_variable() -> None:
    label = layout_layers(FOREACH).boxes["start"].label
    assert "∀" in label and "items" in label


def test_a_cycle_still_lays_out_with_back_edges_around_the_side() -> None:
    layout = layout_layers(CYCLE)
    back = {(e.src, e.dst) for e in layout.edges if e.back}
    assert ("b", "a") in back and ("b", "b") in back and ("end", "start") in back
    content_right = max(b.right for b in layout.boxes.values())
    for edge in layout.edges:
        if edge.back:
            assert max(x for x, _ in edge.points) > content_right


def test_unknown_targets_and_orphans_do_not_break_the_layout() -> None:
    graph = flow(
        ("start", StepKind.START, ["a", "missing"]),
        ("a", StepKind.LINEAR, ["end"]),
        ("orphan", StepKind.LINEAR, ["end"]),
        ("end", StepKind.END, []),
    )
    layout = layout_layers(graph)
    assert_sound(graph, layout)
    assert "missing" not in layout.boxes


def test_an_empty_graph_has_an_empty_layout() -> None:
    layout = layout_layers(FlowGraph("Empty", "e.py", 1, ()))
    assert layout.boxes == {} and layout.edges == () and layout.width == 0


def test_any_broken_flow_mid_edit_still_lays_out_soundly() -> None:
    """Random transitions: cycles, self-loops, unknown targets, a step defined twice."""
    for seed in range(300):
        rng = random.Random(seed)
        names = ["start", *(f"s{i}" for i in range(rng.randint(0, 12)))]
        steps = [
            StepNode(
                name=name,
                kind=StepKind.LINEAR,
                next=tuple(
                    rng.choice([*names, "ghost"]) for _ in range(rng.choice([0, 1, 1, 2, 3]))
                ),
                line=line,
                end_line=line,
            )
            for line, name in enumerate(names, start=1)
        ]
        if seed % 5 == 0:
            steps.append(steps[-1])
        graph = FlowGraph("BrokenFlow", "broken.py", 1, tuple(steps))
        assert_sound(graph, layout_layers(graph))
