"""`metaflow.user_decorators.user_step_decorator`: the same names as `from metaflow import`."""

from __future__ import annotations

from flowtui.flow.user_decorators import (
    USER_SKIP_STEP,
    StepMutator,
    UserStepDecorator,
    user_step_decorator,
)

__all__ = ["USER_SKIP_STEP", "StepMutator", "UserStepDecorator", "user_step_decorator"]
