"""How a run tells the outside world what happens: JSON events, or a console for people.

`EventReporter` writes docs/events.md's stream (for the TUI). `ConsoleReporter` shows each
task's output as it is written, prefixed by its task, a live progress line on a terminal (plain
lines elsewhere), and a summary at the end. It prints from a thread (`echo.ConsoleWriter`), so
a slow, blocked or closed console never holds up or fails the run.
"""

from __future__ import annotations

import contextlib
import os
import select
import shlex
import stat
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from flowtui.engine.echo import ConsoleWriter, Tail, echo_tail
from flowtui.engine.task_process import INHERITED_FDS
from flowtui.graph.model import FlowGraph
from flowtui.run.events import (
    Event,
    Notice,
    RunFinished,
    RunStarted,
    StepExpanded,
    TaskCloned,
    TaskFailed,
    TaskFinished,
    TaskStarted,
    TaskWaiting,
    encode_event,
)
from flowtui.run.labels import RUN_GLYPHS
from flowtui.run.splits import splits_asked
from flowtui.run.status import CLUSTER_LOST, RunStatus, TaskError
from flowtui.store import find_store_root
from flowtui.store.records import LOST_VALUE
from flowtui.units import human_duration, human_size


class Reporter:
    """Receives every event of a run. The base class ignores them all."""

    def prepare(self, graph: FlowGraph | None, file: str | None) -> None:
        """Called once before the run starts, with what a console needs to draw it."""

    def report(self, event: Event) -> None: ...

    def tick(self) -> None:
        """Called by the runner's loop about ten times a second."""

    @contextmanager
    def batched(self) -> Iterator[None]:
        """The calls made inside are one group (an event stream sends them in one write)."""
        yield

    def close(self) -> None:
        """Called once the run is over (whatever happened): finish any output."""


class EventReporter(Reporter):
    """Writes the event stream of docs/events.md."""

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or _own_stdout()
        self._closed = False
        self._held = False

    @contextmanager
    def batched(self) -> Iterator[None]:
        self._held = True
        try:
            yield
        finally:
            self._held = False
            self._send(None)

    def report(self, event: Event) -> None:
        self._send(encode_event(event) + "\n")

    def _send(self, line: str | None) -> None:
        """Write `line`, and flush unless a batch is being written (None: flush only)."""
        if self._closed:
            return
        try:
            if line is not None:
                self.out.write(line)
            if not self._held:
                self.out.flush()
        except BrokenPipeError:
            # Whoever followed the run has gone (a TUI left it running, or closed): the run
            # goes on, recorded in the store; the stream, and stdout/stderr when they were the
            # same reader's pipes, now lead nowhere, so no later write fails.
            self._closed = True
            _to_devnull(self.out.fileno(), *(fd for fd in (1, 2) if _reader_gone(fd)))


def _reader_gone(fd: int) -> bool:
    """Whether `fd` is a pipe whose reading end is closed (a write would fail)."""
    try:
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return False
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        return any(event & select.POLLERR for _, event in poller.poll(0))
    except (OSError, AttributeError):  # no poll() on this platform
        return False


def _to_devnull(*fds: int) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _own_stdout() -> IO[str]:
    """The events' own stream: the process's stdout moves to a new fd, and fd 1 becomes
    stderr, so whatever the flow prints (at import, or in the runner) never enters the
    stream. Task processes close the new fd."""
    sys.stdout.flush()
    events = os.dup(1)
    os.dup2(2, 1)
    INHERITED_FDS.add(events)
    return os.fdopen(events, "w", encoding="utf-8", errors="replace", buffering=1)


@dataclass
class _StepCount:
    done: int = 0
    running: int = 0
    failed: int = 0
    cloned: int = 0
    expected: int | None = None


