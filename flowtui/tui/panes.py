"""How the main screen's panes share the terminal: side by side or stacked, split, zoomed.

The main area holds two panes: the DAG (`#left`) and the detail (`#detail`: the step, its
tasks, the selected task and its logs). A terminal narrower than `STACK_WIDTH` stacks them
(DAG above, detail below), so neither is squeezed to a sliver. `<` and `>` move the split;
`z` zooms the pane that has the focus (the DAG, the task list or the logs) to the whole
area, and `z` again (or Escape) brings the others back. The state is classes on `#main`
(`-stacked`, `-zoom-dag`, `-zoom-detail`, `-zoom-log`), styled in styles/app.tcss.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual import events
from textual.app import App

from flowtui.tui.widgets.dag import DagView

#: Terminal width (cells) below which the panes are stacked rather than side by side.
STACK_WIDTH = 100
#: The DAG's share of the main area: the defaults (side by side, stacked), the step of
#: `<`/`>`, and the bounds.
DEFAULT_SHARE = 0.6
STACKED_SHARE = 0.3
SHARE_STEP = 0.1
MIN_SHARE = 0.2
MAX_SHARE = 0.8
#: What `z` can zoom.
ZOOMS = ("dag", "detail", "log")


@dataclass(frozen=True)
class PaneLayout:
    """The panes' arrangement: stacked or not, the DAG's share, and the zoomed pane."""

    stacked: bool = False
    share: float = DEFAULT_SHARE
    zoom: str | None = None

    def resized(self, width: int) -> PaneLayout:
        """The layout for a terminal `width` cells wide (a change of arrangement starts from
        that arrangement's default split)."""
        stacked = width < STACK_WIDTH
        if stacked == self.stacked:
            return self
        return replace(self, stacked=stacked, share=STACKED_SHARE if stacked else DEFAULT_SHARE)

    def moved(self, steps: int) -> PaneLayout:
        """The split moved by `steps` (positive: the DAG grows), within its bounds."""
        share = round(self.share + steps * SHARE_STEP, 2)
        return replace(self, share=min(MAX_SHARE, max(MIN_SHARE, share)))

    def toggled(self, pane: str) -> PaneLayout:
        """`pane` zoomed, or nothing zoomed when a pane already is."""
        if pane not in ZOOMS:
            raise ValueError(f"no pane called {pane!r}; one of {', '.join(ZOOMS)}")
        return replace(self, zoom=None if self.zoom is not None else pane)

    @property
    def classes(self) -> dict[str, bool]:
        """The classes `#main` carries for this layout."""
        return {"-stacked": self.stacked} | {f"-zoom-{z}": self.zoom == z for z in ZOOMS}

    @property
    def fractions(self) -> tuple[str, str]:
        """The DAG's and the detail's sizes, as `fr` units (width side by side, height
        stacked)."""
        dag = round(self.share * 10)
        return f"{dag}fr", f"{10 - dag}fr"


class PanedApp(App[None]):
    """An app whose `#main` holds `#left` (the DAG) and `#detail`, arranged by a
    `PaneLayout` that follows the terminal's width and the keys `z`, `<` and `>`."""

    panes = PaneLayout()

    def set_panes(self, layout: PaneLayout) -> None:
        """Arrange the panes as `layout` says."""
        self.panes = layout
        main = self.query_one("#main")
        for name, on in layout.classes.items():
            main.set_class(on, name)
        left, detail = self.query_one("#left"), self.query_one("#detail")
        dag_size, detail_size = layout.fractions
        if layout.stacked:
            left.styles.width = detail.styles.width = "1fr"
            left.styles.height, detail.styles.height = dag_size, detail_size
        else:
            left.styles.height = detail.styles.height = "1fr"
            left.styles.width, detail.styles.width = dag_size, detail_size

    def on_resize(self, event: events.Resize) -> None:
        resized = self.panes.resized(event.size.width)
        if resized != self.panes:
            self.set_panes(resized)

    def focused_pane(self) -> str:
        """The pane holding the focus: `dag`, `log` or `detail`."""
        from flowtui.tui.widgets.logs import LogView  # (not before the first frame)

        focused = self.focused
        if focused is None or isinstance(focused, DagView):
            return "dag"
        if any(isinstance(node, LogView) for node in focused.ancestors_with_self):
            return "log"
        return "detail" if self.query_one("#detail") in focused.ancestors else "dag"

    def action_zoom(self) -> None:
        self.set_panes(self.panes.toggled(self.focused_pane()))

    def action_unzoom(self) -> None:
        if self.panes.zoom is not None:
            self.set_panes(self.panes.toggled(self.panes.zoom))

    def action_split(self, steps: int) -> None:
        if self.panes.zoom is None:
            self.set_panes(self.panes.moved(steps))
