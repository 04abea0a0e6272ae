"""Generated flows of known shape, for tests and benchmarks.

Each generator returns a `SyntheticFlow`: the `FlowGraph` and the source of a flow file with
exactly that graph (``from metaflow import FlowSpec, step``, so the same file also runs under
real Metaflow). Every generated flow is valid by Metaflow's rules: splits and foreaches are
closed by a join, a foreach never goes straight to its join, start and end are unique.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import pairwise

from flowtui.graph.model import FlowGraph, StepKind, StepNode


@dataclass(frozen=True)
class SyntheticFlow:
    graph: FlowGraph
    source: str


@dataclass
class _Spec:
    name: str
    next: list[str]
    foreach: str | None = None
    takes_inputs: bool = False


class _Builder:
    """Collects steps in creation order, which is a topological order by construction."""

    def __init__(self) -> None:
        self.specs: list[_Spec] = []
        self.counter = 0

    def add(self, prefix: str, *, takes_inputs: bool = False) -> _Spec:
        self.counter += 1
        spec = _Spec(f"{prefix}_{self.counter:03d}", [], takes_inputs=takes_inputs)
        self.specs.append(spec)
        return spec

    def linear(self) -> tuple[_Spec, _Spec]:
        s = self.add("step")
        return s, s

    def chain(self, parts: list[tuple[_Spec, _Spec]]) -> tuple[_Spec, _Spec]:
        for (_, tail), (head, _) in pairwise(parts):
            tail.next.append(head.name)
        return parts[0][0], parts[-1][1]

    def split(self, branches: list[tuple[_Spec, _Spec]], split: _Spec) -> tuple[_Spec, _Spec]:
        join = self.add("join", takes_inputs=True)
        split.next.extend(head.name for head, _ in branches)
        for _, tail in branches:
            tail.next.append(join.name)
        return split, join

    def foreach(self, body: tuple[_Spec, _Spec], fan: _Spec) -> tuple[_Spec, _Spec]:
        join = self.add("join", takes_inputs=True)
        fan.foreach = f"items_{fan.name.rsplit('_', 1)[1]}"
        fan.next.append(body[0].name)
        body[1].next.append(join.name)
        return fan, join

    def finish(self, flow_name: str, body: tuple[_Spec, _Spec] | None) -> SyntheticFlow:
        start = _Spec("start", [])
        end = _Spec("end", [])
        if body is None:
            start.next.append("end")
        else:
            start.next.append(body[0].name)
            body[1].next.append("end")
        return _emit(flow_name, [start, *self.specs, end])


def linear_flow(steps: int, name: str = "LinearFlow") -> SyntheticFlow:
    """start, ``steps - 2`` linear steps, end."""
    b = _Builder()
    parts = [b.linear() for _ in range(max(steps - 2, 0))]
    return b.finish(name, b.chain(parts) if parts else None)


def wide_split_flow(width: int, name: str = "WideSplitFlow") -> SyntheticFlow:
    """One static split into ``width`` single-step branches, then a join."""
    b = _Builder()
    fan = b.add("split")
    branches = [b.linear() for _ in range(width)]
    return b.finish(name, b.split(branches, fan))


def nested_split_flow(depth: int, width: int = 2, name: str = "NestedSplitFlow") -> SyntheticFlow:
    """Static splits ``depth`` deep, each into ``width`` branches (a full tree of joins)."""
    b = _Builder()

    def level(d: int) -> tuple[_Spec, _Spec]:
        if d == 0:
            return b.linear()
        fan = b.add("split")
        return b.split([level(d - 1) for _ in range(width)], fan)

    return b.finish(name, level(depth))


def nested_foreach_flow(depth: int, name: str = "NestedForeachFlow") -> SyntheticFlow:
    """A foreach inside a foreach, ``depth`` deep, a linear step at the heart."""
    b = _Builder()

    def level(d: int) -> tuple[_Spec, _Spec]:
        if d == 0:
            return b.linear()
        fan = b.add("each")
        return b.foreach(level(d - 1), fan)

    return b.finish(name, level(depth))


def diamond_chain_flow(diamonds: int, name: str = "DiamondChainFlow") -> SyntheticFlow:
    """``diamonds`` two-way split/join diamonds in a row, one branch longer than the other."""
    b = _Builder()
    parts = []
    for _ in range(diamonds):
        fan = b.add("split")
        short = b.linear()
        long = b.chain([b.linear(), b.linear()])
        parts.append(b.split([short, long], fan))
    return b.finish(name, b.chain(parts))


def random_flow(steps: int, seed: int = 0, name: str = "RandomFlow") -> SyntheticFlow:
    """A valid flow of exactly ``steps`` steps (at least 2) mixing every construct at random.

    Linear runs, static splits of 2-4 branches and foreaches nest inside each other; the same
    ``seed`` always gives the same flow.
    """
    rng = random.Random(seed)
    b = _Builder()

    def sequence(budget: int) -> tuple[_Spec, _Spec]:
        parts: list[tuple[_Spec, _Spec]] = []
        while budget > 0:
            if budget >= 3 and rng.random() < 0.45:
                size = rng.randint(3, min(budget, 40))
                parts.append(compound(size))
            else:
                size = 1
                parts.append(b.linear())
            budget -= size
        return b.chain(parts)

    def compound(size: int) -> tuple[_Spec, _Spec]:
        inner = size - 2  # the split (or foreach) step and its join
        if inner >= 2 and rng.random() < 0.65:
            fan = b.add("split")
            k = rng.randint(2, min(4, inner))
            cuts = sorted(rng.sample(range(1, inner), k - 1))
            sizes = [hi - lo for lo, hi in zip([0, *cuts], [*cuts, inner], strict=True)]
            return b.split([sequence(n) for n in sizes], fan)
        fan = b.add("each")
        return b.foreach(sequence(inner), fan)

    body = sequence(steps - 2) if steps > 2 else None
    return b.finish(name, body)


def _kind(spec: _Spec) -> StepKind:
    if spec.name == "start":
        return StepKind.START
    if spec.name == "end":
        return StepKind.END
    if spec.takes_inputs:
        return StepKind.JOIN
    if spec.foreach:
        return StepKind.FOREACH
    if len(spec.next) > 1:
        return StepKind.SPLIT
    return StepKind.LINEAR


def _emit(flow_name: str, specs: list[_Spec]) -> SyntheticFlow:
    lines = [
        f'"""A generated flow with {len(specs)} steps."""',
        "",
        "from metaflow import FlowSpec, step",
        "",
        "",
        f"class {flow_name}(FlowSpec):",
        f'    """{len(specs)} generated steps."""',
    ]
    class_line = len(lines)
    nodes: list[StepNode] = []
    for spec in specs:
        lines.append("")
        lines.append("    @step")
        line = len(lines) + 1
        args = "self, inputs" if spec.takes_inputs else "self"
        lines.append(f"    def {spec.name}({args}):")
        doc = f"The {_kind(spec).value} step {spec.name}."
        lines.append(f'        """{doc}"""')
        next_line: int | None = None
        if spec.foreach:
            lines.append(f"        self.{spec.foreach} = [0, 1]")
        if spec.next:
            targets = ", ".join(f"self.{t}" for t in spec.next)
            if spec.foreach:
                targets += f', foreach="{spec.foreach}"'
            lines.append(f"        self.next({targets})")
            next_line = len(lines)
        nodes.append(
            StepNode(
                name=spec.name,
                kind=_kind(spec),
                next=tuple(spec.next),
                line=line,
                end_line=len(lines),
                foreach=spec.foreach,
                takes_inputs=spec.takes_inputs,
                doc=doc,
                next_line=next_line,
            )
        )
    lines += ["", "", 'if __name__ == "__main__":', f"    {flow_name}()", ""]
    graph = FlowGraph(
        flow_name=flow_name,
        file=f"{flow_name.lower()}.py",
        line=class_line,
        steps=tuple(nodes),
        doc=f"{len(specs)} generated steps.",
    )
    return SyntheticFlow(graph=graph, source="\n".join(lines))
