"""Cards: what `metaflow.cards` offers a flow file, and `current.card`'s machinery.

`from metaflow.cards import Markdown, Table, ...` gives these components inside a run.
`get_cards(task)` reads a finished (or running) task's cards back, from the client.
"""

from __future__ import annotations

from typing import Any

from flowtui.flow.cards.collector import CardCollector, CardSlot
from flowtui.flow.cards.components import (
    Artifact,
    Error,
    Image,
    Markdown,
    MetaflowCardComponent,
    ProgressBar,
    PythonCode,
    Table,
    UserComponent,
    ValueBox,
    VegaChart,
)

__all__ = [
    "Artifact",
    "CardCollector",
    "CardSlot",
    "Error",
    "Image",
    "Markdown",
    "MetaflowCardComponent",
    "ProgressBar",
    "PythonCode",
    "Table",
    "UserComponent",
    "ValueBox",
    "VegaChart",
    "get_cards",
]


def get_cards(task: Any, id: str | None = None, type: str | None = None) -> Any:
    """A task's cards (a `flowtui.client` Task or its pathspec), as `metaflow.cards.get_cards`."""
    from flowtui.client.cards import get_cards as read

    return read(task, id=id, type=type)


def __getattr__(name: str) -> Any:
    """Another `metaflow.cards` name (JSONViewer, EventsTimeline, ...): one sentence naming it."""
    if name.startswith("__"):
        raise AttributeError(name)
    from flowtui.compat import unavailable

    raise unavailable(f"metaflow.cards.{name}")
