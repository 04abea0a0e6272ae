"""Lint: each of Metaflow's checks fires on a small broken flow, at the line to fix."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest

from flowtui.graph import CheckResult, check_flow, lint_graph, parse_flow, read_flow_file

HEADER = "from flowtui import FlowSpec, step\n\n\nclass F(FlowSpec):\n"


def flow(body: str) -> str:
    """A flow file: the header, then the dedented step methods indented into class F."""
    return HEADER + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"


def line_of(source: str, text: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if text in line)


# name -> (class body, text on the line the problem must point at, words of its message)
BROKEN: dict[str, tuple[str, str, str]] = {
    "no start step": (
        """
        @step
        def begin(self):
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
        "class F",
        "no start step",
    ),
    "a parameter named like a run option": (
        """
        tag = Parameter("tag", default="x")

        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
        'tag = Parameter("tag"',
        "Parameter name 'tag' is reserved",
    ),
    "no end step": (
        """
        @step
        def start(self):
            self.next(self.finish)

        @step
        def finish(self):
            pass
        """,
        "class F",
        "no end step",
    ),
    "reserved step name": (
        """
        @step
        def start(self):
            self.next(self.index)

        @step
        def index(self):
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
        "def index",
        "Step name index is reserved",
    ),
    "invalid step name": (
        """
        @step
        def start(self):
            self.next(self.Train)

        @step
        def Train(self):
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
        "def Train",
        "Step name Train is invalid",
    ),
    "step without self.next": (
        """
        @step
        def start(self):
            self.next(self.work)

        @step
        def work(self):
            print("forgot the transition")

        @step
        def end(self):
            pass
        """,
        "def work",
        "does not end with a self.next()",
    ),
    "transition to an unknown step": (
        """
        @step
        def start(self):
            self.next(self.trian)

        @step
        def train(self):
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
        "self.next(self.trian)",
        "self.trian, which is not a step; did you mean self.train?",
    ),
    "invalid self.next form": (
        """
        @step
        def start(self):
            self.xs = [1, 2]
            self.next(self.a, self.b, foreach="xs")

        @step
        def a(self):
            self.next(self.end)

        @step
        def b(self):
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
        'foreach="xs"',
        "invalid self.next()",
    ),
    "branches merged by a step that is not a join": (
        """
        @step
        def start(self):
            self.next(self.a, self.b)

        @step
        def a(self):
            self.next(self.merge)

        @step
        def b(self):
            self.next(self.merge)

        @step
        def merge(self):
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
        "def merge",
        "is not a join",
    ),
    "a join that also splits": (
        """
        @step
        def start(self):
            self.next(self.a, self.b)

        @step
        def a(self):
            self.next(self.join)

        @step
        def b(self):
            self.next(self.join)

        @step
        def join(self, inputs):
            self.next(self.c, self.d)

        @step
        def c(self):
            self.next(self.join2)

        @step
        def d(self):
            self.next(self.join2)

        @step
        def join2(self, inputs):
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
        "def join(self, inputs)",
        "both a join (it takes inputs) and a split",
    ),
    "too many arguments": (
        """
        @step
        def start(self):
            self.next(self.a, self.b)

        @step
        def a(self):
            self.next(self.join)

        @step
        def b(self):
            self.next(self.join)

        @step
        def join(self, inputs, extra):
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
        "def join",
        "too many arguments",
    ),
    "missing self": (
        """
        @step
        def start():
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
        "def start",
        "missing its self argument",
    ),
    "a join with no split before it": (
        """
        @step
        def start(self):
            self.next(self.gather)

        @step
        def gather(self, inputs):
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
        "def gather",
        "no split comes before it",
    ),
    "a loop": (
        """
        @step
        def start(self):
            self.next(self.a)

        @step
        def a(self):
            self.next(self.b)

        @step
        def b(self):
            self.next(self.a)

        @step
        def end(self):
            pass
        """,
        "self.next(self.a)\n",
        "There is a loop in the flow: a -> b -> a",
    ),
    "an orphan step": (
        """
        @step
        def start(self):
            self.next(self.end)

        @step
        def lost(self):
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
        "def lost",
        "Step lost is unreachable from start",
    ),
    "a join of branches from different splits": (
        """
        @step
        def start(self):
            self.next(self.a, self.b)

        @step
        def a(self):
            self.next(self.c, self.d)

        @step
        def b(self):
            self.next(self.join)

        @step
        def c(self):
            self.next(self.join)

        @step
        def d(self):
            self.next(self.join)

        @step
        def join(self, inputs):
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
        "def join",
        "joins branches of different splits",
    ),
    "a join missing a branch": (
        """
        @step
        def start(self):
            self.next(self.a, self.b, self.c)

        @step
        def a(self):
            self.next(self.join)

        @step
        def b(self):
            self.next(self.join)

        @step
        def c(self):
            self.next(self.end)

        @step
        def join(self, inputs):
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
        "def join",
        "gathers 2 of the 3 branches of split start (missing c)",
    ),
    "end reached before a join": (
        """
        @step
        def start(self):
            self.next(self.a, self.b)

        @step
        def a(self):
            self.next(self.end)

        @step
        def b(self):
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
        "def end",
        "The end step is reached before the split at start is joined",
    ),
    "a foreach joined directly": (
        """
        @step
        def start(self):
            self.xs = [1, 2, 3]
            self.next(self.gather, foreach="xs")

        @step
        def gather(self, inputs):
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
        "def start",
        "Foreach step start goes straight to join step gather",
    ),
    "end with a transition": (
        """
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            self.next(self.start)
        """,
        "self.next(self.start)",
        "The end step must not call self.next()",
    ),
    "end taking inputs": (
        """
        @step
        def start(self):
            self.next(self.a, self.b)

        @step
        def a(self):
            self.next(self.end)

        @step
        def b(self):
            self.next(self.end)

        @step
        def end(self, inputs):
            pass
        """,
        "def end",
        "The end step must not be a join",
    ),
    "a transition back to start": (
        """
        @step
        def start(self):
            self.next(self.a)

        @step
        def a(self):
            self.next(self.start)

        @step
        def end(self):
            pass
        """,
        "def start",
        "nothing may transition back to start",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_check_fires_at_the_line_to_fix(case: str) -> None:
    body, where, words = BROKEN[case]
    source = flow(body)
    result = check_flow(source, "flow.py")
    assert not result.ok
    located = [(p.line, p.message) for p in result.problems]
    line = line_of(source, where.rstrip("\n")) if not where.endswith("\n") else _last_line(source)
    assert any(ln == line and words in message for ln, message in located), located


def _last_line(source: str) -> int:
    """For the loop case: the self.next(self.a) that closes the loop is the later one."""
    lines = source.splitlines()
    return max(i for i, line in enumerate(lines, 1) if "self.next(self.a)" in line)


def test_every_problem_is_an_error_sentence_with_a_line() -> None:
    for body, _, _ in BROKEN.values():
        for problem in check_flow(flow(body), "flow.py").problems:
            assert problem.severity == "error" and problem.line >= 1
            assert "\n" not in problem.message
            assert problem.message[0].isupper() and problem.message.endswith((".", "?"))


def test_one_mistake_is_reported_once_not_downstream() -> None:
    body, _, _ = BROKEN["branches merged by a step that is not a join"]
    problems = check_flow(flow(body), "flow.py").problems
    assert len(problems) == 1


@pytest.mark.parametrize("name", ["hello", "branch_join", "foreach", "flaky", "metaflow_style"])
def test_the_examples_have_no_problems(examples_dir: Path, name: str) -> None:
    path = examples_dir / f"{name}.py"
    result = check_flow(read_flow_file(path), str(path))
    assert result.ok and result.problems == ()
    assert result.graph is not None and result.graph.flow_name


def test_nested_splits_and_foreach_balance() -> None:
    source = flow(
        """
        @step
        def start(self):
            self.xs = [1, 2]
            self.next(self.outer, foreach="xs")

        @step
        def outer(self):
            self.next(self.left, self.right)

        @step
        def left(self):
            self.ys = [1, 2]
            self.next(self.inner, foreach="ys")

        @step
        def inner(self):
            self.next(self.inner_join)

        @step
        def inner_join(self, inputs):
            self.next(self.branch_join)

        @step
        def right(self):
            self.next(self.branch_join)

        @step
        def branch_join(self, inputs):
            self.next(self.outer_join)

        @step
        def outer_join(self, inputs):
            self.next(self.end)

        @step
        def end(self):
            pass
        """
    )
    graph = parse_flow(source, "flow.py")
    assert lint_graph(graph) == []
    assert [s.name for s in graph][-1] == "end"


def test_a_syntax_error_is_one_problem_with_line_and_column() -> None:
    source = flow(
        """
        @step
        def start(self):
            self.next(self.end

        @step
        def end(self):
            pass
        """
    )
    result = check_flow(source, "flow.py")
    assert result.graph is None and not result.ok
    [problem] = result.problems
    assert problem.line == line_of(source, "self.next(self.end")
    assert problem.column is not None and problem.column > 0
    assert problem.message.startswith("Syntax error")


def test_no_flow_and_several_flows_are_problems_not_exceptions() -> None:
    assert check_flow("x = 1\n", "f.py").problems[0].message.startswith("f.py defines no flow")
    two = HEADER + "    pass\n\n\nclass G(F):\n    pass\n"
    result = check_flow(two, "f.py")
    assert result.graph is None and "--flow NAME" in result.problems[0].message
    assert check_flow(two, "f.py", flow="G").graph is not None


def _mutations(source: str, rng: random.Random) -> list[str]:
    """Half-typed versions of a file: every line prefix, and random cuts and deletions."""
    lines = source.splitlines(keepends=True)
    variants = ["".join(lines[:n]) for n in range(len(lines) + 1)]
    for _ in range(150):
        cut = rng.randrange(len(source))
        variants.append(source[:cut])
        start = rng.randrange(len(source))
        variants.append(source[:start] + source[start + rng.randint(1, 12) :])
    return variants


@pytest.mark.parametrize("name", ["hello", "branch_join", "foreach", "metaflow_style"])
def test_half_typed_code_never_raises(examples_dir: Path, name: str) -> None:
    source = (examples_dir / f"{name}.py").read_text()
    rng = random.Random(name)
    for variant in _mutations(source, rng):
        result = check_flow(variant, "flow.py")
        assert isinstance(result, CheckResult)
        if result.graph is None:
            assert len(result.problems) == 1 and result.problems[0].line >= 1
