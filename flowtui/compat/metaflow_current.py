"""`metaflow.metaflow_current`, where Metaflow defines `current`: the same `current` as
`from metaflow import current`."""

from __future__ import annotations

from flowtui.flow import current

__all__ = ["current"]
