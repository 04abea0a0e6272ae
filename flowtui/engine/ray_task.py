"""The worker side of the Ray executor: one task attempt inside a Ray worker process.

`run_attempt` runs the step exactly as a local task process does (`task._run`), with two
differences: inputs come from Ray's object store (one object per blob, put once by the driver,
read zero-copy), and new values are kept in memory and returned, so the driver writes them to
the store. The step's stdout/stderr (file descriptors 1 and 2) go through pipes to a thread
that forwards each chunk to the run's `LogSink` actor, which the driver drains into the task's
log files while the task runs. Ray reuses worker processes, so everything the attempt changes
in the process (fds, `sys.stdout`, environment) is put back when it ends.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import select
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import ray

from flowtui.engine.loader import show_paths_as
from flowtui.engine.task import TaskOutcome, TaskRequest, _run
from flowtui.engine.usage import SAMPLE_EVERY, Sampler
from flowtui.store.blobs import ArtifactPickleError, BlobRef

_CHUNK = 1 << 16
_PEAK_EVERY = 0.2  # seconds between memory reads for the peak (reported once a second)

# {"where": {...}, "usage": (rss, cpu_time, cpu), "peak": rss, "clock": a step_clock note}
Report = dict[str, Any]


@ray.remote(num_cpus=0)
class LogSink:
    """Log chunks (path -> bytes) and the latest report of each running attempt ("task/attempt"
    -> Report), held until the driver drains them."""

    def __init__(self) -> None:
        self.pending: dict[str, bytearray] = {}
        self.reports: dict[str, Report] = {}

    def write(self, path: str, data: bytes) -> None:
        self.pending.setdefault(path, bytearray()).extend(data)

    def report(self, key: str, report: Report) -> None:
        """The latest report of `key` replaces the one not yet drained (keeping its peak)."""
        held = self.reports.get(key)
        if held is not None and "peak" in held:
            report["peak"] = max(report.get("peak", 0), held["peak"])
        self.reports[key] = report

    def drain(self) -> tuple[dict[str, bytes], dict[str, Report]]:
        out, self.pending = self.pending, {}
        reports, self.reports = self.reports, {}
        return {path: bytes(data) for path, data in out.items()}, reports


def attempt_key(request: TaskRequest) -> str:
    return f"{request.task_id}/{request.attempt}"


class Reporter:
    """Where the attempt runs, and its CPU and memory, sent to the sink: at the start, about
    once a second, and at the end (memory is read more often, for the peak)."""

    def __init__(self, sink: Any, key: str, where: dict[str, str], sent: list[Any]) -> None:
        self.sink, self.key, self.where, self.sent = sink, key, where, sent
        self.sampler = Sampler(os.getpid())
        self.peak_at = self.report_at = 0.0
        self.lock = threading.Lock()  # the output thread ticks; the step's thread, at the end
        self.clock: bytes | None = None  # the step clock's last note (engine/step_clock.py)

    def tick(self, final: bool = False) -> None:
        with self.lock:
            self._tick(final)

    def note_clock(self, note: bytes) -> None:
        """A @timeout step's clock started or stopped: reported now, not at the next tick."""
        with self.lock:
            self.clock = note
            self._tick(final=True)

    def _tick(self, final: bool) -> None:
        now = time.monotonic()
        if not final and now < self.peak_at:
            return
        self.peak_at = now + _PEAK_EVERY
        if final or now >= self.report_at:
            self.report_at = now + SAMPLE_EVERY
            usage = self.sampler.sample()
            report: Report = {"where": self.where}
            if self.clock is not None:
                report["clock"] = self.clock
            if usage is not None:
                report["usage"] = (usage.rss, usage.cpu_time, usage.cpu)
                report["peak"] = self.sampler.peak_rss
            self.sent.append(self.sink.report.remote(self.key, report))
        else:
            self.sampler.note_peak()


class ObjectStoreBlobs:
    """What `task._run` needs of a blob store, backed by Ray objects the driver put."""

    def __init__(self, refs: dict[str, Any]) -> None:
        self.refs = refs  # blob hash -> ObjectRef of its pickled bytes (a uint8 array)
        self.new: dict[str, bytes] = {}

    def get_value(self, digest: str, what: str | None = None) -> Any:
        """The value under `digest` (`what` names it in errors, as `BlobStore.get_value`)."""
        if digest in self.new:
            return pickle.loads(self.new[digest])
        payload = ray.get(self.refs[digest])  # read-only, mapped from the node's object store
        return pickle.loads(memoryview(payload))

    def put_value(self, value: Any) -> BlobRef:
        try:
            payload = cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # cloudpickle raises many kinds for unpicklable values
            raise ArtifactPickleError(f"{type(value).__name__} cannot be pickled ({e})") from None
        digest = hashlib.sha256(payload).hexdigest()
        known = digest in self.refs or digest in self.new
        if not known:
            self.new[digest] = payload
        return BlobRef(digest, len(payload), written=not known)


