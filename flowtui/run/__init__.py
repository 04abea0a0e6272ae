"""A run's vocabulary, shared by every room: statuses, task errors, artifact references, the
event stream's events, the state of a run folded from them, the resume plan, and how each
state reads on screen. Headless: imports only the graph model and the store's records."""

from flowtui.run.artifacts import ArtifactMap, ArtifactRef
from flowtui.run.events import Event, decode_event, encode_event
from flowtui.run.plan import ResumePlan, StepPlan, plan_resume
from flowtui.run.state import RunState, TaskState
from flowtui.run.status import RunStatus, TaskError, TaskStatus
from flowtui.store.records import ArtifactRecord, RunRecord

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
