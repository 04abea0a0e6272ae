"""A task's process: how it starts, what it writes to, how it ends.

The runner (or its fork server, `engine/forkserver.py`) forks a process per attempt and calls
`run_task_process`: the process leaves the runner's process group and signals, dies with its
parent, puts its stdout/stderr straight into the attempt's log files (fds 1 and 2), runs the
step (`engine/task.py`) and sends one JSON `TaskOutcome` through a pipe, then `os._exit`s.
What is the same for every task is done once in the fork server (`prepare_server`).

Every Python function a forked task runs costs it copied pages (the refcounts and bytecode it
writes): the path to the step calls as few as it can (docs/benchmarks.md, "Per-task cuts").
"""

from __future__ import annotations

import _signal
import atexit
import io
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

from flowtui.engine.task import TaskOutcome, TaskRequest, _run, set_store_in_environment
from flowtui.run.status import EXIT, TaskError
from flowtui.store import create_log

RESULT_PIPE_LOST = 113  # exit code: the step closed (or replaced) the result pipe's fd
INHERITED_FDS: set[int] = set()  # the runner's fds a forked task closes (the events stream)


def run_task_process(req: TaskRequest, result_fd: int, parent: int | None = None) -> None:
    """The body of a task process, forked by `parent` (default: the runner). Never returns:
    exits with os._exit."""
    global _task
    code = 0
    # try/except rather than contextlib.suppress, and _signal's signal, which does not wrap
    # the old handler in an enum (signal.signal's does; for the runner's handler, by raising)
    try:  # noqa: SIM105
        os.setpgid(0, 0)
    except OSError:
        pass
    _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
    _signal.signal(_signal.SIGTERM, _signal.SIG_DFL)
    if _signal.getsignal(_signal.SIGHUP) != _signal.SIG_IGN:  # (the runner's cancels; nohup's
        _signal.signal(_signal.SIGHUP, _signal.SIG_DFL)  # ignoring is kept, as a child's is)
    die_with_parent(parent or req.runner_pid)
    for fd in INHERITED_FDS:
        try:  # noqa: SIM105
            os.close(fd)
        except OSError:
            pass
    atexit._clear()  # the runner's exit handlers are the runner's; the task runs its own
    pipe = os.fstat(result_fd)
    me = os.getpid()
    _watch_endings(me, result_fd, req.step)
    try:
        _redirect_output(req)
        outcome = _run(req, note=_note_on(result_fd, pipe, me) if req.timeout else None)
        if os.getpid() == me:
            if not outcome.ok and outcome.error:
                sys.stderr.write(outcome.error.traceback)
            _end_as_an_interpreter_does()
    except BaseException as e:  # flowtui's own failure: still report it, never hang
        outcome = TaskOutcome.raised(e, traceback.format_exc())
        code = 1
    if os.getpid() != me:  # a process the step forked returned from it
        _end_forked_child(req.step)
    try:
        if not _same_file(result_fd, pipe):  # closed by the step, maybe reused for its file
            code = RESULT_PIPE_LOST
        else:
            data = (outcome.to_json() + "\n").encode()
            view = memoryview(data)
            while view:
                view = view[os.write(result_fd, view) :]
    except OSError:
        code = RESULT_PIPE_LOST
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:  # noqa: SIM105 - (no contextlib on the task's path)
                stream.flush()
            except Exception:
                pass
        _task = None  # flowtui's own end, not the step's
        os._exit(code)


def _note_on(result_fd: int, pipe: os.stat_result, me: int) -> Callable[[bytes], None]:
    """Sends the step clock's notes to the runner, on the result pipe while it is the pipe
    (the step may have closed it and opened a file of its own on its fd), from this process
    only (not one the step forked)."""

    def note(byte: bytes) -> None:
        if os.getpid() == me and _same_file(result_fd, pipe):
            try:  # noqa: SIM105
                os.write(result_fd, byte)
            except OSError:
                pass

    return note


def _end_forked_child(step: str) -> None:
    """A process the step forked (`os.fork()`) returned from the step: only the task's own
    process finishes it and sends its outcome. Say so in the task's log, and end."""
    try:
        sys.stderr.write(
            f"flowtui: a process step '{step}' forked (pid {os.getpid()}) returned from the "
            "step; only the task's own process finishes it, so this one ends here without "
            "sending an outcome: end a forked child with os._exit()\n"
        )
        sys.stderr.flush()
    except Exception:
        pass
    os._exit(0)


