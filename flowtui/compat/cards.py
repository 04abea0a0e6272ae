"""`metaflow.cards` inside a run: flowtui's card components and `get_cards`."""

from flowtui.flow.cards import (
    Artifact,
    Error,
    Image,
    Markdown,
    MetaflowCardComponent,
    ProgressBar,
    Table,
    UserComponent,
    VegaChart,
    __getattr__,
    get_cards,
)

__all__ = [
    "Artifact",
    "Error",
    "Image",
    "Markdown",
    "MetaflowCardComponent",
    "ProgressBar",
    "Table",
    "UserComponent",
    "VegaChart",
    "get_cards",
]
