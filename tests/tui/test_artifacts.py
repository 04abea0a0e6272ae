"""ArtifactsScreen on a real store: listing from metadata, previews from a subprocess."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.widgets import DataTable, Static

from flowtui.store import ArtifactRecord, Store
from flowtui.tui.screens.artifacts import ArtifactsScreen
from tests.tui.waiting import wait_until

STYLES = Path(__file__).resolve().parents[2] / "styles" / "detail.tcss"


class Gone:
    """Pickled by reference to a module that the preview process cannot import."""


_gone = types.ModuleType("flowtui_test_module_that_is_gone")
Gone.__module__ = _gone.__name__
_gone.Gone = Gone  # type: ignore[attr-defined]


class ExitsWhenLoaded:
    """Unpickling this ends the loading process, as a crashing C extension would."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (os._exit, (3,))


class SlowToLoad:
    def __reduce__(self) -> tuple[Any, ...]:
        return (time.sleep, (30,))


def make_task(tmp_path: Path, values: dict[str, Any]) -> tuple[str, str]:
    """A store holding one succeeded task with `values` as its artifacts."""
    store = Store(tmp_path / ".flowtui")
    meta = store.meta
    run_id = meta.create_run(
        "MyFlow", file=str(tmp_path / "myflow.py"), source="", params={}, user="tester"
    )
    task_id = meta.create_task(run_id, "train")
    out, err = store.log_paths(run_id, "train", task_id, 0)
    meta.start_attempt(task_id, 0, str(out), str(err))
    records = []
    for name, value in values.items():
        if name == "gone":
            sys.modules[_gone.__name__] = _gone
            try:
                ref = store.blobs.put_bytes(pickle.dumps(value))
            finally:
                del sys.modules[_gone.__name__]
        else:
            ref = store.blobs.put_bytes(pickle.dumps(value))
        kind = type(value)
        type_name = kind.__qualname__ if kind.__module__ == "builtins" else kind.__name__
        records.append(
            ArtifactRecord(task_id, name, ref.hash, type_name, ref.size, repr(value)[:60])
        )
    meta.succeed_task(task_id, 0, records)
    store.close()
    return str(store.root), f"MyFlow/{run_id}/train/{task_id}"


class ArtifactsApp(App[None]):
    CSS_PATH = STYLES

    def __init__(self, store: str, pathspec: str) -> None:
        super().__init__()
        self.store, self.pathspec = store, pathspec

    def on_mount(self) -> None:
        self.push_screen(ArtifactsScreen(self.store, self.pathspec))


