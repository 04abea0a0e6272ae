"""What a run takes from the flow's class before any task starts: each step's decorators
with their arguments, and its parameter values stored as blobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowtui.engine.environments import ENVIRONMENT_DECORATORS, package_notices
from flowtui.engine.task import short_repr, type_name
from flowtui.errors import UsageError
from flowtui.flow.decorators import IGNORED_LOCALLY, step_decorators
from flowtui.graph.model import FlowGraph
from flowtui.store import ArtifactPickleError, BlobStore

if TYPE_CHECKING:
    from flowtui.engine.executor import Executor


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


def ignored_decorators(
    flow: str, cls: type, decorators: dict[str, dict[str, dict[str, Any]]], executor: Executor
) -> list[str]:
    """A notice for each decorator this run does not honour (honoured on Metaflow): flow-level
    ones (@project, @schedule, ...) on the class, step ones the executor ignores; and for
    @conda/@pypi, what they ask for that this environment lacks (`engine/environments.py`)."""
    notices = [
        f"@{d.name} on flow {flow} has no effect in a local run; "
        "it is honoured when the flow runs on Metaflow."
        for d in step_decorators(cls)
        if d.name in IGNORED_LOCALLY and d.name not in ENVIRONMENT_DECORATORS
    ]
    notices += package_notices(flow, cls, decorators)
    for step_name, decos in decorators.items():
        for name in decos:
            if name in ENVIRONMENT_DECORATORS:
                continue
            if name in IGNORED_LOCALLY and not executor.honours(name):
                notices.append(
                    f"@{name} on step '{step_name}' has no effect in a local run; "
                    "it is honoured when the flow runs on Metaflow."
                )
    return notices
