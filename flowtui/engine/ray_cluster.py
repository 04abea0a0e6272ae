"""A Ray cluster's address, checked before the driver connects, and the cluster watched while
a run uses it.

`check_reachable` makes a wrong address one sentence, not a hang: an HTTP address (a
dashboard's) is named as such; host:port must take connections and speak gRPC, as Ray's GCS and
its client server do (`ray://` names the latter; `auto` and other schemes are Ray's to find).
`ClusterWatch` says the cluster went away when its GCS refused connections for `_LOST_AFTER`
seconds; the Ray executor asks it from a thread of its own (docs/decisions.md).
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from flowtui.errors import UsageError

# The cluster is gone when its GCS refuses connections this long (looked at once a second):
# well inside the 60 s after which Ray's core worker ends the driver process on its own.
_LOST_AFTER = 5.0
_PROBE_WAIT = 10.0  # seconds a cluster's address may take to answer as a gRPC server


def cluster_gone(address: str | None, how: str) -> str:
    """Why a run's attempts fail once its cluster went away (`how` says how it showed)."""
    where = address or "a local Ray started for this run"
    return (
        f"the Ray cluster at {where} went away ({how}); start it again and `flowtui resume` "
        "the run, on it or locally"
    )


def check_reachable(address: str) -> None:
    """A quick look at the cluster's address, so a wrong one is one sentence, not a hang: its
    port takes connections (else "cannot reach"), and speaks gRPC, as Ray's GCS and its client
    server do (else it is some other server's port: Ray would wait on it for minutes)."""
    if address == "local":
        return
    if address.startswith(("http://", "https://")):
        raise UsageError(
            f"{address} is an HTTP address (a dashboard's or the Jobs API's); the Ray executor "
            "needs the cluster's GCS address, host:port (6379 by default, as `ray start --head` "
            "prints it), or ray://host:10001 for Ray Client."
        )
    target = address.split("://", 1)[1] if address.startswith("ray://") else address
    if target == "auto" or "://" in target:
        return  # Ray finds the cluster (and says so when it finds none)
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=5):
            pass
    except OSError as e:
        raise UsageError(
            f"Cannot reach the Ray cluster at {address} ({e.strerror or e}); start one with "
            "`ray start --head`, or point RAY_ADDRESS or --ray-address at a running one."
        ) from None
    if os.environ.get("RAY_USE_TLS", "0") not in ("", "0"):
        return  # a TLS cluster answers a plain-text probe with a failed handshake
    import grpc

    channel = grpc.insecure_channel(target)
    try:
        grpc.channel_ready_future(channel).result(timeout=_PROBE_WAIT)
    except grpc.FutureTimeoutError:
        raise UsageError(
            f"{address} takes connections but is not a Ray cluster's address (not its GCS port: "
            "the one `ray start --head --port` took, 6379 by default, not the dashboard's); "
            "point RAY_ADDRESS or --ray-address at it."
        ) from None
    finally:
        channel.close()


class ClusterWatch:
    """Whether the cluster's GCS still takes connections, looked at about once a second."""

    def __init__(self, address: str | None) -> None:
        self.next_look = 0.0
        self.refused_since: float | None = None
        # an address this machine cannot connect to now tells nothing later: not watched
        self.address = address if address and self._answers(address) else None

    def gone(self) -> bool:
        if self.address is None:
            return False
        now = time.monotonic()
        if now < self.next_look:
            return False
        self.next_look = now + 1.0
        if self._answers(self.address):
            self.refused_since = None
            return False
        if self.refused_since is None:
            self.refused_since = now
        return now - self.refused_since >= _LOST_AFTER

    def answers(self) -> bool:
        """Whether the GCS takes connections now (True when it is not watched)."""
        return self.address is None or self._answers(self.address)

    @staticmethod
    def _answers(address: str) -> bool:
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=2):
                return True
        except (OSError, ValueError):
            return False


def gcs_address(ray: Any) -> str | None:
    """The host:port of the connected cluster's GCS (None through Ray Client)."""
    try:
        address = ray.get_runtime_context().gcs_address
    except Exception:
        return None
    return address if isinstance(address, str) and ":" in address else None