def screen_lines(app: App[None]) -> list[str]:
    """The whole screen, a line of text per row, as the user sees it."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def preview_of(screen: ArtifactsScreen, name: str) -> Callable[[], bool]:
    return lambda: screen.previewing == name and screen.preview is not None


def preview_text(screen: ArtifactsScreen) -> str:
    return str(screen.query_one("#artifact-preview-text", Static).render())


VALUES: dict[str, Any] = {
    "config": {"learning_rate": 0.01, "layers": [64, 32], "name": "[red]tiny[/red]"},
    "crash": ExitsWhenLoaded(),
    "gone": Gone(),
    "greeting": "hello [bold]world[/bold]\nsecond line",
    "numbers": list(range(5_000)),
    "slow": SlowToLoad(),
}


@pytest.fixture(scope="module")
def task_with_artifacts(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return make_task(tmp_path_factory.mktemp("store"), VALUES)


async def test_lists_artifacts_and_previews_a_dict(task_with_artifacts: tuple[str, str]) -> None:
    app = ArtifactsApp(*task_with_artifacts)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ArtifactsScreen)
        table = screen.query_one("#artifact-list", DataTable)
        await wait_until(pilot, lambda: table.row_count == len(VALUES), "the list")
        rows = [[c.plain for c in table.get_row_at(r)] for r in range(table.row_count)]
        assert [row[0] for row in rows] == sorted(VALUES)
        assert rows[0][1] == "dict" and rows[0][3].startswith("{'learning_rate': 0.01")
        assert rows[4][2].endswith("KB")  # 5,000 ints pickle to several kilobytes

        await wait_until(pilot, preview_of(screen, "config"), "the dict's preview")
        assert screen.preview is not None and screen.preview.ok
        shown = preview_text(screen)
        assert "'learning_rate': 0.01" in shown and "'[red]tiny[/red]'" in shown


async def test_previews_a_string_literally_and_a_long_list_with_a_note(
    task_with_artifacts: tuple[str, str],
) -> None:
    app = ArtifactsApp(*task_with_artifacts)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ArtifactsScreen)
        table = screen.query_one("#artifact-list", DataTable)
        await wait_until(pilot, lambda: table.row_count == len(VALUES), "the list")
        table.move_cursor(row=3)
        await wait_until(pilot, preview_of(screen, "greeting"), "the string's preview")
        assert preview_text(screen).splitlines() == ["hello [bold]world[/bold]", "second line"]

        table.move_cursor(row=4)
        await wait_until(pilot, preview_of(screen, "numbers"), "the list's preview")
        shown = preview_text(screen)
        assert "5,000 items; items 0 to 199 (page 1 of 25" in shown
        assert "199" in shown and "4999" not in shown
        await pilot.press("right_square_bracket")  # the next page
        await wait_until(pilot, preview_of(screen, "numbers"), "the second page")
        shown = preview_text(screen)
        assert "items 200 to 399 (page 2 of 25" in shown
        assert "399" in shown and "199," not in shown


async def test_unimportable_class_and_crashing_load_show_errors_and_the_app_lives(
    task_with_artifacts: tuple[str, str],
) -> None:
    app = ArtifactsApp(*task_with_artifacts)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ArtifactsScreen)
        table = screen.query_one("#artifact-list", DataTable)
        await wait_until(pilot, lambda: table.row_count == len(VALUES), "the list")

        table.move_cursor(row=2)
        await wait_until(pilot, preview_of(screen, "gone"), "the error")
        assert screen.preview is not None and not screen.preview.ok
        shown = preview_text(screen)
        assert "gone is a Gone whose class cannot be imported here" in shown
        assert "flowtui_test_module_that_is_gone" in shown
        assert screen.has_class("-preview-error")

        table.move_cursor(row=1)
        await wait_until(pilot, preview_of(screen, "crash"), "the crash report")
        assert "preview process exited with code 3" in preview_text(screen)

        table.move_cursor(row=0)  # and the next preview works
        await wait_until(pilot, preview_of(screen, "config"), "a good preview")
        assert screen.preview is not None and screen.preview.ok
        assert not screen.has_class("-preview-error")


async def test_a_slow_value_leaves_the_ui_responsive_and_is_abandoned(
    task_with_artifacts: tuple[str, str],
) -> None:
    app = ArtifactsApp(*task_with_artifacts)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ArtifactsScreen)
        table = screen.query_one("#artifact-list", DataTable)
        await wait_until(pilot, lambda: table.row_count == len(VALUES), "the list")
        table.move_cursor(row=5)
        await wait_until(pilot, lambda: preview_text(screen) == "Loading slow…", "loading")
        await pilot.pause(0.3)
        assert screen.preview is None  # still loading, and the app still answers keys:
        await pilot.press("up")
        await wait_until(pilot, preview_of(screen, "numbers"), "the next preview")
        assert screen.preview is not None and screen.preview.ok
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ArtifactsScreen)


async def test_previews_a_numpy_array_with_shape_and_summary(tmp_path: Path) -> None:
    numpy_here = subprocess.run([sys.executable, "-c", "import numpy"], capture_output=True)
    if numpy_here.returncode != 0:
        pytest.skip("numpy is not installed")
    np = pytest.importorskip("numpy")
    store, pathspec = make_task(tmp_path, {"weights": np.arange(12.0).reshape(3, 4)})
    app = ArtifactsApp(store, pathspec)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ArtifactsScreen)
        await wait_until(pilot, preview_of(screen, "weights"), "the array's preview")
        shown = preview_text(screen)
        assert "shape (3, 4)" in shown and "dtype float64" in shown
        assert "min 0.0" in shown and "max 11.0" in shown and "mean 5.5" in shown


async def test_a_dataframe_is_a_table_with_user_text_as_written(tmp_path: Path) -> None:
    pandas_here = subprocess.run([sys.executable, "-c", "import pandas"], capture_output=True)
    if pandas_here.returncode != 0:
        pytest.skip("pandas is not installed")
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"[red]name[/red]": ["[b]ada[/b]", "bo"], "score": [0.5, 1.5]})
    store, pathspec = make_task(tmp_path, {"table": pd.concat([frame] * 30, ignore_index=True)})
    app = ArtifactsApp(store, pathspec)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: "rows 1–" in "\n".join(screen_lines(app)), "the table")
        shown = "\n".join(screen_lines(app))
        assert "table · DataFrame 60 × 2" in shown and "of 60" in shown
        assert "[red]name[/red]" in shown and "[b]ada[/b]" in shown  # not parsed as markup
        assert "float64" in shown and "1.5" in shown


async def test_a_missing_store_or_task_without_artifacts_says_so(tmp_path: Path) -> None:
    app = ArtifactsApp(str(tmp_path / "nowhere"), "MyFlow/1/train/1")
    async with app.run_test(size=(100, 20)) as pilot:
        screen = app.screen
        assert isinstance(screen, ArtifactsScreen)
        await wait_until(pilot, lambda: "no flowtui store" in preview_text(screen), "the error")

    store, pathspec = make_task(tmp_path, {})
    app = ArtifactsApp(store, pathspec)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = app.screen
        assert isinstance(screen, ArtifactsScreen)
        await wait_until(pilot, lambda: "has no artifacts" in preview_text(screen), "the note")


FLOW_WITH_A_CLASS = """
from flowtui import FlowSpec, step


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __repr__(self):
        return f"Point(x={self.x}, y={self.y})"


