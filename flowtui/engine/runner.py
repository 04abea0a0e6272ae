"""The runner: imports the flow once, schedules its tasks, records everything in the store.

`execute(RunConfig, reporter)` is what `flowtui run` and `flowtui resume` call. It validates
the file and parameters before anything is recorded, creates the run, then loops: start ready
tasks (up to `max_workers` processes), wait for outcomes on their pipes, record each outcome in
one transaction, and let the scheduler say what is ready next. A task that fails for good stops
new tasks from starting; running ones finish; the run ends failed. SIGINT/SIGTERM cancel it,
from whoever sends them (Ctrl-C, the TUI, `flowtui cancel`), and so does SIGHUP (its terminal
closed) unless it is ignored (`nohup`); a reader of its events that goes
away does not: the run goes on, recorded in the store, and can be followed again from there.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import select
import signal
import time
from collections import deque
from functools import cached_property
from typing import Any

from flowtui.engine.breakpoints import BreakpointWatch
from flowtui.engine.decorations import decorator_args, ignored_decorators, store_parameters
from flowtui.engine.executor import make_executor
from flowtui.engine.gangs import Gangs
from flowtui.engine.prepare import PreparedFlow, RunConfig, checked_graph, prepare
from flowtui.engine.report import Reporter
from flowtui.engine.resume import ResumeSource, collector_paused
from flowtui.engine.run_options import write_run_id
from flowtui.engine.running import Running, RunResult
from flowtui.engine.scheduler import FinishedTask, PendingTask, Scheduler
from flowtui.engine.task import TaskOutcome, TaskRequest, register_blob_store
from flowtui.engine.task_request import RunBasis, retries, task_request
from flowtui.engine.usage import UsageMonitor
from flowtui.engine.watching import usage_events, waiting_events
from flowtui.flow.current import resolve_username
from flowtui.flow.spec import class_constants
from flowtui.graph.model import StepKind
from flowtui.run.artifacts import ArtifactMap, ArtifactRef, artifact_maps, artifact_records
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
)
from flowtui.run.splits import too_many_splits
from flowtui.run.status import CANCEL, NOT_RETRIED, TIMEOUT, RunStatus, TaskError
from flowtui.run.where import node_label
from flowtui.store import Store, StoreFullError, ensure_logs
from flowtui.store.attempts import AttemptBatch
from flowtui.store.db_trouble import StoreLockedError
from flowtui.store.liveness import Heartbeat
from flowtui.store.records import NewTask

CANCEL_GRACE = 3.0  # seconds between SIGTERM and SIGKILL when cancelling


class Runner:
    def __init__(self, config: RunConfig, store: Store, reporter: Reporter) -> None:
        self.config = config
        self.store = store
        self.reporter = reporter
        # Starts and outcomes are committed together once per turn of the loop (group commit);
        # the events about them are sent after, so a reader never sees an event the store
        # does not hold yet.
        self.batch = AttemptBatch(store.meta)
        self.held: list[Event] = []
        self.executor = make_executor(config.executor, store, config.file, config.ray_address)
        self.max_workers = max(
            1, config.max_workers or self.executor.capacity() or os.cpu_count() or 1
        )
        self.outputs: dict[str, ArtifactMap] = {}  # task id -> its artifacts
        self.failed: list[tuple[str, TaskError]] = []
        # Tasks whose process kept dying under @catch: their next attempt runs no user code
        # and stores the failure in the catch variable, as Metaflow's fallback attempt does.
        self.fallbacks: set[str] = set()
        self.running: dict[int, Running] = {}  # result fd -> running task
        self.ready: deque[tuple[PendingTask, str, int]] = deque()  # (task, task id, attempt)
        self.cancel_reason: str | None = None
        self.tasks_run = 0
        self.tasks_cloned = 0
        self.breakpoints = BreakpointWatch(str(store.root))
        self.usage = UsageMonitor()  # each local attempt's CPU and memory, about once a second
        register_blob_store(str(store.root), store.blobs)  # a forked task uses it, makes none

    # -- the run -----------------------------------------------------------------------
    def execute(self) -> RunResult:
        meta = self.store.meta
        resume: ResumeSource | None = None
        if self.config.resume:
            _, graph = checked_graph(self.config.file, self.config.flow)
            with collector_paused():
                resume = ResumeSource.open(
                    self.store, graph.flow_name, self.config.origin_run_id, self.config.resume_step
                )
        flow = prepare(self.config, resume.params if resume else None, self.store.blobs.get_value)
        if resume is not None:
            with collector_paused():
                resume.bind(flow.graph)
        params = resume.params if resume else store_parameters(self.store.blobs, flow.values)
        self._adopt(flow, params)
        self.run_id = meta.create_run(
            self.flow_name,
            file=str(flow.file),
            source=flow.source,
            params=params,
            user=self.user,
            tags=self.config.tags,
            system_tags=flow.project.system_tags if flow.project else (),
            kind="resume" if resume else "run",
            origin_run_id=resume.origin.run_id if resume else None,
            resume_step=resume.step if resume else None,
        )
        write_run_id(self.config.run_id_file, self.run_id)
        self.resume = resume
        started = time.time()
        self.reporter.prepare(self.graph, str(self.config.file))
        self.reporter.report(
            RunStarted(
                flow=self.flow_name,
                run_id=self.run_id,
                store=str(self.store.root),
                origin_run_id=resume.origin.run_id if resume else None,
                params={k: v["repr"] for k, v in params.items()},
                file=str(self.file),
            )
        )
        self._report_notices()
        self.scheduler = Scheduler(self.graph)
        status = self._drive([self.scheduler.start()])
        duration = self._report_finished(status, started)
        return RunResult(
            self.flow_name,
            self.run_id,
            status,
            self.failed,
            duration,
            self.tasks_run,
            self.tasks_cloned,
        )

    def _report_notices(self) -> None:
        notices = self.executor.notices()
        notices += ignored_decorators(self.flow_name, self.cls, self.decorators, self.executor)
        for message in notices:
            self.reporter.report(Notice(message))

    def _report_finished(self, status: RunStatus, started: float) -> float:
        """Tell the reporter how the run ended; returns how long it took (s)."""
        duration = time.time() - started
        failed = self.failed[0][0] if self.failed else None
        self.reporter.report(RunFinished(self.flow_name, self.run_id, status, duration, failed))
        return duration

    def _adopt(self, flow: PreparedFlow, params: dict[str, Any]) -> None:
        """Take on the prepared flow and the run's stored parameters."""
        self.graph = flow.graph
        self.flow_name = flow.graph.flow_name
        self.file = flow.file
        self.cls = flow.cls
        self.project = flow.project
        self.configs = flow.configs  # what a task importing the file afresh is given
        self.params = params
        # What every task inherits from the run: its parameters, as stored artifacts, and
        # (as in Metaflow) `name`, the flow's name.
        name = self.store.blobs.put_value(self.flow_name)
        self.param_artifacts: ArtifactMap = {
            "name": ArtifactRef(name.hash, "str", name.size, repr(self.flow_name)),
            **{k: ArtifactRef.from_json(v) for k, v in params.items()},
        }
        self.constants = class_constants(self.cls)  # stored by start, passed down by joins
        self.user = resolve_username()
        self.decorators = decorator_args(self.graph, self.cls)
        self.gangs = Gangs(self.decorators, self.executor.name)

    def _drive(self, first: list[PendingTask]) -> RunStatus:
        """Run `first` and all they lead to; record how the run ended. Ctrl-C cancels."""
        status = RunStatus.FAILED
        previous = {sig: signal.signal(sig, self._on_signal) for sig in _cancelling_signals()}
        heartbeat = Heartbeat(self.store.meta.path, self.run_id).start()
        completed = locked = False
        try:
            self._submit(first)
            self._loop()
            if self.cancel_reason:
                status = RunStatus.CANCELLED
            elif self.failed:
                status = RunStatus.FAILED
            else:
                status = RunStatus.SUCCEEDED
            completed = True
        except StoreLockedError:
            locked = True  # the run reads crashed (its runner gone); resume finishes it
            raise
        finally:
            if self.running:  # cancelled or an internal error: stop what is still running
                self._terminate_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            heartbeat.stop(wait=not locked)
            if not locked:  # else its write waited in vain once: the sentence, not another
                self._record_end(status, completed)
        return status

    def _record_end(self, status: RunStatus, completed: bool) -> None:
        self._commit()
        error = None
        if self.failed:
            error = f"{self.failed[0][0]}: {self.failed[0][1].summary()}"
        elif status is RunStatus.CANCELLED:
            error = "cancelled"
        try:
            self.store.meta.finish_run(self.run_id, status.value, error)
        except StoreFullError:
            if completed:  # else the error on its way names the problem; the run reads
                raise  # crashed, and resume finishes it once there is room

    def _on_signal(self, signum: int, frame: Any) -> None:
        """Ctrl-C / SIGTERM: stop starting tasks; the loop then says so and terminates the
        running ones. A second signal kills the running tasks at once."""
        if self.cancel_reason is None:
            # No output here: a write this handler interrupted would be reentered (and raise).
            self.cancel_reason = signal.Signals(signum).name
        else:
            for running in self.running.values():
                running.proc.kill(signal.SIGKILL)

    # -- scheduling ----------------------------------------------------------------------
    def _submit(self, tasks: list[PendingTask]) -> None:
        to_run = []
        to_clone = []
        for pending in tasks:
            origin = self.resume.match(pending) if self.resume else None
            if origin is not None:
                to_clone.append((pending, origin))
            else:
                to_run.append(pending)
        if to_clone:
            self._clone(to_clone)
        new = [
            NewTask(
                pending.step,
                pending.foreach_index,
                [[f.index, f.count] for f in pending.frames if f.foreach],
                [f.to_json() for f in pending.frames],
                list(pending.parents),
            )
            for pending in to_run
        ]
        if new:
            ids = self.store.meta.create_tasks(self.run_id, new)
            for p, task_id in zip(to_run, ids, strict=True):
                self.gangs.noted(p, task_id)
                self.ready.append((p, task_id, 0))

    def _clone(self, clones: list[tuple[PendingTask, Any]]) -> None:
        """Record reused tasks (a foreach's at once, in one transaction), then go on from them."""
        with collector_paused():
            self._clone_now(clones)

    def _clone_now(self, clones: list[tuple[PendingTask, Any]]) -> None:
        meta = self.store.meta
        ids = meta.clone_tasks(
            self.run_id,
            [(origin, [f.to_json() for f in p.frames], list(p.parents)) for p, origin in clones],
        )
        self.outputs.update(artifact_maps(ids, meta.artifact_rows(ids)))
        self.tasks_cloned += len(ids)
        for (pending, origin), task_id in zip(clones, ids, strict=True):
            self.gangs.noted(pending, task_id)
            self.held.append(
                TaskCloned(
                    self._pathspec(pending.step, task_id),
                    pending.step,
                    task_id,
                    origin_pathspec=origin.origin_pathspec or origin.pathspec,
                    index=pending.foreach_index,
                )
            )
        for (pending, origin), task_id in zip(clones, ids, strict=True):
            chosen = None
            if self.graph[pending.step].kind is StepKind.SWITCH:  # the case the origin took
                children = meta.child_tasks(origin.task_id)
                chosen = children[0].step if children else None
            self._finished(pending, task_id, origin.foreach_count, chosen)

    def _finished(
        self,
        pending: PendingTask,
        task_id: str,
        foreach_count: int | None,
        chosen: str | None = None,
    ) -> None:
        if foreach_count is not None:
            node = self.graph[pending.step]
            if node.kind is StepKind.FOREACH:
                self.held.append(StepExpanded(node.next[0], foreach_count))
        ready = self.scheduler.finished(
            FinishedTask(task_id, pending.step, pending.frames, foreach_count, chosen)
        )
        self._submit(ready)

    def _loop(self) -> None:
        while self.ready or self.running:
            if self.cancel_reason:
                self.reporter.report(
                    Notice("Cancelling: stopping running tasks (Ctrl-C again to kill).")
                )
                self._terminate_all()
                return
            while (
                self.ready
                and not self.failed
                and (len(self.running) < self.max_workers or self.gangs.member(self.ready[0][0]))
            ):  # a @parallel gang's tasks start together, however many
                self._launch(*self.ready.popleft())
            self._commit()
            if self.failed and not self.running:
                break
            now = time.time()
            timeout = 0.1
            deadlines = [r.deadline for r in self.running.values() if r.deadline]
            if deadlines:
                timeout = max(0.0, min(timeout, min(deadlines) - now))
            if self.running:
                try:
                    readable, _, _ = select.select(self._open_pipes(), [], [], timeout)
                except InterruptedError:
                    readable = []
                for fd in readable:
                    if fd in self.running:  # else the executor's wake fd: see _reap_exited
                        self._read(fd)
            self._reap_exited()
            self._check_deadlines()
            for event in waiting_events(self.breakpoints, self.running.values(), self.store.root):
                self.reporter.report(event)
            if self.usage.due():  # sent with the turn's other events, after its commit
                self.held.extend(usage_events(self.usage, self.running.values()))
            self.reporter.tick()

    def _launch(self, pending: PendingTask, task_id: str, attempt: int) -> None:
        stdout, stderr = self.store.log_files(self.run_id, pending.step, task_id, attempt)
        request = self._request(pending, task_id, attempt, stdout, stderr)
        proc = self.executor.launch(request)  # first: the task starts while we record it
        self.batch.start_attempt(task_id, attempt, stdout, stderr)
        now = time.time()
        # (its @timeout's backstop counts from when it says its step started: Running.take)
        self.running[proc.result_fd] = Running(pending, task_id, attempt, proc, request, now)
        self.usage.watch((task_id, attempt), proc.local_pid, proc.reported_usage)
        self.tasks_run += attempt == 0
        self.held.append(
            TaskStarted(
                self._pathspec(pending.step, task_id),
                pending.step,
                task_id,
                attempt,
                pending.foreach_index,
                stdout,
                stderr,
            )
        )

    @cached_property
    def basis(self) -> RunBasis:
        """What every task of the run is asked alike (its id and origin known by then)."""
        return RunBasis(
            file=str(self.file),
            flow_name=self.flow_name,
            store_root=str(self.store.root),
            run_id=self.run_id,
            graph=self.graph,
            decorators=self.decorators,
            params=self.param_artifacts,
            constants=self.constants,
            user=self.user,
            tags=self.config.tags,
            project=self.project,
            origin_run_id=self.resume.origin.run_id if self.resume else None,
            breakpoints=self.config.breakpoints,
            with_decorators=self.config.with_decorators,
            configs=self.configs,
        )

    def _request(
        self, pending: PendingTask, task_id: str, attempt: int, stdout: str, stderr: str
    ) -> TaskRequest:
        control = self.gangs.control(pending)
        request = task_request(
            self.basis, self.outputs, pending, task_id, attempt, stdout, stderr, control
        )
        if task_id in self.fallbacks:
            request = dataclasses.replace(request, fallback=True)
        return request

    def _falls_back(self, pending: PendingTask, task_id: str, outcome: TaskOutcome | None) -> bool:
        """Whether a task that failed its last attempt gets Metaflow's @catch fallback: its
        process died without an outcome (killed, crashed: no exception of the step to catch),
        the step has @catch and is neither a foreach nor a switch (whose next steps only its
        code decides), and it has not had one already."""
        node = self.graph[pending.step]
        return (
            outcome is None
            and "catch" in self.decorators.get(pending.step, {})
            and node.kind not in (StepKind.FOREACH, StepKind.SWITCH)
            and task_id not in self.fallbacks
            and self.cancel_reason is None
        )

    def _read(self, fd: int) -> None:
        running = self.running[fd]
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError:
            chunk = b""
        if chunk:
            running.take(chunk, time.time())
            if running.buffer.endswith(b"\n"):  # the outcome is complete
                self._reap(fd, running.proc.poll())
            return
        running.eof = True  # the process's exit, seen by _reap_exited, finishes it

    def _open_pipes(self) -> list[int]:
        """What the loop waits on: the running tasks' open pipes and the executor's fd that
        says a task has exited (the fork server's), if it has one."""
        pipes = [fd for fd, running in self.running.items() if not running.eof]
        wake = self.executor.wake_fd()
        return pipes if wake is None else [*pipes, wake]

    def _reap(self, fd: int, status: int | None) -> None:
        """Record a task whose process has exited (`status` None: not yet, try again later).

        A process the step forked may keep the pipe open after the task itself has exited,
        so the task's exit, not the pipe's end, is what finishes it."""
        if status is None:
            return
        running = self.running.pop(fd)
        os.close(fd)
        self._outcome(running, status)

    def _reap_exited(self) -> None:
        """Finish every task whose process has exited, whether or not its pipe has closed (a
        process the step forked may hold the pipe open for its whole life)."""
        for fd, running in list(self.running.items()):
            status = running.proc.poll()
            if status is None:
                continue
            with contextlib.suppress(OSError):  # what the task wrote before it exited
                os.set_blocking(fd, False)
                while chunk := os.read(fd, 1 << 16):
                    running.take(chunk, time.time())
            self._reap(fd, status)

    def _outcome(self, running: Running, status: int) -> None:
        outcome: TaskOutcome | None = None
        text = running.buffer.decode(errors="replace").strip()
        if text:
            try:
                outcome = TaskOutcome.from_json(text.splitlines()[-1])
            except (ValueError, TypeError, KeyError):
                outcome = None
        pending, task_id, attempt = running.pending, running.task_id, running.attempt
        pathspec = self._pathspec(pending.step, task_id)
        where = {**running.proc.metadata(), **self.gangs.metadata(pending)}
        node, took = node_label(where), time.time() - running.started
        peak = self.usage.finish((task_id, attempt), running.proc.exit_rusage())
        if peak is not None:
            where = {**where, **peak.to_metadata()}
        peak_rss, cpu_time = (peak.rss, peak.cpu_time) if peak else (None, None)
        if outcome is not None and outcome.ok:
            self.outputs[task_id] = outcome.artifacts
            self.batch.succeed_task(
                task_id,
                attempt,
                artifact_records(task_id, outcome.artifacts),
                foreach_count=outcome.foreach_count,
                caught=outcome.caught.to_json() if outcome.caught else None,
                metadata=where,
            )
            self.held.append(
                TaskFinished(
                    pathspec,
                    pending.step,
                    task_id,
                    attempt,
                    took,
                    node=node,
                    peak_rss=peak_rss,
                    cpu_time=cpu_time,
                )
            )
            count, limit = outcome.foreach_count, self.config.max_num_splits
            refused = too_many_splits(pending.step, count, limit) if count else None
            if refused is not None:  # the task succeeded; the run stops at its foreach
                self.failed.append((pathspec, TaskError("MetaflowException", refused)))
                self.reporter.report(Notice(f"{pathspec}: {refused}"))
                return
            self._finished(pending, task_id, outcome.foreach_count, outcome.chosen)
            return
        error = running.failure(outcome, status)
        ensure_logs(running.request.stdout, running.request.stderr)  # it may have died first
        if outcome is None and not running.killed and _segfaulted(status):
            with open(running.request.stderr, "a", encoding="utf-8") as log:  # as Metaflow says
                log.write("Task failed with a segmentation fault.\n")
        will_retry = (
            attempt < retries(self.decorators, pending.step)
            and self.cancel_reason is None
            and error.reason not in NOT_RETRIED
        )
        fallback = not will_retry and error.reason not in NOT_RETRIED
        if fallback and self._falls_back(pending, task_id, outcome):
            self.fallbacks.add(task_id)
            will_retry = True
        artifacts = outcome.artifacts if outcome else {}
        self.batch.fail_attempt(
            task_id,
            attempt,
            reason=error.reason,
            error=error.to_json(),
            final=not will_retry,
            artifacts=artifact_records(task_id, artifacts),
            metadata=where,
            lost=outcome.lost if outcome else None,
        )
        self.held.append(
            TaskFailed(
                pathspec,
                pending.step,
                task_id,
                attempt,
                will_retry,
                error,
                node=node,
                peak_rss=peak_rss,
                cpu_time=cpu_time,
            )
        )
        if will_retry:
            self.ready.appendleft((pending, task_id, attempt + 1))
        elif not error.cancelled:
            self.failed.append((pathspec, error))
            stopped = self.gangs.stop_peers(pending, self.running.values())
            if stopped is not None:
                self.reporter.report(Notice(stopped))

    def _check_deadlines(self) -> None:
        now = time.time()
        for running in self.running.values():
            if running.deadline and now > running.deadline and running.killed is None:
                running.killed = TIMEOUT
                running.proc.kill(signal.SIGKILL)

    def _terminate_all(self) -> None:
        """Stop every running task: SIGTERM, then SIGKILL after a grace period; record them."""
        for running in self.running.values():
            running.killed = running.killed or CANCEL
            running.proc.kill(signal.SIGTERM)
        deadline = time.time() + CANCEL_GRACE
        while self.running:
            timeout = deadline - time.time()
            if timeout <= 0:
                for running in self.running.values():
                    running.proc.kill(signal.SIGKILL)
                timeout = 1.0
            try:
                readable, _, _ = select.select(self._open_pipes(), [], [], min(timeout, 0.1))
            except InterruptedError:
                continue
            for fd in readable:
                if fd in self.running:
                    self._read(fd)
            self._reap_exited()

    def _commit(self) -> None:
        """Record the waiting starts and outcomes in one transaction, then tell of them."""
        self.batch.commit()
        held, self.held = self.held, []
        if held:
            with self.reporter.batched():
                for event in held:
                    self.reporter.report(event)

    def _pathspec(self, step: str, task_id: str) -> str:
        return f"{self.flow_name}/{self.run_id}/{step}/{task_id}"


