"""Every TUI test keeps its remembered settings (theme, parameters) in its own temporary file,
never in the user's config folder; `here` copies an example into an empty working directory."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from flowtui.tui.settings import CONFIG_ENV

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True)
def own_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config" / "tui.json"
    monkeypatch.setenv(CONFIG_ENV, str(path))
    return path


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """Copy an example into an empty working directory; the screen shows a relative path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLOWTUI_STORE", raising=False)

    def copy(name: str) -> str:
        shutil.copy(EXAMPLES / name, tmp_path / name)
        return name

    return copy
