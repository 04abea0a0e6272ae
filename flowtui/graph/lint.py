"""Metaflow's validity checks on a `FlowGraph`, each problem located at the line to fix.

The checks mean what Metaflow's linter means (start and end, step names, arguments,
transitions, cycles, orphans, split/join balance, empty foreach), but all problems are
reported at once instead of stopping at the first, and a check that only makes sense on a
well-formed graph (balance) runs only when the graph is well-formed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from flowtui.graph.model import FlowGraph, Problem, StepKind, StepNode
from flowtui.graph.parse import FlowSourceError, parse_flow

# The flow's steps by name, in the graph's topological order.
_Steps = dict[str, StepNode]

RESERVED_STEP_NAMES = frozenset({"name", "next", "input", "index", "cmd"})
VALID_STEP_NAME = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class CheckResult:
    """A flow file's graph (None when the text gives none) and everything wrong with it."""

    graph: FlowGraph | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return self.graph is not None and not any(p.severity == "error" for p in self.problems)


def check_flow(source: str, file: str, flow: str | None = None) -> CheckResult:
    """Parse and lint a flow file's text; bad content becomes problems, never an exception."""
    return _check_flow_cached(source, file, flow)


@lru_cache(maxsize=32)
def _check_flow_cached(source: str, file: str, flow: str | None) -> CheckResult:
    try:
        graph = parse_flow(source, file, flow)
    except FlowSourceError as e:
        return CheckResult(None, (e.problem,))
    return CheckResult(graph, tuple(lint_graph(graph)))


def lint_graph(graph: FlowGraph) -> list[Problem]:
    """Every problem Metaflow's linter would find in the flow, sorted by line."""
    steps = {node.name: node for node in graph}
    problems = [
        *_check_step_names(steps),
        *_check_start_and_end(graph, steps),
        *_check_arguments(steps),
    ]
    transitions = list(_check_transitions(steps))
    cycles = list(_check_cycles(steps))
    problems += transitions + cycles
    if not transitions:  # a missing or unknown transition would make its successors orphans
        problems += _check_orphans(steps)
    problems += _check_empty_foreach(steps)
    problems += _check_switches(steps)
    problems += _check_gangs(steps)
    problems += _check_parameter_names(graph)
    if not transitions and not cycles and "start" in steps and "end" in steps:
        problems += _check_split_join_balance(steps)
    return sorted(problems, key=lambda p: p.line)


# Metaflow's reserved parameter names, and `help`. A parameter named like one of flowtui's
# other run options (`flow`, `store`, `events`, ...) is fine: after the file, the name is the
# parameter's (`flowtui/cli_args.py`).
RESERVED_PARAMETER_NAMES = frozenset(
    name.replace("-", sep)
    for name in (
        "params",
        "with",
        "tag",
        "tags",
        "namespace",
        "obj",
        "decospecs",
        "run-id-file",
        "max-num-splits",
        "max-workers",
        "max-log-size",
        "user-namespace",
        "run-id",
        "task-id",
        "runner-attribute-file",
        "help",
    )
    for sep in ("-", "_")
)


def _check_parameter_names(graph: FlowGraph) -> Iterator[Problem]:
    for param in graph.parameters:
        if param.name in RESERVED_PARAMETER_NAMES:
            yield Problem(
                f"Parameter name '{param.name}' is reserved (it is an option of the run "
                "command); use a different name.",
                param.line,
            )


def _check_step_names(steps: _Steps) -> Iterator[Problem]:
    for node in steps.values():
        if node.name in RESERVED_STEP_NAMES:
            yield Problem(
                f"Step name {node.name} is reserved by FlowSpec; rename the step.", node.line
            )
        elif node.name.startswith("_") or not VALID_STEP_NAME.fullmatch(node.name):
            yield Problem(
                f"Step name {node.name} is invalid; use only lowercase letters, digits and "
                "underscores, not starting with an underscore.",
                node.line,
            )


def _check_start_and_end(graph: FlowGraph, steps: _Steps) -> Iterator[Problem]:
    if "start" not in steps:
        yield Problem(
            f"{graph.flow_name} has no start step; add a @step method named start.", graph.line
        )
    else:
        start = steps["start"]
        incoming = [node.name for node in steps.values() if "start" in node.next]
        if incoming:
            yield Problem(
                f"The start step is the target of self.next() in {', '.join(incoming)}; "
                "nothing may transition back to start.",
                start.line,
            )
    if "end" not in steps:
        yield Problem(
            f"{graph.flow_name} has no end step; add a @step method named end.", graph.line
        )
        return
    end = steps["end"]
    if end.next_line is not None:
        yield Problem(
            "The end step must not call self.next(); remove the transition.", end.next_line
        )
    if end.takes_inputs:
        yield Problem(
            "The end step must not be a join (it takes inputs); add a join step before end.",
            end.line,
        )


