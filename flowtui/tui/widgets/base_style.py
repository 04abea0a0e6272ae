"""`BaseStyleOnce`: a line-API widget's own style, worked out once per repaint, not per line.

Textual's `Widget.rich_style` walks every ancestor's styles each time it is read (it is not
cached), and a line-API widget reads it for every line it draws: on a loaded machine that was
a few ms a line of the task list, so a key that moved its cursor waited tens of ms for it.
"""

from __future__ import annotations

from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget


class BaseStyleOnce(Widget):
    """Mixed into a line-API widget: `base_style` is `rich_style`, read once per repaint."""

    _base_style: Style | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._base_style = None

    @property
    def base_style(self) -> Style:
        """The widget's own style (as `rich_style`), kept for the repaint under way."""
        return self._base_style if self._base_style is not None else self.rich_style