# The task this process runs, while it runs: (its pid, its result pipe's fd, its step).
_task: tuple[int, int, str] | None = None


def _watch_endings(pid: int, result_fd: int, step: str) -> None:
    """Have the ends the step may choose instead of returning (os.execv and os.execve, which
    every os.exec* function ends in; os._exit) send, from the task's own process, the outcome
    that says what the step did, before they do it: the process's exit is not the step's end.
    Installed once per process."""
    global _task
    _task = (pid, result_fd, step)
    if getattr(os._exit, "_flowtui", False):
        return
    for name in ("execv", "execve", "_exit"):
        setattr(os, name, _noting(name, getattr(os, name)))


def _noting(name: str, real: Any) -> Any:
    def noting(*args: Any) -> Any:
        if _task is not None and os.getpid() == _task[0]:
            step = _task[2]
            if name == "_exit":
                kind, message = (
                    "ProcessExit",
                    (
                        f"step '{step}' called os._exit({args[0] if args else ''}), so the step "
                        "never finished; raise an exception to fail it, or let it return"
                    ),
                )
            else:
                kind, message = (
                    "ProcessReplaced",
                    (
                        f"step '{step}' replaced its process with another program "
                        f"({os.fsdecode(args[0])}, by os.{name}), so the step never finished; run "
                        "the program with subprocess.run instead"
                    ),
                )
            outcome = TaskOutcome(ok=False, error=TaskError(kind, message, reason=EXIT))
            try:  # noqa: SIM105 - a failed exec raises, and the step's own outcome follows
                os.write(_task[1], (outcome.to_json() + "\n").encode())
            except OSError:
                pass
        return real(*args)

    noting._flowtui = True  # type: ignore[attr-defined]
    return noting


def _end_as_an_interpreter_does() -> None:
    """What an interpreter does at its end and `os._exit` skips, as a Metaflow task's own
    interpreter does it: threading's shutdown (its exit hooks first, so a thread pool left in
    a global is told to stop; then every non-daemon thread the step started is waited for),
    then the exit handlers the step registered (a wandb or MLflow run flushing, an upload
    finishing). Their output goes to the task's logs, before the task is recorded as ended.
    `threading._shutdown` is what the interpreter calls (and multiprocessing's forked
    children)."""
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()


def _same_file(fd: int, was: os.stat_result) -> bool:
    try:
        now = os.fstat(fd)
    except OSError:
        return False
    return (now.st_dev, now.st_ino) == (was.st_dev, was.st_ino)


def _find_prctl() -> Any:
    """libc's prctl, looked up once in the runner (so a forked task does not import ctypes)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_prctl = _find_prctl()


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to kill this process if its parent (`parent_pid`: the runner, or the fork
    server that forked this task) dies: a task must never outlive its run."""
    if _prctl is None:
        return
    _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:  # the parent died before the request above took effect
        os._exit(1)


def _redirect_output(req: TaskRequest) -> None:
    """fd 0 reads /dev/null; fds 1 and 2 append to the attempt's new log files; sys.stdin,
    sys.stdout and sys.stderr are text streams over them (made here, unless the fork server
    made them once for all its tasks: `prepare_server`)."""
    if not _streams_ready:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
    for fd, path in ((1, req.stdout), (2, req.stderr)):
        target = create_log(path)
        os.dup2(target, fd)
        os.close(target)
    if not _streams_ready:
        _text_streams()


_streams_ready = False  # the fork server's: fd 0 is /dev/null, the text streams are made


def prepare_server(store_root: str) -> None:
    """In the fork server, once, what would be the same in each task it forks: FLOWTUI_STORE
    set to the run's store; fds 0-2 on /dev/null (it never reads nor prints) and the tasks'
    text streams made over them. A task inherits them, and only puts its log files on fds 1
    and 2: the streams, fresh and empty, then write to them."""
    global _streams_ready
    set_store_in_environment(store_root)
    for fd, flags in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY)):
        devnull = os.open(os.devnull, flags)
        os.dup2(devnull, fd)
        os.close(devnull)
    _text_streams()  # as over a log file: /dev/null is seekable, at 0, as a new log is
    _streams_ready = True


def _text_streams() -> None:
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - /dev/null, for the process's life
    sys.stdout = io.TextIOWrapper(
        io.FileIO(1, "w", closefd=False),
        encoding="utf-8",
        errors="backslashreplace",
        line_buffering=True,
        write_through=True,
    )
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False),
        encoding="utf-8",
        errors="backslashreplace",
        line_buffering=True,
        write_through=True,
    )
