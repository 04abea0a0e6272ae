"""ArtifactsScreen: a task's artifacts (name, type, size, short repr) and a preview of one.

The list comes from the store's metadata (no value is loaded for it). The preview of the
highlighted artifact is rendered by `python -m flowtui.tui.preview` in a subprocess, from a
thread worker: unpickling runs user code, which must never run in the TUI process, and a
huge value must not freeze it. Moving on to another artifact stops the previous preview.
`[`/`]` page through a long list; `y` copies the Python line that loads the value.
A DataFrame is shown whole instead, by a `FrameTable` whose rows come a page at a time from
a process that holds the frame (`tui/frame_pages.py`): scrolled, and sorted there, over
every row; Enter (or Tab) on the list moves into it, `z` gives it the whole width.
For a run that Metaflow made (`source="metaflow"`, `store_path` the folder holding its
datastore), the list is read through Metaflow's client from its metadata (types and sizes, no
value loaded) and the preview process loads the value with Metaflow's client.
"""

from __future__ import annotations

from pathlib import Path

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import get_current_worker

from flowtui.client.metaflow_state import METAFLOW, MetaflowReader
from flowtui.client.runs import RunReader
from flowtui.errors import FlowtuiError, UsageError
from flowtui.run import ArtifactRecord
from flowtui.run.artifacts import inert
from flowtui.tui.frame_pages import NOT_A_FRAME
from flowtui.tui.preview import Preview, run_preview
from flowtui.tui.widgets.frame_table import FrameTable
from flowtui.units import human_size


def load_line(pathspec: str, name: str) -> str:
    """The client line that loads artifact `name` of task `pathspec` in a notebook:
    `Flow("F")["1"]["train"]["3"].data.model`."""
    flow, run_id, step, task_id = pathspec.split("/")
    return f'Flow("{flow}")["{run_id}"]["{step}"]["{task_id}"].data.{name}'


def no_artifacts(store: str, pathspec: str, source: str = "flowtui") -> str:
    """Why task `pathspec` lists no artifacts: it has none, or it has not ended yet (its
    artifacts are stored when it ends)."""
    status = None
    if source != METAFLOW:
        reader = RunReader(store)
        try:
            status = reader.task_status(pathspec)
        finally:
            reader.close()
    if status in ("running", "retrying"):
        return (
            f"{pathspec} is still running; its artifacts are stored when it ends "
            "(esc, then a again to see them)."
        )
    if status == "pending":
        return f"{pathspec} has not started yet; its artifacts are stored when it ends."
    return f"Task {pathspec} has no artifacts."


def list_artifacts(store: str, pathspec: str, source: str = "flowtui") -> list[ArtifactRecord]:
    """The task's artifacts as the store at `store` lists them (no value is loaded); for
    `source="metaflow"`, as Metaflow's datastore in the folder `store` lists them."""
    if source == METAFLOW:
        metaflow = MetaflowReader(Path(store))
        try:
            return metaflow.artifacts(pathspec)
        finally:
            metaflow.close()
    reader = RunReader(store)
    try:
        if reader.root is None:
            raise UsageError(f"There is no flowtui store at {store}; run the flow first.")
        return reader.artifacts(pathspec)
    finally:
        reader.close()


class PreviewPane(VerticalScroll):
    """The preview's scrolling pane. Hidden behind a DataFrame's table it has no width, and
    a preview rendered then was 20 columns wide: it says when it is laid out (`Sized`), and
    when the terminal's size changes it (the preview is rendered again for its width)."""

    class Sized(Message):
        """The pane has a new size."""

    def on_resize(self) -> None:
        self.post_message(self.Sized())


#: Columns of the value shown in the list while the screen has room for them.
VALUE_GLIMPSE = 8
#: Columns of a long type name kept on a narrow screen ("pandas.D…").
TYPE_GLIMPSE = 10


