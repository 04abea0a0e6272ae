"""Split-switch steps read statically: parsed with their cases, linted, drawn with labels."""

from __future__ import annotations

import textwrap

from flowtui.graph import lint_graph, parse_flow
from flowtui.graph.model import StepKind
from flowtui.graph.render import render_dag

SWITCH = """
from metaflow import FlowSpec, step


class RouteFlow(FlowSpec):
    @step
    def start(self):
        self.route = "fast"
        self.next({"fast": self.quick, "slow": self.careful, 3: self.quick}, condition="route")

    @step
    def quick(self):
        self.next(self.merge)

    @step
    def careful(self):
        self.next(self.merge)

    @step
    def merge(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_a_switch_is_parsed_with_its_condition_and_cases_and_lints_clean() -> None:
    graph = parse_flow(SWITCH, "route.py")

    start = graph["start"]
    assert start.kind is StepKind.SWITCH
    assert start.condition == "route"
    assert start.cases == (("fast", "quick"), ("slow", "careful"), ("3", "quick"))
    assert start.next == ("quick", "careful")
    assert graph.parents("merge") == ("quick", "careful")
    assert lint_graph(graph) == []


def test_a_switch_is_drawn_as_a_switch_with_its_case_labels() -> None:
    drawing = render_dag(parse_flow(SWITCH, "route.py"), max_width=100)

    assert "⎇ start (route)" in drawing
    lines = drawing.splitlines()
    labels = next(line for line in lines if "fast|3" in line)
    assert "slow" in labels  # both labels on the row above the cases' boxes
    assert lines.index(labels) + 1 == next(i for i, s in enumerate(lines) if "▼" in s)


def _lint(body: str) -> list[str]:
    source = "from metaflow import FlowSpec, step\n\n\nclass F(FlowSpec):\n" + textwrap.indent(
        textwrap.dedent(body), "    "
    )
    return [f"{p.line}: {p.message}" for p in lint_graph(parse_flow(source, "f.py"))]


def test_a_switch_with_one_case_or_a_case_straight_to_a_join_is_a_problem_at_its_line() -> None:
    one_case = _lint(
        """
        @step
        def start(self):
            self.next({"a": self.end}, condition="x")

        @step
        def end(self):
            pass
        """
    )
    assert one_case == [
        "8: Step start is a switch with 1 case; a switch needs at least 2 "
        "(use self.next(self.<step>) for one)."
    ]
    to_join = _lint(
        """
        @step
        def start(self):
            self.next(self.a, self.b)

        @step
        def a(self):
            self.next({"x": self.join, "y": self.c}, condition="k")

        @step
        def b(self):
            self.next(self.join)

        @step
        def c(self):
            self.next(self.join)

        @step
        def join(self, inputs):
            self.next(self.end)

        @step
        def end(self):
            pass
        """
    )
    expected = "12: Step a's switch case 'x' goes straight to join step join"
    assert any(p.startswith(expected) for p in to_join), to_join


def test_a_dict_without_condition_or_with_a_computed_case_is_an_invalid_next() -> None:
    problems = _lint(
        """
        @step
        def start(self):
            self.next({"a": self.a, "b": self.end})

        @step
        def a(self):
            self.next({KEY: self.end, "b": self.end}, condition="k")

        @step
        def end(self):
            pass
        """
    )
    assert any('a dict of steps needs condition="<artifact name>"' in p for p in problems)
    assert any("the switch case KEY must be a literal string or number" in p for p in problems)
