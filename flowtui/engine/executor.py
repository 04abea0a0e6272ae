"""Executors start task processes. The local one forks the runner (which has the flow imported),
so a task starts in a millisecond or two; where fork is unavailable or unsafe it spawns a fresh
interpreter instead. Either way the task reports through a pipe and writes its own logs.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import subprocess
import sys
from dataclasses import dataclass

from flowtui.engine.task import TaskRequest, run_task_process


@dataclass
class TaskProcess:
    pid: int
    result_fd: int  # read end of the pipe the task writes its outcome to
    popen: subprocess.Popen[bytes] | None = None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the task and everything it started (it leads its own process group)."""
        for target in (lambda: os.killpg(self.pid, sig), lambda: os.kill(self.pid, sig)):
            try:
                target()
                return
            except (ProcessLookupError, PermissionError):
                continue

    def poll(self) -> int | None:
        """The `waitpid` status if the process has exited, else None (never blocks)."""
        if self.popen is not None:
            code = self.popen.poll()
            if code is None:
                return None
            return (-code) if code < 0 else (code << 8)
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return 0
        return status if pid else None

    def wait(self) -> int:
        """Block until the process has exited; returns a `waitpid` status."""
        if self.popen is not None:
            code = self.popen.wait()
            return (-code) if code < 0 else (code << 8)
        while True:
            try:
                _, status = os.waitpid(self.pid, 0)
                return status
            except InterruptedError:
                continue
            except ChildProcessError:
                return 0


def start_method() -> str:
    wanted = os.environ.get("FLOWTUI_START_METHOD", "").lower()
    if wanted in ("fork", "spawn"):
        return wanted
    return "fork" if hasattr(os, "fork") and sys.platform != "darwin" else "spawn"


class LocalExecutor:
    """Runs each task attempt in its own local process."""

    def __init__(self, method: str | None = None) -> None:
        self.method = method or start_method()

    def launch(self, request: TaskRequest) -> TaskProcess:
        read_fd, write_fd = os.pipe()
        if self.method == "fork":
            gc.freeze()  # the child's collector then skips the runner's objects: fewer COW copies
            pid = os.fork()
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
        popen.stdin.write(pickle.dumps(request))
        popen.stdin.close()
        return TaskProcess(popen.pid, read_fd, popen)


def spawned() -> None:
    """Entry point of a spawned task process: the request arrives pickled on stdin."""
    request = pickle.loads(sys.stdin.buffer.read())
    run_task_process(request, int(sys.argv[1]))
