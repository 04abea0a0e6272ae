"""Executors start task attempts; the runner waits on each attempt's `result_fd`.

The seam is small: `launch(request)` returns a handle whose `result_fd` becomes readable with one
JSON `TaskOutcome` line when the attempt ends, `poll`/`wait` give a `waitpid`-style status,
`kill(sig)` stops it, `metadata()` says where it ran, `local_pid` is the process the runner may
sample for CPU and memory (`engine/usage.py`; None when the attempt runs elsewhere, whose samples,
taken where it runs, arrive in `reported_usage` instead) and `exit_rusage()` the kernel's account
of it once it has exited. The local executor forks the
runner (which has the flow imported), so a task starts in a millisecond or two; where fork is
unavailable or unsafe it spawns a fresh interpreter instead. The Ray executor (an optional extra, in
`ray_executor`) runs each attempt as a Ray task.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import pickle
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from flowtui.engine import forkserver
from flowtui.engine.exits import died_with_server
from flowtui.engine.forkserver import ForkFailed, ForkServer, ForkServerGone, ForkServerRefused
from flowtui.engine.task import TaskOutcome, TaskRequest, checked_source
from flowtui.engine.task_process import run_task_process
from flowtui.errors import UsageError
from flowtui.run.status import EXCEPTION, TaskError

if TYPE_CHECKING:
    from flowtui.engine.usage import Reported
    from flowtui.store import Store

EXECUTORS = ("local", "ray")
_HOST = socket.gethostname()


class TaskHandle(Protocol):
    """A launched task attempt, as the runner sees it."""

    @property
    def result_fd(self) -> int: ...

    def kill(self, sig: int = signal.SIGKILL) -> None: ...

    def poll(self) -> int | None: ...

    def wait(self) -> int: ...

    def metadata(self) -> dict[str, str]: ...

    def lost_with(self) -> TaskError | None:
        """Why the attempt ended without an outcome when the executor knows it better than
        the exit status does (its fork server died); None: read the status."""

    @property
    def local_pid(self) -> int | None: ...

    def exit_rusage(self) -> Any | None:
        """`os.wait4`'s resource usage of the exited process (None: not known)."""

    @property
    def reported_usage(self) -> Reported | None:
        """Samples taken where the task runs, for a task not on this machine (else None)."""


class Executor(Protocol):
    name: str

    def launch(self, request: TaskRequest) -> TaskHandle: ...

    def capacity(self) -> int | None:
        """How many tasks can run at once (None: the runner's own default)."""

    def wake_fd(self) -> int | None:
        """An fd the runner's loop also waits on, readable when a task has exited (None:
        the tasks' result pipes are enough)."""

    def notices(self) -> list[str]:
        """Lines to show when a run starts (where it runs)."""

    def honours(self, decorator: str) -> bool:
        """Whether a decorator ignored in local runs (e.g. resources) takes effect here."""

    def close(self) -> None: ...


def check_executor(name: str) -> None:
    """A UsageError naming the fix if `name` is no executor, or is one not installed."""
    if name not in EXECUTORS:
        raise UsageError(f"Unknown executor '{name}'; use one of: {', '.join(EXECUTORS)}.")
    if name == "ray":
        try:
            found = importlib.util.find_spec("ray") is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise UsageError('The Ray executor needs Ray: pip install "flowtui[ray]".')


def make_executor(name: str, store: Store, flow_file: Path, address: str | None = None) -> Executor:
    """The executor called `name` for a run of `flow_file`; `address` is a Ray cluster's
    (default: RAY_ADDRESS)."""
    check_executor(name)
    if name == "ray":
        from flowtui.engine.ray_executor import RayExecutor

        return RayExecutor(store, flow_file, address)
    return LocalExecutor()


