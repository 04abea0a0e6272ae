"""Every TUI test keeps its remembered settings (theme, parameters) in its own temporary file,
never in the user's config folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowtui.tui.settings import CONFIG_ENV


@pytest.fixture(autouse=True)
def own_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config" / "tui.json"
    monkeypatch.setenv(CONFIG_ENV, str(path))
    return path
