"""Reading a flow file's text into a FlowGraph: examples, self.next forms, import styles, errors."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from flowtui.errors import UsageError
from flowtui.graph import (
    Decorator,
    FlowGraph,
    FlowSourceError,
    FlowSyntaxError,
    StepKind,
    parse_flow,
    read_flow_file,
)

WriteFlow = Callable[..., Path]


def parse(source: str, flow: str | None = None) -> FlowGraph:
    return parse_flow(textwrap.dedent(source), "flow.py", flow)


def line_of(source: str, text: str) -> int:
    """The 1-based line of the first occurrence of `text` in the dedented source."""
    lines = textwrap.dedent(source).splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def shape(graph: FlowGraph) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(s.name, s.kind.value, s.next) for s in graph]


# -- the examples ---------------------------------------------------------------------------

EXAMPLE_SHAPES = {
    "hello.py": (
        "HelloFlow",
        [
            ("start", "start", ("count",)),
            ("count", "linear", ("shout",)),
            ("shout", "linear", ("end",)),
            ("end", "end", ()),
        ],
    ),
    "branch_join.py": (
        "BranchJoinFlow",
        [
            ("start", "split", ("add_up", "measure", "order")),
            ("add_up", "linear", ("join",)),
            ("measure", "linear", ("join",)),
            ("order", "linear", ("join",)),
            ("join", "join", ("end",)),
            ("end", "end", ()),
        ],
    ),
    "foreach.py": (
        "ForeachFlow",
        [
            ("start", "foreach", ("score",)),
            ("score", "linear", ("best",)),
            ("best", "join", ("end",)),
            ("end", "end", ()),
        ],
    ),
    "flaky.py": (
        "FlakyFlow",
        [
            ("start", "start", ("prepare",)),
            ("prepare", "linear", ("train",)),
            ("train", "linear", ("end",)),
            ("end", "end", ()),
        ],
    ),
    "metaflow_style.py": (
        "MetaflowStyleFlow",
        [
            ("start", "foreach", ("process",)),
            ("process", "linear", ("gather",)),
            ("gather", "join", ("end",)),
            ("end", "end", ()),
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(EXAMPLE_SHAPES))
def test_each_example_parses_to_its_dag(examples_dir: Path, name: str) -> None:
    path = examples_dir / name
    graph = parse_flow(read_flow_file(path), str(path))
    flow_name, steps = EXAMPLE_SHAPES[name]
    assert graph.flow_name == flow_name
    assert graph.file == str(path)
    assert shape(graph) == steps
    assert all(step.doc for step in graph), "every example step explains itself"


def test_every_example_is_covered(examples_dir: Path) -> None:
    assert sorted(p.name for p in examples_dir.glob("*.py")) == sorted(EXAMPLE_SHAPES)


def test_example_details_foreach_decorators_parameters(examples_dir: Path) -> None:
    path = examples_dir / "metaflow_style.py"
    graph = parse_flow(read_flow_file(path), str(path))
    assert graph["start"].foreach == "shard_ids"
    process = graph["process"]
    assert [d.name for d in process.decorators] == ["retry", "catch"]
    assert process.decorator("retry") == Decorator(
        "retry", {"times": 2, "minutes_between_retries": 0}, process.line - 3
    )
    assert process.decorator("catch") is not None
    assert process.decorator("catch").args == {"var": "error", "print_exception": False}
    assert graph["gather"].takes_inputs
    [shards] = graph.parameters
    assert (shards.name, shards.type, shards.default, shards.help) == (
        "shards",
        "int",
        3,
        "How many shards to process.",
    )


# -- self.next forms ------------------------------------------------------------------------

FORMS = """
    from flowtui import FlowSpec, step

    class FormsFlow(FlowSpec):
        @step
        def start(self):
            self.items = [1, 2]
            self.next(self.fan, foreach="items")

        @step
        def fan(self):
            self.next(self.gather)

        @step
        def gather(self, inputs):
            self.next(self.split)

        @step
        def split(self):
            self.next(self.left, self.right)

        @step
        def left(self):
            self.next(self.join)

        @step
        def right(self):
            self.next(self.join)

        @step
        def join(self, inputs):
            self.next(self.end)

        @step
        def end(self):
            pass
