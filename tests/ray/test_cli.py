"""The executor options' errors: one sentence each, no cluster needed."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_cluster import free_port

from flowtui.store import Store

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello.py"


def _run(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowtui", "run", str(HELLO), "--store", str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def _no_runs(store: Path) -> bool:
    return not (store / "metadata.db").exists() or not Store(store, create=False).meta.runs()


def test_an_unreachable_cluster_is_one_sentence(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    ran = _run(tmp_path, "--executor", "ray", "--ray-address", address)
    assert ran.returncode == 2
    assert f"Cannot reach the Ray cluster at {address}" in ran.stderr
    assert "Traceback" not in ran.stderr


@pytest.fixture
def web_port() -> Iterator[int]:
    """A port on 127.0.0.1 where an HTTP server answers (as the dashboard's port would)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_an_address_that_is_not_a_ray_clusters_is_one_sentence_not_a_hang(
    tmp_path: Path, web_port: int
) -> None:
    address = f"127.0.0.1:{web_port}"
    ran = _run(tmp_path, "--executor", "ray", "--ray-address", address)  # Ray waited minutes
    assert ran.returncode == 2, ran.stderr
    assert f"{address} takes connections but is not a Ray cluster's address" in ran.stderr
    assert "Traceback" not in ran.stderr
    assert _no_runs(tmp_path)


def test_ray_address_naming_a_stopped_cluster_or_client_is_one_sentence(tmp_path: Path) -> None:
    for address in (f"127.0.0.1:{free_port()}", f"ray://127.0.0.1:{free_port()}"):
        ran = _run(tmp_path, "--executor", "ray", env={"RAY_ADDRESS": address})
        assert ran.returncode == 2, ran.stderr
        assert ran.stderr.strip() == (
            f"error: Cannot reach the Ray cluster at {address} (Connection refused); start one "
            "with `ray start --head`, or point RAY_ADDRESS or --ray-address at a running one."
        )
        assert _no_runs(tmp_path)


def test_an_http_address_says_which_address_the_executor_needs(tmp_path: Path) -> None:
    address = f"http://127.0.0.1:{free_port()}"  # the dashboard's, as for `ray job submit`
    ran = _run(tmp_path, "--executor", "ray", "--ray-address", address)
    assert ran.returncode == 2, ran.stderr
    text = " ".join(ran.stderr.split())
    assert f"{address} is an HTTP address (a dashboard's or the Jobs API's)" in text
    assert "needs the cluster's GCS address, host:port (6379 by default" in text
    assert "Traceback" not in text and _no_runs(tmp_path)


def test_a_cluster_that_cannot_be_reached_leaves_the_store_folder_as_it_was(
    tmp_path: Path,
) -> None:
    address = f"127.0.0.1:{free_port()}"
    kept = tmp_path / "kept"
    ran = subprocess.run(  # a store of one run, to stay as it is
        [sys.executable, "-m", "flowtui", "run", str(HELLO), "--store", str(kept)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    files = {p: p.read_bytes() for p in kept.rglob("*") if p.is_file()}
    empty = tmp_path / "empty"
    empty.mkdir()
    for store in (tmp_path / "new", empty, kept):
        ran = _run(store, "--executor", "ray", "--ray-address", address)
        assert ran.returncode == 2, ran.stderr
        assert f"Cannot reach the Ray cluster at {address}" in ran.stderr
    assert not (tmp_path / "new").exists()
    assert list(empty.iterdir()) == []
    assert {p: p.read_bytes() for p in kept.rglob("*") if p.is_file()} == files


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
