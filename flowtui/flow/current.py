"""`current`: what a running task knows about itself (Metaflow's `current` object)."""

from __future__ import annotations

import getpass
import os
import tempfile
from collections import namedtuple
from dataclasses import dataclass
from typing import Any

# The client namespace a run's tasks start in, when the run was given `--namespace`.
NAMESPACE_ENV = "FLOWTUI_NAMESPACE"


# A task of a `@parallel` step (Metaflow's `current.parallel`), read from the environment its
# runner gives it, as Metaflow's: MF_PARALLEL_MAIN_IP, _NUM_NODES, _NODE_INDEX, _CONTROL_TASK_ID
Parallel = namedtuple("Parallel", ["main_ip", "num_nodes", "node_index", "control_task_id"])


@dataclass
class _TaskContext:
    flow_name: str
    run_id: str
    step_name: str
    task_id: str
    retry_count: int = 0
    origin_run_id: str | None = None
    namespace: str | None = None
    username: str | None = None
    tags: tuple[str, ...] = ()
    store: str | None = None
    project: tuple[str, str, bool, str] | None = None  # name, branch, production, flow name
    flow_class: type | None = None  # the flow being run, once the task has it


def resolve_username() -> str:
    """Who is running, found as Metaflow finds it: METAFLOW_USER, SUDO_USER, USERNAME, USER
    (skipping root for the last three), then the login name."""
    if os.environ.get("METAFLOW_USER"):
        return os.environ["METAFLOW_USER"]
    for var in ("SUDO_USER", "USERNAME", "USER"):
        value = os.environ.get(var)
        if value and value != "root":
            return value
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Current:
    """Attributes are available while a task runs; outside one, `is_running_flow` is False."""

    def __init__(self) -> None:
        self._ctx: _TaskContext | None = None
        self._tempdir: str | None = None
        self._card: Any = None
        self._tags: set[str] | None = None
        self._parameter_names: list[str] | None = None

    def _bind(self, ctx: _TaskContext | None, card: Any = None) -> None:
        self._ctx = ctx
        self._tempdir = None
        self._card = card
        self._tags = None
        self._parameter_names = None

    @property
    def is_running_flow(self) -> bool:
        return self._ctx is not None

    def _get(self, name: str) -> Any:
        if self._ctx is None:
            raise AttributeError(
                f"current.{name} is only available while a flow runs (inside a step)."
            )
        return getattr(self._ctx, name)

    @property
    def flow_name(self) -> str:
        return str(self._get("flow_name"))

    @property
    def run_id(self) -> str:
        return str(self._get("run_id"))

    @property
    def step_name(self) -> str:
        return str(self._get("step_name"))

    @property
    def task_id(self) -> str:
        return str(self._get("task_id"))

    @property
    def retry_count(self) -> int:
        return int(self._get("retry_count"))

    @property
    def origin_run_id(self) -> str | None:
        value = self._get("origin_run_id")
        return None if value is None else str(value)

    @property
    def pathspec(self) -> str:
        return f"{self.flow_name}/{self.run_id}/{self.step_name}/{self.task_id}"

    @property
    def run(self) -> Any:
        """The running run, as a client `Run` (whatever the namespace), as Metaflow's."""
        from flowtui.client import Run

        return Run(f"{self.flow_name}/{self.run_id}", _namespace_check=False)

    @property
    def task(self) -> Any:
        """The running task, as a client `Task` (whatever the namespace), as Metaflow's."""
        from flowtui.client import Task

        return Task(self.pathspec, _namespace_check=False)

    @property
    def namespace(self) -> str:
        return self._get("namespace") or f"user:{self.username}"

    @property
    def username(self) -> str:
        return self._get("username") or resolve_username()

    @property
    def tags(self) -> set[str]:
        """The run's own tags (`--tag`), each once, as Metaflow's: a set (the same one every
        time in a task), without the system tags."""
        tags = self._get("tags")
        if self._tags is None:
            self._tags = set(tags)
        return self._tags

    @property
    def parameter_names(self) -> list[str]:
        """The attribute names of the flow's parameters (`IncludeFile`s too), sorted: what
        Metaflow's task finds with `dir()` over the flow class."""
        cls = self._get("flow_class")
        if cls is None:  # the flow file is still being imported
            return []
        if self._parameter_names is None:
            from flowtui.flow.parameters import Parameter

            names = []
            for name in dir(cls):
                if name.startswith("_"):
                    continue
                try:
                    value = getattr(cls, name)
                except Exception:  # as Metaflow: a class attribute that raises is not one
                    continue
                if isinstance(value, Parameter):
                    names.append(name)
            self._parameter_names = names
        return self._parameter_names

    def _project(self, index: int, name: str) -> Any:
        info = self._get("project")
        if info is None:
            raise AttributeError(f"current.{name} is set only in a flow decorated with @project.")
        return info[index]

    @property
    def project_name(self) -> str:
        return str(self._project(0, "project_name"))

    @property
    def branch_name(self) -> str:
        return str(self._project(1, "branch_name"))

    @property
    def is_production(self) -> bool:
        return bool(self._project(2, "is_production"))

    @property
    def project_flow_name(self) -> str:
        return str(self._project(3, "project_flow_name"))

    @property
    def parallel(self) -> Parallel:
        """Where this task sits in its `@parallel` gang (one node of one, outside a gang)."""
        env = os.environ
        return Parallel(
            main_ip=env.get("MF_PARALLEL_MAIN_IP", "127.0.0.1"),
            num_nodes=int(env.get("MF_PARALLEL_NUM_NODES", "1")),
            node_index=int(env.get("MF_PARALLEL_NODE_INDEX", "0")),
            control_task_id=env.get("MF_PARALLEL_CONTROL_TASK_ID"),
        )

    @property
    def is_parallel(self) -> bool:
        """Whether the running step is a `@parallel` step."""
        self._get("task_id")
        return "MF_PARALLEL_NUM_NODES" in os.environ

    @property
    def tempdir(self) -> str:
        """A directory private to this task, for scratch files."""
        self._get("task_id")
        if self._tempdir is None:
            self._tempdir = tempfile.mkdtemp(prefix=f"flowtui-{self.step_name}-")
        return self._tempdir

    @property
    def card(self) -> Any:
        """The step's `@card`s: `current.card.append(Markdown(...))`, `current.card["id"]`."""
        self._get("task_id")  # only inside a running step
        if self._card is None:
            from flowtui.flow.cards.collector import CardCollector

            self._card = CardCollector()
        return self._card

    def __repr__(self) -> str:
        if self._ctx is None:
            return "<current: not in a running flow>"
        return f"<current {self.pathspec} retry={self.retry_count}>"


current = Current()
