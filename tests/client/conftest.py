"""Fixtures for the client tests: flows run through the real CLI into a store in tmp_path."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from flowtui.cli import app
from flowtui.client import default_metadata, default_namespace, metadata


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Path]:
    """An empty store directory that the client reads (reset afterwards)."""
    root = tmp_path / "store"
    metadata(str(root))
    default_namespace()
    yield root
    default_metadata()
    default_namespace()


RunCli = Callable[..., Result]


@pytest.fixture
def flowtui(tmp_path: Path, store: Path) -> RunCli:
    """`flowtui(command, source_or_file, *args)`: write the flow, run the command in-process."""

    def invoke(command: str, source: str | Path, *args: str, name: str = "flow.py") -> Result:
        if isinstance(source, Path):
            file = source
        else:
            file = tmp_path / name
            file.write_text(textwrap.dedent(source))
        result = CliRunner().invoke(
            app, [command, str(file), "--store", str(store), "--quiet", *args]
        )
        return result

    return invoke
