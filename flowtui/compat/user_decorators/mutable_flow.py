"""`metaflow.user_decorators.mutable_flow`: the flow a `FlowMutator` is given."""

from __future__ import annotations

from flowtui.flow.flow_mutator import MutableFlow

__all__ = ["MutableFlow"]
