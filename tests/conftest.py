"""Fixtures shared by every test folder: the example flows and flow files written on the fly."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.gate import Gate

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"

WriteFlow = Callable[..., Path]


@pytest.fixture
def examples_dir() -> Path:
    """The repository's `examples/` folder (the flows a new user opens first)."""
    return EXAMPLES_DIR


@pytest.fixture
def write_flow(tmp_path: Path) -> WriteFlow:
    """`write_flow(source, name="flow.py")`: the dedented source saved under tmp_path."""

    def write(source: str, name: str = "flow.py") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        return path

    return write


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Gate]:
    """A flow whose step waits on a file the test creates; its runners are killed afterwards."""
    opened = Gate(tmp_path)
    try:
        yield opened
    finally:
        opened.close()