def _segfaulted(status: int) -> bool:
    """Whether a task process's `waitpid` status says a segmentation fault ended it."""
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSEGV


def _cancelling_signals() -> tuple[signal.Signals, ...]:
    """Ctrl-C, `kill`, and the terminal closing (SIGHUP, unless `nohup` ignores it) cancel a
    run: its tasks are stopped and it reads cancelled, not crashed."""
    hangup = () if signal.getsignal(signal.SIGHUP) == signal.SIG_IGN else (signal.SIGHUP,)
    return (signal.SIGINT, signal.SIGTERM, *hangup)


def execute(config: RunConfig, reporter: Reporter) -> RunResult:
    if config.executor == "ray":  # Ray may end its driver without a word: it runs in a child
        from flowtui.engine.ray_driver import drive_in_a_child

        return drive_in_a_child(config, reporter, _execute)
    return _execute(config, reporter)


def _execute(config: RunConfig, reporter: Reporter) -> RunResult:
    if config.executor == "ray":  # a cluster that cannot be reached: said before any store is
        from flowtui.engine.ray_cluster import check_reachable  # made (or touched)

        check_reachable(config.ray_address or os.environ.get("RAY_ADDRESS") or "local")
    store = Store.open(config.store, create=not config.resume)  # resume needs an existing one
    try:
        runner = Runner(config, store, reporter)
        try:
            return runner.execute()
        finally:
            runner.executor.close()
    finally:
        reporter.close()
        store.close()
