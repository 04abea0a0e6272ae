"""A Ray run's driver in a child process of its own, watched by the process the user started.

Ray ends its driver process at once, with exit code 1 and nothing said of the run, when the
raylet of the driver's node has died and the driver next calls into Ray ("Exiting because the
Raylet IPC connection failed and the local Raylet is dead"): `ray stop` stops the raylet first,
so flowtui's own watch of the cluster (`ray_executor`) never got to say what happened. So a Ray
run is driven by a forked child: it runs the run as any runner does, but sends what it reports
up a pipe, which this process hands to the real reporter. If the child ends without its result,
this process records the run's running attempts and the run as failed because the cluster went
away, and says so as a run whose GCS went away does (docs/decisions.md).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from flowtui.engine.prepare import RunConfig
from flowtui.engine.ray_cluster import cluster_gone
from flowtui.engine.report import Reporter
from flowtui.engine.running import RunResult
from flowtui.errors import FlowtuiError, UsageError
from flowtui.run.events import Event, RunFinished, RunStarted, TaskFailed
from flowtui.run.status import CLUSTER_LOST, RunStatus, TaskError

Execute = Callable[[RunConfig, Reporter], RunResult]
_HEADER = struct.Struct("!I")


def drive_in_a_child(config: RunConfig, reporter: Reporter, execute: Execute) -> RunResult:
    """Run `execute(config, ...)` in a forked child; report as it reports; its result."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child ends in os._exit (its coverage is not kept)
        os.close(read_fd)
        _child(config, execute, write_fd)
    os.close(write_fd)
    with _forwarding_signals(pid):
        watch = _Watch(reporter)
        watch.follow(read_fd)
        os.close(read_fd)
        os.waitpid(pid, 0)
    try:
        if watch.raised is not None:
            raise watch.raised
        return watch.result if watch.result is not None else watch.driver_lost(config)
    finally:
        reporter.close()


def _child(config: RunConfig, execute: Execute, fd: int) -> None:
    """The driver: its own process group (a terminal's Ctrl-C reaches the parent, which passes
    it on once), dies with the parent, sends its reports and result up `fd`, then ends."""
    code = 0
    try:
        os.setpgid(0, 0)
        from flowtui.engine.task_process import die_with_parent

        die_with_parent(os.getppid())
        sender = _PipeReporter(fd)
        try:
            sender.send(("result", execute(config, sender)))
        except BaseException as e:  # said by the parent, as the CLI says it
            sender.send(("raised", _portable(e)))
    except BaseException:
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        # Ray's own teardown at exit would wait for a cluster that may be gone
        os._exit(code)


def _portable(error: BaseException) -> BaseException:
    """`error`, or its sentence with its exit code if it does not survive a pickle."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        kind = UsageError if getattr(error, "exit_code", 1) == 2 else FlowtuiError
        return kind(str(error))
    return error


class _PipeReporter(Reporter):
    """What the child's runner reports, sent to the parent as pickled messages."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, message: tuple[Any, ...]) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(_HEADER.pack(len(data)) + data)
        while view:
            view = view[os.write(self.fd, view) :]

    def prepare(self, graph: Any, file: str | None) -> None:
        self.send(("prepare", graph, file))

    def report(self, event: Event) -> None:
        self.send(("event", event))


class _Watch:
    """The parent's side: hands the child's reports to the real reporter, keeps its result."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.result: RunResult | None = None
        self.raised: BaseException | None = None
        self.started: RunStarted | None = None
        self.began = time.time()

    def follow(self, fd: int) -> None:
        buffer = bytearray()
        while True:
            readable, _, _ = select.select([fd], [], [], 0.1)
            if readable:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return
                buffer += chunk
                for message in _messages(buffer):
                    self._take(message)
            self.reporter.tick()

    def _take(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "prepare":
            self.reporter.prepare(message[1], message[2])
        elif kind == "event":
            event = message[1]
            if isinstance(event, RunStarted):
                self.started = event
            self.reporter.report(event)
        elif kind == "result":
            self.result = message[1]
        elif kind == "raised":
            self.raised = message[1]

    def driver_lost(self, config: RunConfig) -> RunResult:
        """The child ended without its result: Ray ended it (its node's raylet died)."""
        why = cluster_gone(
            config.ray_address or os.environ.get("RAY_ADDRESS"),
            "this machine's Ray node stopped, and Ray ended the run's driver",
        )
        if self.started is None:
            raise FlowtuiError(f"The run could not start: {why}.")
        flow, run_id = self.started.flow, self.started.run_id
        failed = _record_lost(config, run_id, why)
        for pathspec, step, task_id, attempt, error in failed:
            self.reporter.report(TaskFailed(pathspec, step, task_id, attempt, False, error))
        duration = time.time() - self.began
        first = failed[0][0] if failed else None
        self.reporter.report(RunFinished(flow, run_id, RunStatus.FAILED, duration, first))
        return RunResult(flow, run_id, RunStatus.FAILED, [(f[0], f[4]) for f in failed], duration)


def _messages(buffer: bytearray) -> Iterator[tuple[Any, ...]]:
    """The whole messages at the front of `buffer` (taken out of it)."""
    while len(buffer) >= _HEADER.size:
        (size,) = _HEADER.unpack_from(buffer)
        if len(buffer) < _HEADER.size + size:
            return
        data = bytes(buffer[_HEADER.size : _HEADER.size + size])
        del buffer[: _HEADER.size + size]
        yield pickle.loads(data)


def _record_lost(
    config: RunConfig, run_id: str, why: str
) -> list[tuple[str, str, str, int, TaskError]]:
    """Fail the run's running attempts (the cluster went away) and the run; what failed."""
    from flowtui.store import Store

    store = Store.open(config.store, create=False)
    try:
        meta = store.meta
        failed = []
        for task in meta.tasks(run_id):
            attempts = meta.attempts(task.task_id)
            if not attempts or attempts[-1].status != "running":
                continue
            attempt = attempts[-1].attempt
            error = TaskError("ClusterLost", f"step '{task.step}' stopped: {why}", "", CLUSTER_LOST)
            meta.fail_attempt(
                task.task_id, attempt, reason=CLUSTER_LOST, error=error.to_json(), final=True
            )
            pathspec = f"{task.flow}/{run_id}/{task.step}/{task.task_id}"
            failed.append((pathspec, task.step, task.task_id, attempt, error))
        meta.finish_run(run_id, RunStatus.FAILED.value, why)
        return failed
    finally:
        store.close()


@contextlib.contextmanager
def _forwarding_signals(pid: int) -> Iterator[None]:
    """Ctrl-C, `kill` and the terminal closing reach the driver (in a process group of its
    own), once each, while this process waits for it."""

    def forward(signum: int, frame: Any) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    kept = {}
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) == signal.SIG_IGN:  # nohup's: the driver keeps it too
            continue
        kept[sig] = signal.signal(sig, forward)
    try:
        yield
    finally:
        for sig, handler in kept.items():
            signal.signal(sig, handler)
