"""`metaflow.user_decorators.mutable_step`: the step a `StepMutator` is given."""

from __future__ import annotations

from flowtui.flow.user_decorators import MutableStep

__all__ = ["MutableStep"]
