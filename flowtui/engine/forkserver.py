"""The fork server: a process forked from the runner once, that forks the task processes.

Forking from the runner costs it on every task: `fork()` write-protects its whole heap, so
every page its loop then writes (the store, the events, the scheduler) is copied, ~500 pages a
task. The server is forked when the first task starts (the flow is imported by then) and then
does as little as it can: it receives a request as bytes with the write end of the attempt's
result pipe (`SCM_RIGHTS`), forks, and answers the child's pid; the child unpickles the request
and runs the task as a child of the runner's would (`run_task_process`). When a child exits
(its pidfd becomes readable) the server reaps it and sends its exit status and resource usage:
the runner cannot `wait4` a process that is not its own child. What is the same for every
task is done once, in the server: fds 0-2 go to /dev/null and the tasks' text streams are made
over them, and FLOWTUI_STORE set (`prepare_server`), so a task only puts its two log files
on fds 1 and 2.

Dying together: the server asks Linux to kill it when the runner dies and each task to be
killed when the server dies (`PR_SET_PDEATHSIG` in both), so no task outlives its runner; when
the runner closes its end of the socket the server exits. A step that kills its parent kills
the server: its tasks die with it and fail (SIGKILL), and the next task starts a new server.

Linux only (`os.pidfd_open`); elsewhere the runner forks the tasks itself (`available`).
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import pickle
import select
import signal
import socket
import struct
from types import SimpleNamespace
from typing import Any

from flowtui.engine.task import TaskRequest
from flowtui.engine.task_process import (
    INHERITED_FDS,
    die_with_parent,
    prepare_server,
    run_task_process,
)

_EXIT = struct.Struct("=iidd q")  # pid, waitpid status, user CPU, system CPU, max RSS (KiB)
_PID = struct.Struct("=i")
_LEN = struct.Struct("=Q")
_CHUNK = 1 << 15  # a request is sent in packets of this size at most


def available() -> bool:
    """Whether tasks can be forked through a server here (else the runner forks them)."""
    return hasattr(os, "pidfd_open") and os.environ.get("FLOWTUI_FORK_SERVER", "1") != "0"


class ForkServerGone(RuntimeError):
    pass


class ForkFailed(OSError):
    """The server could not fork the task's process (too many processes, too little memory);
    it serves on."""


class ForkServerRefused(ForkServerGone):
    """The server was gone before it had the whole request: it forked nothing for it."""


class ForkServer:
    """The runner's end: start tasks through the server, learn how they ended."""

    def __init__(self, store_root: str) -> None:
        """Fork the server for the tasks of a run in the store at `store_root`."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        runner = os.getpid()
        gc.freeze()  # the server and its children then leave the runner's objects alone
        pid = os.fork()
        if pid == 0:  # the server
            ours.close()
            _serve(theirs, runner, store_root)  # never returns
        theirs.close()
        self.pid = pid
        self.sock = ours
        self.exits: dict[int, tuple[int, Any]] = {}  # pid -> (status, rusage) not yet claimed
        self.status: int | None = None  # its own waitpid status, once it has gone

    def fileno(self) -> int:
        """Readable when a task has exited (or the server has gone)."""
        return self.sock.fileno()

    def start(self, request: TaskRequest, write_fd: int) -> int:
        """Fork a task for `request`; its pid. `write_fd` is its result pipe's write end."""
        data = pickle.dumps(request, pickle.HIGHEST_PROTOCOL)
        try:  # one packet, or (a join's request holds every input's artifact map) several
            socket.send_fds(self.sock, [_LEN.pack(len(data)), data[:_CHUNK]], [write_fd])
            for at in range(_CHUNK, len(data), _CHUNK):
                self.sock.sendall(data[at : at + _CHUNK])
        except OSError as e:  # it forks once it has read the whole request
            raise ForkServerRefused(f"the fork server exited ({e})") from None
        while True:
            message = self.sock.recv(64)
            if not message:
                raise ForkServerGone("the fork server exited")
            if len(message) == _PID.size:
                pid = int(_PID.unpack(message)[0])
                if pid < 0:  # the server's fork failed with errno -pid
                    raise ForkFailed(-pid, os.strerror(-pid))
                return pid
            self._keep(message)

    def _keep(self, message: bytes) -> None:
        pid, status, utime, stime, maxrss = _EXIT.unpack(message)
        usage = SimpleNamespace(ru_utime=utime, ru_stime=stime, ru_maxrss=maxrss)
        self.exits[pid] = (status, usage)

    def exited(self, pid: int) -> tuple[int, Any] | None:
        """`pid`'s (waitpid status, rusage) once it has exited, else None (never blocks)."""
        if pid not in self.exits:
            with contextlib.suppress(BlockingIOError, InterruptedError):
                while True:  # every exit reported so far
                    message = self.sock.recv(64, socket.MSG_DONTWAIT)
                    if not message:
                        raise ForkServerGone("the fork server exited")
                    self._keep(message)
        return self.exits.pop(pid, None)

    def wait(self, pid: int) -> tuple[int, Any]:
        """Block until `pid` has exited: its (waitpid status, rusage)."""
        while pid not in self.exits:
            message = self.sock.recv(64)
            if not message:
                raise ForkServerGone("the fork server exited")
            if len(message) == _EXIT.size:
                self._keep(message)
        return self.exits.pop(pid)

    def ended(self) -> int | None:
        """The server's `waitpid` status once it has gone (its socket closed): it is reaped
        here (None: reaped before, not known)."""
        if self.status is None:
            with contextlib.suppress(ChildProcessError, InterruptedError):
                self.status = os.waitpid(self.pid, 0)[1]
        return self.status

    def close(self) -> None:
        """Let the server go (it exits when its socket closes) and reap it."""
        with contextlib.suppress(OSError):
            self.sock.close()
        self.ended()


