"""A snapshot of the Cards view at 100x40: Markdown, a table, a picture, a progress bar and a
line chart, from a card stored as a finished task leaves it (no timing involved)."""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from textual.app import App

from flowtui.store import Store
from flowtui.tui.screens.cards import CardsScreen

STYLES = Path(__file__).resolve().parents[2] / "styles" / "detail.tcss"


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + b"".join(bytes((40 * x % 256, 90, 200 - 20 * y)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))


def stored_card(root: Path) -> tuple[str, str]:
    store = Store(root)
    meta = store.meta
    run_id = meta.create_run("TrainFlow", file="train.py", source="", params={}, user="tester")
    task_id = meta.create_task(run_id, "train")
    out, err = store.log_paths(run_id, "train", task_id, 0)
    meta.start_attempt(task_id, 0, str(out), str(err))
    meta.succeed_task(task_id, 0, [])
    pathspec = f"TrainFlow/{run_id}/train/{task_id}"
    src = "data:image/png;base64, " + base64.encodebytes(png(16, 8)).decode()
    points = [{"epoch": e, "loss": round(2.0 / (e + 1), 3)} for e in range(10)]
    store.cards.write(
        task_id,
        0,
        {
            "type": "blank",
            "id": "training",
            "title": "Training",
            "pathspec": pathspec,
            "final": True,
            "updated": 1.0,
            "artifacts": [],
            "parameters": [],
            "error": None,
            "components": [
                {"type": "markdown", "source": "# Epochs\nThe loss *falls*.", "id": "m"},
                {
                    "type": "table",
                    "columns": ["metric", "value"],
                    "data": [["loss", 0.182], ["[red]acc[/red]", 0.93]],
                    "vertical": False,
                    "id": "t",
                },
                {"type": "image", "src": src, "label": "gradient", "id": "i"},
                {
                    "type": "progressBar",
                    "id": "bar",
                    "max": 10,
                    "value": 7,
                    "label": "epochs",
                    "details": "7 of 10",
                },
                {
                    "type": "vegaChart",
                    "id": "v",
                    "spec": {
                        "mark": "line",
                        "data": {"values": points},
                        "encoding": {
                            "x": {"field": "epoch", "type": "quantitative"},
                            "y": {"field": "loss", "type": "quantitative"},
                        },
                    },
                },
            ],
        },
    )
    store.close()
    return str(root), pathspec


class CardsApp(App[None]):
    CSS_PATH = STYLES

    def __init__(self, store: str, pathspec: str) -> None:
        super().__init__()
        self.store, self.pathspec = store, pathspec

    def on_mount(self) -> None:
        self.push_screen(CardsScreen(self.store, self.pathspec))


def test_cards_view(snap_compare: Callable[..., bool], tmp_path: Path) -> None:
    app = CardsApp(*stored_card(tmp_path / "store"))

    async def drawn(pilot) -> None:  # type: ignore[no-untyped-def]
        screen = app.screen
        assert isinstance(screen, CardsScreen)
        for _ in range(400):
            if screen.draws and not screen.live:
                break
            await pilot.pause(0.05)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 40), run_before=drawn)