def _check_arguments(steps: _Steps) -> Iterator[Problem]:
    for node in steps.values():
        if node.arg_count == 0:
            yield Problem(f"Step {node.name} is missing its self argument.", node.line)
        elif node.arg_count > 2:
            yield Problem(
                f"Step {node.name} takes too many arguments; a step takes only self, "
                "and a join step takes self and inputs.",
                node.line,
            )
        elif node.takes_inputs and node.kind in (StepKind.SPLIT, StepKind.FOREACH):
            yield Problem(
                f"Step {node.name} is both a join (it takes inputs) and a split (it "
                "transitions to several steps); put the join and the split in separate steps.",
                node.line,
            )


def _check_transitions(steps: _Steps) -> Iterator[Problem]:
    for node in steps.values():
        if node.kind is StepKind.END:
            continue
        if node.next_line is None:
            detail = f": {node.next_error}" if node.next_error else ""
            yield Problem(
                f"Step {node.name} does not end with a self.next() transition{detail}; "
                "make self.next(self.<next step>) its last line.",
                node.line,
            )
            continue
        if node.next_error:
            yield Problem(
                f"Step {node.name} has an invalid self.next(): {node.next_error}. Use "
                "self.next(self.a), self.next(self.a, self.b) or "
                'self.next(self.a, foreach="items").',
                node.next_line,
            )
        for target in node.next:
            if target not in steps:
                yield Problem(_unknown_step_message(steps, node, target), node.next_line)


def _unknown_step_message(steps: _Steps, node: StepNode, target: str) -> str:
    close = difflib.get_close_matches(target, steps, n=1)
    hint = f"did you mean self.{close[0]}?" if close else f"the steps are {', '.join(steps)}."
    return f"Step {node.name} transitions to self.{target}, which is not a step; {hint}"


def _check_cycles(steps: _Steps) -> Iterator[Problem]:
    """One problem per loop, at the self.next() that closes it."""
    reported: set[frozenset[str]] = set()
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for root in steps.values():
        if root.name in state:
            continue
        path: list[str] = [root.name]
        state[root.name] = 1
        children = [iter(_known_children(steps, root))]
        while children:
            child = next(children[-1], None)
            if child is None:
                state[path.pop()] = 2
                children.pop()
            elif state.get(child) == 1:
                loop = path[path.index(child) :]
                if frozenset(loop) not in reported:
                    reported.add(frozenset(loop))
                    closing = steps[path[-1]]
                    yield Problem(
                        f"There is a loop in the flow: {' -> '.join([*loop, child])}; "
                        "change a self.next() transition to break it.",
                        closing.next_line or closing.line,
                    )
            elif child not in state:
                state[child] = 1
                path.append(child)
                children.append(iter(_known_children(steps, steps[child])))


def _known_children(steps: _Steps, node: StepNode) -> list[str]:
    return [n for n in node.next if n in steps]


def _check_orphans(steps: _Steps) -> Iterator[Problem]:
    if "start" not in steps:
        return
    seen = {"start"}
    stack = ["start"]
    while stack:
        for child in _known_children(steps, steps[stack.pop()]):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    for node in steps.values():
        if node.name not in seen:
            yield Problem(
                f"Step {node.name} is unreachable from start; add self.next(self.{node.name}) "
                "to another step or remove it.",
                node.line,
            )


def _check_empty_foreach(steps: _Steps) -> Iterator[Problem]:
    for node in steps.values():
        if node.kind is not StepKind.FOREACH:
            continue
        joins = [n for n in _known_children(steps, node) if steps[n].kind is StepKind.JOIN]
        if joins:
            yield Problem(
                f"Foreach step {node.name} goes straight to join step {joins[0]}; add at "
                "least one step between the foreach and its join.",
                node.line,
            )


def _check_switches(steps: _Steps) -> Iterator[Problem]:
    """A switch needs two cases or more, and no case may go straight to a join (which of its
    inputs would arrive is not known until the run), as Metaflow's lint says."""
    for node in steps.values():
        if node.kind is not StepKind.SWITCH:
            continue
        line = node.next_line or node.line
        if len(node.cases) < 2:
            yield Problem(
                f"Step {node.name} is a switch with {len(node.cases)} case; a switch needs at "
                "least 2 (use self.next(self.<step>) for one).",
                line,
            )
        for case, target in node.cases:
            if target in steps and steps[target].takes_inputs:
                yield Problem(
                    f"Step {node.name}'s switch case {case!r} goes straight to join step "
                    f"{target}; a conditional path cannot lead directly to a join, so add an "
                    "unconditional step between them.",
                    line,
                )


