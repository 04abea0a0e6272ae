"""`metaflow.exception`, as flowtui offers it inside a run: the client's errors under
Metaflow's names, so `from metaflow.exception import MetaflowNotFound` works in a flow file and
`except MetaflowNotFound:` catches what the client raises."""

from __future__ import annotations

from flowtui.client.errors import (
    MetaflowException,
    MetaflowInvalidPathspec,
    MetaflowNamespaceMismatch,
    MetaflowNotFound,
    MetaflowTaggingError,
)
from flowtui.flow.spec import (
    MergeArtifactsError,
    MissingInMergeArtifactsException,
    UnhandledInMergeArtifactsException,
)


class ExternalCommandFailed(MetaflowException):
    """Metaflow's error for an external command that failed; flows raise and catch it too."""

    headline = "External command failed"


__all__ = [
    "ExternalCommandFailed",
    "MergeArtifactsError",
    "MetaflowException",
    "MetaflowInvalidPathspec",
    "MetaflowNamespaceMismatch",
    "MetaflowNotFound",
    "MetaflowTaggingError",
    "MissingInMergeArtifactsException",
    "UnhandledInMergeArtifactsException",
]
