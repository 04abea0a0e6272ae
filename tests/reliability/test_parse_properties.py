"""Property: the parser and the linter, fed any mutation of the example flows, either return a
graph and a list of problems or raise one of the documented errors (`FlowSourceError`, with a
sentence and a line) — never another exception."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowtui.graph import FlowSourceError, lint_graph, parse_flow

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.py"))
SOURCES = [p.read_text() for p in EXAMPLES]
SNIPPETS = [
    "self.next(",
    "self.next(self.end)",
    ", foreach='items'",
    "@step\n",
    "def join(self, inputs):\n",
    "class X(FlowSpec):\n",
    "    ",
    "\n",
    ")",
    "(",
    ":",
    "\x00",
    "é",
    "'''",
    "import metaflow\n",
    "lambda: 0",
    "@retry(times=2)\n",
    "Parameter('a', default=1)",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    source = draw(st.sampled_from(SOURCES))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(source)))
        action = draw(st.sampled_from(["delete", "insert", "snippet", "duplicate"]))
        if action == "delete":
            end = draw(st.integers(at, min(len(source), at + 80)))
            source = source[:at] + source[end:]
        elif action == "insert":
            source = source[:at] + draw(st.text(max_size=20)) + source[at:]
        elif action == "snippet":
            source = source[:at] + draw(st.sampled_from(SNIPPETS)) + source[at:]
        else:
            end = draw(st.integers(at, min(len(source), at + 200)))
            source = source[:end] + source[at:end] + source[end:]
    return source


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_any_mutation_of_an_example_parses_lints_or_fails_with_a_documented_error(source: str):
    try:
        graph = parse_flow(source, "mutated.py")
    except FlowSourceError as e:
        assert str(e).strip()  # a sentence, never empty
        return
    for problem in lint_graph(graph):
        assert problem.format("mutated.py").startswith("mutated.py:")
