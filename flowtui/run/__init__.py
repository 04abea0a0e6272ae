"""A run's vocabulary, shared by every room: statuses, task errors, artifact references, the
event stream's events, the state of a run folded from them, the resume plan, and how each
state reads on screen. Headless: imports only the graph model and the store's records.

The names below are imported on first use, so importing one module of the room (the TUI's
first frame needs a few) does not load them all.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowtui.run.artifacts import ArtifactMap, ArtifactRef
    from flowtui.run.events import Event, decode_event, encode_event
    from flowtui.run.plan import ResumePlan, StepPlan, plan_resume
    from flowtui.run.state import RunState, TaskState
    from flowtui.run.status import RunStatus, TaskError, TaskStatus
    from flowtui.store.records import ArtifactRecord, RunRecord

_LAZY = {
    "ArtifactMap": "flowtui.run.artifacts",
    "ArtifactRef": "flowtui.run.artifacts",
    "Event": "flowtui.run.events",
    "decode_event": "flowtui.run.events",
    "encode_event": "flowtui.run.events",
    "ResumePlan": "flowtui.run.plan",
    "StepPlan": "flowtui.run.plan",
    "plan_resume": "flowtui.run.plan",
    "RunState": "flowtui.run.state",
    "TaskState": "flowtui.run.state",
    "RunStatus": "flowtui.run.status",
    "TaskError": "flowtui.run.status",
    "TaskStatus": "flowtui.run.status",
    "ArtifactRecord": "flowtui.store.records",
    "RunRecord": "flowtui.store.records",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flowtui.run' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ArtifactMap",
    "ArtifactRecord",
    "ArtifactRef",
    "Event",
    "ResumePlan",
    "RunRecord",
    "RunState",
    "RunStatus",
    "StepPlan",
    "TaskError",
    "TaskState",
    "TaskStatus",
    "decode_event",
    "encode_event",
    "plan_resume",
]
