"""The parameters form remembers the last values per flow, and the theme is remembered."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from textual.widgets import Input

from flowtui.tui.app import FlowtuiApp
from flowtui.tui.screens.params import ParametersScreen
from flowtui.tui.settings import Settings, load_settings, save_settings
from tests.tui.conftest import EXAMPLES
from tests.tui.waiting import wait_until


async def test_the_form_offers_the_values_last_run_with(tmp_path: Path, own_settings: Path) -> None:
    shutil.copy(EXAMPLES / "hello.py", tmp_path / "hello.py")
    app = FlowtuiApp(tmp_path / "hello.py", store=tmp_path / "store", follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(
            pilot, lambda: isinstance(app.screen, ParametersScreen) and app.screen.query(Input)
        )
        field = app.screen.query_one(Input)
        assert field.value == "world"  # the default, the first time
        field.value = "flowtui"
        await pilot.press("enter")
        await wait_until(pilot, lambda: own_settings.is_file())
        await wait_until(pilot, lambda: app.run_state is not None and app.run_state.status.done)
    assert json.loads(own_settings.read_text())["params"]["HelloFlow"] == {"who": "flowtui"}

    again = FlowtuiApp(tmp_path / "hello.py", store=tmp_path / "store", follow=False)
    async with again.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(
            pilot, lambda: isinstance(again.screen, ParametersScreen) and again.screen.query(Input)
        )
        assert again.screen.query_one(Input).value == "flowtui"


async def test_the_theme_is_remembered(tmp_path: Path, own_settings: Path) -> None:
    shutil.copy(EXAMPLES / "hello.py", tmp_path / "hello.py")
    app = FlowtuiApp(tmp_path / "hello.py", store=tmp_path / "store", follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        dark = app.current_theme.dark
        await pilot.press("t")
        await wait_until(pilot, lambda: own_settings.is_file())
    again = FlowtuiApp(tmp_path / "hello.py", store=tmp_path / "store", follow=False)
    async with again.run_test(size=(120, 40)):
        assert again.current_theme.dark is not dark


def test_an_unreadable_settings_file_is_set_aside_not_lost(own_settings: Path) -> None:
    own_settings.parent.mkdir(parents=True)
    own_settings.write_text("{ not json")
    assert load_settings() == Settings()
    assert own_settings.with_name("tui.json.unreadable").read_text() == "{ not json"
    save_settings(Settings(theme="textual-light"))
    assert load_settings().theme == "textual-light"
