"""`breakpoint()` inside a step: the task waits for a debugger, and a terminal attaches to it.

A task's stdin is /dev/null and its output goes to log files, so pdb cannot talk to the user
directly. Instead `breakpoint()` in a task (this module's hook, installed in every task process)
listens on a Unix socket named after the store and the task, and blocks until someone connects:
- `flowtui run` in a terminal notices the socket and gives that task the terminal (its other
  tasks keep running; their output is held back until the debugger lets go);
- the TUI is told by a `task_waiting` event, and `D` runs `flowtui debug` on the task, which
  finds the socket and attaches the user's terminal to it.
Continuing (`c`) or closing the terminal detaches, and the step carries on. A run nobody attaches
to can still be cancelled (the task dies with its process group). `--no-debug`,
`PYTHONBREAKPOINT=0`, or a run with no terminal to debug in make `breakpoint()` a no-op that
says so in the task's log.

The socket sits in a private (0700) folder of the temp dir, as Unix socket paths are short.
"""

from __future__ import annotations

import code
import contextlib
import hashlib
import os
import pdb
import select
import signal
import socket
import struct
import sys
import tempfile
import traceback
from pathlib import Path
from types import FrameType
from typing import IO, Any

from flowtui.run.status import QUIT, TaskError

WAIT = "wait"  # breakpoint() waits for a debugger to attach
OFF = "off"  # breakpoint() is a no-op (said in the log): --no-debug
NO_TERMINAL = "no-terminal"  # a no-op too: the run has no terminal to lend (stdin or stdout)
_SKIP = ["flowtui.*", "cloudpickle.*"]


def socket_dir() -> Path:
    folder = Path(tempfile.gettempdir()) / f"flowtui-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def socket_path(store_root: str, task_id: str) -> str:
    """Where the task `task_id` of the store at `store_root` waits while at a breakpoint."""
    digest = hashlib.sha256(os.path.realpath(store_root).encode()).hexdigest()[:12]
    return str(socket_dir() / f"{digest}-{task_id}.sock")


def breakpoint_hook() -> str:
    """What `$PYTHONBREAKPOINT` names (`0`: breakpoints off; `ipdb.set_trace`; empty: unset)."""
    return os.environ.get("PYTHONBREAKPOINT", "").strip()


def _wait_identity(store_root: str, task_id: str) -> tuple[int, int] | None:
    """Which wait the task is in (its socket's inode and time), None when it is not waiting:
    a task that stops at a second breakpoint() waits on a new socket at the same path."""
    try:
        st = os.stat(socket_path(store_root, task_id))
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def install(store_root: str, task_id: str, mode: str) -> None:
    """Make `breakpoint()` in this (task) process wait for a debugger, or do nothing."""

    def hook(*args: Any, **kwargs: Any) -> None:
        frame = sys._getframe(1)
        where = f"{frame.f_code.co_filename}:{frame.f_lineno}"
        if mode != WAIT or breakpoint_hook() == "0":
            print(f"flowtui: breakpoint() at {where} skipped ({_SKIPPED[mode]}).", file=sys.stderr)
            return
        if SocketPdb.attached is not None:  # reached while stepping: the same debugger stops
            sys.settrace(None)  # here (a new socket would wait for nobody); never in bdb's
            SocketPdb.attached.set_trace(frame)  # own lines on the way
            return
        signal.setitimer(signal.ITIMER_REAL, 0)  # time in a debugger is not the step's: no @timeout
        wait_for_debugger(socket_path(store_root, task_id), frame, where)

    sys.breakpointhook = hook


