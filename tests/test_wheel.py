"""The built wheel carries the stylesheets, and the app opens from it (not from a checkout)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{proc.stderr[-2000:]}")
    (built,) = out.glob("flowtui-*.whl")
    return built


def test_wheel_contains_the_stylesheets_and_examples_are_not_packaged(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "flowtui/styles/app.tcss" in names
    assert "flowtui/styles/detail.tcss" in names
    assert "flowtui/tui/app.py" in names
    assert not any(n.startswith(("tests/", "examples/")) for n in names)


def test_app_opens_with_its_styles_from_the_unpacked_wheel(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    flow = tmp_path / "hello.py"
    flow.write_text((REPO / "examples" / "hello.py").read_text())
    script = f"""
import asyncio
from flowtui.tui.app import FlowtuiApp
from flowtui.tui.styles import stylesheet_dir
from flowtui.tui.widgets.header import RunHeader

assert str(stylesheet_dir()).startswith({str(site)!r}), stylesheet_dir()

async def main():
    app = FlowtuiApp({str(flow)!r}, store={str(tmp_path / "store")!r}, follow=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.3)
        header = app.query_one(RunHeader)
        print("header height", header.size.height, "padding", header.styles.padding.left)

asyncio.run(main())
"""
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    # app.tcss's rule for the header applied (it wraps a long file path onto a second line)
    assert re.search(r"header height [12] padding 1", proc.stdout), proc.stdout
