"""How a run tells the outside world what happens: JSON events, or a console for people.

`EventReporter` writes docs/events.md's stream (for the TUI). `ConsoleReporter` shows each
task's output as it is written, prefixed by its task, a live progress line on a terminal (plain
lines elsewhere), and a summary at the end. It prints from a thread (`echo.ConsoleWriter`), so
a slow, blocked or closed console never holds up or fails the run.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from flowtui.engine.echo import ConsoleWriter, Tail, echo_tail
from flowtui.engine.events import RunStatus, TaskError, encode_event
from flowtui.engine.task import INHERITED_FDS
from flowtui.graph.model import FlowGraph
from flowtui.store import find_store_root


class Reporter:
    """Receives every state change of a run. The base class ignores them all."""

    reader_gone = False  # set when whoever follows the run has gone away (cancel it)

    def run_started(self, **kw: Any) -> None: ...
    def notice(self, message: str) -> None: ...
    def task_started(self, **kw: Any) -> None: ...
    def task_cloned(self, **kw: Any) -> None: ...
    def task_finished(self, **kw: Any) -> None: ...
    def task_failed(self, **kw: Any) -> None: ...
    def step_expanded(self, **kw: Any) -> None: ...
    def run_finished(self, **kw: Any) -> None: ...

    def tick(self) -> None:
        """Called by the runner's loop about ten times a second."""

    def close(self) -> None:
        """Called once the run is over (whatever happened): finish any output."""