@dataclass
class ConsoleReporter(Reporter):
    """For people at a terminal (or reading a CI log)."""

    console: Console = field(default_factory=lambda: Console(highlight=False))
    quiet: bool = False
    _tails: dict[str, list[Tail]] = field(default_factory=dict)
    _steps: dict[str, _StepCount] = field(default_factory=dict)
    _reused: dict[str, tuple[int, str]] = field(default_factory=dict)  # step -> (count, run)
    _live: Live | None = None
    _started: float = 0.0
    _last_refresh: float = 0.0
    _flow: str = ""
    _peak: tuple[int, str] = (0, "")  # the most memory a task used at its peak, and its label
    _run_id: str = ""
    _file: str = "FILE"
    _index: dict[str, int | None] = field(default_factory=dict)  # pathspec -> foreach index
    failures: list[tuple[str, TaskError]] = field(default_factory=list)
    _notices: list[str] = field(default_factory=list)
    _writer: ConsoleWriter | None = None
    _store_option: str = ""

    def _print(self, renderable: Any) -> None:
        if self._writer is not None:
            self._writer.put(renderable)
        else:
            self.console.print(renderable, soft_wrap=True)

    def prepare(self, graph: FlowGraph | None, file: str | None) -> None:
        if graph is not None:
            self._steps = {s.name: _StepCount() for s in graph}
        self._file = file or "FILE"

    def report(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.run_started(event)
        elif isinstance(event, Notice):
            self._notices.append(event.message)
            self._print(Text.assemble(("notice: ", "yellow"), event.message))
        elif isinstance(event, TaskStarted):
            self.task_started(event)
        elif isinstance(event, TaskCloned):
            self.task_cloned(event)
        elif isinstance(event, TaskFinished):
            self._note_peak(event)
            self._drain(event.pathspec, final=True)
            count = self._steps.setdefault(event.step, _StepCount())
            count.running -= 1
            count.done += 1
        elif isinstance(event, TaskFailed):
            self.task_failed(event)
        elif isinstance(event, StepExpanded):
            self._steps.setdefault(event.step, _StepCount()).expected = event.count
        elif isinstance(event, TaskWaiting) and event.waiting:
            self.task_waiting(event)
        elif isinstance(event, RunFinished):
            self.run_finished(event)

    def task_waiting(self, event: TaskWaiting) -> None:
        """A task at a breakpoint(): give it the terminal (others' output waits meanwhile)."""
        from flowtui.engine.breakpoints import give_terminal

        self._drain(event.pathspec)
        if self._writer is not None:  # its lines so far, printed before the terminal is lent
            self._writer.flush()  # (the writer's thread printing under the status line's
        if self._live is not None:  # clearing left the line's text before the debugger's)
            self._live.stop()
        give_terminal(self.console, event.pathspec, event.socket)
        if self._live is not None:
            self._live.start()

    def run_started(self, event: RunStarted) -> None:
        self._writer = ConsoleWriter(self.console)
        self._flow, self._run_id = event.flow, event.run_id
        if Path(event.store) != find_store_root():  # the hints must name the same store
            self._store_option = f" --store {shlex.quote(str(event.store))}"
        self._started = time.time()
        what = f"Resuming run {event.origin_run_id} as" if event.origin_run_id else "Running"
        self._print(
            Text.assemble(
                (f"{what} ", "bold"),
                (event.pathspec, "bold cyan"),
                (f"  (store {event.store})", "dim"),
            )
        )
        if self.console.is_terminal:
            self._live = Live(
                self._status(), console=self.console, auto_refresh=False, transient=True
            )
            self._live.start()

    def _label(self, event: TaskStarted | TaskCloned | TaskFinished | TaskFailed) -> str:
        index = self._index.get(event.pathspec)
        suffix = f"[{index}]" if index is not None else ""
        return f"{event.step}{suffix}/{event.task_id}"

    def task_started(self, event: TaskStarted) -> None:
        self._index[event.pathspec] = event.index
        self._steps.setdefault(event.step, _StepCount()).running += 1
        label = self._label(event)
        if event.attempt:
            self._print(Text(f"{label}: retrying (attempt {event.attempt + 1})", style="yellow"))
        if not self.quiet:
            self._tails[event.pathspec] = [
                Tail(label, event.stdout, "", event.pathspec),
                Tail(label, event.stderr, "red", event.pathspec),
            ]

    def task_cloned(self, event: TaskCloned) -> None:
        self._index[event.pathspec] = event.index
        count = self._steps.setdefault(event.step, _StepCount())
        count.cloned += 1
        count.done += 1
        if event.index is None:
            self._print_reused()  # the foreach steps cloned before this one, in their order
            self._print(
                Text(f"{self._label(event)}: reused from {event.origin_pathspec}", style="dim")
            )
        elif not self.console.is_terminal:  # one line per step, not one per foreach task
            origin_run = (event.origin_pathspec or "").rsplit("/", 2)[0]
            reused = self._reused.get(event.step, (0, origin_run))
            self._reused[event.step] = (reused[0] + 1, origin_run)

    @contextmanager
    def batched(self) -> Iterator[None]:
        try:
            yield
        finally:
            self._print_reused()

    def _print_reused(self) -> None:
        for step, (count, origin_run) in self._reused.items():
            tasks = "task" if count == 1 else "tasks"
            self._print(
                Text(f"{step}: {count:,} foreach {tasks} reused from {origin_run}", style="dim")
            )
        self._reused.clear()

    def _note_peak(self, event: TaskFinished | TaskFailed) -> None:
        """Keep the task with the most memory at its peak, for the run's summary."""
        if event.peak_rss is not None and event.peak_rss > self._peak[0]:
            self._peak = (event.peak_rss, self._label(event))

    def _peak_summary(self) -> str:
        """`; peak memory 229.0 MB in start/1`: the hungriest task, where it was measured."""
        rss, label = self._peak
        return f"; peak memory {human_size(rss)} in {label}" if label else ""

    def task_failed(self, event: TaskFailed) -> None:
        self._note_peak(event)
        self._drain(event.pathspec, final=True)
        count = self._steps.setdefault(event.step, _StepCount())
        count.running -= 1
        error = event.error
        label = self._label(event)
        if event.will_retry:
            self._print(
                Text(
                    f"{label}: attempt {event.attempt + 1} failed: {error.summary()}",
                    style="yellow",
                )
            )
            return
        if not error.cancelled:
            count.failed += 1
            self.failures.append((event.pathspec, error))
            self._print(Text(f"{label}: failed: {error.summary()}", style="bold red"))

    def tick(self) -> None:
        for pathspec in list(self._tails):
            self._drain(pathspec)
        now = time.time()
        if self._live is not None and now - self._last_refresh > 0.1:
            self._draw_live(lambda live: live.update(self._status(), refresh=True))
            self._last_refresh = now

    def _draw_live(self, draw: Callable[[Live], object]) -> None:
        """Draw the status line; a terminal that is gone (closed under a run that ignores
        SIGHUP: EIO) silences the console, as a closed stdout does, and the run goes on to
        end as it ends, its exit status its own."""
        if self._live is None:
            return
        try:
            draw(self._live)
        except OSError:
            self._live = None
            if self._writer is not None:
                self._writer.detach()

    def _drain(self, pathspec: str, final: bool = False) -> None:
        """Print the lines a task has written since last time (all of them when `final`)."""
        tails = self._tails.get(pathspec)
        if not tails:
            return
        for tail in tails:
            if self._writer is not None:
                self._writer.follow(tail, final)
            else:
                echo_tail(tail, final, self._print)
        if final:
            del self._tails[pathspec]

    def _status(self) -> Any:
        parts = []
        for name, c in self._steps.items():
            if c.running:
                style = "bold yellow"
            elif c.failed:
                style = "bold red"
            elif c.done:
                style = "green"
            else:
                style = "dim"
            total = c.expected if c.expected is not None else None
            count = f" {c.done}/{total}" if total and total > 1 else ""
            parts.append(Text(f"{name}{count}", style=style))
        elapsed = time.time() - self._started
        line = Text(" → ").join(parts) if parts else Text("")
        return Group(Text.assemble(("⏵ ", "cyan"), line, (f"  {elapsed:5.1f}s", "dim")))

    def run_finished(self, event: RunFinished) -> None:
        self._print_reused()
        for pathspec in list(self._tails):
            self._drain(pathspec, final=True)
        self._draw_live(Live.stop)
        self._live = None
        status, duration, pathspec = event.status, event.duration, event.pathspec
        done = sum(c.done for c in self._steps.values())
        failed = sum(c.failed for c in self._steps.values())
        cloned = sum(c.cloned for c in self._steps.values())
        ran = f"{done} task{'' if done == 1 else 's'} done" + (
            f", {failed} failed" if failed else ""
        )
        ran += f", {cloned} reused" if cloned else ""
        ran += self._peak_summary()
        glyph = RUN_GLYPHS[status]
        if status is RunStatus.SUCCEEDED:
            self._print(
                Text.assemble(
                    (f"{glyph} ", "bold green"),
                    (pathspec, "bold"),
                    f" succeeded in {human_duration(duration)} ({ran}).",
                )
            )
            return
        if status is RunStatus.CANCELLED:
            self._print(
                Text.assemble(
                    (f"{glyph} ", "bold yellow"),
                    (pathspec, "bold"),
                    f" was cancelled after {human_duration(duration)}. Resume it with "
                    f"flowtui resume {self._file}{self._store_option} "
                    f"--origin-run-id {event.run_id}.",
                )
            )
            return
        self._print(
            Text.assemble(
                (f"{glyph} ", "bold red"),
                (pathspec, "bold"),
                f" failed after {human_duration(duration)} ({ran}).",
            )
        )
        for failed_pathspec, error in self.failures:
            self._print(
                Text.assemble(("  ", ""), (failed_pathspec, "bold"), ": ", (error.summary(), "red"))
            )
            if error.traceback and self.quiet:  # otherwise it was just shown from the log
                self._print(Text(_indent(error.traceback.rstrip()), style="dim"))
        step = (event.failed or "///?").split("/")[2]
        resume = f"flowtui resume {self._file}{self._store_option}"
        asked = splits_asked(self._notices)
        what = f"re-runs from '{step}', reusing every task that succeeded"
        if not done and not cloned:  # failed in its first task: there is nothing to reuse
            what = "runs it again with the same parameters; no task succeeded, so none is reused"
        if any(error.type in LOST_VALUE for _, error in self.failures):
            what = "runs again the tasks whose stored values were lost, and what follows them"
        hint = f"{_before_resuming(self.failures)}: {resume}  ({what})."
        if asked is not None:  # a foreach asked for more children than allowed
            hint = f"Allow them: {resume} --max-num-splits {asked}  (reuses every task that ran)."
        self._print(Text(hint, style="cyan"))

    def close(self) -> None:
        """Wait until everything reported has been printed."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _before_resuming(failures: list[tuple[str, TaskError]]) -> str:
    """What to do before resuming a run that failed so: the store's problem when the store
    said so (the disk full, the store read-only, a stored value lost), else the code's."""
    said = " ".join(error.message for _, error in failures)
    if "is full (or over its quota)" in said:  # StoreFullError's sentence
        return "Free some space, then"
    if "is read-only; pass a writable --store" in said:  # read_only_store's sentence
        return "Make the store writable, then"
    if all(error.type in LOST_VALUE for _, error in failures):
        return "A stored value was lost; resume makes it again"
    if all(error.reason == CLUSTER_LOST for _, error in failures):
        return "Start the Ray cluster again (or resume without --executor ray, here), then"
    if all(error.type == "ForkServerDied" for _, error in failures):  # died_with_server
        return (
            "The tasks died with flowtui's fork server (killed from outside, or by a step); "
            "run them again"
        )
    if all(error.type == "KeyboardInterrupt" for _, error in failures):  # Ctrl-C at pdb
        return "Interrupted (Ctrl-C: KeyboardInterrupt); to run it again"
    missing = sorted({name for _, error in failures if (name := _missing_module(error))})
    if missing and all(error.type == "ModuleNotFoundError" for _, error in failures):
        named = " and ".join(f"'{name}'" for name in missing)  # steps run in this Python
        return f"Install {named} into this Python ({sys.executable}), then"
    return "Fix the code, then"


def _missing_module(error: TaskError) -> str | None:
    """The top-level module a `ModuleNotFoundError` names (`No module named 'sklearn.svm'`:
    sklearn), as CPython's import system words it; None for any other error."""
    prefix = "No module named '"
    if error.type != "ModuleNotFoundError" or not error.message.startswith(prefix):
        return None
    return error.message[len(prefix) :].rstrip("'").split(".")[0] or None


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def default_reporter(events: bool, quiet: bool) -> Reporter:
    if events:
        return EventReporter()
    console = Console(highlight=False, force_terminal=None if os.isatty(1) else False)
    return ConsoleReporter(console=console, quiet=quiet)