class ArtifactsScreen(Screen[None]):
    """The artifacts of task `pathspec` in the store at `store_path`; Escape closes."""

    BINDINGS = [
        Binding("escape", "unzoom", "Unzoom"),  # while the table is zoomed (`check_action`)
        Binding("escape", "close", "Close"),
        Binding("z", "zoom", "Zoom table"),
        Binding("y", "copy_load_line", "Copy load line"),
        Binding("right_square_bracket", "page(1)", "Next page"),
        Binding("left_square_bracket", "page(-1)", "Previous page", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    DEFAULT_CSS = """
    ArtifactsScreen #artifacts-body {
        height: 1fr;
    }
    ArtifactsScreen #artifact-list {
        width: 2fr;
        height: 1fr;
    }
    ArtifactsScreen #artifact-preview {
        width: 3fr;
        height: 1fr;
    }
    ArtifactsScreen #artifact-frame {
        width: 3fr;
        height: 1fr;
        display: none;
    }
    ArtifactsScreen.-frame #artifact-frame {
        display: block;
    }
    ArtifactsScreen.-frame #artifact-preview {
        display: none;
    }
    ArtifactsScreen.-frame.-zoom #artifact-list {
        display: none;
    }
    """

    class _Listed(Message):
        """The list (None: it could not be read), and the sentence shown instead of an
        empty or unreadable one."""

        def __init__(self, artifacts: list[ArtifactRecord] | None, said: str = "") -> None:
            super().__init__()
            self.artifacts = artifacts
            self.said = said

    class _Previewed(Message):
        def __init__(self, name: str, preview: Preview) -> None:
            super().__init__()
            self.name = name
            self.preview = preview

    def __init__(self, store_path: str, pathspec: str, *, source: str = "flowtui") -> None:
        super().__init__()
        self.store_path = store_path
        self.source = source
        self.pathspec = pathspec
        self.artifacts: list[ArtifactRecord] = []
        self.previewing: str | None = None
        self.preview: Preview | None = None
        self.page = 0
        self._unsized: tuple[str, int] | None = None  # a preview waiting for its pane's width
        self._preview_width = 0  # the width the preview shown was rendered for

    def compose(self) -> ComposeResult:
        by = " (Metaflow's run)" if self.source == METAFLOW else ""
        title = Text.assemble(("Artifacts of ", "bold"), self.pathspec, by)
        yield Static(title, id="artifacts-title")
        with Horizontal(id="artifacts-body"):
            yield DataTable[Text](id="artifact-list", cursor_type="row")
            with PreviewPane(id="artifact-preview"):
                yield Static(id="artifact-preview-text")
            yield FrameTable(id="artifact-frame")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#artifact-list", DataTable).focus()
        self.query_one("#artifact-preview", VerticalScroll).border_title = "preview"
        self._show_message("Loading the list of artifacts…")
        self._list(self.store_path, self.pathspec)

    def action_close(self) -> None:
        """Escape: out of the screen (out of the zoomed table first: `action_unzoom`)."""
        self.dismiss(None)

    def action_unzoom(self) -> None:
        if self.has_class("-zoom"):
            self.action_zoom()

    def action_zoom(self) -> None:
        """The DataFrame's table over the whole width (the list hidden), or back."""
        zoomed = not self.has_class("-zoom") and self.has_class("-frame")
        self.set_class(zoomed, "-zoom")
        self.refresh_bindings()  # escape reads "Unzoom" while zoomed, "Close" after
        self.query_one("#artifact-frame" if zoomed else "#artifact-list").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "zoom":  # only a table zooms
            return self.has_class("-frame")
        if action in ("unzoom", "close"):  # one escape at a time, the one that will happen
            return self.has_class("-zoom") == (action == "unzoom")
        return True

    def action_copy_load_line(self) -> None:
        if self.previewing is None:
            return
        line = load_line(self.pathspec, self.previewing)
        self.app.copy_to_clipboard(line)
        self.notify(f"Copied: {line}", timeout=4, markup=False)

    def action_page(self, step: int) -> None:
        """Show the next (previous) `MAX_ITEMS` items of a long container."""
        if self.has_class("-frame"):
            frame = self.query_one("#artifact-frame", FrameTable)
            frame.action_page_down() if step > 0 else frame.action_page_up()
        elif self.previewing is not None and self.page + step >= 0:
            self.page += step
            self._start_preview(self.previewing, keep_page=True)

    def action_cursor_down(self) -> None:
        self.query_one("#artifact-list", DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#artifact-list", DataTable).action_cursor_up()

    # -- the list -----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="artifact-list", exit_on_error=False)
    def _list(self, store: str, pathspec: str) -> None:
        try:
            artifacts = list_artifacts(store, pathspec, self.source)
            why = "" if artifacts else no_artifacts(store, pathspec, self.source)
            self.post_message(self._Listed(artifacts, why))
        except FlowtuiError as e:
            self.post_message(self._Listed(None, str(e)))
        except Exception as e:  # a locked or damaged database: say so, stay open
            self.post_message(self._Listed(None, f"The store at {store} could not be read ({e})."))

    @on(_Listed)
    def _on_listed(self, message: _Listed) -> None:
        if message.artifacts is None:
            self._show_message(message.said, error=True)
            return
        self.artifacts = message.artifacts
        if not self.artifacts:
            self._show_message(message.said or f"Task {self.pathspec} has no artifacts.")
            return
        rows = [
            (
                Text(record.name, style="bold"),
                Text(record.type, no_wrap=True, overflow="ellipsis"),
                Text(human_size(record.size), justify="right"),
                Text(inert(record.repr), no_wrap=True, overflow="ellipsis"),
            )
            for record in self.artifacts
        ]
        table = self.query_one("#artifact-list", DataTable)
        # Widths known before the first row is drawn: a row drawn before the table measured
        # its cells stayed cut short ("loss" for "losses") until the cursor left it.
        widths = [
            max(cell_len(label), *(row[column].cell_len for row in rows))
            for column, label in enumerate(("name", "type", "size"))
        ]
        # On a narrow screen the list's share cut its size column ("22" for 225 B, read as a
        # size): it is at least as wide as name, type, size and a glimpse of the value, up
        # to three fifths of the screen; past that a long type is cut ("pandas.D…"), then the
        # glimpse, before a size.
        padding = 4 * 2 * table.cell_padding + 2
        room = self.size.width * 3 // 5
        over = sum(widths) + padding + VALUE_GLIMPSE - room
        if over > 0:
            widths[1] = max(min(widths[1], TYPE_GLIMPSE), widths[1] - over)
        table.styles.min_width = min(
            sum(widths) + padding + VALUE_GLIMPSE, max(room, sum(widths) + padding)
        )
        for label, width in zip(("name", "type", "size"), widths, strict=True):
            table.add_column(label, key=label, width=width)
        table.add_column("value", key="value")
        for record, row in zip(self.artifacts, rows, strict=True):
            table.add_row(*row, key=record.name)
        # after the list is laid out: the preview's width is read from its panel's region
        self.call_after_refresh(self._start_preview, self.artifacts[0].name)

    # -- the preview --------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#artifact-list")
    def _on_highlighted(self, event: DataTable.RowHighlighted) -> None:
        name = event.row_key.value
        if name is not None and name != self.previewing:
            self._start_preview(str(name))

    @on(DataTable.RowSelected, "#artifact-list")
    def _on_selected(self, event: DataTable.RowSelected) -> None:
        if self.has_class("-frame"):  # Enter: into the frame, to scroll and sort it
            self.query_one("#artifact-frame", FrameTable).focus()

    def _start_preview(self, name: str, *, keep_page: bool = False, frame: bool = True) -> None:
        if not keep_page:
            self.page = 0
        self.previewing = name
        self.preview = None
        table = self.query_one("#artifact-frame", FrameTable)
        record = next((r for r in self.artifacts if r.name == name), None)
        if frame and record is not None and record.type.rsplit(".", 1)[-1] == "DataFrame":
            self.set_class(False, "-preview-error")
            self.set_class(True, "-frame")
            self.refresh_bindings()  # `z` zooms a table
            self.workers.cancel_group(self, "artifact-preview")
            table.open(self.store_path, self.pathspec, name, self.source)
            return
        table.close()
        self.set_class(False, "-frame", "-zoom")
        self.refresh_bindings()
        self._show_message(f"Loading {name}…")
        self.query_one("#artifact-preview", VerticalScroll).border_title = name
        self._preview_at_width(name, self.page)

    def _preview_at_width(self, name: str, page: int) -> None:
        """Render `name`'s preview for the preview pane's width, unless another was chosen
        (a pane shown again has no width until it is laid out: `PreviewPane.Sized` then)."""
        self._unsized = None
        if name != self.previewing or self.has_class("-frame"):
            return
        inner = self.query_one("#artifact-preview", VerticalScroll).scrollable_content_region
        if not inner.width:
            self._unsized = (name, page)
            return
        width = max(20, inner.width - 1)
        self._preview_width = width
        self._run_preview(self.store_path, self.pathspec, name, width, page)

    @on(PreviewPane.Sized)
    def _on_preview_sized(self) -> None:
        if self._unsized is not None:
            self._preview_at_width(*self._unsized)
            return
        inner = self.query_one("#artifact-preview", VerticalScroll).scrollable_content_region
        resized = inner.width and max(20, inner.width - 1) != self._preview_width
        if resized and self.previewing is not None and not self.has_class("-frame"):
            self._preview_at_width(self.previewing, self.page)  # drawn for the new width

    @work(thread=True, exclusive=True, group="artifact-preview", exit_on_error=False)
    def _run_preview(self, store: str, pathspec: str, name: str, width: int, page: int) -> None:
        worker = get_current_worker()  # cancelled: another artifact was chosen, or closed
        preview = run_preview(
            store,
            pathspec,
            name,
            width,
            page,
            cancelled=lambda: worker.is_cancelled,
            source=self.source,
        )
        if preview is not None:
            self.post_message(self._Previewed(name, preview))

    @on(FrameTable.Failed)
    def _on_frame_failed(self, message: FrameTable.Failed) -> None:
        if message.name != self.previewing:
            return
        if message.error.kind == NOT_A_FRAME:  # a class of the user's named DataFrame
            self._start_preview(message.name, keep_page=True, frame=False)
            return
        self.query_one("#artifact-frame", FrameTable).close()
        self.set_class(False, "-frame", "-zoom")
        self.query_one("#artifact-list", DataTable).focus()
        self._show_message(message.error.sentence, error=True)

    @on(_Previewed)
    def _on_previewed(self, message: _Previewed) -> None:
        if message.name != self.previewing:
            return
        self.preview = message.preview
        if message.preview.ok:
            self.set_class(False, "-preview-error")
            text = Text.from_ansi(message.preview.text.rstrip("\n"), no_wrap=True)
            self.query_one("#artifact-preview-text", Static).update(text)
        else:
            self._show_message(message.preview.text, error=True)

    def _show_message(self, message: str, *, error: bool = False) -> None:
        self.set_class(error, "-preview-error")
        self.query_one("#artifact-preview-text", Static).update(Text(message))
