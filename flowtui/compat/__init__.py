"""`metaflow`, as flowtui offers it: inside a runner, `import metaflow` resolves to this module.

Names Metaflow users import for local work behave as in Metaflow. Decorators for remote compute
or packaging are accepted and have no local effect (the runner prints one notice per use, for
step and flow decorators alike). The client names (`Flow`, `Run`, `namespace`, ...) come from
`flowtui.client`, imported on first use; `metaflow.cards` is `flowtui.flow.cards`. A name
flowtui does not offer, or another `metaflow.*` submodule, fails with one sentence saying
what is missing and that the file still runs on Metaflow itself.

Nothing here touches `sys.modules["metaflow"]`: only the engine's loader installs the alias,
in runner and task processes.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from flowtui import _CLIENT_NAMES
from flowtui.compat.multicore import parallel_imap_unordered, parallel_map
from flowtui.compat.profiling import profile
from flowtui.compat.s3 import S3
from flowtui.flow import (
    FlowSpec,
    IncludeFile,
    JSONType,
    MergeArtifactsError,
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
from flowtui.flow.config import Config, ConfigValue, config_expr
from flowtui.flow.decorators import ignored_locally, parallel
from flowtui.flow.flow_mutator import FlowMutator
from flowtui.flow.parameters import JSONTypeClass
from flowtui.flow.project import project
from flowtui.flow.user_decorators import (
    USER_SKIP_STEP,
    StepMutator,
    UserStepDecorator,
    user_step_decorator,
)

kubernetes = ignored_locally("kubernetes")
batch = ignored_locally("batch")
conda = ignored_locally("conda")
conda_base = ignored_locally("conda_base")
pypi = ignored_locally("pypi")
pypi_base = ignored_locally("pypi_base")
schedule = ignored_locally("schedule")
trigger = ignored_locally("trigger")
trigger_on_finish = ignored_locally("trigger_on_finish")
secrets = ignored_locally("secrets")

# Metaflow's client names, served by flowtui.client (imported lazily, on first use).
CLIENT_NAMES = _CLIENT_NAMES

__all__ = [
    "CLIENT_NAMES",
    "S3",
    "USER_SKIP_STEP",
    "Config",
    "ConfigValue",
    "DataArtifact",
    "Flow",
    "FlowMutator",
    "FlowSpec",
    "IncludeFile",
    "JSONType",
    "JSONTypeClass",
    "MergeArtifactsError",
    "Metaflow",
    "Parameter",
    "Run",
    "Step",
    "StepMutator",
    "Task",
    "UserStepDecorator",
    "batch",
    "card",
    "catch",
    "conda",
    "conda_base",
    "config_expr",
    "current",
    "default_metadata",
    "default_namespace",
    "environment",
    "get_metadata",
    "get_namespace",
    "kubernetes",
    "metadata",
    "namespace",
    "parallel",
    "parallel_imap_unordered",
    "parallel_map",
    "profile",
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
    "unavailable",
    "user_step_decorator",
]


def unavailable(what: str) -> ImportError:
    """The error for something a flow file asks of `metaflow` that flowtui does not offer.

    A plain ImportError (not a flowtui type), so the user's traceback reads naturally.
    """
    return ImportError(
        f"flowtui does not offer {what} locally; remove it to run the file here "
        "(the file still runs unchanged on Metaflow itself: python FILE run)."
    )


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    if name in CLIENT_NAMES:
        return _client_name(name)
    raise unavailable(f"metaflow.{name}")


def _client_name(name: str) -> Any:
    try:
        client: ModuleType | None = importlib.import_module("flowtui.client")
    except ImportError:
        client = None
    value = getattr(client, name, None)
    if value is None:
        raise unavailable(f"the client's metaflow.{name}")
    globals()[name] = value  # later look-ups skip __getattr__
    return value


class _SubmoduleSentence(importlib.abc.MetaPathFinder):
    """`import metaflow.cards` (any submodule) while `metaflow` is this module: one sentence.

    Only active while `sys.modules["metaflow"]` is flowtui's compat module, so a process
    where real Metaflow is imported is never affected.
    """

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("metaflow.") or fullname in SUBMODULES:
            return None
        if sys.modules.get("metaflow") is not sys.modules.get(__name__):
            return None
        raise unavailable(fullname)


# `metaflow.*` submodules flowtui offers (found in this package as usual); any other is refused.
SUBMODULES = frozenset(
    {
        "metaflow.metaflow_config",
        "metaflow.cards",
        "metaflow.exception",
        "metaflow.metaflow_current",
        "metaflow.user_decorators",
        "metaflow.user_decorators.mutable_flow",
        "metaflow.user_decorators.mutable_step",
        "metaflow.user_decorators.user_flow_decorator",
        "metaflow.user_decorators.user_step_decorator",
    }
)


if not any(isinstance(f, _SubmoduleSentence) for f in sys.meta_path):
    sys.meta_path.insert(0, _SubmoduleSentence())
