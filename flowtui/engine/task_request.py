"""What the runner asks of one task attempt (`TaskRequest`): what it inherits from its place in
the run (the parameters, its parent's artifacts, a join's inputs and class constants, its
foreach frames) and what its step's decorators make of it (@catch on the last attempt @retry
allows, @environment, @timeout, @resources). The runner, spin and debug all ask through here."""

from __future__ import annotations

from dataclasses import astuple, dataclass, field
from typing import Any

from flowtui.engine.scheduler import Frame, PendingTask
from flowtui.engine.task import ForeachFrame, TaskRequest
from flowtui.flow.project import ProjectInfo
from flowtui.graph.model import FlowGraph, StepKind
from flowtui.run.artifacts import ArtifactMap


@dataclass(frozen=True)
class RunBasis:
    """What every request of a run shares: made once, when its first task starts."""

    file: str
    flow_name: str
    store_root: str
    run_id: str
    graph: FlowGraph
    decorators: dict[str, dict[str, dict[str, Any]]]  # step -> decorator -> its arguments
    params: ArtifactMap  # what every task inherits: the parameters, and `name`
    constants: tuple[str, ...]  # the class constants start stores and joins pass down
    user: str
    tags: tuple[str, ...]
    project: ProjectInfo | None
    origin_run_id: str | None  # the resumed run's id, for a resume
    breakpoints: str
    with_decorators: tuple[str, ...]
    configs: dict[str, Any] = field(default_factory=dict)  # config name: its stored value


def retries(decorators: dict[str, dict[str, dict[str, Any]]], step: str) -> int:
    """How many times @retry runs `step` again after a failed attempt."""
    return int(decorators[step].get("retry", {}).get("times", 0))


def task_request(
    basis: RunBasis,
    outputs: dict[str, ArtifactMap],
    pending: PendingTask,
    task_id: str,
    attempt: int,
    stdout: str,
    stderr: str,
    control_task: str | None = None,
) -> TaskRequest:
    """Attempt `attempt` of `pending` (task `task_id`), its logs going to `stdout`/`stderr`;
    `outputs` holds each finished task's artifacts by task id. A task of a `@parallel` gang
    is told its place in it, with `control_task` the id of the gang's node 0."""
    node = basis.graph[pending.step]
    params = basis.params
    join_inputs: tuple[tuple[str, str, ArtifactMap], ...] = ()
    if node.takes_inputs:
        # As Metaflow's: a join inherits the parameters and, from its first input, the
        # class constants (merge_artifacts adds the rest)
        first = outputs[pending.parents[0]]
        kept = {name: first[name] for name in basis.constants if name in first}
        inherited = {**params, **kept} if kept else params
        join_inputs = tuple(
            (s, t, outputs[t]) for s, t in zip(pending.parent_steps, pending.parents, strict=True)
        )
    elif pending.parents:
        inherited = outputs[pending.parents[0]]
    else:
        inherited = params
    foreach = tuple(
        ForeachFrame(
            f.index,
            f.count,
            _foreach_hash(basis.graph, outputs, f),
            basis.graph[f.step].next[0],
            basis.graph[f.step].foreach or "",
        )
        for f in pending.frames
        if f.foreach
    )
    decos = basis.decorators[pending.step]
    catch = decos.get("catch")
    return TaskRequest(
        file=basis.file,
        flow_name=basis.flow_name,
        store_root=basis.store_root,
        run_id=basis.run_id,
        step=pending.step,
        task_id=task_id,
        attempt=attempt,
        stdout=stdout,
        stderr=stderr,
        inherited=inherited,
        next_steps=node.next,
        foreach_var=node.foreach,
        is_end=node.kind is StepKind.END,
        switch=node.kind is StepKind.SWITCH,
        join_inputs=join_inputs,
        foreach=foreach,
        # as in Metaflow, @catch takes over only on the last attempt @retry allows
        catch=catch is not None and attempt >= retries(basis.decorators, pending.step),
        catch_var=(catch or {}).get("var"),
        catch_print=bool((catch or {}).get("print_exception", True)),
        env={
            **{str(k): str(v) for k, v in (decos.get("environment", {}).get("vars") or {}).items()},
            **(gang_environment(pending, control_task) if "parallel" in decos else {}),
        },
        origin_run_id=basis.origin_run_id,
        user=basis.user,
        tags=basis.tags,
        timeout=decos.get("timeout", {}).get("seconds"),
        memory=decos.get("resources", {}).get("memory"),
        project=astuple(basis.project) if basis.project else None,
        resources={k: v for k, v in decos.get("resources", {}).items() if v is not None},
        breakpoints=basis.breakpoints,
        with_decorators=basis.with_decorators,
        configs=basis.configs,
    )


def gang_environment(pending: PendingTask, control_task: str | None) -> dict[str, str]:
    """What a task of a `@parallel` gang reads its place from (`current.parallel`), under
    Metaflow's names: its gang's frame is its innermost one (lint allows no other way in)."""
    frame = pending.frames[-1]
    env = {
        "MF_PARALLEL_MAIN_IP": "127.0.0.1",
        "MF_PARALLEL_NUM_NODES": str(frame.count),
        "MF_PARALLEL_NODE_INDEX": str(frame.index),
    }
    if control_task is not None:
        env["MF_PARALLEL_CONTROL_TASK_ID"] = control_task
    return env


def _foreach_hash(graph: FlowGraph, outputs: dict[str, ArtifactMap], frame: Frame) -> str:
    """The stored hash of the list a foreach frame iterates over (none for a `@parallel`
    gang's: its items are the node indexes)."""
    if graph[frame.step].is_gang_split:
        return ""
    var = graph[frame.step].foreach or ""
    return outputs[frame.split_task][var].hash