"""


def test_every_self_next_form_gives_its_kind_targets_and_line() -> None:
    graph = parse(FORMS)
    assert shape(graph) == [
        ("start", "foreach", ("fan",)),
        ("fan", "linear", ("gather",)),
        ("gather", "join", ("split",)),
        ("split", "split", ("left", "right")),
        ("left", "linear", ("join",)),
        ("right", "linear", ("join",)),
        ("join", "join", ("end",)),
        ("end", "end", ()),
    ]
    start = graph["start"]
    assert start.foreach == "items"
    assert start.next_line == line_of(FORMS, 'foreach="items"')
    assert graph["split"].next_line == line_of(FORMS, "self.next(self.left, self.right)")
    assert graph["end"].next_line is None
    assert all(step.next_error is None for step in graph)


def test_a_linear_start_is_start_kind_and_lines_span_the_method() -> None:
    source = """
        from flowtui import FlowSpec, step

        class F(FlowSpec):
            @step
            def start(self):
                '''Begin here.

                More detail that is not the summary.
                '''
                self.next(self.end)

            @step
            def end(self):
                pass
    """
    graph = parse(source)
    start = graph["start"]
    assert start.kind is StepKind.START
    assert start.doc == "Begin here."
    assert start.line == line_of(source, "def start")
    assert start.end_line == line_of(source, "self.next(self.end)")
    assert graph.line == line_of(source, "class F")


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        ("self.next()", "names no step"),
        ('self.next("end")', "'end' is not a step"),
        ("self.next(self.end, self.other, foreach='xs')", "exactly one step"),
        ("self.next(self.end, foreach=names)", 'foreach="items"'),
        ("self.next(self.end, unknown=1)", "unknown="),
        ("self.next({'a': self.end})", 'needs condition="<artifact name>"'),
        ("self.next({k: self.end}, condition='c')", "must be a literal string or number"),
        ("self.next({'a': self.end}, condition=c)", 'e.g. condition="route"'),
    ],
)
def test_a_malformed_self_next_is_recorded_not_raised(call: str, fragment: str) -> None:
    source = f"""
        from flowtui import FlowSpec, step

        class F(FlowSpec):
            @step
            def start(self):
                {call}

            @step
            def end(self):
                pass
    """
    start = parse(source)["start"]
    assert start.next_line == line_of(source, "self.next(")
    assert start.next_error is not None and fragment in start.next_error


def test_a_self_next_that_is_not_last_is_no_transition() -> None:
    source = """
        from flowtui import FlowSpec, step

        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.end)
                print("after")

            @step
            def end(self):
                pass
    """
    start = parse(source)["start"]
    assert start.next == () and start.next_line is None
    assert start.next_error is not None
    assert f"line {line_of(source, 'self.next')}" in start.next_error


# -- import styles ----------------------------------------------------------------------------

STEPS = """
    @{step}
    def start(self):
        self.next(self.end)

    @{step}
    def end(self):
        pass
