"""What a run needs before anything is recorded: the file checked, the flow imported once,
and its parameters resolved (or, for a resume, compared with the run it resumes)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Any

from flowtui.engine.loader import FlowImportError, load_flow_class, user_traceback
from flowtui.engine.params import flow_parameters, given_parameters, resolve_parameters
from flowtui.engine.run_options import apply_decorators, set_client_namespace
from flowtui.engine.task import register_flow_class
from flowtui.errors import UsageError
from flowtui.flow import current
from flowtui.flow.config import (
    ConfigReading,
    flow_configs,
    given_configs,
    reading_configs,
    resolve_decorators,
)
from flowtui.flow.current import _TaskContext, resolve_username
from flowtui.flow.project import ProjectError, ProjectInfo, project_of
from flowtui.flow.user_decorators import UserDecoratorError, UserDecoratorFailed
from flowtui.graph import check_flow, read_flow_file
from flowtui.graph.model import FlowGraph
from flowtui.run.params import TRUE_WORDS
from flowtui.run.splits import DEFAULT_MAX_NUM_SPLITS
from flowtui.store.blobs import digest_of


@dataclass
class RunConfig:
    file: Path
    flow: str | None = None
    params: dict[str, list[str | None]] = field(default_factory=dict)  # --NAME: each value
    max_workers: int = 0  # 0: the number of CPUs
    tags: tuple[str, ...] = ()
    store: str | None = None
    origin_run_id: str | None = None  # resume: the run to resume
    resume_step: str | None = None  # resume: re-run from this step (default: first failure)
    resume: bool = False
    # Metaflow's run options (flowtui.engine.run_options)
    with_decorators: tuple[str, ...] = ()  # --with NAME[:ARG=VALUE,...]
    max_num_splits: int = DEFAULT_MAX_NUM_SPLITS
    run_id_file: str | None = None
    namespace: str | None = None  # the client namespace inside the tasks
    branch: str | None = None  # @project: --branch
    production: bool = False  # @project: --production
    executor: str = "local"  # local or ray
    ray_address: str | None = None  # ray: the cluster (default: RAY_ADDRESS, else a local Ray)
    breakpoints: str = "wait"  # breakpoint() in a step waits for a debugger, or is "off"
    # --config NAME PATH / --config-value NAME JSON: ("path" or "value", NAME, text), in order
    configs: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class PreparedFlow:
    """A flow file checked, imported, and its parameters resolved: ready to record a run."""

    file: Path
    source: str
    graph: FlowGraph
    cls: type
    values: dict[str, Any]
    project: ProjectInfo | None = None
    configs: dict[str, Any] = field(default_factory=dict)  # config name: its stored value


def checked_graph(file: Path, flow: str | None) -> tuple[str, FlowGraph]:
    """The file's source and graph, or a UsageError listing its problems with their lines."""
    source = read_flow_file(file)
    checked = check_flow(source, str(file), flow)
    if checked.graph is None or not checked.ok:
        lines = "\n".join(p.format(str(file)) for p in checked.problems if p.severity == "error")
        raise UsageError(f"{file} has problems to fix before it can run:\n{lines}")
    return source, checked.graph