class EventReporter(Reporter):
    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or _own_stdout()
        self._closed = False

    def _emit(self, event: str, **fields: Any) -> None:
        if self._closed:
            return
        try:
            self.out.write(encode_event(event, **fields) + "\n")
            self.out.flush()
        except BrokenPipeError:
            # Whoever followed the run has gone: stop writing to the closed pipe; the runner
            # sees `reader_gone` and cancels the run as Ctrl-C would.
            self._closed = True
            self.reader_gone = True
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.out.fileno())
            os.close(devnull)

    def run_started(self, **kw: Any) -> None:
        flow, run_id = kw["flow"], kw["run_id"]
        self._emit(
            "run_started",
            flow=flow,
            run_id=run_id,
            pathspec=f"{flow}/{run_id}",
            store=kw["store"],
            origin_run_id=kw.get("origin_run_id"),
            params=kw.get("params", {}),
        )

    def notice(self, message: str) -> None:
        self._emit("notice", message=message)

    def task_started(self, **kw: Any) -> None:
        self._emit("task_started", **kw)

    def task_cloned(self, **kw: Any) -> None:
        self._emit("task_cloned", **kw)

    def task_finished(self, **kw: Any) -> None:
        self._emit("task_finished", **kw)

    def task_failed(self, **kw: Any) -> None:
        error: TaskError = kw.pop("error")
        self._emit(
            "task_failed",
            **kw,
            error={"type": error.type, "message": error.message, "traceback": error.traceback},
        )

    def step_expanded(self, **kw: Any) -> None:
        self._emit("step_expanded", **kw)

    def run_finished(self, **kw: Any) -> None:
        failed = kw.get("failed") or []
        self._emit(
            "run_finished",
            pathspec=f"{kw['flow']}/{kw['run_id']}",
            run_id=kw["run_id"],
            status=kw["status"].value,
            duration=kw["duration"],
            failed=failed[0][0] if failed else None,
        )


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
    _live: Live | None = None
    _started: float = 0.0
    _last_refresh: float = 0.0
    _flow: str = ""
    _run_id: str = ""
    _file: str = "FILE"
    _writer: ConsoleWriter | None = None
    _store_option: str = ""

    def _print(self, renderable: Any) -> None:
        if self._writer is not None:
            self._writer.put(renderable)
        else:
            self.console.print(renderable, soft_wrap=True)

    def run_started(self, **kw: Any) -> None:
        self._writer = ConsoleWriter(self.console)
        self._flow, self._run_id = kw["flow"], kw["run_id"]
        if Path(kw["store"]) != find_store_root():  # the hints must name the same store
            self._store_option = f" --store {shlex.quote(str(kw['store']))}"
        self._file = kw.get("file") or "FILE"
        self._started = time.time()
        graph: FlowGraph | None = kw.get("graph")
        if graph is not None:
            self._steps = {s.name: _StepCount() for s in graph}
        origin = kw.get("origin_run_id")
        what = f"Resuming run {origin} as" if origin else "Running"
        self._print(
            Text.assemble(
                (f"{what} ", "bold"),
                (f"{self._flow}/{self._run_id}", "bold cyan"),
                (f"  (store {kw['store']})", "dim"),
            )
        )
        if self.console.is_terminal:
            self._live = Live(
                self._status(), console=self.console, auto_refresh=False, transient=True
            )
            self._live.start()

    def notice(self, message: str) -> None:
        self._print(Text.assemble(("notice: ", "yellow"), message))

    def _label(self, kw: dict[str, Any]) -> str:
        index = kw.get("index")
        suffix = f"[{index}]" if index is not None else ""
        return f"{kw['step']}{suffix}/{kw['task_id']}"

    def task_started(self, **kw: Any) -> None:
        self._steps.setdefault(kw["step"], _StepCount()).running += 1
        label = self._label(kw)
        if kw.get("attempt"):
            self._print(Text(f"{label}: retrying (attempt {kw['attempt'] + 1})", style="yellow"))
        if not self.quiet:
            self._tails[kw["pathspec"]] = [
                Tail(label, kw["stdout"], "", kw["pathspec"]),
                Tail(label, kw["stderr"], "red", kw["pathspec"]),
            ]

    def task_cloned(self, **kw: Any) -> None:
        count = self._steps.setdefault(kw["step"], _StepCount())
        count.cloned += 1
        count.done += 1
        if not self.console.is_terminal or kw.get("index") is None:
            self._print(
                Text(f"{self._label(kw)}: reused from {kw['origin_pathspec']}", style="dim")
            )

    def task_finished(self, **kw: Any) -> None:
        self._drain(kw["pathspec"], final=True)
        count = self._steps.setdefault(kw["step"], _StepCount())
        count.running -= 1
        count.done += 1

    def task_failed(self, **kw: Any) -> None:
        self._drain(kw["pathspec"], final=True)
        count = self._steps.setdefault(kw["step"], _StepCount())
        count.running -= 1
        error: TaskError = kw["error"]
        label = self._label(kw)
        if kw.get("will_retry"):
            self._print(
                Text(
                    f"{label}: attempt {kw['attempt'] + 1} failed: {error.summary()}",
                    style="yellow",
                )
            )
            return
        if kw.get("reason") != "cancel":
            count.failed += 1
            self._print(Text(f"{label}: failed: {error.summary()}", style="bold red"))

    def step_expanded(self, **kw: Any) -> None:
        self._steps.setdefault(kw["step"], _StepCount()).expected = kw["count"]

    def tick(self) -> None:
        for pathspec in list(self._tails):
            self._drain(pathspec)
        now = time.time()
        if self._live is not None and now - self._last_refresh > 0.1:
            self._live.update(self._status(), refresh=True)
            self._last_refresh = now

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

    def run_finished(self, **kw: Any) -> None:
        for pathspec in list(self._tails):
            self._drain(pathspec, final=True)
        if self._live is not None:
            self._live.stop()
            self._live = None
        status: RunStatus = kw["status"]
        duration = kw["duration"]
        done = sum(c.done for c in self._steps.values())
        failed = sum(c.failed for c in self._steps.values())
        cloned = sum(c.cloned for c in self._steps.values())
        ran = f"{done} tasks done" + (f", {failed} failed" if failed else "")
        ran += f", {cloned} reused" if cloned else ""
        pathspec = f"{kw['flow']}/{kw['run_id']}"
        if status is RunStatus.SUCCEEDED:
            self._print(
                Text.assemble(
                    ("✔ ", "bold green"),
                    (pathspec, "bold"),
                    f" succeeded in {duration:.2f}s ({ran}).",
                )
            )
            return
        if status is RunStatus.CANCELLED:
            self._print(
                Text.assemble(
                    ("■ ", "bold yellow"),
                    (pathspec, "bold"),
                    f" was cancelled after {duration:.2f}s. Resume it with "
                    f"flowtui resume {self._file}{self._store_option} "
                    f"--origin-run-id {kw['run_id']}.",
                )
            )
            return
        self._print(
            Text.assemble(
                ("✖ ", "bold red"), (pathspec, "bold"), f" failed after {duration:.2f}s ({ran})."
            )
        )
        for failed_pathspec, error in kw.get("failed") or []:
            self._print(
                Text.assemble(("  ", ""), (failed_pathspec, "bold"), ": ", (error.summary(), "red"))
            )
            if error.traceback and self.quiet:  # otherwise it was just shown from the log
                self._print(Text(_indent(error.traceback.rstrip()), style="dim"))
        step = (kw.get("failed") or [("///?",)])[0][0].split("/")[2]
        self._print(
            Text(
                f"Fix the code, then: flowtui resume {self._file}{self._store_option}  (re-runs "
                f"from '{step}', reusing every task that succeeded).",
                style="cyan",
            )
        )

    def close(self) -> None:
        """Wait until everything reported has been printed."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def default_reporter(events: bool, quiet: bool) -> Reporter:
    if events:
        return EventReporter()
    console = Console(highlight=False, force_terminal=None if os.isatty(1) else False)
    return ConsoleReporter(console=console, quiet=quiet)