def _check_gangs(steps: _Steps) -> Iterator[Problem]:
    """Metaflow's three rules for `@parallel` (a gang of tasks started together): it is
    reached only by `self.next(self.x, num_parallel=N)`, whose step must be `@parallel`, and
    it is followed by a join (of its N tasks)."""
    for node in steps.values():
        if node.is_gang_split:
            for target in node.next:
                if target in steps and steps[target].decorator("parallel") is None:
                    yield Problem(
                        f"Step {node.name} starts step {target} with num_parallel=, but "
                        f"{target} is not a @parallel step; add @parallel above its @step.",
                        node.next_line or node.line,
                    )
        if node.decorator("parallel") is None:
            continue
        for parent in (p for p in steps.values() if node.name in p.next):
            if not parent.is_gang_split:
                yield Problem(
                    f"Step {node.name} is @parallel, but step {parent.name} starts it without "
                    f"num_parallel=; write self.next(self.{node.name}, num_parallel=N).",
                    parent.next_line or parent.line,
                )
        if node.kind is StepKind.SWITCH:
            yield Problem(
                f"Step {node.name} is @parallel and a switch; a @parallel step cannot be a "
                "switch: add a join step after it.",
                node.next_line or node.line,
            )
        elif node.next and node.next[0] in steps and not steps[node.next[0]].takes_inputs:
            yield Problem(
                f"Step {node.next[0]} follows the @parallel step {node.name}, so it must be a "
                f"join of its tasks: give it an inputs argument (def {node.next[0]}(self, "
                "inputs)).",
                node.next_line or node.line,
            )


# A split frame: (the split step, the branch taken from it). A step's context is the stack of
# split frames open on the way to it; a join closes the innermost one.
_Frame = tuple[str, str]


def _check_split_join_balance(steps: _Steps) -> Iterator[Problem]:
    """Every split must be closed by one join that gathers all its branches before end.

    Runs only on a graph with known transitions and no loops, in topological order; a step
    whose context is wrong poisons its descendants so one mistake is reported once.
    """
    incoming: dict[str, list[tuple[str, tuple[_Frame, ...] | None]]] = {"start": []}
    context: dict[str, tuple[_Frame, ...] | None] = {}
    for node in steps.values():
        if node.name not in incoming:
            continue  # unreachable from start: reported as an orphan
        arrivals = incoming[node.name]
        if node.name == "start":
            ctx: tuple[_Frame, ...] | None = ()
            problem = None
        else:
            ctx, problem = _arrive(steps, node, arrivals)
        if problem is not None:
            yield problem
        context[node.name] = ctx
        for child in node.next:
            frames = ctx
            if ctx is not None and node.kind in (StepKind.SPLIT, StepKind.FOREACH):
                frames = (*ctx, (node.name, child))
            incoming.setdefault(child, []).append((node.name, frames))


def _arrive(
    steps: _Steps, node: StepNode, arrivals: list[tuple[str, tuple[_Frame, ...] | None]]
) -> tuple[tuple[_Frame, ...] | None, Problem | None]:
    """The context of `node` given the contexts it is reached with, and what is wrong if any."""
    if any(ctx is None for _, ctx in arrivals):
        return None, None
    contexts = {parent: ctx for parent, ctx in arrivals if ctx is not None}
    if node.takes_inputs:
        return _join(steps, node, contexts)
    open_splits = {ctx[-1][0] for ctx in contexts.values() if ctx}
    if node.kind is StepKind.END and open_splits:
        return None, Problem(
            f"The end step is reached before the split at {', '.join(sorted(open_splits))} is "
            "joined; add a join step (def join(self, inputs)) before end.",
            node.line,
        )
    if len(set(contexts.values())) > 1:
        return None, Problem(
            f"Step {node.name} is reached from {', '.join(contexts)} on different branches "
            f"but is not a join; give it an inputs argument (def {node.name}(self, inputs)) "
            "or send the branches to a join step.",
            node.line,
        )
    return next(iter(contexts.values())), None


def _join(
    steps: _Steps, node: StepNode, contexts: dict[str, tuple[_Frame, ...]]
) -> tuple[tuple[_Frame, ...] | None, Problem | None]:
    if not all(contexts.values()):
        return None, Problem(
            f"Step {node.name} is a join (it takes inputs) but no split comes before it; "
            "remove the inputs argument or add a split before it.",
            node.line,
        )
    outers = {ctx[:-1] for ctx in contexts.values()}
    splits = {ctx[-1][0] for ctx in contexts.values()}
    if len(outers) > 1 or len(splits) > 1:
        return None, Problem(
            f"Step {node.name} joins branches of different splits "
            f"({', '.join(sorted(splits))}); each join must gather the branches of one split.",
            node.line,
        )
    split = steps[next(iter(splits))]
    branches = {ctx[-1][1] for ctx in contexts.values()}
    expected = set(split.next)
    if branches != expected:
        missing = ", ".join(sorted(expected - branches))
        return None, Problem(
            f"Join step {node.name} gathers {len(branches)} of the {len(expected)} branches of "
            f"split {split.name} (missing {missing}); every branch of a split must reach "
            "its join.",
            node.line,
        )
    return next(iter(outers)), None
