"""What a run takes from the flow's class before any task starts: each step's decorators
with their arguments, and its parameter values stored as blobs."""

from __future__ import annotations

from typing import Any

from flowtui.engine.task import short_repr, type_name
from flowtui.errors import UsageError
from flowtui.flow.decorators import step_decorators
from flowtui.graph.model import FlowGraph
from flowtui.store import ArtifactPickleError, BlobStore


def decorator_args(graph: FlowGraph, cls: type) -> dict[str, dict[str, dict[str, Any]]]:
    """step -> decorator name -> its arguments, for every step of `graph`."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for node in graph:
        func = getattr(cls, node.name, None)
        out[node.name] = {d.name: d.args for d in step_decorators(func)} if func else {}
    return out


def store_parameters(blobs: BlobStore, values: dict[str, Any]) -> dict[str, Any]:
    """Store each parameter value as a blob: `attr -> {hash, type, size, repr, value}`."""
    out = {}
    for attr, value in values.items():
        try:
            ref = blobs.put_value(value)
        except ArtifactPickleError as e:
            raise UsageError(f"Parameter {attr} cannot be stored: {e}.") from None
        json_value = value if isinstance(value, (str, int, float, bool, type(None))) else None
        out[attr] = {
            "hash": ref.hash,
            "type": type_name(value),
            "size": ref.size,
            "repr": short_repr(value),
            "value": json_value,
        }
    return out