class PointFlow(FlowSpec):
    @step
    def start(self):
        self.origin = Point(3, 4)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


async def test_a_class_defined_in_the_flow_file_is_previewed_after_a_real_run(
    tmp_path: Path,
) -> None:
    flow = tmp_path / "pointflow.py"
    flow.write_text(FLOW_WITH_A_CLASS)
    store = tmp_path / "store"
    run = subprocess.run(
        [sys.executable, "-m", "flowtui", "run", str(flow), "--store", str(store), "-q"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    flow.unlink()  # the preview uses the run's own snapshot of the code
    app = ArtifactsApp(str(store), "PointFlow/1/start/1")
    async with app.run_test(size=(100, 20)) as pilot:
        screen = app.screen
        assert isinstance(screen, ArtifactsScreen)
        table = screen.query_one("#artifact-list", DataTable)
        await wait_until(pilot, lambda: table.row_count == 2, "the list")  # name, origin
        table.move_cursor(row=1)
        await wait_until(pilot, preview_of(screen, "origin"), "the preview")
        assert preview_text(screen).strip() == "Point(x=3, y=4)"


async def test_the_value_after_a_dataframe_is_previewed_at_the_panes_width(
    tmp_path: Path,
) -> None:
    """The preview pane is hidden while a DataFrame's table shows; the next value's preview
    was rendered for a pane 20 columns wide (a long string folded at 20, a table cut)."""
    pandas_here = subprocess.run([sys.executable, "-c", "import pandas"], capture_output=True)
    if pandas_here.returncode != 0:
        pytest.skip("pandas is not installed")
    pd = pytest.importorskip("pandas")
    words = " ".join(f"word{i}" for i in range(40))
    store, pathspec = make_task(
        tmp_path, {"a_frame": pd.DataFrame({"x": [1, 2, 3]}), "b_text": words}
    )
    app = ArtifactsApp(store, pathspec)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, ArtifactsScreen)
        await wait_until(pilot, lambda: "rows 1–" in "\n".join(screen_lines(app)), "the table")
        await pilot.press("down")
        await wait_until(pilot, preview_of(screen, "b_text"), "the text's preview")
        first = preview_text(screen).splitlines()[0]
        panel = screen.query_one("#artifact-preview")
        assert len(first) > 40, first  # a line as wide as the pane, not 20 columns
        assert len(first) <= panel.scrollable_content_region.width


FLOW_WITH_ESCAPES = r"""
from flowtui import FlowSpec, step


class Coloured:
    def __repr__(self):
        return "Coloured(\x1b[31mred\x1b[0m, \x1b[8mhidden\x1b[0m)"


class EscapesFlow(FlowSpec):
    @step
    def start(self):
        self.coloured = Coloured()
        self.text = "plain \x1b[31mred\x1b[0m\tand a tab\nthen \x1b[2Jcleared"
        self.next(self.end)

    @step
    def end(self):
        pass
"""


async def test_escape_codes_in_a_string_or_a_repr_are_shown_as_written(tmp_path: Path) -> None:
    """The preview read a value's escape codes as styles: a string holding ESC[31m showed
    in red with no sign of it, an ESC[8m hid text, and ESC[2J vanished."""
    flow = tmp_path / "escapesflow.py"
    flow.write_text(FLOW_WITH_ESCAPES)
    store = tmp_path / "store"
    run = subprocess.run(
        [sys.executable, "-m", "flowtui", "run", str(flow), "--store", str(store), "-q"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    app = ArtifactsApp(str(store), "EscapesFlow/1/start/1")
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, ArtifactsScreen)
        table = screen.query_one("#artifact-list", DataTable)
        await wait_until(pilot, lambda: table.row_count == 3, "the list")  # coloured, name, text
        await wait_until(pilot, preview_of(screen, "coloured"), "the repr's preview")
        shown = "\n".join(screen_lines(app))
        assert r"Coloured(\x1b[31mred\x1b[0m, \x1b[8mhidden\x1b[0m)" in shown

        table.move_cursor(row=2)
        await wait_until(pilot, preview_of(screen, "text"), "the string's preview")
        lines = preview_text(screen).splitlines()
        assert lines[0].startswith(r"plain \x1b[31mred\x1b[0m")  # its tab kept as a tab
        assert "and a tab" in lines[0] and r"\x09" not in lines[0]
        assert lines[1] == r"then \x1b[2Jcleared"


class AModelWithAVeryLongClassName:
    """A type name wider than a narrow screen's list has room for."""


async def test_on_a_narrow_screen_every_size_keeps_its_unit(tmp_path: Path) -> None:
    """At 60 columns the list's columns were wider than its share, and the size column was
    cut on the right: "781.4" for 781.4 KB, "5" for 5 B. A long type is cut instead."""
    values = {"a_model": AModelWithAVeryLongClassName(), "b_count": 5, "c_numbers": [1] * 3000}
    store, pathspec = make_task(tmp_path, values)
    app = ArtifactsApp(store, pathspec)
    async with app.run_test(size=(60, 20)) as pilot:
        screen = app.screen
        assert isinstance(screen, ArtifactsScreen)
        table = screen.query_one("#artifact-list", DataTable)
        await wait_until(pilot, lambda: table.row_count == 3, "the list")
        await pilot.pause()
        sizes = [table.get_row_at(row)[2].plain for row in range(3)]
        assert sizes[1] == "5 B" and sizes[2].endswith("KB")
        lines = screen_lines(app)
        for name, size in zip(sorted(values), sizes, strict=True):
            row = next(line for line in lines if line.startswith(f"│ {name} "))
            assert f" {size}" in row, (size, row)
        assert any("AModelWit" in line for line in lines)  # the type, cut, still begins


async def test_a_preview_is_drawn_again_for_the_new_width_when_the_terminal_shrinks(
    tmp_path: Path,
) -> None:
    """A preview is rendered for its pane's width: after the terminal shrank, the old one
    stayed, its lines running past the narrower pane (a chart cut on the right)."""
    words = " ".join(f"word{i}" for i in range(60))
    store, pathspec = make_task(tmp_path, {"text": words})
    app = ArtifactsApp(store, pathspec)
    async with app.run_test(size=(140, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, ArtifactsScreen)
        await wait_until(pilot, preview_of(screen, "text"), "the text's preview")
        wide = max(len(line) for line in preview_text(screen).splitlines())
        await pilot.resize_terminal(80, 30)
        panel = screen.query_one("#artifact-preview")

        def fits() -> bool:
            lines = preview_text(screen).splitlines()
            width = panel.scrollable_content_region.width
            return bool(lines) and max(len(line) for line in lines) <= width < wide

        await wait_until(pilot, fits, "the preview drawn again, narrower")


async def test_a_running_task_says_its_artifacts_come_when_it_ends(tmp_path: Path) -> None:
    """`a` on a task still running said "Task …/start/1 has no artifacts.", read as lost
    values; its artifacts are stored when it ends, and the screen says so."""
    from flowtui.run.status import TaskStatus
    from flowtui.tui.app import FlowtuiApp
    from flowtui.tui.widgets.tasks import TaskList
    from tests.tui.test_debugging import WAITS_FOR_GO

    file = tmp_path / "slow.py"
    file.write_text(WAITS_FOR_GO)
    app = FlowtuiApp(file, store=tmp_path / "store", follow=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("r")
            tasks = app.query_one(TaskList)
            await wait_until(
                pilot,
                lambda: tasks.selected is not None and tasks.selected.status is TaskStatus.RUNNING,
                "the running task",
            )
            await pilot.press("a")
            await wait_until(pilot, lambda: isinstance(app.screen, ArtifactsScreen))
            screen = app.screen
            assert isinstance(screen, ArtifactsScreen)
            await wait_until(pilot, lambda: "Loading" not in preview_text(screen), "the list")
            said = preview_text(screen)
            assert "is still running" in said and "when it ends" in said, said
            assert "has no artifacts" not in said
            (tmp_path / "go").touch()
            await wait_until(pilot, lambda: app.controller is not None and not app.run_active)
    finally:
        (tmp_path / "go").touch()


async def test_control_characters_in_a_dataframes_cells_never_reach_the_terminal(
    tmp_path: Path,
) -> None:
    """A cell's C0 controls were drawn as their Unicode pictures, but C1 ones went out as
    they were: "\\u009b2J" (CSI in one character) is clear-screen to a terminal reading C1."""
    pandas_here = subprocess.run([sys.executable, "-c", "import pandas"], capture_output=True)
    if pandas_here.returncode != 0:
        pytest.skip("pandas is not installed")
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"text": ["a\u009b2Jb", "c\x1b[31md"], "\u009dname": [1, 2]})
    store, pathspec = make_task(tmp_path, {"table": frame})
    app = ArtifactsApp(store, pathspec)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: "rows 1–" in "\n".join(screen_lines(app)), "the table")
        await pilot.pause()
        shown = "\n".join(screen_lines(app))
        assert not any(0x80 <= ord(c) <= 0x9F or c == "\x1b" for c in shown), repr(shown)
        assert "a\ufffd2Jb" in shown and "c\u241b[31md" in shown
