"""Fixtures for the cards tests: `cards`, a folder where flows with cards run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the helper beside this file

from cardrun import CardRun


@pytest.fixture
def cards(tmp_path: Path) -> CardRun:
    return CardRun(tmp_path)
