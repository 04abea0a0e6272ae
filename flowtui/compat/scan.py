"""Which `metaflow` names a flow file uses that flowtui does not offer, found statically.

`flowtui check` reports each with its line, so a file that would fail at import (or at a
`current.X` look-up) under `flowtui run` is caught before it runs. What flowtui offers is read
from `flowtui.compat` itself (its names, its submodules, the attributes of `current`), so this
check never drifts from what a run provides.
"""

from __future__ import annotations

import ast

from flowtui.graph.model import Problem


def offered_names() -> frozenset[str]:
    """Every name `from metaflow import NAME` gives under flowtui."""
    from flowtui import compat

    submodules = {m.split(".")[1] for m in compat.SUBMODULES}
    return frozenset(set(compat.__all__) | set(compat.CLIENT_NAMES) | submodules)


def offered_submodules() -> frozenset[str]:
    from flowtui import compat

    return frozenset(compat.SUBMODULES)


def offered_current_attributes() -> frozenset[str]:
    from flowtui.flow.current import Current

    return frozenset(n for n in dir(Current) if not n.startswith("_"))


def _sentence(what: str) -> str:
    return (
        f"{what} is not offered by flowtui, so the file fails here when it runs; remove it "
        "to run locally (the file still runs unchanged on Metaflow itself)."
    )


def unoffered_uses(source: str) -> list[Problem]:
    """A problem, at its line, for each `metaflow` import or `current` attribute flowtui does
    not offer. A file that does not parse has none (the parser reports it)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    scan = _Scan(offered_names(), offered_submodules(), offered_current_attributes())
    scan.imports(tree)
    scan.attributes(tree)
    return sorted(scan.problems, key=lambda p: (p.line, p.column or 0))


class _Scan:
    def __init__(
        self, names: frozenset[str], submodules: frozenset[str], attrs: frozenset[str]
    ) -> None:
        self.names, self.submodules, self.attrs = names, submodules, attrs
        self.modules: set[str] = set()  # local names bound to the metaflow module
        self.currents: set[str] = set()  # local names bound to metaflow's `current`
        self.problems: list[Problem] = []

    def report(self, node: ast.stmt | ast.expr, what: str) -> None:
        self.problems.append(Problem(_sentence(what), node.lineno, node.col_offset + 1))

    def imports(self, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "metaflow":
                        self.modules.add(alias.asname or "metaflow")
                    elif alias.name.startswith("metaflow.") and not self._offered(alias.name):
                        self.report(node, f"module {alias.name}")
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module == "metaflow":
                    for alias in node.names:
                        if alias.name == "current":
                            self.currents.add(alias.asname or "current")
                        elif alias.name != "*" and alias.name not in self.names:
                            self.report(node, f"metaflow.{alias.name}")
                elif node.module.startswith("metaflow.") and not self._offered(node.module):
                    self.report(node, f"module {node.module}")

    def _offered(self, module: str) -> bool:
        return any(module == m or module.startswith(m + ".") for m in self.submodules)

    def attributes(self, tree: ast.AST) -> None:
        """`metaflow.X` and `current.X` (or `metaflow.current.X`) look-ups."""
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or not isinstance(node.ctx, ast.Load):
                continue
            base = node.value
            if isinstance(base, ast.Name) and base.id in self.modules:
                if node.attr not in self.names:
                    self.report(node, f"metaflow.{node.attr}")
            elif self._is_current(base) and node.attr not in self.attrs:
                self.report(node, f"current.{node.attr}")

    def _is_current(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.currents
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "current"
            and isinstance(node.value, ast.Name)
            and node.value.id in self.modules
        )
