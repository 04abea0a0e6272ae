"""The executor options' errors: one sentence each, no cluster needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from local_cluster import free_port

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello.py"


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowtui", "run", str(HELLO), "--store", str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_unreachable_cluster_is_one_sentence(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    ran = _run(tmp_path, "--executor", "ray", "--ray-address", address)
    assert ran.returncode == 2
    assert f"Cannot reach the Ray cluster at {address}" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_an_unknown_executor_names_the_choices(tmp_path: Path) -> None:
    ran = _run(tmp_path, "--executor", "dask")
    assert ran.returncode == 2
    assert "Unknown executor 'dask'; use one of: local, ray." in ran.stderr


def test_without_ray_installed_the_executor_says_how_to_install_it(tmp_path: Path) -> None:
    hide_ray = (
        "import sys\n"
        "class HideRay:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'ray' or name.startswith('ray.'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, HideRay())\n"
        "from flowtui.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    args = ["run", str(HELLO), "--store", str(tmp_path), "--executor", "ray"]
    ran = subprocess.run(
        [sys.executable, "-c", hide_ray, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 2
    assert 'The Ray executor needs Ray: pip install "flowtui[ray]".' in ran.stderr
