"""`metaflow`, as flowtui offers it: inside a runner, `import metaflow` resolves to this module.

Names Metaflow users import for local work behave as in Metaflow. Decorators for remote compute
or packaging are accepted and have no local effect (the runner prints one notice per use). A
name flowtui does not offer fails with one sentence saying so.
"""

from __future__ import annotations

from typing import Any

from flowtui.flow import (
    FlowSpec,
    IncludeFile,
    JSONType,
    MergeArtifactsError,
    Parameter,
    catch,
    current,
    environment,
    resources,
    retry,
    step,
    timeout,
)
from flowtui.flow.decorators import ignored_locally

kubernetes = ignored_locally("kubernetes")
batch = ignored_locally("batch")
conda = ignored_locally("conda")
conda_base = ignored_locally("conda_base")
pypi = ignored_locally("pypi")
pypi_base = ignored_locally("pypi_base")
card = ignored_locally("card")
project = ignored_locally("project")
schedule = ignored_locally("schedule")
trigger = ignored_locally("trigger")
trigger_on_finish = ignored_locally("trigger_on_finish")
secrets = ignored_locally("secrets")
parallel = ignored_locally("parallel")

__all__ = [
    "FlowSpec",
    "IncludeFile",
    "JSONType",
    "MergeArtifactsError",
    "Parameter",
    "batch",
    "card",
    "catch",
    "conda",
    "conda_base",
    "current",
    "environment",
    "kubernetes",
    "parallel",
    "project",
    "pypi",
    "pypi_base",
    "resources",
    "retry",
    "schedule",
    "secrets",
    "step",
    "timeout",
    "trigger",
    "trigger_on_finish",
]


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise ImportError(
        f"flowtui does not offer metaflow.{name} locally; this file still runs on Metaflow "
        "itself (python FILE run with metaflow installed)."
    )
