"""Reading runs back: `Flow`, `Run`, `Step`, `Task`, `DataArtifact` (the Metaflow client's shape).

    from flowtui import Flow, namespace
    run = Flow("MyFlow").latest_successful_run
    run["train"].task.data.model

Works from a notebook, from the CLI readers, and inside a running step (where it reads the
running flow's store). `Runner` and `NBRunner` start runs (as `flowtui run` subprocesses) and
hand back the client's `Run` of each.

The Metaflow-shaped objects and errors are imported on first use, so `import
flowtui.client.runs` (the TUI's reader) does not load them, nor the authoring API.
"""

from __future__ import annotations

# Imported at once: `namespace` is also the name of its module, which an import of
# `flowtui.client.namespace` (by the objects below) would otherwise put in its place.
from flowtui.client.namespace import (
    default_metadata,
    default_namespace,
    get_metadata,
    get_namespace,
    metadata,
    namespace,
)

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md)

if TYPE_CHECKING:
    from typing import Any

    from flowtui.client.base import DataArtifact, Metaflow, MetaflowData, TaskException
    from flowtui.client.errors import (
        ArtifactNotFound,
        FlowNotFound,
        MetaflowException,
        MetaflowInvalidPathspec,
        MetaflowNamespaceMismatch,
        MetaflowNotFound,
        MetaflowTaggingError,
        RunNotFound,
        StepNotFound,
        TaskNotFound,
    )
    from flowtui.client.notebook import NBRunner
    from flowtui.client.objects import Flow, Run, Step
    from flowtui.client.runner import ExecutingRun, Runner, RunnerError
    from flowtui.client.task import Task

_LAZY = {
    **dict.fromkeys(("DataArtifact", "Metaflow", "MetaflowData", "TaskException"), "base"),
    **dict.fromkeys(
        (
            "ArtifactNotFound",
            "FlowNotFound",
            "MetaflowException",
            "MetaflowInvalidPathspec",
            "MetaflowNamespaceMismatch",
            "MetaflowNotFound",
            "MetaflowTaggingError",
            "RunNotFound",
            "StepNotFound",
            "TaskNotFound",
        ),
        "errors",
    ),
    **dict.fromkeys(("Flow", "Run", "Step"), "objects"),
    "Task": "task",
    **dict.fromkeys(("ExecutingRun", "Runner", "RunnerError"), "runner"),
    "NBRunner": "notebook",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flowtui.client' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"flowtui.client.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ArtifactNotFound",
    "DataArtifact",
    "ExecutingRun",
    "Flow",
    "FlowNotFound",
    "Metaflow",
    "MetaflowData",
    "MetaflowException",
    "MetaflowInvalidPathspec",
    "MetaflowNamespaceMismatch",
    "MetaflowNotFound",
    "MetaflowTaggingError",
    "NBRunner",
    "Run",
    "RunNotFound",
    "Runner",
    "RunnerError",
    "Step",
    "StepNotFound",
    "Task",
    "TaskException",
    "TaskNotFound",
    "default_metadata",
    "default_namespace",
    "get_metadata",
    "get_namespace",
    "metadata",
    "namespace",
]
