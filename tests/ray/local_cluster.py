"""A real two-node Ray cluster on this machine, started with Ray's own CLI, for tests and benches.

Every `ray start` runs with `--block` in its own session, so stopping the cluster signals only
the process groups this module started; any process still naming the cluster's private temp
directory on its command line (workers the raylet spawned in other groups) is stopped too.
Other Ray clusters on the machine are never touched (no `ray stop`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

_RAY = str(Path(sys.executable).with_name("ray"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalCluster:
    temp_dir: Path
    address: str = ""
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workers: subprocess.Popen[bytes] | None = None  # the second node's `ray start`

    def _start(self, *args: str) -> subprocess.Popen[bytes]:
        ports = [
            ("--node-manager-port", free_port()),
            ("--object-manager-port", free_port()),
            ("--dashboard-agent-listen-port", free_port()),
            ("--dashboard-agent-grpc-port", free_port()),
            ("--runtime-env-agent-port", free_port()),
            ("--metrics-export-port", free_port()),
        ]
        base = 10000 + free_port() % 20000  # below the ephemeral ports the others come from
        # Ray on Linux turns 127.0.0.1 into this machine's routable address and listens on every
        # interface; no setting keeps a two-node cluster on loopback (docs/decisions.md).
        cmd = [
            _RAY,
            "start",
            "--block",
            "--node-ip-address",
            "127.0.0.1",
            "--disable-usage-stats",
            "--min-worker-port",
            str(base),
            "--max-worker-port",
            str(base + 300),
            *[f"{k}={v}" for k, v in ports],
            *args,
        ]
        log_path = self.temp_dir / f"start-{len(self.procs)}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=_env()
            )
        self.procs.append(proc)
        _wait_started(proc, log_path)
        return proc

    def start(self, timeout: float = 600.0, gpu_node: bool = True) -> LocalCluster:
        port = free_port()
        self._start(
            "--head",
            "--port",
            str(port),
            "--num-cpus",
            "2",
            "--temp-dir",
            str(self.temp_dir),
            "--include-dashboard=false",
            "--dashboard-port",
            str(free_port()),
            "--ray-client-server-port",
            str(free_port()),
        )
        self.address = f"127.0.0.1:{port}"
        if gpu_node:
            self.add_gpu_node(timeout)  # the head is up: its `ray start` said so
        return self

    def add_gpu_node(self, timeout: float = 600.0) -> None:
        self.workers = self._start("--address", self.address, "--num-cpus", "1", "--num-gpus", "1")
        self.wait_for_nodes(2, timeout)

    def remove_gpu_node(self) -> None:
        """Stop the second node (as `ray stop` on that machine would), leaving the head up."""
        if self.workers is not None:
            _stop_group(self.workers)
            self.procs.remove(self.workers)
            self.workers = None

    def kill_head_raylet(self) -> None:
        """SIGKILL the head node's raylet alone (its GCS stays up), as when it crashes. Its
        `ray start --block` is paused first, or it would stop the whole node on seeing the
        raylet die (`stop` lets it go on, to stop the rest)."""
        head = self.procs[0].pid
        os.kill(head, signal.SIGSTOP)
        for pid in _session_pids(head):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                continue
            if cmdline.endswith(b"/raylet"):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                return
        raise RuntimeError("the head node has no raylet process")

    def gpu_node_id(self) -> str:
        """The id of the live node that declares a GPU."""
        code = (
            "import ray,sys; ray.init(address=sys.argv[1], log_to_driver=False, "
            "logging_level='ERROR'); "
            "import json; print(json.dumps([n['NodeID'] for n in ray.nodes() "
            "if n['Alive'] and n['Resources'].get('GPU')]))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, self.address],
            capture_output=True,
            text=True,
            timeout=120,
            env=_env(),
        )
        ids = json.loads(out.stdout.strip().splitlines()[-1])
        assert len(ids) == 1, out.stdout + out.stderr
        return str(ids[0])

    def alive_nodes(self) -> int:
        code = (
            "import ray,sys; ray.init(address=sys.argv[1], log_to_driver=False, "
            "logging_level='ERROR'); print(sum(n['Alive'] for n in ray.nodes()))"
        )
        try:
            out = subprocess.run(
                [sys.executable, "-c", code, self.address],
                capture_output=True,
                text=True,
                timeout=300,
                env=_env(),
            )
        except subprocess.TimeoutExpired:
            return 0
        lines = out.stdout.strip().splitlines()
        return int(lines[-1]) if out.returncode == 0 and lines else 0

    def wait_for_nodes(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"ray start exited: {self.logs()}")
            if self.alive_nodes() >= count:
                return
        raise RuntimeError(f"the Ray cluster did not reach {count} nodes: {self.logs()}")

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-2000:] for p in self.temp_dir.glob("*.log"))

    def stop(self) -> None:
        for proc in list(self.procs):
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGCONT)  # paused by kill_head_raylet
            _stop_group(proc)
        self.procs.clear()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _wait_started(proc: subprocess.Popen[bytes], log: Path, timeout: float = 600.0) -> None:
    """Until `ray start` says its node runs (cheap: no Python start-up per look)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ray start exited: {log.read_text(errors='replace')[-3000:]}")
        if b"Ray runtime started" in log.read_bytes():
            return
        time.sleep(0.2)
    raise RuntimeError(f"ray start did not finish: {log.read_text(errors='replace')[-3000:]}")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    # Ray turns token auth on for a new cluster when ~/.ray/auth_token exists (some other
    # cluster's): this private cluster goes without, on every node and driver alike.
    env["RAY_AUTH_MODE"] = "disabled"
    return env


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop a `ray start --block` and every process in the session it leads (raylet, GCS,
    agents, and the workers the raylet forked into process groups of their own)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=30)
    _kill_session(proc.pid)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def _session_pids(sid: int) -> list[int]:
    """The processes whose session is `sid` (one this module started)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 3 and int(fields[3]) == sid:
            pids.append(int(entry.name))
    return pids


def _kill_session(sid: int) -> None:
    """SIGKILL every process of ours whose session is `sid` (one this module started)."""
    for pid in _session_pids(sid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def start_cluster(tries: int = 3, gpu_node: bool = True) -> LocalCluster:
    """Start the cluster (`gpu_node=False`: the head alone); a port taken between choosing it
    and binding it means another try."""
    for attempt in range(tries):
        temp = Path(tempfile.mkdtemp(prefix="ftray", dir="/tmp"))
        cluster = LocalCluster(temp)
        try:
            return cluster.start(gpu_node=gpu_node)
        except RuntimeError:
            cluster.stop()
            if attempt == tries - 1:
                raise
        except BaseException:
            cluster.stop()
            raise
    raise AssertionError("unreachable")


if __name__ == "__main__":  # a cluster for trying things by hand: prints its address
    c = start_cluster()
    print(c.address, c.temp_dir, flush=True)
    try:
        signal.pause()
    finally:
        c.stop()