def _serve(sock: socket.socket, runner: int, store_root: str) -> None:
    """The server's loop: fork a task per request, report each child's exit. Never returns."""
    try:
        # Signals to the runner's process group (Ctrl-C at its terminal) are the runner's to
        # handle: it stops its tasks, then lets the server go.
        with contextlib.suppress(OSError):
            os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a task sets its own (run_task_process)
        die_with_parent(runner)
        for fd in INHERITED_FDS:
            with contextlib.suppress(OSError):
                os.close(fd)
        INHERITED_FDS.clear()  # closed here: a task's result fd may come to reuse the number
        prepare_server(store_root)  # once: each task then only opens its log files
        me, listen = os.getpid(), sock.fileno()
        children: dict[int, int] = {}  # pidfd -> pid
        while True:
            try:
                readable, _, _ = select.select([listen, *children], [], [])
            except InterruptedError:
                continue
            for pidfd in readable:
                if pidfd != listen:
                    pid = children.pop(pidfd)
                    os.close(pidfd)
                    _, status, use = os.wait4(pid, 0)
                    sock.send(_EXIT.pack(pid, status, use.ru_utime, use.ru_stime, use.ru_maxrss))
            if listen not in readable:
                continue
            first, fds, _, _ = socket.recv_fds(sock, _LEN.size + _CHUNK, 1)
            if not first:
                break
            # SCM_RIGHTS does not mark it close-on-exec (nor can recv_fds ask it to): else a
            # program the step starts would hold the task's result pipe
            os.set_inheritable(fds[0], False)
            (size,) = _LEN.unpack_from(first)
            parts, got = [first], len(first) - _LEN.size
            while got < size:
                parts.append(sock.recv(_CHUNK))
                got += len(parts[-1])
            try:
                pid = os.fork()
            except OSError as e:  # no process to be had: this request fails, not the server
                os.close(fds[0])
                sock.send(_PID.pack(-(e.errno or errno.EAGAIN)))
                continue
            if pid == 0:  # the task: the request is unpickled here, not in the server
                sock.close()
                for pidfd in children:
                    os.close(pidfd)
                request = pickle.loads(b"".join(parts)[_LEN.size :])
                run_task_process(request, fds[0], parent=me)  # never returns
            os.close(fds[0])
            children[os.pidfd_open(pid)] = pid
            sock.send(_PID.pack(pid))
        os._exit(0)
    except BaseException:  # the runner let go (or died): nothing is left to serve
        os._exit(1)
