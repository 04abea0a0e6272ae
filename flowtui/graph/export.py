"""A flow's graph as plain JSON data (`flowtui show --format json`)."""

from __future__ import annotations

from typing import Any

from flowtui.graph.model import FlowGraph


def graph_to_json(graph: FlowGraph, file: str) -> dict[str, Any]:
    """The graph as `flowtui show --format json` prints it."""
    return {
        "flow": graph.flow_name,
        "file": file,
        "steps": [
            {
                "name": step.name,
                "kind": step.kind.value,
                "next": list(step.next),
                "foreach": step.foreach,
                "condition": step.condition,
                "cases": [list(case) for case in step.cases],
                "line": step.line,
                "decorators": [{"name": d.name, "args": d.args} for d in step.decorators],
                "doc": step.doc,
            }
            for step in graph.steps
        ],
        "parameters": [
            {
                "name": p.name,
                "attr": p.attr,
                "kind": p.kind,
                "type": p.type,
                "default": p.default,
                "has_default": p.has_default,
                "required": p.required,
                "help": p.help,
                "line": p.line,
            }
            for p in graph.parameters
        ],
    }


def json_fallback(value: object) -> object:
    """Literal values JSON has no type for: sets as sorted lists, anything else as its repr."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    return repr(value)