def wait_for_debugger(path: str, frame: FrameType, where: str) -> None:
    """Listen on `path` until a debugger connects, then run pdb over that connection."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # left by an earlier attempt of this task
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(path)
        server.listen(1)
        print(f"flowtui: breakpoint() at {where}: waiting for a debugger.", file=sys.stderr)
        conn, _ = server.accept()
    finally:
        server.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    SocketPdb(conn).set_trace(frame)


class SocketPdb(pdb.Pdb):
    """pdb talking over a socket; continuing (or the other end going away) detaches it."""

    attached: SocketPdb | None = None  # the debugger a terminal is attached to, in this task

    def __init__(self, conn: socket.socket) -> None:
        self._conn = conn
        # Two streams: a text stream that is written to drops what it had read ahead, which
        # would lose lines typed (or pasted) before pdb asked for them.
        self._input = _TerminalLines(conn.makefile("r", encoding="utf-8", errors="replace"))
        self._output: IO[str] = conn.makefile("w", encoding="utf-8", errors="replace")
        super().__init__(stdin=self._input, stdout=self._output, skip=_SKIP)  # type: ignore[arg-type]
        self.use_rawinput = False
        SocketPdb.attached = self
        # The terminal's Ctrl-C is sent here while attached (`attach`): pdb's own meaning, a
        # KeyboardInterrupt (at the prompt: a new prompt; in a line stepped over: stop it).
        self._sigint = _set_sigint(signal.default_int_handler)

    def _detach(self) -> None:
        SocketPdb.attached = None
        _set_sigint(self._sigint)
        self.clear_all_breaks()  # nobody to stop for any more
        for stream in (self._output, self._input):
            with contextlib.suppress(OSError):
                stream.close()
        with contextlib.suppress(OSError):
            self._conn.close()

    def do_continue(self, arg: str) -> bool | None:
        self.message("flowtui: detached; the step continues.")
        with contextlib.suppress(OSError):
            self._output.flush()
        result = super().do_continue(arg)
        self._detach()
        return result

    do_c = do_cont = do_continue

    def do_EOF(self, arg: str) -> bool | None:
        return self.do_continue(arg)

    def do_quit(self, arg: str) -> bool | None:
        result = super().do_quit(arg)
        self._detach()
        return result

    do_q = do_exit = do_quit

    def do_interact(self, arg: str) -> None:
        """interact
        Start a Python console with the current frame's names, on this terminal; Ctrl-D
        returns to pdb. (pdb's own reads the task's stdin, which is empty.)"""
        assert self.curframe is not None
        names = {**self.curframe.f_globals, **self.curframe_locals}
        console = _SocketConsole(names, self._input, self._output)
        console.interact("*interactive* (Ctrl-D returns to pdb)", "now back in pdb")


END_OF_INPUT = "\x04\n"  # `attach` sends this line for a Ctrl-D at a terminal: one end of input


class _TerminalLines:
    """The debugger's lines from the terminal: a Ctrl-D there reads as one end of input (it
    ends `interact`, or continues the step at pdb's prompt), as it would at a terminal."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def readline(self, size: int = -1) -> str:
        line = self._stream.readline(size)
        return "" if line == END_OF_INPUT else line

    def close(self) -> None:
        self._stream.close()


class _SocketConsole(code.InteractiveConsole):
    """pdb's `interact` over the socket: reads its lines, writes its output and prints there."""

    def __init__(self, names: dict[str, Any], lines: _TerminalLines, output: IO[str]) -> None:
        super().__init__(names)
        self._lines = lines
        self._output = output

    def raw_input(self, prompt: str = "") -> str:
        self.write(prompt)
        line = self._lines.readline()
        if not line:
            raise EOFError
        return line.rstrip("\r\n")

    def write(self, data: str) -> None:
        self._output.write(data)
        self._output.flush()

    def runcode(self, code: Any) -> None:
        hook, sys.excepthook = sys.excepthook, sys.__excepthook__  # the console's tracebacks
        try:  # (from the line typed on, as at a terminal; another hook prints them whole)
            with contextlib.redirect_stdout(self._output), contextlib.redirect_stderr(self._output):
                super().runcode(code)
        finally:
            sys.excepthook = hook
        self._output.flush()


def _set_sigint(handler: Any) -> Any:
    """Set SIGINT's handler (in the main thread only); the one it had, None if unchanged."""
    if handler is None:
        return None
    try:
        return signal.signal(signal.SIGINT, handler)
    except ValueError:  # breakpoint() in a thread of the step's: Ctrl-C cannot be taken there
        return None


