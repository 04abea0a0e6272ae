"""Knowing a flow without running it: parse the file's text, lint it, lay it out, draw it."""

from flowtui.graph.lint import CheckResult, check_flow, lint_graph
from flowtui.graph.model import (
    Decorator,
    FlowGraph,
    ParameterSpec,
    Problem,
    StepKind,
    StepNode,
)
from flowtui.graph.parse import FlowSourceError, FlowSyntaxError, parse_flow, read_flow_file

__all__ = [
    "CheckResult",
    "Decorator",
    "FlowGraph",
    "FlowSourceError",
    "FlowSyntaxError",
    "ParameterSpec",
    "Problem",
    "StepKind",
    "StepNode",
    "check_flow",
    "lint_graph",
    "parse_flow",
    "read_flow_file",
]
