"""Artifacts shown as what they are: charts of series, pictures, hex dumps, attributes; `y`
copies the line that loads a value. Rendered by the real preview process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pytest
from PIL import Image

from flowtui.store import ArtifactRecord, Store
from flowtui.tui.screens.artifacts import ArtifactsScreen
from tests.tui.test_artifacts import ArtifactsApp, preview_of, preview_text
from tests.tui.waiting import wait_until

HALF_BLOCKS = set("▀▄█")


def reprless() -> Any:
    class Settings:  # a local class: pickled by value, and it keeps object.__repr__
        def __init__(self) -> None:
            self.learning_rate = 0.5
            self.layers = [64, 32]

    return Settings()


def make_task(tmp_path: Path, values: dict[str, Any]) -> tuple[str, str]:
    store = Store(tmp_path / ".flowtui")
    meta = store.meta
    run_id = meta.create_run("Pics", file=str(tmp_path / "f.py"), source="", params={}, user="t")
    task_id = meta.create_task(run_id, "train")
    out, err = store.log_paths(run_id, "train", task_id, 0)
    meta.start_attempt(task_id, 0, str(out), str(err))
    records = []
    for name, value in values.items():
        ref = store.blobs.put_bytes(cloudpickle.dumps(value))
        kind = type(value).__name__
        records.append(ArtifactRecord(task_id, name, ref.hash, kind, ref.size, "…"))
    meta.succeed_task(task_id, 0, records)
    store.close()
    return str(store.root), f"Pics/{run_id}/train/{task_id}"


@pytest.fixture(scope="module")
def task(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    gradient = np.zeros((40, 60, 3), dtype=np.uint8)
    gradient[:, :, 0] = np.linspace(0, 255, 60, dtype=np.uint8)
    values = {
        "a_losses": [1.0 / (1 + i) for i in range(300)],
        "b_photo": gradient,
        "c_heat": np.outer(np.arange(20.0), np.arange(30.0)),
        "d_blob": b"Hello\x00\x01\xff world, bytes!" * 20,
        "e_settings": reprless(),
        "f_image": Image.new("RGB", (32, 16), (200, 30, 30)),
    }
    return make_task(tmp_path_factory.mktemp("store"), values)


async def show(app: ArtifactsApp, pilot: Any, row: int, name: str) -> str:
    screen = app.screen
    assert isinstance(screen, ArtifactsScreen)
    await wait_until(pilot, lambda: len(screen.artifacts) == 6, "the list")
    screen.query_one("#artifact-list").move_cursor(row=row)  # type: ignore[attr-defined]
    await wait_until(pilot, preview_of(screen, name), f"the preview of {name}")
    assert screen.preview is not None and screen.preview.ok, screen.preview
    return preview_text(screen)


async def test_a_numeric_series_is_charted_and_bytes_are_a_hex_dump(
    task: tuple[str, str],
) -> None:
    app = ArtifactsApp(*task)
    async with app.run_test(size=(160, 40)) as pilot:
        shown = await show(app, pilot, 0, "a_losses")
        assert "┤" in shown and any("\u2800" < ch <= "\u28ff" for ch in shown)  # braille line
        assert "300 items; items 0 to 199" in shown
        shown = await show(app, pilot, 3, "d_blob")
        lines = shown.splitlines()
        assert lines[0] == "bytes, 440 bytes"
        assert lines[1].startswith("00000000  48 65 6c 6c 6f 00 01 ff 20 77")
        assert lines[1].endswith("|Hello... world, |")
        assert len(lines) == 1 + 28  # 440 bytes, 16 a line


async def test_images_and_2d_arrays_are_pictures(task: tuple[str, str]) -> None:
    app = ArtifactsApp(*task)
    async with app.run_test(size=(120, 40)) as pilot:
        for row, name in ((1, "b_photo"), (2, "c_heat"), (5, "f_image")):
            shown = await show(app, pilot, row, name)
            assert sum(ch in HALF_BLOCKS for ch in shown) > 100, name
        assert "image 32 x 16 pixels" in shown


async def test_an_object_without_repr_shows_its_attributes_and_y_copies_its_load_line(
    task: tuple[str, str],
) -> None:
    app = ArtifactsApp(*task)
    async with app.run_test(size=(120, 40)) as pilot:
        shown = await show(app, pilot, 4, "e_settings")
        assert "2 attributes" in shown and "object at 0x" not in shown
        assert "learning_rate" in shown and "0.5" in shown and "[64, 32]" in shown
        await pilot.press("y")
        run_id, task_id = task[1].split("/")[1], task[1].split("/")[3]
        assert app.clipboard == f'Flow("Pics")["{run_id}"]["train"]["{task_id}"].data.e_settings'
