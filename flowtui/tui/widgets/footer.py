"""`KeysFooter`: the key bindings footer, which keeps Help and Quit in view when narrow.

On a terminal narrower than `NARROW_WIDTH` the footer leaves out the keys that
cannot be used now (greyed out on a wide terminal) and the ones listed in `HIDDEN_WHEN_NARROW`
(their keys still work, and the command palette and the help page list them), and shows Help
and Quit first, so that what cuts off the end of the row is never how to quit or get help.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

#: Terminal width (cells) below which the footer keeps only what matters most.
NARROW_WIDTH = 90
#: Actions always shown first on a narrow terminal.
ESSENTIAL_ACTIONS = ("help", "quit")
#: Actions a narrow footer leaves out (the keys still work).
HIDDEN_WHEN_NARROW = frozenset({"toggle_theme"})


class KeysFooter(Footer):
    """A `Footer` that stays useful on a narrow terminal (see the module docstring)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.narrow = False

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        if not self.narrow:
            yield from widgets
            return
        keys = [
            widget
            for widget in widgets
            if not isinstance(widget, FooterKey)
            or widget.has_class("-command-palette")
            or not (widget.has_class("-disabled") or widget.action in HIDDEN_WHEN_NARROW)
        ]
        yield from sorted(keys, key=_essential_first)

    def on_mount(self) -> None:  # Footer's own on_mount runs too (Textual calls each class's)
        self._set_narrow(self.app.size.width < NARROW_WIDTH)

    def on_resize(self, event: events.Resize) -> None:
        self._set_narrow(self.app.size.width < NARROW_WIDTH)

    def _set_narrow(self, narrow: bool) -> None:
        if narrow != self.narrow:
            self.narrow = narrow
            self.call_after_refresh(self.recompose)


def _essential_first(widget: Widget) -> int:
    action = widget.action if isinstance(widget, FooterKey) else ""
    return 0 if action in ESSENTIAL_ACTIONS else 1