def run_attempt(
    request: TaskRequest, flow_dir: str, refs: dict[str, Any], sink: Any, source: str | None
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """Run one attempt; returns (outcome JSON, new blobs by hash, where it ran).

    `request.file` is relative to the flow's folder, which runtime_env made the working
    directory; `flow_dir` is that folder on the driver (tracebacks name files there).
    `source`: the flow file's text as the run checked it, which the step runs (the folder's
    copy was taken earlier, when the driver connected)."""
    context = ray.get_runtime_context()
    where = {
        "executor": "ray",
        "node-id": context.get_node_id(),
        "hostname": socket.gethostname(),
        "worker-pid": str(os.getpid()),
    }
    # runtime_env made the flow's directory this worker's working directory
    local = replace(request, file=str(Path.cwd() / request.file), source=source)
    show_paths_as(os.getcwd(), flow_dir)
    blobs = ObjectStoreBlobs(refs)
    sent: list[Any] = []
    reporter = Reporter(sink, attempt_key(request), where, sent)
    reporter.tick()  # where it runs, known to the driver even if the node goes away
    with (
        _restored_process(),
        _forwarded_output(sink, request.stdout, request.stderr, reporter, sent),
    ):
        try:
            outcome = _run(local, blobs, note=reporter.note_clock if request.timeout else None)
            if not outcome.ok and outcome.error:
                sys.stderr.write(outcome.error.traceback)
        except Exception as e:  # flowtui's own failure: still report it
            outcome = TaskOutcome.raised(e, traceback.format_exc())
            traceback.print_exc()
        reporter.tick(final=True)  # the attempt's last sample and peak, before it returns
    new = {h: np.frombuffer(p, dtype=np.uint8) for h, p in blobs.new.items()}
    return outcome.to_json(), new, where


@contextlib.contextmanager
def _restored_process() -> Iterator[None]:
    """Put back what a step may change in a reused worker: environment, cwd, sys.path."""
    env, cwd, path = dict(os.environ), os.getcwd(), list(sys.path)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(env)
        with contextlib.suppress(OSError):
            os.chdir(cwd)
        sys.path[:] = path


@contextlib.contextmanager
def _forwarded_output(
    sink: Any, stdout_path: str, stderr_path: str, reporter: Reporter, sent: list[Any]
) -> Iterator[None]:
    """Point fds 1 and 2 at pipes whose bytes go to `sink` under the driver's log paths (the
    same thread samples the attempt's usage); everything `sent` is delivered before it ends."""
    saved = {1: os.dup(1), 2: os.dup(2)}
    streams = (sys.stdout, sys.stderr)
    readers: dict[int, str] = {}
    for fd, path in ((1, stdout_path), (2, stderr_path)):
        r, w = os.pipe()
        os.dup2(w, fd)
        os.close(w)
        readers[r] = path
    sys.stdout, sys.stderr = (
        io.TextIOWrapper(
            io.FileIO(fd, "w", closefd=False),
            encoding="utf-8",
            errors="backslashreplace",
            line_buffering=True,
            write_through=True,
        )
        for fd in (1, 2)
    )
    stop = threading.Event()
    thread = threading.Thread(
        target=_forward, args=(readers, sink, stop, sent, reporter), daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = streams
        for fd, copy in saved.items():  # the pipes' last writers close: the reader sees EOF
            os.dup2(copy, fd)
            os.close(copy)
        stop.set()  # a process the step started may hold a pipe open: stop reading anyway
        thread.join()
        for r in readers:
            os.close(r)
        if sent:
            ray.wait(sent, num_returns=len(sent), timeout=30)  # delivered before the task ends


def _forward(
    readers: dict[int, str],
    sink: Any,
    stop: threading.Event,
    sent: list[Any],
    reporter: Reporter,
) -> None:
    open_fds = set(readers)
    rounds_after_stop = 0  # a process the step left running may write forever: bounded
    while open_fds:
        if not stop.is_set():
            reporter.tick()
        try:
            ready, _, _ = select.select(list(open_fds), [], [], 0.05)
        except InterruptedError:
            continue
        if stop.is_set():
            rounds_after_stop += 1
            if not ready or rounds_after_stop > 100:
                return
        for fd in ready:
            data = os.read(fd, _CHUNK)
            if not data:
                open_fds.discard(fd)
                continue
            sent.append(sink.write.remote(readers[fd], data))
