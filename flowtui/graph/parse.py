"""Read a flow file's *text* into a `FlowGraph` with `ast`. The file is never imported.

Flow classes are the classes deriving from `FlowSpec` (imported from flowtui or metaflow, by any
alias, or through another flow class of the same file). Steps are their methods decorated with
`@step`; each step's transition is the `self.next(...)` call that ends its body. Anything that
does not fit is recorded on the nodes (`next_error`, `arg_count`) for lint to report, so that a
half-typed file still yields a graph.
"""

from __future__ import annotations

import ast
import heapq
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flowtui.errors import UsageError
from flowtui.graph.model import (
    PARALLEL_VAR,
    Decorator,
    FlowGraph,
    ParameterSpec,
    Problem,
    StepKind,
    StepNode,
    reachable,
)

FLOW_PACKAGES = frozenset({"flowtui", "metaflow"})
PARAMETER_KINDS = {"Parameter": "parameter", "IncludeFile": "include_file", "Config": "config"}
TYPE_NAMES = {"int": "int", "float": "float", "bool": "bool", "str": "str", "JSONType": "json"}


class FlowSourceError(UsageError):
    """A flow file whose text cannot give a flow graph; `problem` says where and why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class FlowSyntaxError(FlowSourceError):
    """The file is not valid Python; `problem` carries the line and column."""


MAX_FLOW_FILE = 16 << 20  # bytes: a flow file larger than this is refused, never read whole


def file_signature(path: Path) -> tuple[int, int, int] | None:
    """What tells a saved file from the one read before: (inode, size, mtime in ns)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def read_flow_file(path: str | Path) -> str:
    """The text of a flow file, or a `UsageError` sentence saying what is wrong with the path."""
    file = Path(path)
    if not file.exists():
        if not file.suffix and str(path).isidentifier():  # `flowtui run TrainFlow`: a name
            raise UsageError(
                f"There is no file {file}; give the flow's .py file (e.g. myflow.py), not the "
                "flow's name (a name is for runs, logs and artifacts)."
            )
        raise UsageError(f"{file} does not exist; check the path of the flow file.")
    if file.is_dir():
        raise UsageError(f"{file} is a directory; give the path of a flow's .py file inside it.")
    if file.suffix != ".py":
        raise UsageError(f"{file} is not a Python file; a flow file ends in .py.")
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below)
        with os.fdopen(os.open(file, os.O_RDONLY | os.O_NONBLOCK), "rb", buffering=0) as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise UsageError(
                    f"{file} is not a regular file (a pipe, device or socket?); give the path "
                    "of a flow's .py file."
                )
            data = f.read(MAX_FLOW_FILE + 1)
        if len(data) > MAX_FLOW_FILE:
            raise UsageError(
                f"{file} is over {MAX_FLOW_FILE >> 20} MB, too large for a flow file; keep data "
                "out of the flow's source."
            )
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise UsageError(f"{file} cannot be read ({reason}); check its permissions.") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise UsageError(
            f"{file} is not UTF-8 text (bad byte at line {line}); save it as UTF-8."
        ) from None


def parse_flow(source: str, file: str = "<string>", flow: str | None = None) -> FlowGraph:
    """The graph of the flow defined in `source`, picked by name when the file has several.

    Raises `FlowSyntaxError` for invalid Python and `FlowSourceError` when the file has no flow,
    several flows and no `flow`, or no flow of that name.
    """
    module = _parse_module(source, file)
    scope = _ImportScope.of(module)
    classes = _flow_classes(module, scope)
    name = _pick_flow(classes, file, flow, _run_as_main(module, classes))
    return _build_graph(classes, name, file, scope)


def flow_graphs(source: str, file: str = "<string>") -> list[FlowGraph]:
    """The graph of every flow `source` defines, in the order written (one parse)."""
    module = _parse_module(source, file)
    scope = _ImportScope.of(module)
    classes = _flow_classes(module, scope)
    return [_build_graph(classes, name, file, scope) for name in classes]


def _parse_module(source: str, file: str) -> ast.Module:
    try:
        return ast.parse(source, filename=file)
    except SyntaxError as e:
        message = f"Syntax error: {e.msg}; fix the Python syntax on this line."
        raise FlowSyntaxError(Problem(message, e.lineno or 1, e.offset or None)) from None
    except (ValueError, RecursionError, MemoryError) as e:
        message = f"{file} cannot be parsed as Python ({e}); fix the file's content."
        raise FlowSyntaxError(Problem(message, 1)) from None


def _run_as_main(module: ast.Module, classes: dict[str, ast.ClassDef]) -> str | None:
    """The flow `python FILE run` would run: the one class of `classes` the file calls under
    `if __name__ == "__main__":` (as `Child()`), when there is exactly one."""
    called: set[str] = set()
    for node in module.body:
        if not (isinstance(node, ast.If) and _is_main_test(node.test)):
            continue
        for inner in ast.walk(node):
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Name)
                and inner.func.id in classes
            ):
                called.add(inner.func.id)
    return called.pop() if len(called) == 1 else None


