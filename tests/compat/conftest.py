"""Fixtures for the compat tests: the `sides` working directory and the `differential` mark."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the helpers beside this file

from differential import Sides


@pytest.fixture
def sides(tmp_path: Path) -> Sides:
    return Sides(tmp_path)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "differential: runs a flow under real Metaflow and flowtui and compares them"
    )
