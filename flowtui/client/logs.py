"""A task's logs as bytes, read by offset: all of it now, or followed while the task runs.

Each attempt writes its own pair of files; following a task moves on to a retry's files as the
runner starts them, and stops once the task has finished (or its run has stopped).
"""

from __future__ import annotations

import time
from pathlib import Path

from flowtui.client.errors import LogMissingError, TaskUnfinishedError

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md)

if TYPE_CHECKING:  # `flowtui logs` reads a log by its path, without the client's objects
    from collections.abc import Iterator

    from flowtui.client.objects import Task

FOLLOW_POLL = 0.1  # seconds between looks at a followed log


def terminal_safe(data: bytes) -> bytes:
    """A log's bytes made inert for a terminal, as `flowtui run` echoes them: colours (SGR)
    kept; any other escape sequence and control character (a window title, a clipboard
    write, a cursor move, a bell) spelled out as `\\xNN`, so a task's output shown by
    `flowtui logs` cannot drive the user's terminal. Tab, newline, carriage return (a
    progress bar redrawn) are kept. A log written to a file or a pipe stays byte for byte."""
    import re  # only for a terminal: the plain `flowtui logs` path stays light

    controls = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]")
    if not controls.search(data):
        return data

    def spell(text: bytes) -> bytes:
        return controls.sub(lambda m: b"".join(b"\\x%02x" % c for c in m.group()), text)

    out, at = [], 0
    for sgr in re.finditer(rb"\x1b\[[0-9;:]*m", data):
        out += [spell(data[at : sgr.start()]), sgr.group()]
        at = sgr.end()
    out.append(spell(data[at:]))
    return b"".join(out)


def read_log(task: Task, stream: str) -> bytes:
    """The latest attempt's log of `stream` (stdout or stderr); empty before it starts.

    A task creates its log files as it starts, and the runner creates any its task did not
    before it records how the attempt ended; so a file missing from an ended attempt was
    deleted: that is said (`LogMissingError`), never shown as an empty log."""
    try:
        return log_bytes(task.log_path(stream), stream, task.pathspec)
    except LogMissingError:  # a missing file: whether the attempt has ended decides
        attempts = task._store.meta.attempts(task.id)
        if attempts and attempts[-1].finished is None:
            return b""  # its task creates it as it starts
        raise


def log_bytes(
    path: Path | str | None, stream: str, pathspec: str, *, running: bool = False
) -> bytes:
    """The log file at `path` (None: the attempt has not started: empty), read whole; a file
    that is not there is empty while its attempt is `running` (its task creates it as it
    starts), else said (`LogMissingError`)."""
    if path is None:
        return b""
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        if running:
            return b""
        raise _missing(stream, pathspec, path) from None


def _missing(stream: str, pathspec: str, path: Path | str) -> LogMissingError:
    return LogMissingError(
        f"The {stream} log of {pathspec} is missing from the store ({path} was "
        "deleted); its output is lost."
    )


def follow_log(
    task: Task, streams: tuple[str, ...], *, poll: float = FOLLOW_POLL
) -> Iterator[tuple[str, bytes]]:
    """Yield `(stream, new bytes)` as the task writes them, until it is done; then
    `TaskUnfinishedError` if it ended unfinished, its run stopped first (a follower must not
    take the end of its output for the task's end)."""
    store = task._store
    offsets: dict[Path, int] = {}
    while True:
        done = _stopped(task)  # decided before the last read, so nothing written is missed
        for attempt in store.meta.attempts(task.id):
            for stream in streams:
                path = Path(getattr(attempt, stream))
                try:
                    chunk = _read_from(path, offsets.get(path, 0))
                except FileNotFoundError:  # the task creates it as it starts
                    if attempt.finished is None:
                        continue
                    raise _missing(stream, task.pathspec, path) from None  # ended: deleted
                if chunk:
                    offsets[path] = offsets.get(path, 0) + len(chunk)
                    yield stream, chunk
        if done:
            if done is not True:
                raise TaskUnfinishedError(f"{task.pathspec} will not finish: {done}.")
            return
        time.sleep(poll)


def _stopped(task: Task) -> bool | str:
    """False while the task may still write; True once its end is recorded (whatever it
    was); else why it never will be (its run stopped first: a task of a crashed run reads as
    failed, but nothing recorded its end)."""
    meta = task._store.meta
    attempts = meta.attempts(task.id)
    if attempts and attempts[-1].finished is not None:
        return True
    run = meta.run(task._record.run_id)
    if run is None:
        return "its run is gone from the store"
    if run.status == "running":
        return False
    if run.status == "crashed":
        return "its run crashed (its runner died); `flowtui resume` runs what is left"
    return f"its run stopped first ({run.status})"


def _read_from(path: Path, offset: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read()
