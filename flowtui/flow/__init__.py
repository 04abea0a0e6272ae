"""What a flow file imports: `FlowSpec`, `step`, parameters, decorators and `current`.

`current` is imported at once (it is also the name of its module, which an import of
`flowtui.flow.current` would otherwise put in its place); the rest on first use, so the
client's namespace rules (which read `current`'s environment) do not load the authoring API.
"""

from typing import TYPE_CHECKING, Any

from flowtui.flow.current import current

if TYPE_CHECKING:
    from flowtui.flow.config import Config, ConfigValue, config_expr
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

_LAZY = {
    **dict.fromkeys(
        (
            "card",
            "catch",
            "environment",
            "ignored_locally",
            "resources",
            "retry",
            "step",
            "timeout",
        ),
        "decorators",
    ),
    **dict.fromkeys(("IncludeFile", "JSONType", "Parameter"), "parameters"),
    **dict.fromkeys(("Config", "ConfigValue", "config_expr"), "config"),
    **dict.fromkeys(("FlowSpec", "Inputs", "MergeArtifactsError"), "spec"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flowtui.flow' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"flowtui.flow.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "Config",
    "ConfigValue",
    "FlowSpec",
    "IncludeFile",
    "Inputs",
    "JSONType",
    "MergeArtifactsError",
    "Parameter",
    "card",
    "catch",
    "config_expr",
    "current",
    "environment",
    "ignored_locally",
    "resources",
    "retry",
    "step",
    "timeout",
]