def _is_main_test(test: ast.expr) -> bool:
    """`__name__ == "__main__"` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    mains = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(mains) == 1


def _pick_flow(
    classes: dict[str, ast.ClassDef], file: str, flow: str | None, main: str | None = None
) -> str:
    if flow is not None:
        if flow in classes:
            return flow
        if not classes:
            raise FlowSourceError(Problem(f"{file} defines no flow, so it has no {flow}.", 1))
        line = next(iter(classes.values())).lineno
        raise FlowSourceError(
            Problem(f"{file} has no flow named {flow}; it defines {_names(classes)}.", line)
        )
    if not classes:
        raise FlowSourceError(
            Problem(
                f"{file} defines no flow; add a class deriving from FlowSpec with @step methods.",
                1,
            )
        )
    if len(classes) > 1 and main is not None:  # a base flow and the flow that uses it
        return main
    if len(classes) > 1:
        line = list(classes.values())[1].lineno
        raise FlowSourceError(
            Problem(
                f"{file} defines several flows ({_names(classes)}); pass --flow NAME to pick one.",
                line,
            )
        )
    return next(iter(classes))


def _names(classes: Iterable[str]) -> str:
    return ", ".join(classes)


@dataclass
class _ImportScope:
    """The aliases the module's imports give to flowtui's and metaflow's names (`FS` -> FlowSpec).

    Unaliased names and attributes (`metaflow.step`) are taken at their word, so a file that
    star-imports or is half-written still reads.
    """

    aliases: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, module: ast.Module) -> _ImportScope:
        scope = cls()
        for node in _top_level_statements(module.body):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            if node.module.split(".")[0] in FLOW_PACKAGES:
                for alias in node.names:
                    if alias.asname:
                        scope.aliases[alias.asname] = alias.name
        return scope

    def resolve(self, expr: ast.expr) -> str | None:
        """The name an expression refers to: `FS` -> "FlowSpec", `metaflow.step` -> "step"."""
        if isinstance(expr, ast.Call):
            expr = expr.func
        if isinstance(expr, ast.Name):
            return self.aliases.get(expr.id, expr.id)
        if isinstance(expr, ast.Attribute):
            return expr.attr
        return None


def _top_level_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module statements, looking into `if`/`try` blocks (guarded imports) but not functions."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from _top_level_statements(node.body)
            yield from _top_level_statements(node.orelse)
        elif isinstance(node, ast.Try):
            yield from _top_level_statements(node.body)
            for handler in node.handlers:
                yield from _top_level_statements(handler.body)
            yield from _top_level_statements(node.orelse)


def _flow_classes(module: ast.Module, scope: _ImportScope) -> dict[str, ast.ClassDef]:
    classes: dict[str, ast.ClassDef] = {}
    for node in module.body:
        if isinstance(node, ast.ClassDef) and any(
            scope.resolve(base) == "FlowSpec" or (isinstance(base, ast.Name) and base.id in classes)
            for base in node.bases
        ):
            classes.pop(node.name, None)  # a redefinition replaces the earlier class
            classes[node.name] = node
    return classes


def _build_graph(
    classes: dict[str, ast.ClassDef], name: str, file: str, scope: _ImportScope
) -> FlowGraph:
    cls = classes[name]
    steps: dict[str, StepNode] = {}
    parameters: dict[str, ParameterSpec] = {}
    for klass in _lineage(classes, cls):
        for node in klass.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                steps.pop(node.name, None)
                if any(scope.resolve(d) == "step" for d in node.decorator_list):
                    steps[node.name] = _step_node(node, scope)
            elif parameter := _parameter_spec(node, scope):
                parameters.pop(parameter.attr, None)
                parameters[parameter.attr] = parameter
    return FlowGraph(
        flow_name=name,
        file=file,
        line=cls.lineno,
        steps=tuple(_topological(steps)),
        parameters=tuple(p for p in parameters.values() if p.kind != "config"),
        doc=ast.get_docstring(cls) or "",
        configs=tuple(p for p in parameters.values() if p.kind == "config"),
    )


def _lineage(classes: dict[str, ast.ClassDef], cls: ast.ClassDef) -> list[ast.ClassDef]:
    """`cls` and the flow classes of the file it derives from, bases first."""
    order: list[ast.ClassDef] = []
    seen: set[str] = set()

    def visit(klass: ast.ClassDef) -> None:
        if klass.name in seen:  # also stops a redefinition that derives from itself
            return
        seen.add(klass.name)
        for base in reversed(klass.bases):
            if isinstance(base, ast.Name) and base.id in classes and base.id != klass.name:
                visit(classes[base.id])
        order.append(klass)

    visit(cls)
    return order


def _step_node(func: ast.FunctionDef | ast.AsyncFunctionDef, scope: _ImportScope) -> StepNode:
    arg_count = len(func.args.posonlyargs) + len(func.args.args)
    takes_inputs = arg_count >= 2
    transition = _Transition.of(func)
    if func.name == "end":
        kind = StepKind.END
    elif transition.has_foreach:
        kind = StepKind.FOREACH
    elif transition.condition is not None:
        kind = StepKind.SWITCH
    elif len(transition.targets) > 1:
        kind = StepKind.SPLIT
    elif takes_inputs:
        kind = StepKind.JOIN
    elif func.name == "start":
        kind = StepKind.START
    else:
        kind = StepKind.LINEAR
    return StepNode(
        name=func.name,
        kind=kind,
        next=transition.targets,
        line=func.lineno,
        end_line=func.end_lineno or func.lineno,
        foreach=transition.foreach,
        takes_inputs=takes_inputs,
        decorators=tuple(
            _decorator(d, scope) for d in func.decorator_list if scope.resolve(d) != "step"
        ),
        doc=_docstring_summary(func),
        next_line=transition.line,
        arg_count=arg_count,
        next_error=transition.error,
        condition=transition.condition,
        cases=transition.cases,
    )


def _docstring_summary(func: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The first line of the docstring (read directly: cleaning the whole text costs time)."""
    first = func.body[0]
    if not isinstance(first, ast.Expr) or not isinstance(first.value, ast.Constant):
        return ""
    doc = first.value.value
    return doc.strip().split("\n", 1)[0].strip() if isinstance(doc, str) else ""


