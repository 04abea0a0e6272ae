"""Fixtures of the reliability tests (helpers live in lab.py, importable as `lab`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lab import Lab


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path)
