"""`metaflow.cards` inside a run: flowtui's card components and `get_cards`."""

from flowtui.flow.cards import (
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
    __getattr__,  # noqa: F401 - another metaflow.cards name: one sentence naming it
    get_cards,
)

__all__ = [
    "Artifact",
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
