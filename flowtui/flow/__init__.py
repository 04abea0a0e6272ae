"""What a flow file imports: `FlowSpec`, `step`, parameters, decorators and `current`."""

from flowtui.flow.current import current
from flowtui.flow.decorators import (
    card,
    catch,
    environment,
    ignored_locally,
    resources,
    retry,
    step,
    timeout,
)
from flowtui.flow.parameters import IncludeFile, JSONType, Parameter
from flowtui.flow.spec import FlowSpec, Inputs, MergeArtifactsError

__all__ = [
    "FlowSpec",
    "IncludeFile",
    "Inputs",
    "JSONType",
    "MergeArtifactsError",
    "Parameter",
    "card",
    "catch",
    "current",
    "environment",
    "ignored_locally",
    "resources",
    "retry",
    "step",
    "timeout",
]
