"""Whether a run's runner is still alive: the one rule the CLI, the client and resume share.

A runner records where it runs (`runner_place()`: the host name and, on Linux, its PID
namespace, since a pid means nothing outside its namespace), its pid, and a heartbeat every
`HEARTBEAT_EVERY` seconds from a thread of its own. A reader decides:

1. Same place and the pid is alive (and started before the run did, so not a reused pid): the
   runner is alive, however old its heartbeat (a runner stopped with ^Z, or busy, is not dead).
2. Same place and the pid is gone (or reused): the runner is dead.
3. Elsewhere (another host, container or PID namespace): dead once the heartbeat is older than
   `HEARTBEAT_STALE`.

The same rule says when a reader may signal a runner (`signal_runner`, how a run started
anywhere is cancelled): only here, and only the process that is that runner, never a process
that took its pid since.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from functools import cache
from pathlib import Path

from flowtui.forksafe import quiet

HEARTBEAT_EVERY = 2.0  # seconds between a runner's heartbeats
HEARTBEAT_STALE = 30.0  # a runner elsewhere not heard from for this long has died
_START_SLACK = 2.0  # seconds: clock-tick rounding of a process's start time


@cache
def runner_place() -> str:
    """Where this process runs, as recorded with its pid: `host` or `host pid:[inode]`."""
    import socket  # here: a reader that meets no running run never needs it

    host = socket.gethostname()
    try:
        return f"{host} {os.readlink('/proc/self/ns/pid')}"
    except OSError:
        return host


def same_place(place: str) -> bool:
    """Whether a runner recorded at `place` runs here (this host and PID namespace)."""
    return _same_place(place)


def place_host(place: str) -> str:
    """The host name part of a recorded place."""
    return place.split(" ")[0]


def _same_place(place: str) -> bool:
    here = runner_place()
    # rows written before the namespace was recorded hold only the host name
    return place == here or (" " not in place and place == here.split(" ")[0])


@cache
def _boot_time() -> float | None:
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def _process_start(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), where Linux tells."""
    boot = _boot_time()
    if boot is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def pid_alive(pid: int, since: float | None = None) -> bool:
    """Whether `pid` is a live process here that (when `since` is given) started by then."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if since is not None:
        started = _process_start(pid)
        if started is not None and started > since + _START_SLACK:
            return False  # the pid was reused by a process younger than the run
    try:  # a zombie has exited: only its parent has not collected it yet
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        if stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] == b"Z":
            return False
    except OSError:
        pass
    return True


def runner_alive(
    place: str, pid: int | None, heartbeat: float | None, created: float, now: float
) -> bool:
    """Whether the runner of a run recorded as running is still alive (rules above)."""
    if pid and _same_place(place):
        return pid_alive(pid, since=created)
    return heartbeat is None or now - heartbeat <= HEARTBEAT_STALE


def signal_runner(place: str, pid: int | None, created: float, sig: int) -> bool:
    """Send `sig` to the runner recorded at `place` with `pid` for a run created at `created`,
    when it runs here and is still that process; False when it is not (gone, its pid reused).

    The process is pinned by a pidfd before it is checked where Linux has them, so the signal
    reaches the process that was checked even if it exits and its pid is reused meanwhile."""
    if not pid or not _same_place(place):
        return False
    pidfd = None
    # no pidfd before Linux 5.3 or off Linux; none for a pid that is gone (checked below)
    with contextlib.suppress(OSError, AttributeError):
        pidfd = os.pidfd_open(pid)  # type: ignore[attr-defined,unused-ignore]
    try:
        if not pid_alive(pid, since=created):
            return False
        if pidfd is not None:
            import signal

            signal.pidfd_send_signal(pidfd, sig)  # type: ignore[attr-defined,unused-ignore]
        else:
            os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False
    finally:
        if pidfd is not None:
            os.close(pidfd)


def process_args(pid: int) -> list[str] | None:
    """The command line of process `pid` here, where Linux tells (None elsewhere)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


class Heartbeat:
    """Beats for a run from a thread with its own connection, so a runner busy printing or
    waiting on a slow disk still shows it is alive. `stop()` ends it (idempotent)."""

    def __init__(self, db_path: Path, run_id: str) -> None:
        self.db_path = db_path
        self.run_id = run_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="flowtui-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        # imported here, not in the thread: a fork during an import would leave the module's
        # lock held in the child
        importlib.import_module("flowtui.store.metadata")

        self._thread.start()
        return self

    def _beat(self) -> None:
        from flowtui.store.metadata import MetadataDB  # loaded by `start`: a lookup

        # SQLite is used under `quiet()`: a task forked meanwhile would inherit its locks held
        with quiet():
            db = MetadataDB(self.db_path)
        try:
            while not self._stop.wait(HEARTBEAT_EVERY):
                try:
                    with quiet():
                        db.heartbeat(self.run_id)
                except Exception:  # a full disk or a locked file: try again next beat
                    continue
        finally:
            with quiet():
                db.close()

    def stop(self, *, wait: bool = True) -> None:
        """End the beats; `wait=False` leaves a beat waiting on a locked database to the
        process's exit (the thread is a daemon) rather than wait for it too."""
        self._stop.set()
        if wait and self._thread.is_alive():
            self._thread.join()
