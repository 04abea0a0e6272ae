"""A local Ray started for a run (no --ray-address, no RAY_ADDRESS) listens on this machine's
loopback address only: nothing it starts is reachable from the network."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import wait_for

pytestmark = pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="listening sockets are read from Linux's /proc"
)

WAITS = """
import os, time
from flowtui import FlowSpec, step

class WaitFlow(FlowSpec):
    @step
    def start(self):
        with open(os.environ["WAIT_GATE"] + ".pid", "w") as f:
            f.write(str(os.getpid()))  # the Ray worker running the task
        deadline = time.time() + 600
        while not os.path.exists(os.environ["WAIT_GATE"]) and time.time() < deadline:
            time.sleep(0.05)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def _tree(root: int) -> dict[int, str]:
    """`root` and every process under it: pid -> name (its comm, as `ps` shows it)."""
    parents: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            parents[int(entry.name)] = (int(stat[stat.rindex(")") + 2 :].split()[1]), name)
    tree = {root: parents.get(root, (0, "?"))[1]}
    grew = True
    while grew:
        grew = False
        for pid, (ppid, name) in parents.items():
            if ppid in tree and pid not in tree:
                tree[pid] = name
                grew = True
    return tree


def _address(hex_address: str) -> str:
    """An address of /proc/net/tcp{,6} (hex, in host byte order by 32-bit words), as text."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    if len(words) == 4:
        return socket.inet_ntop(socket.AF_INET, words)
    return socket.inet_ntop(socket.AF_INET6, words)


def _listening(root: int) -> list[tuple[int, str, str, int]]:
    """(pid, process name, address, port) of each TCP socket listened on by `root` and the
    processes under it (read from /proc: no tool needed)."""
    sockets: dict[str, tuple[str, int]] = {}  # inode -> (address, port) of listening sockets
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A":  # LISTEN
                    address, port = fields[1].split(":")
                    sockets[fields[9]] = (_address(address), int(port, 16))
    found = []
    for pid, name in _tree(root).items():
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    inode = target[len("socket:[") : -1] if target.startswith("socket:[") else ""
                    if inode in sockets:
                        found.append((pid, name, *sockets[inode]))
    return found


def test_a_local_ray_started_for_the_run_listens_on_loopback_only(tmp_path: Path) -> None:
    (tmp_path / "wait.py").write_text(WAITS)
    gate = tmp_path / "gate"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(FLOWTUI_STORE=str(tmp_path / "store"), WAIT_GATE=str(gate))
    env["RAY_AUTH_MODE"] = "disabled"
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowtui", "run", "wait.py", "--executor", "ray"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        # the task runs: its worker, the raylet and the GCS are all up and listening
        pid_file = Path(str(gate) + ".pid")
        worker = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), "the task"))

        def running() -> list[tuple[int, str, str, int]] | None:
            found = _listening(proc.pid)
            names = {name for _, name, _, _ in found}
            pids = {pid for pid, _, _, _ in found}
            return found if {"gcs_server", "raylet"} <= names and worker in pids else None

        listening = wait_for(running, "the local Ray's servers and the task's worker")
        open_to_network = [
            (name, ip, port)
            for _, name, ip, port in listening
            if ip not in ("127.0.0.1", "::1", "::ffff:127.0.0.1")
        ]
        assert not open_to_network, open_to_network
    finally:
        gate.touch()
        out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    assert "Executor: ray at a local Ray started for this run" in out