@dataclass
class TaskProcess:
    pid: int
    result_fd: int  # read end of the pipe the task writes its outcome to
    popen: subprocess.Popen[bytes] | None = None
    rusage: Any | None = None  # os.wait4's, once a forked task has been reaped
    server: ForkServer | None = None  # the fork server that forked it (its parent)
    status: int | None = None  # its waitpid status, once the server has said it
    lost: TaskError | None = None  # it died with its fork server: how that ended

    def lost_with(self) -> TaskError | None:
        return self.lost

    def _died_with_server(self, server: ForkServer) -> int:
        """The server went without telling how this task ended: it died with it (SIGKILL)."""
        self.status, self.lost = signal.SIGKILL, died_with_server(server.pid, server.ended())
        return self.status

    @property
    def reported_usage(self) -> None:
        return None  # a local process: the runner samples it itself

    @property
    def local_pid(self) -> int | None:
        return self.pid if self.pid > 0 else None

    def exit_rusage(self) -> Any | None:
        return self.rusage

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the task and everything it started (it leads its own process group)."""
        if self.pid <= 0:  # its server died before it said the pid: nothing to signal
            return
        for target in (lambda: os.killpg(self.pid, sig), lambda: os.kill(self.pid, sig)):
            try:
                target()
                return
            except (ProcessLookupError, PermissionError):
                continue

    def poll(self) -> int | None:
        """The `waitpid` status if the process has exited, else None (never blocks)."""
        if self.status is not None:
            return self.status
        if self.popen is not None:
            code = self.popen.poll()
            if code is None:
                return None
            return (-code) if code < 0 else (code << 8)
        if self.server is not None:
            try:
                found = self.server.exited(self.pid)
            except (ForkServerGone, OSError):  # its tasks died with it (PR_SET_PDEATHSIG)
                found = self.server.exits.pop(self.pid, None)
                if found is None:
                    self._died_with_server(self.server)
            if found is not None:
                self.status, self.rusage = found
            return self.status
        try:
            pid, status, rusage = os.wait4(self.pid, os.WNOHANG)
        except ChildProcessError:
            return 0
        if not pid:
            return None
        self.rusage = rusage
        return status

    def wait(self) -> int:
        """Block until the process has exited; returns a `waitpid` status."""
        if self.status is not None:
            return self.status
        if self.popen is not None:
            code = self.popen.wait()
            return (-code) if code < 0 else (code << 8)
        if self.server is not None:
            try:
                self.status, self.rusage = self.server.wait(self.pid)
            except (ForkServerGone, OSError):
                return self._died_with_server(self.server)
            return self.status
        while True:
            try:
                _, status, self.rusage = os.wait4(self.pid, 0)
                return status
            except InterruptedError:
                continue
            except ChildProcessError:
                return 0

    def metadata(self) -> dict[str, str]:
        where = {"executor": "local", "hostname": _HOST}
        return where if self.pid <= 0 else {**where, "worker-pid": str(self.pid)}


def not_started(read_fd: int, write_fd: int, error: OSError) -> TaskProcess:
    """An attempt for which no process could be forked: its outcome (written to its pipe, as a
    task writes its own) says why, and @retry may try again once others have ended."""
    why = os.strerror(error.errno) if error.errno else str(error)
    outcome = TaskOutcome(
        ok=False,
        error=TaskError(
            "ForkError",
            f"no process could be started for the task ({why}): too many processes are "
            "running, or too little memory is free",
            reason=EXCEPTION,
        ),
    )
    os.write(write_fd, (outcome.to_json() + "\n").encode())
    return TaskProcess(-1, read_fd, status=1 << 8)


def start_method() -> str:
    wanted = os.environ.get("FLOWTUI_START_METHOD", "").lower()
    if wanted in ("fork", "spawn"):
        return wanted
    return "fork" if hasattr(os, "fork") and sys.platform != "darwin" else "spawn"


class LocalExecutor:
    """Runs each task attempt in its own local process."""

    name = "local"

    def __init__(self, method: str | None = None) -> None:
        self.method = method or start_method()
        self.use_server = self.method == "fork" and forkserver.available()
        self.server: ForkServer | None = None  # started with the first task

    def wake_fd(self) -> int | None:
        """An fd readable when a task started through the fork server has exited."""
        return self.server.fileno() if self.server is not None else None

    def capacity(self) -> int | None:
        return None

    def notices(self) -> list[str]:
        return []

    def honours(self, decorator: str) -> bool:
        return False

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None

    def _through_server(self, request: TaskRequest) -> TaskProcess:
        """Start the task through the fork server: started now if there is none, or again if
        it had died (a step may kill its parent). The pipe is made after the server, which so
        never holds a task's write end.

        A server that dies once it has the request may have forked the task (which then
        died with it, maybe after creating its log files): the attempt is not started again
        but ends as its server's other tasks do, killed (SIGKILL); @retry makes a new one."""
        for _ in range(2):
            if self.server is None:
                self.server = ForkServer(request.store_root)
            server = self.server
            read_fd, write_fd = os.pipe()
            try:
                return TaskProcess(server.start(request, write_fd), read_fd, server=server)
            except ForkFailed as e:  # the server lives on; this attempt has no process
                return not_started(read_fd, write_fd, e)
            except ForkServerRefused:  # gone before it had the request: start a new one
                os.close(read_fd)
                server.close()
                self.server = None
                continue
            except (ForkServerGone, OSError):  # gone after it: the task may have started
                server.close()
                self.server = None
                process = TaskProcess(-1, read_fd)  # and died with it, as far as known
                process._died_with_server(server)
                return process
            finally:
                os.close(write_fd)
        raise ForkServerGone("the fork server exited as it started, twice")

    def launch(self, request: TaskRequest) -> TaskProcess:
        if self.use_server:
            return self._through_server(request)
        read_fd, write_fd = os.pipe()
        if self.method == "fork":
            gc.freeze()  # the child's collector then skips the runner's objects: fewer COW copies
            try:
                pid = os.fork()
            except OSError as e:
                process = not_started(read_fd, write_fd, e)
                os.close(write_fd)
                return process
            if pid == 0:  # the task process
                os.close(read_fd)
                run_task_process(request, write_fd)  # never returns
            os.close(write_fd)
            return TaskProcess(pid, read_fd)
        popen = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from flowtui.engine.executor import spawned; spawned()",
                str(write_fd),
            ],
            stdin=subprocess.PIPE,
            pass_fds=(write_fd,),
            start_new_session=True,
        )
        os.close(write_fd)
        assert popen.stdin is not None
        # the fresh interpreter imports the flow: from the text this run checked, not the disk
        request = replace(request, source=checked_source(request.file))
        popen.stdin.write(pickle.dumps(request))
        popen.stdin.close()
        return TaskProcess(popen.pid, read_fd, popen)


def spawned() -> None:
    """Entry point of a spawned task process: the request arrives pickled on stdin."""
    request = pickle.loads(sys.stdin.buffer.read())
    run_task_process(request, int(sys.argv[1]))
