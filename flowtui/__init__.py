"""flowtui: the local development loop for Metaflow-style flows.

A flow file imports its building blocks from here (`from flowtui import FlowSpec, step`), and
a notebook reads past runs with the client (`Flow("MyFlow").latest_run`).
"""

from flowtui.flow import (
    FlowSpec,
    IncludeFile,
    JSONType,
    Parameter,
    catch,
    current,
    environment,
    resources,
    retry,
    step,
    timeout,
)

__version__ = "0.1.0"

__all__ = [
    "FlowSpec",
    "IncludeFile",
    "JSONType",
    "Parameter",
    "__version__",
    "catch",
    "current",
    "environment",
    "resources",
    "retry",
    "step",
    "timeout",
]