@dataclass
class _Transition:
    """The `self.next(...)` call ending a step body, read the way Metaflow reads it."""

    targets: tuple[str, ...] = ()
    foreach: str | None = None
    has_foreach: bool = False
    line: int | None = None
    error: str | None = None
    condition: str | None = None
    cases: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, func: ast.FunctionDef | ast.AsyncFunctionDef) -> _Transition:
        tail = func.body[-1]
        if isinstance(tail, ast.Expr) and _is_self_next(tail.value):
            assert isinstance(tail.value, ast.Call)
            return cls._read(tail.value)
        misplaced = next(
            (n for n in ast.walk(func) if isinstance(n, ast.Call) and _is_self_next(n)), None
        )
        if misplaced is not None:
            return cls(
                error=f"its self.next() at line {misplaced.lineno} is not the last statement "
                "of the step, and it must be"
            )
        return cls()

    @classmethod
    def _read(cls, call: ast.Call) -> _Transition:
        found = cls(line=call.lineno)
        errors: list[str] = []
        targets: list[str] = []
        for arg in call.args:
            if isinstance(arg, ast.Attribute) and _is_self(arg.value):
                targets.append(arg.attr)
            elif isinstance(arg, ast.Dict):
                cases, problem = _switch_cases(arg)
                found.cases = cases
                targets += [step for _, step in cases]
                if problem:
                    errors.append(problem)
                elif not any(k.arg == "condition" for k in call.keywords):
                    errors.append('a dict of steps needs condition="<artifact name>"')
            else:
                errors.append(f"{ast.unparse(arg)} is not a step; name steps as self.<step>")
        for keyword in call.keywords:
            if keyword.arg == "foreach":
                found.has_foreach = True
                value = keyword.value
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.foreach = value.value
                else:
                    errors.append(
                        f"foreach={ast.unparse(value)} must be the artifact's name as a string, "
                        'e.g. foreach="items"'
                    )
            elif keyword.arg == "num_parallel":  # read as Metaflow reads it: a foreach
                found.has_foreach = True  # over a private artifact, whatever the number is
                found.foreach = PARALLEL_VAR
            elif keyword.arg == "condition":
                value = keyword.value
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.condition = value.value
                else:
                    errors.append(
                        f"condition={ast.unparse(value)} must be the artifact's name as a "
                        'string, e.g. condition="route"'
                    )
                if not (len(call.args) == 1 and isinstance(call.args[0], ast.Dict)):
                    errors.append(
                        'condition= goes with one dict of steps: self.next({"a": self.a, '
                        '"b": self.b}, condition="route")'
                    )
            elif keyword.arg is None:
                errors.append(f"**{ast.unparse(keyword.value)} cannot be read statically")
            else:
                errors.append(f"{keyword.arg}= is not a self.next() argument flowtui supports")
        if not call.args:
            errors.append("it names no step; write self.next(self.<step>)")
        elif found.has_foreach and len(call.args) != 1:
            errors.append("a foreach (or num_parallel) transition goes to exactly one step")
        if sum(k.arg in ("foreach", "num_parallel") for k in call.keywords) > 1:
            errors.append("foreach= and num_parallel= cannot be used together")
        found.targets = tuple(dict.fromkeys(targets))
        found.error = "; ".join(errors) or None
        return found


