"""Turn artifact values into plain data both sides can compare (used by both dumps).

Imported by `metaflow_dump.py` (in a subprocess, next to real Metaflow) and by the tests
(next to flowtui), so it imports neither.
"""

from __future__ import annotations

from typing import Any

# Artifacts Metaflow keeps for itself: `name` (the flow's name) and every `_`-prefixed one.
METAFLOW_SYSTEM_ARTIFACTS = frozenset({"name"})

_PLAIN = (str, bytes, int, float, bool, complex, type(None))


def comparable(value: Any) -> Any:
    """Plain data with the same shape and types: containers kept, exceptions caught by
    `@catch` reduced to (type, message), other objects to their type name and public state."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, tuple):
        return tuple(comparable(v) for v in value)
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return type(value)(comparable(v) for v in value)
    if hasattr(value, "exception") and hasattr(value, "type") and hasattr(value, "stacktrace"):
        return ("caught exception", value.type, value.exception)
    state = {k: comparable(v) for k, v in vars(value).items() if not k.startswith("_")}
    return ("object", type(value).__name__, state)
