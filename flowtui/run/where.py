"""Where a task attempt ran, as the task list shows it (from the attempt's metadata)."""

from __future__ import annotations

NODE_ID_SHOWN = 8  # characters of a Ray node id: enough to tell a cluster's nodes apart


def node_label(metadata: dict[str, str]) -> str:
    """The node of a task that ran off this machine's local executor ("" for a local task)."""
    node = metadata.get("node-id", "")
    return node[:NODE_ID_SHOWN] if metadata.get("executor", "local") != "local" else ""
