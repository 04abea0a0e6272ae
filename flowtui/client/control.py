"""Stopping a live run from wherever it was started: the TUI's `x` and `flowtui cancel` are
this one way, whether the run was started by this TUI, another one, or a terminal.

A run is cancelled by its own runner, never by a reader writing to the store: the reader sends
the runner SIGINT, as Ctrl-C in its terminal would, and the runner stops its tasks and records
the run cancelled (engine/runner.py). If the run has not ended `INTERRUPT_GRACE` seconds
later, a second SIGINT kills its tasks at once (Ctrl-C twice). The store says where the runner
is (host and PID namespace, pid): a runner elsewhere, or no longer alive, gets a sentence
instead of a signal, and a process that took a dead runner's pid is never signalled
(`store.liveness.signal_runner`).
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flowtui.errors import UsageError
from flowtui.store.liveness import (
    place_host,
    process_args,
    runner_place,
    same_place,
    signal_runner,
)
from flowtui.store.records import RunnerRecord, RunRecord

if TYPE_CHECKING:  # the TUI imports this module before its first frame: no sqlite3 yet
    from flowtui.store.metadata import MetadataDB

#: Seconds after the first SIGINT before a second one kills the run's tasks at once.
INTERRUPT_GRACE = 5.0
#: Seconds `cancel_run` waits, by default, for the runner to record how the run ended.
CANCEL_WAIT = 30.0

_ENDED = {
    "succeeded": "it succeeded",
    "failed": "it failed",
    "cancelled": "it was cancelled",
    "crashed": "its runner is gone (the run reads crashed)",
}


def _no_run(run_id: str) -> str:
    return f"There is no run {run_id} in the store; `flowtui runs FLOW` lists them."


class RunNotLive(UsageError):
    """The run asked for is not running (any more); the message says how it ended."""

    exit_code = 1


@dataclass(frozen=True)
class LiveRun:
    """A run of a flow whose runner is alive, and where it was started."""

    flow: str
    run_id: str
    started: str  # "started from a terminal", "started from a flowtui window", "on host X", ""
    here: bool  # its runner runs on this host (and PID namespace): it can be stopped from here

    @property
    def pathspec(self) -> str:
        return f"{self.flow}/{self.run_id}"


def started_from(runner: RunnerRecord) -> str:
    """How a live run was started, in words: from a terminal (`flowtui run`), from a flowtui
    window (a runner following `--events`), or on which other host."""
    if not same_place(runner.place):
        host = place_host(runner.place)
        here = place_host(runner_place())
        return f"on host {host}" if host != here else "in another container on this host"
    args = process_args(runner.pid) if runner.pid else None
    if args is None:
        return ""
    return "started from a flowtui window" if "--events" in args else "started from a terminal"


def live_runs(meta: MetadataDB, flow: str) -> list[LiveRun]:
    """`flow`'s runs whose runner is alive, newest first (spins kept apart left out)."""
    out = []
    for run in meta.runs(flow):
        if run.status != "running" or not run.listed:
            continue
        runner = meta.runner(run.run_id)
        if runner is not None:
            out.append(LiveRun(flow, run.run_id, started_from(runner), same_place(runner.place)))
    return out


def run_to_cancel(meta: MetadataDB, flow: str | None, run_id: str | None) -> str:
    """The run `flowtui cancel` means: `run_id` (of `flow`, when named), else `flow`'s newest
    live run; a sentence when there is none."""
    if run_id is not None:
        run = meta.run(run_id)
        if run is None:
            raise UsageError(
                f"There is no run {run_id} in the store; `flowtui runs FLOW` lists them."
            )
        if flow is not None and run.flow != flow:
            raise UsageError(f"Run {run_id} is a run of {run.flow}, not of {flow}.")
        return run_id
    assert flow is not None
    live = live_runs(meta, flow)
    if not live:
        raise RunNotLive(f"{flow} has no live run to cancel; `flowtui runs {flow}` lists its runs.")
    return live[0].run_id


def cancel_run(
    meta: MetadataDB,
    run_id: str,
    *,
    wait: float = CANCEL_WAIT,
    locked: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
    sleep: Callable[[float], object] = time.sleep,
) -> RunRecord:
    """Cancel live run `run_id` through its runner; wait up to `wait` s for the runner to record
    the end, and return the run as stored then (its status still `running` if it has not yet
    stopped). A `UsageError` sentence when it cannot be: not running, elsewhere, not ours.

    `locked` guards each use of `meta` (a reader shared between threads passes its lock)."""
    with locked():
        run = meta.run(run_id)
        runner = meta.runner(run_id)
    if run is None or runner is None:
        raise UsageError(_no_run(run_id))
    if run.status != "running":
        raise RunNotLive(
            f"Run {run.pathspec} is not running: {_ENDED.get(run.status, run.status)}."
        )
    if not same_place(runner.place):
        where = started_from(runner)
        raise UsageError(
            f"Run {run.pathspec} runs {where}, not here; stop it there with "
            f"`flowtui cancel {run.pathspec}`."
        )
    try:
        sent = signal_runner(runner.place, runner.pid, runner.created, signal.SIGINT)
    except PermissionError:
        raise UsageError(
            f"Run {run.pathspec}'s runner (pid {runner.pid}) belongs to another user; "
            "flowtui cannot stop it from here."
        ) from None
    if not sent:  # it ended (or died) since it was read
        with locked():
            run = meta.run(run_id) or run
        if run.status != "running":
            return run
        raise UsageError(f"Run {run.pathspec}'s runner (pid {runner.pid}) is gone.")
    started = time.monotonic()
    interrupted_twice = False
    while time.monotonic() - started < wait:
        sleep(0.1)
        with locked():
            now = meta.run(run_id)
        if now is not None and now.status != "running":
            return now
        if not interrupted_twice and time.monotonic() - started > INTERRUPT_GRACE:
            interrupted_twice = True  # as a second Ctrl-C: the tasks are killed at once
            signal_runner(runner.place, runner.pid, runner.created, signal.SIGINT)
    with locked():
        return meta.run(run_id) or run
