"""Echoing tasks' log files to the console without ever holding up the run.

The runner's loop only says which log to follow (`ConsoleWriter.follow`); a thread of the
writer reads the file from where it stopped and prints the new lines, then any messages queued
after it, in order. The log file is the buffer, so memory stays bounded and nothing is lost
while the console is slow or blocked (a paused terminal, a pipe nobody reads). A console more
than `BEHIND` bytes behind a log skips ahead to its last `KEEP` bytes and says how many lines
it skipped (`flowtui logs` has them all). A closed stdout (`flowtui run F | head`) detaches the
console: the run goes on and is recorded in full.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.style import Style
from rich.text import Span, Text

from flowtui.forksafe import quiet
from flowtui.run.artifacts import CONTROL_ESCAPES

BEHIND = 8 << 20  # bytes of a log the console may lag behind before it skips ahead
KEEP = 64 << 10  # bytes of the end of a log shown after a skip (a few thousand lines)
_CHUNK = 256 << 10  # bytes read at a time (the skip-ahead check runs between them)


@dataclass
class Tail:
    """Where the console is in one task's stdout or stderr log."""

    label: str  # how its lines are prefixed: step[index]/task
    path: str
    style: str
    pathspec: str = ""
    offset: int = 0
    partial: bytes = b""
    queued: bool = False  # a job to follow it waits in the writer's queue


def echo_tail(tail: Tail, final: bool, emit: Callable[[Any], None]) -> None:
    """Print (through `emit`) the lines written to `tail` since last time; when `final`, the
    last line even without its newline. Skips ahead when far behind."""
    try:
        f = open(tail.path, "rb")  # noqa: SIM115 - closed below
    except OSError:
        return
    with f:
        while True:
            end = os.fstat(f.fileno()).st_size  # again for every chunk: the task may write on
            if end - tail.offset > BEHIND:
                _skip(f, tail, end - KEEP, emit)
            f.seek(tail.offset)
            data = f.read(_CHUNK)
            tail.offset += len(data)
            last = final and len(data) < _CHUNK
            lines = (tail.partial + data).split(b"\n")
            tail.partial = lines.pop()
            if last and tail.partial:
                lines.append(tail.partial)
                tail.partial = b""
            for raw in lines:
                line = redrawn(raw.decode("utf-8", errors="replace"))
                emit(Text.assemble((f"{tail.label} ", "dim cyan"), task_text(line, tail.style)))
            if len(data) < _CHUNK:
                return


def redrawn(line: str) -> str:
    """What a terminal would show of a line redrawn in place with carriage returns (a
    progress bar: tqdm, Keras): its last drawing, as the TUI's log view shows it, not every
    drawing run together with each `\\r` spelled out."""
    line = line.rstrip("\r")
    if "\r" in line:
        line = next((part for part in reversed(line.split("\r")) if part), "")
    return line


_CONTROLS = {**CONTROL_ESCAPES, 0x09: "\t"}  # a log line keeps its tabs


def task_text(line: str, style: str) -> Text:
    """A line of a task's output as inert text: colours (SGR) are kept, any other escape
    sequence (a window title, a hyperlink, a cursor move) is dropped, and control characters
    are shown escaped, so a task can never drive the user's terminal."""
    if "\x1b" in line:
        text = Text.from_ansi(line, style=style)
        if text.plain == text.plain.translate(_CONTROLS):
            text.spans = [  # hyperlinks (OSC 8) are a task driving the terminal too
                Span(sp.start, sp.end, sp.style.update_link(None))
                if isinstance(sp.style, Style) and sp.style.link
                else sp
                for sp in text.spans
            ]
            return text
    return Text(line.translate(_CONTROLS), style=style)


def _skip(f: Any, tail: Tail, to: int, emit: Callable[[Any], None]) -> None:
    """Move `tail` to the first line starting at or after `to`, counting the lines passed."""
    f.seek(tail.offset)
    skipped = 0
    while tail.offset < to:
        data = f.read(min(_CHUNK, to - tail.offset))
        if not data:
            break
        skipped += data.count(b"\n")
        tail.offset += len(data)
    rest = f.readline()  # finish the line cut at `to`
    tail.offset += len(rest)
    skipped += rest.endswith(b"\n")
    tail.partial = b""
    emit(
        Text(
            f"… {skipped:,} lines of {tail.label} skipped (the console fell behind); "
            f"flowtui logs {tail.pathspec} has them all",
            style="yellow",
        )
    )


class ConsoleWriter:
    """Prints from its own thread, in order: messages (`put`) and new lines of logs (`follow`)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.detached = False
        self._queue: queue.SimpleQueue[tuple[Any, Tail | None, bool] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="flowtui-console", daemon=True)
        self._thread.start()

    def put(self, renderable: Any) -> None:
        self._queue.put((renderable, None, False))

    def flush(self, timeout: float = 10.0) -> None:
        """Return once everything queued so far is printed (or after `timeout` seconds)."""
        printed = threading.Event()
        self._queue.put((printed, None, False))
        printed.wait(timeout)

    def follow(self, tail: Tail, final: bool = False) -> None:
        """Print what `tail` has that is new (all of it, when `final`): soon, never now."""
        if tail.queued and not final:
            return
        tail.queued = True
        self._queue.put((None, tail, final))

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            renderable, tail, final = item
            if isinstance(renderable, threading.Event):  # flush(): all before it is printed
                renderable.set()
                continue
            if tail is not None:
                tail.queued = False
            if self.detached:
                continue
            try:
                if tail is None:
                    self._print(renderable)
                else:
                    echo_tail(tail, final, self._print)
            except (OSError, SystemExit):  # the reader of stdout went away (rich raises
                self.detach()  # SystemExit on a broken pipe, after silencing stdout)

    def _print(self, renderable: Any) -> None:
        if self.console.is_terminal:
            with quiet():  # a task forked meanwhile would inherit the console's locks held
                self.console.print(renderable, soft_wrap=True)
            return
        # A pipe or a file: rendered under the fork gate, written after it is let go. A pipe
        # nobody reads blocks the write; with the gate held, every thread that needs it (the
        # heartbeat's beat, the runner stopping the heartbeat, a fork) waited on the reader.
        with quiet(), self.console.capture() as captured:
            self.console.print(renderable, soft_wrap=True)
        self.console.file.write(captured.get())
        self.console.file.flush()

    def detach(self) -> None:
        """Stop writing to a closed stdout or a terminal gone (silently ever after); the run
        goes on."""
        self.detached = True
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.console.file.fileno())
            os.close(devnull)
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(
                "flowtui: the console's output was closed; the run goes on detached "
                "(flowtui runs and flowtui logs show all of it).\n"
            )
            sys.stderr.flush()

    def close(self) -> None:
        """Print everything still queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join()
