"""Reading runs back: `Flow`, `Run`, `Step`, `Task`, `DataArtifact` (the Metaflow client's shape).

    from flowtui import Flow, namespace
    run = Flow("MyFlow").latest_successful_run
    run["train"].task.data.model

Works from a notebook, from the CLI readers, and inside a running step (where it reads the
running flow's store).
"""

from flowtui.client.base import DataArtifact, Metaflow, MetaflowData, TaskException
from flowtui.client.errors import (
    ArtifactNotFound,
    FlowNotFound,
    MetaflowInvalidPathspec,
    MetaflowNamespaceMismatch,
    MetaflowNotFound,
    RunNotFound,
    StepNotFound,
    TaskNotFound,
)
from flowtui.client.namespace import (
    default_metadata,
    default_namespace,
    get_metadata,
    get_namespace,
    metadata,
    namespace,
)
from flowtui.client.objects import (
    Flow,
    Run,
    Step,
    Task,
)

__all__ = [
    "ArtifactNotFound",
    "DataArtifact",
    "Flow",
    "FlowNotFound",
    "Metaflow",
    "MetaflowData",
    "MetaflowInvalidPathspec",
    "MetaflowNamespaceMismatch",
    "MetaflowNotFound",
    "Run",
    "RunNotFound",
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
