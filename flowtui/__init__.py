"""flowtui: the local development loop for Metaflow-style flows.

A flow file imports its building blocks from here (`from flowtui import FlowSpec, step`), and
a notebook reads past runs with the client (`Flow("MyFlow").latest_run`).
"""

from typing import TYPE_CHECKING, Any

from flowtui.flow import (
    FlowSpec,
    IncludeFile,
    JSONType,
    Parameter,
    card,
    catch,
    current,
    environment,
    resources,
    retry,
    step,
    timeout,
)

if TYPE_CHECKING:
    from flowtui.client import (
        DataArtifact,
        Flow,
        Metaflow,
        Run,
        Step,
        Task,
        default_metadata,
        default_namespace,
        get_metadata,
        get_namespace,
        metadata,
        namespace,
    )

__version__ = "0.1.0"

# The client's names, imported on first use (a flow file importing FlowSpec does not pay for them).
_CLIENT_NAMES = (
    "DataArtifact",
    "Flow",
    "Metaflow",
    "Run",
    "Step",
    "Task",
    "default_metadata",
    "default_namespace",
    "get_metadata",
    "get_namespace",
    "metadata",
    "namespace",
)


def __getattr__(name: str) -> Any:
    if name in _CLIENT_NAMES:
        import flowtui.client

        return getattr(flowtui.client, name)
    raise AttributeError(f"module 'flowtui' has no attribute {name!r}")


__all__ = [
    "DataArtifact",
    "Flow",
    "FlowSpec",
    "IncludeFile",
    "JSONType",
    "Metaflow",
    "Parameter",
    "Run",
    "Step",
    "Task",
    "__version__",
    "card",
    "catch",
    "current",
    "default_metadata",
    "default_namespace",
    "environment",
    "get_metadata",
    "get_namespace",
    "metadata",
    "namespace",
    "resources",
    "retry",
    "step",
    "timeout",
]
