"""What a flow looks like without running it: steps, their transitions and decorators.

These frozen dataclasses are what `parse` produces from a file's text and what lint, layout,
the engine and the TUI all consume. They carry line numbers so every message can point at
the source.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum


class StepKind(str, Enum):
    """The kind of a step, by the transition that ends it (Metaflow's node types)."""

    START = "start"
    LINEAR = "linear"
    SPLIT = "split"
    FOREACH = "foreach"
    JOIN = "join"
    END = "end"
    SWITCH = "split-switch"  # self.next({"a": self.a, ...}, condition="var"): one case runs


# `self.next(self.train, num_parallel=4)` is read as a foreach over this (private) artifact,
# as Metaflow reads it: the step it leads to runs as a gang of `@parallel` tasks.
PARALLEL_VAR = "_parallel_ubf_iter"


@dataclass(frozen=True)
class Decorator:
    """A decorator on a step, e.g. ``@retry(times=3)`` -> name="retry", args={"times": 3}.

    Argument values are Python literals where the source has a literal, else the source text.
    """

    name: str
    args: dict[str, object] = field(default_factory=dict)
    line: int = 0

    def __hash__(self) -> int:
        return hash((self.name, self.line))


@dataclass(frozen=True)
class StepNode:
    name: str
    kind: StepKind
    next: tuple[str, ...]
    line: int
    end_line: int
    foreach: str | None = None
    takes_inputs: bool = False
    decorators: tuple[Decorator, ...] = ()
    doc: str = ""
    next_line: int | None = None  # line of the `self.next(...)` call, if any
    arg_count: int = 1  # positional parameters of the method, `self` included
    next_error: str | None = None  # why the trailing `self.next(...)` is malformed, if it is
    condition: str | None = None  # a switch: the artifact whose value picks the case
    cases: tuple[tuple[str, str], ...] = ()  # a switch: (case label, step), in source order

    @property
    def is_join(self) -> bool:
        return self.takes_inputs

    @property
    def is_gang_split(self) -> bool:
        """Whether the step ends in `self.next(self.x, num_parallel=N)`."""
        return self.foreach == PARALLEL_VAR

    def decorator(self, name: str) -> Decorator | None:
        return next((d for d in self.decorators if d.name == name), None)


@dataclass(frozen=True)
class ParameterSpec:
    """A ``Parameter``/``IncludeFile``/``Config`` declared as a class attribute, read
    statically."""

    attr: str
    name: str
    kind: str  # "parameter", "include_file" or "config"
    default: object = None
    has_default: bool = False
    type: str | None = None  # "int", "float", "bool", "str", "json" or None when unknown
    help: str = ""
    required: bool = False
    line: int = 0
    # The default is an expression, not a literal (a function, `config.alpha`): `default`
    # holds its source text, and the runner works the value out when the run starts.
    computed: bool = False


@dataclass(frozen=True)
class FlowGraph:
    """A flow's steps in topological order (start first, end last when the flow is valid)."""

    flow_name: str
    file: str
    line: int
    steps: tuple[StepNode, ...]
    parameters: tuple[ParameterSpec, ...] = ()
    doc: str = ""
    configs: tuple[ParameterSpec, ...] = ()  # its `Config`s, read apart from the parameters

    def __iter__(self) -> Iterator[StepNode]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __contains__(self, name: object) -> bool:
        return any(s.name == name for s in self.steps)

    def __getitem__(self, name: str) -> StepNode:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def shape(self) -> tuple[tuple[object, ...], ...]:
        """The graph's structure (steps, kinds, transitions), not its lines or code: a run's
        states belong on a drawn graph of the same shape."""
        return tuple((s.name, s.kind, s.next, s.foreach, s.condition, s.cases) for s in self.steps)

    def parents(self, name: str) -> tuple[str, ...]:
        return tuple(s.name for s in self.steps if name in s.next)

    def descendants(self, name: str) -> set[str]:
        """`name` and every step reachable from it along transitions."""
        return reachable({s.name: s for s in self.steps}, name)


def reachable(steps: Mapping[str, StepNode], root: str) -> set[str]:
    """`root` and every step reachable from it (empty when there is no such step)."""
    if root not in steps:
        return set()
    seen = {root}
    todo = [root]
    while todo:
        for child in steps[todo.pop()].next:
            if child in steps and child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a flow file, located at a line (and column when known)."""

    message: str
    line: int
    column: int | None = None
    severity: str = "error"  # "error" or "warning"

    def format(self, file: str) -> str:
        where = f"{file}:{self.line}" + (f":{self.column}" if self.column else "")
        return f"{where}: {self.message}"