"""


def flow_source(imports: str, base: str, step: str = "step") -> str:
    body = textwrap.indent(textwrap.dedent(STEPS.format(step=step)), "    ")
    return f"{imports}\n\nclass StyleFlow({base}):\n{body}"


@pytest.mark.parametrize(
    ("imports", "base", "step"),
    [
        ("from flowtui import FlowSpec, step", "FlowSpec", "step"),
        ("from metaflow import FlowSpec, step", "FlowSpec", "step"),
        ("import metaflow", "metaflow.FlowSpec", "metaflow.step"),
        ("import flowtui as ft", "ft.FlowSpec", "ft.step"),
        ("from metaflow import FlowSpec as FS, step as s", "FS", "s"),
        ("from flowtui.flow import FlowSpec as Base, step", "Base", "step"),
    ],
)
def test_flows_are_found_whatever_the_import_style(imports: str, base: str, step: str) -> None:
    graph = parse_flow(flow_source(imports, base, step), "flow.py")
    assert graph.flow_name == "StyleFlow"
    assert [s.name for s in graph] == ["start", "end"]


def test_a_flow_deriving_from_another_flow_inherits_and_overrides_steps() -> None:
    source = """
        from metaflow import FlowSpec, Parameter, step

        class BaseFlow(FlowSpec):
            alpha = Parameter("alpha", default=1)

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass

        class ChildFlow(BaseFlow):
            @step
            def start(self):
                self.next(self.middle)

            @step
            def middle(self):
                self.next(self.end)
    """
    graph = parse(source, flow="ChildFlow")
    assert shape(graph) == [
        ("start", "start", ("middle",)),
        ("middle", "linear", ("end",)),
        ("end", "end", ()),
    ]
    assert graph["start"].line == line_of(source, "self.next(self.middle)") - 1
    assert [p.name for p in graph.parameters] == ["alpha"]


def test_only_step_methods_of_flow_classes_count() -> None:
    source = """
        from flowtui import FlowSpec, step, project

        class NotAFlow:
            @step
            def start(self):
                pass

        @project(name="demo")
        class RealFlow(FlowSpec):
            def helper(self):
                return 1

            @staticmethod
            def util():
                return 2

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    """
    graph = parse(source)
    assert graph.flow_name == "RealFlow"
    assert [s.name for s in graph] == ["start", "end"]


# -- decorators and parameters ---------------------------------------------------------------


def test_decorators_keep_their_arguments_literal_or_as_source_text() -> None:
    source = """
        import metaflow
        from metaflow import FlowSpec, step, retry as again, kubernetes

        TIMEOUT = 30

        class F(FlowSpec):
            @again(times=3)
            @metaflow.timeout(seconds=TIMEOUT)
            @kubernetes
            @metaflow.resources(memory=4096, cpu=2)
            @environment(vars={"A": "1"})
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    """
    start = parse(source)["start"]
    assert [(d.name, d.args) for d in start.decorators] == [
        ("retry", {"times": 3}),
        ("timeout", {"seconds": "TIMEOUT"}),
        ("kubernetes", {}),
        ("resources", {"memory": 4096, "cpu": 2}),
        ("environment", {"vars": {"A": "1"}}),
    ]
    assert start.decorators[0].line == line_of(source, "@again")


def test_parameters_are_read_with_their_types_defaults_and_help() -> None:
    source = """
        import metaflow
        from metaflow import FlowSpec, IncludeFile, JSONType, Parameter, step

        class F(FlowSpec):
            count = Parameter("count", default=3, help="How many.")
            rate = Parameter("rate", default=0.5)
            flag = Parameter("flag", default=False)
            label = Parameter("label", default="x")
            size = Parameter("size", type=int, required=True)
            config = Parameter("config", type=JSONType, default='{"a": 1}')
            other = metaflow.Parameter(name="other", type=metaflow.JSONType, default="[]")
            dynamic = Parameter("dynamic", default=lambda ctx: 1)
            data = IncludeFile("data", default="data.csv", help="A CSV file.")
            not_a_parameter = 3

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    """
    params = {p.name: p for p in parse(source).parameters}
    assert list(params) == [
        "count", "rate", "flag", "label", "size", "config", "other", "dynamic", "data"
    ]  # fmt: skip
    assert {name: p.type for name, p in params.items()} == {
        "count": "int",
        "rate": "float",
        "flag": "bool",
        "label": "str",
        "size": "int",
        "config": "json",
        "other": "json",
        "dynamic": None,
        "data": "str",
    }
    assert params["count"].help == "How many." and params["count"].default == 3
    assert params["size"].required and not params["size"].has_default
    assert params["dynamic"].default == "lambda ctx: 1"
    assert params["data"].kind == "include_file" and params["count"].kind == "parameter"
    assert params["count"].line == line_of(source, 'Parameter("count"')


# -- order -------------------------------------------------------------------------------------


def test_steps_are_in_topological_order_whatever_the_source_order() -> None:
    source = """
        from flowtui import FlowSpec, step

        class F(FlowSpec):
            @step
            def end(self):
                pass

            @step
            def join(self, inputs):
                self.next(self.end)

            @step
            def b(self):
                self.next(self.join)

            @step
            def a(self):
                self.next(self.join)

            @step
            def start(self):
                self.next(self.a, self.b)
    """
    assert [s.name for s in parse(source)] == ["start", "b", "a", "join", "end"]


def test_a_looping_or_broken_flow_still_lists_every_step_once() -> None:
    source = """
        from flowtui import FlowSpec, step

        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.a)

            @step
            def a(self):
                self.next(self.b, self.nowhere)

            @step
            def b(self):
                self.next(self.a)

            @step
            def lost(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    """
    names = [s.name for s in parse(source)]
    assert sorted(names) == ["a", "b", "end", "lost", "start"]
    assert names[0] == "start" and names.index("a") < names.index("b")


# -- errors ------------------------------------------------------------------------------------


def test_a_syntax_error_has_its_line_and_column() -> None:
    source = "from flowtui import FlowSpec\n\nclass F(FlowSpec):\n    def start(self)\n"
    with pytest.raises(FlowSyntaxError) as caught:
        parse_flow(source, "flow.py")
    assert isinstance(caught.value, UsageError)
    problem = caught.value.problem
    assert (problem.line, problem.column) == (4, 20)
    assert problem.format("flow.py").startswith("flow.py:4:20: Syntax error")


def test_a_file_without_a_flow_says_so() -> None:
    with pytest.raises(FlowSourceError, match=r"defines no flow.*FlowSpec"):
        parse_flow("class Nothing:\n    pass\n", "empty.py")


def test_several_flows_are_listed_with_the_fix() -> None:
    source = (
        flow_source("from flowtui import FlowSpec, step", "FlowSpec")
        + "\n\n"
        + (flow_source("", "FlowSpec").replace("StyleFlow", "OtherFlow"))
    )
    with pytest.raises(FlowSourceError) as caught:
        parse_flow(source, "two.py")
    message = str(caught.value)
    assert "StyleFlow" in message and "OtherFlow" in message and "--flow NAME" in message
    assert parse_flow(source, "two.py", flow="OtherFlow").flow_name == "OtherFlow"


def test_a_base_flow_and_the_flow_the_file_runs_as_main_need_no_flow_option() -> None:
    """A file with a base flow and the flow built on it runs on Metaflow as
    `python FILE run` (its `__main__` block picks the flow); flowtui refused it without
    --flow, in the TUI too. Without a `__main__` block, or with two flows called in it, it
    still asks."""
    base = """
        from metaflow import FlowSpec, step

        class BaseFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass

        class ChildFlow(BaseFlow):
            @step
            def end(self):
                print("child")
    """
    main = (
        base
        + """
        if __name__ == "__main__":
            ChildFlow()
    """
    )
    assert parse(main).flow_name == "ChildFlow"
    flipped = main.replace('__name__ == "__main__"', '"__main__" == __name__')
    assert parse(flipped).flow_name == "ChildFlow"
    assert parse(main, flow="BaseFlow").flow_name == "BaseFlow"
    for ambiguous in (base, main.rstrip(" ") + "            BaseFlow()\n"):
        with pytest.raises(FlowSourceError, match=r"several flows .*--flow NAME"):
            parse(ambiguous)


def test_an_unknown_flow_name_lists_the_flows() -> None:
    source = flow_source("from flowtui import FlowSpec, step", "FlowSpec")
    with pytest.raises(FlowSourceError, match=r"no flow named Missing.*StyleFlow"):
        parse_flow(source, "one.py", flow="Missing")


# -- reading files -----------------------------------------------------------------------------


def test_read_flow_file_returns_the_text(write_flow: WriteFlow) -> None:
    path = write_flow("# café\nx = 1\n")
    assert read_flow_file(path) == "# café\nx = 1\n"
    assert read_flow_file(str(path)) == "# café\nx = 1\n"


def test_read_flow_file_says_what_is_wrong_with_the_path(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"missing\.py does not exist"):
        read_flow_file(tmp_path / "missing.py")
    with pytest.raises(UsageError, match="is a directory"):
        read_flow_file(tmp_path)
    notes = tmp_path / "notes.txt"
    notes.write_text("class F(FlowSpec): pass\n")
    with pytest.raises(UsageError, match=r"not a Python file.*\.py"):
        read_flow_file(notes)
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"x = 1\n# caf\xe9\n")
    with pytest.raises(UsageError, match=r"not UTF-8 text.*line 2"):
        read_flow_file(latin)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_read_flow_file_names_an_unreadable_file(write_flow: WriteFlow) -> None:
    path = write_flow("x = 1\n")
    path.chmod(0)
    try:
        with pytest.raises(UsageError, match="cannot be read"):
            read_flow_file(path)
    finally:
        path.chmod(0o644)
