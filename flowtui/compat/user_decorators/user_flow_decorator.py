"""`metaflow.user_decorators.user_flow_decorator`: the same `FlowMutator` as
`from metaflow import FlowMutator`."""

from __future__ import annotations

from flowtui.flow.flow_mutator import FlowMutator

__all__ = ["FlowMutator"]
