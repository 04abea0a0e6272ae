"""flowtui: the local development loop for Metaflow-style flows.

A flow file imports its building blocks from here (`from flowtui import FlowSpec, step`), and
a notebook reads past runs with the client (`Flow("MyFlow").latest_run`) and starts new ones
(`Runner("flow.py").run(alpha=5)`, `NBRunner(MyFlow).nbrun()`).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md)

if TYPE_CHECKING:
    from typing import Any

    from flowtui.client import (
        DataArtifact,
        Flow,
        Metaflow,
        NBRunner,
        Run,
        Runner,
        Step,
        Task,
        default_metadata,
        default_namespace,
        get_metadata,
        get_namespace,
        metadata,
        namespace,
    )
    from flowtui.client.cards import get_cards
    from flowtui.flow import (
        Config,
        ConfigValue,
        FlowSpec,
        IncludeFile,
        JSONType,
        Parameter,
        card,
        catch,
        config_expr,
        environment,
        resources,
        retry,
        step,
        timeout,
    )
    from flowtui.flow.current import current

__version__ = "0.1.0"

# The authoring API's names, imported on first use: `flowtui FILE` (the TUI) never needs them.
_FLOW_NAMES = (
    "Config",
    "ConfigValue",
    "FlowSpec",
    "IncludeFile",
    "JSONType",
    "Parameter",
    "card",
    "catch",
    "config_expr",
    "current",
    "environment",
    "resources",
    "retry",
    "step",
    "timeout",
)
# The client's names, imported on first use (a flow file importing FlowSpec does not pay for them).
_CLIENT_NAMES = (
    "DataArtifact",
    "Flow",
    "Metaflow",
    "NBRunner",
    "Run",
    "Runner",
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
    if name in _FLOW_NAMES:
        import flowtui.flow

        return getattr(flowtui.flow, name)
    if name in _CLIENT_NAMES:
        import flowtui.client

        return getattr(flowtui.client, name)
    if name == "get_cards":  # a notebook's `from metaflow.cards import get_cards`
        from flowtui.client.cards import get_cards

        return get_cards
    raise AttributeError(f"module 'flowtui' has no attribute {name!r}")


__all__ = [
    "Config",
    "ConfigValue",
    "DataArtifact",
    "Flow",
    "FlowSpec",
    "IncludeFile",
    "JSONType",
    "Metaflow",
    "NBRunner",
    "Parameter",
    "Run",
    "Runner",
    "Step",
    "Task",
    "__version__",
    "card",
    "catch",
    "config_expr",
    "current",
    "default_metadata",
    "default_namespace",
    "environment",
    "get_cards",
    "get_metadata",
    "get_namespace",
    "metadata",
    "namespace",
    "resources",
    "retry",
    "step",
    "timeout",
]