def _switch_cases(node: ast.Dict) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """The (label, step) cases of a switch's dict, and what makes it unreadable, if anything.

    Labels are literal strings or numbers, read as text; each value names a step as self.X."""
    cases: list[tuple[str, str]] = []
    for key, value in zip(node.keys, node.values, strict=True):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str | int | float)):
            shown = "**" + ast.unparse(value) if key is None else ast.unparse(key)
            return (), f"the switch case {shown} must be a literal string or number"
        if not (isinstance(value, ast.Attribute) and _is_self(value.value)):
            return (), f"the switch case {key.value!r} must name a step as self.<step>"
        cases.append((str(key.value), value.attr))
    return tuple(cases), None


def _is_self(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Name) and expr.id == "self"


def _is_self_next(expr: ast.expr) -> bool:
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "next"
        and _is_self(expr.func.value)
    )


def _decorator(expr: ast.expr, scope: _ImportScope) -> Decorator:
    name = scope.resolve(expr) or ast.unparse(expr)
    args: dict[str, object] = {}
    if isinstance(expr, ast.Call):
        if expr.args:
            args["_args"] = [_value(a) for a in expr.args]
        for keyword in expr.keywords:
            args[keyword.arg or "**"] = _value(keyword.value)
    return Decorator(name, args, expr.lineno)


def _value(expr: ast.expr) -> object:
    """A literal's value, else the expression's source text."""
    try:
        return ast.literal_eval(expr)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return ast.unparse(expr)


def _is_literal(expr: ast.expr) -> bool:
    try:
        ast.literal_eval(expr)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _parameter_spec(node: ast.stmt, scope: _ImportScope) -> ParameterSpec | None:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        target, value = node.target, node.value
    else:
        return None
    if not isinstance(target, ast.Name) or not isinstance(value, ast.Call):
        return None
    kind = PARAMETER_KINDS.get(scope.resolve(value) or "")
    if kind is None:
        return None
    keywords = {k.arg: k.value for k in value.keywords if k.arg}
    name_expr = value.args[0] if value.args else keywords.get("name")
    name = _value(name_expr) if name_expr is not None else target.id
    key = "default_value" if kind == "config" and "default" not in keywords else "default"
    has_default = key in keywords
    default = _value(keywords[key]) if has_default else None
    computed = has_default and not _is_literal(keywords[key])
    help_expr = keywords.get("help")
    required_expr = keywords.get("required")
    return ParameterSpec(
        attr=target.id,
        name=str(name),
        kind=kind,
        default=default,
        has_default=has_default,
        type=_parameter_type(keywords.get("type"), keywords.get("default"), scope),
        help=str(_value(help_expr)) if help_expr is not None else "",
        required=_value(required_expr) is True if required_expr is not None else False,
        line=node.lineno,
        computed=computed,
    )


def _parameter_type(
    type_expr: ast.expr | None, default_expr: ast.expr | None, scope: _ImportScope
) -> str | None:
    if type_expr is not None:
        return TYPE_NAMES.get(scope.resolve(type_expr) or "")
    if isinstance(default_expr, ast.Constant):
        value = default_expr.value
        for python_type in (bool, int, float, str):
            if isinstance(value, python_type):
                return python_type.__name__
    return None


def _topological(steps: dict[str, StepNode]) -> list[StepNode]:
    """Steps with every step after its parents: start first, then by source line where free.

    Steps unreachable from start come after the reachable ones; a cycle is broken at its
    earliest step, so a looping flow still has an order to display.
    """
    from_start = reachable(steps, "start")
    order_key = {
        name: (name != "start", name not in from_start, node.line, index)
        for index, (name, node) in enumerate(steps.items())
    }
    indegree = dict.fromkeys(steps, 0)
    for node in steps.values():
        for child in node.next:
            if child in indegree:
                indegree[child] += 1
    ready = [order_key[name] + (name,) for name, degree in indegree.items() if degree == 0]
    heapq.heapify(ready)
    ordered: list[StepNode] = []
    placed: set[str] = set()
    while len(ordered) < len(steps):
        if not ready:  # only cycles remain: break the earliest one
            name = min((n for n in steps if n not in placed), key=order_key.__getitem__)
            ready.append(order_key[name] + (name,))
        name = heapq.heappop(ready)[-1]
        if name in placed:
            continue
        placed.add(name)
        ordered.append(steps[name])
        for child in steps[name].next:
            if child in indegree and child not in placed:
                indegree[child] -= 1
                if indegree[child] == 0:
                    heapq.heappush(ready, order_key[child] + (child,))
    return ordered
