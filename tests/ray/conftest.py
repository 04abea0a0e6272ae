"""A real two-node Ray cluster for the Ray tests: started once per test session with Ray's own
CLI (a head with 2 CPUs, a second node with 1 CPU and 1 logical GPU), stopped after them.

All Ray tests share the xdist group "ray", so they run in one worker and one cluster serves them.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from flowtui.store import Store

sys.path.insert(0, str(Path(__file__).parent))
from local_cluster import LocalCluster, start_cluster

HAVE_RAY = importlib.util.find_spec("ray") is not None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.xdist_group("ray"))
            if not HAVE_RAY:
                item.add_marker(pytest.mark.skip(reason='Ray is not installed: "flowtui[ray]"'))


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    c = start_cluster()
    try:
        yield c
    finally:
        c.stop()


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class RayFlows:
    """A folder of flow files and a store, run through the real CLI on the test cluster."""

    def __init__(self, root: Path, cluster: LocalCluster) -> None:
        self.root = root
        self.cluster = cluster
        self.store_path = root / "store"

    def write(self, name: str, source: str) -> Path:
        path = self.root / name
        path.write_text(textwrap.dedent(source))
        return path

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
        return {
            **env,
            "FLOWTUI_STORE": str(self.store_path),
            "RAY_AUTH_MODE": "disabled",
            **(extra or {}),
        }

    def command(self, *args: str, executor: str = "ray") -> list[str]:
        extra = ["--executor", executor]
        if executor == "ray":
            extra += ["--ray-address", self.cluster.address]
        return [sys.executable, "-m", "flowtui", *args, *extra]

    def cli(self, *args: str, executor: str = "ray", timeout: float = 300) -> Ran:
        proc = subprocess.run(
            self.command(*args, executor=executor),
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env(),
        )
        return Ran(proc.returncode, proc.stdout, proc.stderr)

    def start(
        self, *args: str, executor: str = "ray", env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args, executor=executor),
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(env),
        )

    @property
    def store(self) -> Store:
        return Store(self.store_path, create=False)


@pytest.fixture
def ray_flows(tmp_path: Path, cluster: LocalCluster) -> RayFlows:
    return RayFlows(tmp_path, cluster)


@pytest.fixture
def gpu_node(cluster: LocalCluster) -> str:
    """The cluster with its GPU node up (a test that removes it leaves it down): its id."""
    if cluster.workers is None:
        cluster.add_gpu_node()
    return cluster.gpu_node_id()


def wait_for(condition, what: str, timeout: float = 240.0):
    """Poll `condition()` until it returns something truthy (generous: the machine is loaded)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
