"""The TUI's Cards view on a real run: a dynamic card is redrawn while its task runs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from cardrun import CardRun
from textual.app import App
from textual.geometry import Region
from textual.widgets import Static

from flowtui.tui.screens.cards import CardsScreen
from tests.tui.waiting import wait_until

STYLES = Path(__file__).resolve().parents[2] / "styles" / "detail.tcss"

LIVE = """
import os
import time
from metaflow import FlowSpec, card, current, step
from metaflow.cards import Markdown, ProgressBar


class LiveFlow(FlowSpec):
    @card(type="blank", refresh_interval=0)
    @step
    def start(self):
        bar = ProgressBar(max=3, label="epochs")
        current.card.append(Markdown("# Training [b]live[/b]"))
        current.card.append(bar)
        for epoch in (1, 2, 3):
            bar.update(epoch, metadata=f"epoch {epoch}")
            current.card.refresh()
            go = f"go{epoch}"
            while epoch < 3 and not os.path.exists(go):  # the test says when to go on
                time.sleep(0.02)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


class CardsApp(App[None]):
    CSS_PATH = STYLES

    def __init__(self, store: str, pathspec: str) -> None:
        super().__init__()
        self.store, self.pathspec = store, pathspec

    def on_mount(self) -> None:
        self.push_screen(CardsScreen(self.store, self.pathspec))


def shown(screen: CardsScreen) -> str:
    """What the card's widget draws, as text (all of it, scrolled into view or not)."""
    static = screen.query_one("#cards-text", Static)
    size = static.size
    return "\n".join(strip.text for strip in static.render_lines(Region(0, 0, *size)))


async def test_a_dynamic_card_updates_live_while_its_task_runs(cards: CardRun) -> None:
    (cards.root / "flow.py").write_text(textwrap.dedent(LIVE))
    runner = subprocess.Popen(
        [sys.executable, "-m", "flowtui", "run", "flow.py", "--store", str(cards.store_path)],
        cwd=cards.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != "FLOWTUI_STORE"},
    )
    try:
        card_file = cards.store_path / "cards"
        deadline = time.monotonic() + 60
        while not any(card_file.rglob("0.json")):  # the first refresh has been saved
            assert time.monotonic() < deadline and runner.poll() is None, "no card was saved"
            time.sleep(0.02)
        task_id = next(card_file.iterdir()).name
        app = CardsApp(str(cards.store_path), f"LiveFlow/1/start/{task_id}")
        async with app.run_test(size=(100, 40)) as pilot:
            screen = app.screen
            assert isinstance(screen, CardsScreen)
            await wait_until(pilot, lambda: "1/3" in shown(screen), "the first epoch")
            assert "live: the task is still running" in shown(screen)
            assert "Training [b]live[/b]" in shown(screen)  # never read as markup
            assert screen.has_class("-live")

            (cards.root / "go1").touch()
            await wait_until(pilot, lambda: "2/3" in shown(screen), "the second epoch")
            (cards.root / "go2").touch()
            await wait_until(pilot, lambda: not screen.live, "the task to finish")
            assert "3/3" in shown(screen) and "epoch 3" in shown(screen)
            assert "live:" not in shown(screen) and not screen.has_class("-live")
            assert screen.draws >= 3  # drawn again at each change, not once
        assert runner.wait(timeout=60) == 0, runner.stderr.read() if runner.stderr else ""
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()


ESCAPES = r"""
from metaflow import FlowSpec, card, current, step
from metaflow.cards import Markdown, Table, ValueBox


class EscFlow(FlowSpec):
    @card(type="blank")
    @step
    def start(self):
        current.card.append(Markdown("# Loss \x1b[31mred\x1b[0m"))
        current.card.append(Table([["\x1b[2Jcleared", "[red]r[/red]"]], headers=["\x1b]0;T\x07h"]))
        current.card.append(ValueBox("acc", "\x1b[8mhidden"))
        self.next(self.end)

    @step
    def end(self):
        pass
"""


async def test_escape_codes_in_a_card_are_written_out_never_sent_to_the_terminal(
    cards: CardRun,
) -> None:
    """A card's text went to the terminal as it was: an ESC[2J in a table cell cleared the
    whole screen, and ESC[8m hid a value. They are written out (\\x1b[2J) like any repr."""
    assert cards.run(ESCAPES).code == 0, cards.output
    app = CardsApp(str(cards.store_path), "EscFlow/1/start/1")
    async with app.run_test(size=(100, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, CardsScreen)
        await wait_until(pilot, lambda: "cleared" in shown(screen), "the card")
        drawn = shown(screen)
        assert "\x1b" not in drawn and "\x07" not in drawn
        assert r"\x1b[2Jcleared" in drawn and "[red]r[/red]" in drawn
        assert r"\x1b[31mred\x1b[0m" in drawn and r"\x1b[8mhidden" in drawn
