"""What the client raises. Every "not found" is a `KeyError` (as `run["missing"]` is in Metaflow)
and a `FlowtuiError` (so the CLI prints its message alone); the message names what is missing
and what exists nearby."""

from __future__ import annotations

from flowtui.errors import FlowtuiError


class MetaflowException(FlowtuiError):
    """What every client error below is, under Metaflow's name (`except MetaflowException`
    catches them on both sides)."""

    exit_code = 2

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MetaflowNotFound(MetaflowException, KeyError):  # its __str__ first: KeyError's quotes
    """A flow, run, step, task or artifact that the store does not hold."""


class FlowNotFound(MetaflowNotFound):
    """No flow of that name in the store."""


class RunNotFound(MetaflowNotFound):
    """The flow has no run with that id."""


class StepNotFound(MetaflowNotFound):
    """The run has no task of that step."""


class TaskNotFound(MetaflowNotFound):
    """The step has no task with that id."""


class ArtifactNotFound(MetaflowNotFound):
    """The task stored no artifact of that name."""


class MetaflowNamespaceMismatch(MetaflowException, KeyError):
    """The object exists but is outside the current namespace (see `namespace()`). As in
    Metaflow, not a `MetaflowNotFound`: `except MetaflowNotFound` does not hide it."""


class MetaflowInvalidPathspec(MetaflowException, ValueError):
    """A pathspec with the wrong number of parts for the object asked for."""


class MetaflowTaggingError(MetaflowException, ValueError):
    """A tag that cannot be added or removed: an empty or too long one, or a system tag."""


class LogMissingError(FlowtuiError):
    """A task's log file is gone from the store (deleted after the task wrote it)."""

    exit_code = 1


class TaskNeverRanError(FlowtuiError):
    """A task its run never started (the run ended first): it has no logs, no artifacts."""

    exit_code = 1


class TaskUnfinishedError(FlowtuiError):
    """A followed task will not finish: its run stopped first (its runner died, or it was
    cancelled)."""

    exit_code = 1