def prepare(
    config: RunConfig,
    origin_params: dict[str, Any] | None,
    load_value: Callable[[str, str], Any] | None = None,
) -> PreparedFlow:
    """`origin_params`: a resume's (or spin's, debug's) run's stored parameters, whose configs
    the flow is imported with (their values loaded by `load_value(hash, what)`)."""
    file = config.file.resolve()
    source, graph = checked_graph(config.file, config.flow)
    reading = ConfigReading(graph.flow_name, config_overrides(config.configs), cwd=Path.cwd())
    if origin_params is not None:
        if config.configs:
            raise UsageError(
                "--config and --config-value cannot be given to a resume, which keeps the "
                "resumed run's configs (as Metaflow's resume does); start a new run "
                "(flowtui run) to change a config."
            )
        reading.given = origin_configs(graph, origin_params, load_value)
    with reading_configs(reading):
        cls = load_flow_class(file, graph.flow_name, source)  # what runs is what was checked
    resolve_decorators(cls)
    configs = flow_configs(cls)
    named = given_configs(reading) if origin_params is None else reading.overrides
    unknown = [name for name in named if name not in configs]
    if unknown:
        known = ", ".join(configs)
        raise UsageError(
            f"{graph.flow_name} has no config '{unknown[0]}'; "
            + (f"its configs are: {known}." if known else "it declares no Config.")
        )
    ready_decorators(file, cls, graph, config.with_decorators)
    set_client_namespace(config.namespace)
    # As Metaflow's --branch and --production, read from the environment when not given,
    # after the file is imported (a file may set them as it is imported).
    branch = config.branch if config.branch is not None else os.environ.get("METAFLOW_BRANCH")
    production = config.production or os.environ.get("METAFLOW_PRODUCTION", "").lower() in _TRUE
    user = resolve_username()
    try:
        project = project_of(cls, branch=branch or None, production=production, user=user)
    except ProjectError as e:
        raise UsageError(str(e)) from None
    register_flow_class(str(file), graph.flow_name, cls, source)
    if origin_params is not None:
        _refuse_changed_parameters(cls, config.params, origin_params)
        values: dict[str, Any] = {}
    else:
        # A default computed by a function may read `current` (its flow, project, user), as
        # it can on Metaflow while the parameters are evaluated; nothing of a task yet.
        current._bind(
            _TaskContext(
                flow_name=graph.flow_name,
                run_id="",
                step_name="",
                task_id="",
                username=user,
                project=astuple(project) if project else None,
                flow_class=cls,
            )
        )
        try:
            values = resolve_parameters(cls, config.params, cwd=Path.cwd())
        finally:
            current._bind(None)
        values.update({c.attr: c.stored_value() for c in configs.values()})
    stored = {c.name: c.stored_value() for c in configs.values()}
    return PreparedFlow(file, source, graph, cls, values, project, stored)


def config_overrides(given: tuple[tuple[str, str, str], ...]) -> dict[str, tuple[str, str]]:
    """`--config`/`--config-value` as config name: (kind, text), the last of each kind; both
    kinds for one config are refused, as Metaflow refuses them."""
    out: dict[str, tuple[str, str]] = {}
    for kind, name, text in given:
        if name in out and out[name][0] != kind:
            raise UsageError(
                f"Config '{name}' was given both a file (--config) and a value "
                "(--config-value); give one of them."
            )
        out[name] = (kind, text)
    return out


def origin_configs(
    graph: FlowGraph, origin: dict[str, Any], load_value: Callable[[str, str], Any] | None
) -> dict[str, Any]:
    """The configs a past run stored (by config name), read from its parameters."""
    found: dict[str, Any] = {}
    if load_value is None:
        return found
    for spec in graph.configs:
        stored = origin.get(spec.attr)
        if stored and stored.get("hash"):
            found[spec.name] = load_value(stored["hash"], f"config '{spec.name}'")
    return found


def ready_decorators(file: Path, cls: type, graph: FlowGraph, specs: tuple[str, ...]) -> None:
    """Apply `--with` and the flow's step mutators to its class (`apply_decorators`); a user
    decorator's failure is one sentence naming it, with the user's traceback."""
    try:
        apply_decorators(cls, (node.name for node in graph), specs)
    except UserDecoratorFailed as e:
        cause = e.__cause__ or e
        details = "".join(user_traceback(cause))
        raise FlowImportError(f"{file.name}: {e}; fix it in the file.", details) from None
    except UserDecoratorError as e:
        raise UsageError(f"{file.name}: {e}") from None


_TRUE = TRUE_WORDS | {"on"}  # click's words for true


def _refuse_changed_parameters(
    cls: type, given: dict[str, list[str | None]], origin: dict[str, Any]
) -> None:
    """A resume takes the origin run's parameters; a different value given is refused."""
    params = {p.attr: p for p in flow_parameters(cls).values()}
    for attr, value in given_parameters(cls, given).items():
        name = params[attr].name
        if attr not in origin:
            raise UsageError(
                f"Parameter --{name} is new since the resumed run, which has no value for it "
                "(a resume keeps that run's parameters); start a new run (flowtui run) to use it."
            )
        stored = origin[attr].get("hash")
        if stored != digest_of(value):
            raise UsageError(
                f"Parameter --{name} differs from the resumed run's value; resumed tasks were "
                "computed with the old value, so start a new run (flowtui run) to change it."
            )