def _peer_pid(conn: socket.socket) -> int | None:
    """The process at the other end of a Unix socket (Linux), None where it cannot be told."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid = struct.unpack("3i", creds)[0]
    return pid or None


def quit_error(e: BaseException) -> TaskError:
    """A step stopped by `q` at a breakpoint(): where it stood, without the debugger's own
    frames (bdb's BdbQuit traceback ended in bdb.py's lines)."""
    from flowtui.engine.loader import user_traceback

    lines = user_traceback(e)
    frames = [
        f
        for f in traceback.extract_tb(e.__traceback__)
        if os.path.basename(f.filename) not in ("bdb.py", "pdb.py")
    ]
    kept = [line for line in lines[1:-1] if '/bdb.py"' not in line and '/pdb.py"' not in line]
    where = f" at line {frames[-1].lineno}" if frames else ""
    message = f"you quit the debugger (q){where}; the step stopped there"
    text = "".join([lines[0], *kept, f"bdb.BdbQuit: {message}\n"])
    return TaskError("BdbQuit", message, text, reason=QUIT, module="bdb")  # never retried


def _catches_sigint(pid: int) -> bool:
    """Whether process `pid` has a handler for SIGINT (Linux's /proc says; True elsewhere)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    except (OSError, ValueError):
        pass
    return True


class NotWaiting(Exception):
    """The task is not (or no longer) waiting at a breakpoint."""


def attach(path: str, stdin: int | None = None, stdout: int | None = None) -> None:
    """Connect this terminal to the debugger of the task waiting at `path`, until it detaches.

    Lines typed go to pdb; what pdb writes is shown, and Ctrl-C is pdb's (sent to the task, as
    it would reach a pdb running here), not this process's. Returns when pdb lets go (`c`,
    `q`) or the task ends. Ctrl-D sends end of input, which continues the step."""
    stdin = sys.stdin.fileno() if stdin is None else stdin
    stdout = sys.stdout.fileno() if stdout is None else stdout
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except (FileNotFoundError, ConnectionRefusedError):
        conn.close()
        raise NotWaiting(path) from None
    task = _peer_pid(conn)

    def to_the_task(signum: int, frame: Any) -> None:
        if task is not None and _catches_sigint(task):  # else it would kill the task (pdb
            with contextlib.suppress(OSError):  # in a thread of the step's cannot take it)
                os.kill(task, signal.SIGINT)

    previous = _set_sigint(to_the_task) if task is not None else None
    try:
        _relay(conn, stdin, stdout)
    finally:
        _set_sigint(previous)


def _relay(conn: socket.socket, stdin: int, stdout: int) -> None:
    """Copy the terminal's input to the debugger and its output back, until it lets go."""
    reading = True
    with conn:
        while True:
            watched: list[socket.socket | int] = [conn, stdin] if reading else [conn]
            ready, _, _ = select.select(watched, [], [])
            if conn in ready:
                data = conn.recv(1 << 16)
                if not data:
                    return
                os.write(stdout, data)
            if reading and stdin in ready:
                data = os.read(stdin, 1 << 16)
                if data:
                    conn.sendall(data)
                elif os.isatty(stdin):  # Ctrl-D: one end of input (the terminal reads on)
                    conn.sendall(END_OF_INPUT.encode())
                else:
                    reading = False
                    conn.shutdown(socket.SHUT_WR)


class BreakpointWatch:
    """The runner's view of which of its running tasks wait at a breakpoint (polled)."""

    EVERY = 0.2  # seconds between looks

    def __init__(self, store_root: str) -> None:
        self.store_root = store_root
        self.waiting: dict[str, tuple[int, int]] = {}  # task id -> the wait it is in
        self._last = 0.0

    def changes(self, task_ids: list[str], now: float) -> list[tuple[str, bool]]:
        """(task id, waiting now) for each running task that started or stopped waiting, or
        waits again: the runner, paused while a terminal was attached, never saw the task
        leave its first breakpoint() before it reached the next."""
        if now - self._last < self.EVERY:
            return []
        self._last = now
        out = []
        for task_id in task_ids:
            wait = _wait_identity(self.store_root, task_id)
            if wait != self.waiting.get(task_id):
                out.append((task_id, wait is not None))
                if wait is None:
                    del self.waiting[task_id]
                else:
                    self.waiting[task_id] = wait
        for task_id in set(self.waiting) - set(task_ids):  # ended while waiting (cancelled)
            del self.waiting[task_id]
        return out


def give_terminal(console: Any, pathspec: str, path: str) -> None:
    """`flowtui run` at a terminal: attach it to the task waiting at `path` until it detaches."""
    from rich.text import Text

    if not (sys.stdin.isatty() and console.is_terminal):
        console.print(
            Text(f"{pathspec} waits in breakpoint(); attach with: flowtui debug {pathspec}"),
            style="yellow",
        )
        return
    console.print(
        Text(
            f"⏸ {pathspec} stopped at breakpoint(): the debugger has the terminal (c continues, "
            "q stops the step, Ctrl-C interrupts it); other tasks keep running, their output "
            "held back until you continue.",
            style="bold yellow",
        )
    )
    hook = breakpoint_hook()
    if hook and hook not in ("0", "pdb.set_trace"):  # another debugger asked for
        console.print(
            Text(
                f"PYTHONBREAKPOINT names {hook}: a run's breakpoint() is pdb, over the task's "
                f"socket ({hook} is what flowtui debug opens on a failed task).",
                style="dim",
            )
        )
    try:
        attach(path)
    except NotWaiting:
        console.print(Text(f"{pathspec} no longer waits (another terminal attached?).", "dim"))


# Why a breakpoint() was skipped, as the task's log says it (PYTHONBREAKPOINT=0 under WAIT).
_SKIPPED = {
    WAIT: "PYTHONBREAKPOINT=0",
    OFF: "--no-debug",
    NO_TERMINAL: "this run has no terminal to lend the debugger: run it in a terminal, or stop "
    "there afterwards with flowtui debug RUN/STEP --break",
}


def breakpoint_mode(*, events: bool, no_debug: bool) -> str:
    """Whether breakpoint() in this run's tasks waits: for the TUI (events) or a terminal."""
    if no_debug:
        return OFF
    if events:
        return WAIT
    return WAIT if sys.stdin.isatty() and sys.stdout.isatty() else NO_TERMINAL
