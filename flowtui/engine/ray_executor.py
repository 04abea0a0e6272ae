"""The Ray executor: each task attempt a Ray task; the runner stays the only writer of the store.

The driver (the runner process) connects to the cluster named by `--ray-address` or
`RAY_ADDRESS`, or starts a local Ray for the run and stops it after. For each attempt it puts
the blobs the task reads into Ray's object store (once per blob: every task that reads it shares
that one object), submits the attempt with its `@resources` as Ray's `num_cpus`, `num_gpus` and
`memory`, and ships the flow's directory with `runtime_env` (working_dir). A pump thread waits
on the attempts, drains their log chunks into the driver's log files while they run (and each
attempt's reports: where it runs, its CPU and memory, which reach the runner's usage monitor as a
local task's samples do), writes a finished attempt's new blobs into the store (hash checked),
and hands the runner its outcome through the same kind of pipe a local task writes to. Ray's own
retries are off: `@retry` decides, and nothing pins a retry to the node its first attempt used.
The cluster's address is checked before connecting, and the cluster watched while the run uses
it, by `ray_cluster`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from flowtui.engine.ray_cluster import ClusterWatch, check_reachable, cluster_gone, gcs_address
from flowtui.engine.task import TaskOutcome, TaskRequest, checked_source
from flowtui.engine.usage import Reported
from flowtui.errors import UsageError
from flowtui.run.status import (
    CANCEL,
    CLUSTER_LOST,
    EXCEPTION,
    INFEASIBLE,
    NODE_LOST,
    PICKLE,
    WORKER_LOST,
    TaskError,
)
from flowtui.run.usage import Usage
from flowtui.store import Store, StoreFullError, create_log

INSTALL_HINT = 'The Ray executor needs Ray: pip install "flowtui[ray]".'
_PUMP_EVERY = 0.1  # seconds between looks at running attempts and their logs
_WATCH_EVERY = 0.5  # seconds between the watch thread's turns (it looks once a second)
_EXCLUDES = [".git", ".venv", "venv", ".flowtui", "__pycache__", "node_modules", "*.pyc"]
_FLOWTUI_DIR = Path(__file__).resolve().parent.parent


# Ray's switch for a one-machine Ray (its default on macOS and Windows): the node's address is
# the loopback one, so its servers (GCS, raylet, workers, agents) listen on 127.0.0.1 only. Read
# once, when Ray is imported. On Linux Ray otherwise replaces 127.0.0.1 with the machine's
# routable address and listens on every interface (docs/decisions.md).
_LOOPBACK_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def _import_ray(local: bool = False) -> Any:
    """Ray, imported so that a local Ray this run starts listens on 127.0.0.1 only (when Ray
    was not imported in this process before)."""
    saved = os.environ.get(_LOOPBACK_ONLY)
    if local and "ray" not in sys.modules:
        os.environ[_LOOPBACK_ONLY] = "0"
    try:
        import ray
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    finally:
        if saved is None:
            os.environ.pop(_LOOPBACK_ONLY, None)
        else:
            os.environ[_LOOPBACK_ONLY] = saved
    return ray


@dataclass
class RayAttempt:
    """A submitted attempt, as the runner sees it (the `TaskHandle` seam)."""

    executor: RayExecutor
    request: TaskRequest
    result_fd: int
    write_fd: int
    ref: Any = None
    status: int | None = None  # a waitpid-style status once the outcome is written
    where: dict[str, str] = field(default_factory=lambda: {"executor": "ray"})
    done: threading.Event = field(default_factory=threading.Event)
    reported: Reported = field(default_factory=Reported)  # the worker's samples of it
    died: TaskError | None = None  # its worker process died (or its node): why, no outcome
    clock: bytes | None = None  # the step clock's last note, passed on to the runner
    lock: threading.Lock = field(default_factory=threading.Lock)  # its pipe's write end

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Cancel the Ray task: SIGTERM interrupts the step, SIGKILL ends its worker."""
        if self.ref is not None and self.status is None:
            with contextlib.suppress(Exception):
                self.executor.ray.cancel(self.ref, force=sig == signal.SIGKILL)

    def poll(self) -> int | None:
        return self.status

    def wait(self) -> int:
        self.done.wait()
        return self.status or 0

    def metadata(self) -> dict[str, str]:
        return self.where

    @property
    def local_pid(self) -> None:
        """The attempt runs in a Ray worker: nothing here to sample (the worker samples it)."""
        return None

    @property
    def reported_usage(self) -> Reported:
        return self.reported

    @property
    def key(self) -> str:
        return f"{self.request.task_id}/{self.request.attempt}"

    def lost_with(self) -> TaskError | None:
        return self.died  # None: its outcome says how it ended

    def exit_rusage(self) -> None:
        return None

    def finish(self, outcome: TaskOutcome) -> None:
        """Hand the runner the attempt's outcome; one whose worker process died ends as a
        local task whose process died: no outcome, its error said by `lost_with` (so @catch's
        fallback attempt follows a last one, as locally)."""
        error = outcome.error
        if error is not None and error.reason in (WORKER_LOST, NODE_LOST):
            self.died = error
        data = memoryview(b"" if self.died else (outcome.to_json() + "\n").encode())
        with self.lock:
            try:
                while data:
                    data = data[os.write(self.write_fd, data) :]
            finally:
                os.close(self.write_fd)
                self.status = 0
                self.done.set()

    def note_clock(self, note: bytes) -> None:
        """Pass the worker's note that the step's @timeout clock started or stopped on to the
        runner, as a local task writes it (engine/step_clock.py)."""
        with self.lock:
            if note == self.clock or self.status is not None:
                return
            self.clock = note
            with contextlib.suppress(OSError):
                os.write(self.write_fd, note)


class RayExecutor:
    name = "ray"

    def __init__(self, store: Store, flow_file: Path, address: str | None = None) -> None:
        self.store = store
        self.flow_dir = flow_file.resolve().parent
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.started_local = self.address is None
        self.ray = _import_ray(local=self.started_local)
        self._connect()
        from flowtui.engine.ray_task import LogSink, run_attempt

        self._remote = self.ray.remote(run_attempt)
        self.sink = LogSink.options(  # type: ignore[attr-defined]
            scheduling_strategy=self._this_node()  # lives (and dies) with the driver's node
        ).remote()
        self.refs: dict[str, Any] = {}  # blob hash -> ObjectRef of its bytes
        self.source_ref: Any = None  # ObjectRef of the flow file's text, as the run checked it
        self.running: dict[Any, RayAttempt] = {}  # ObjectRef -> attempt
        self.by_key: dict[str, RayAttempt] = {}  # "task/attempt" -> running attempt
        self.lock = threading.Lock()
        self.closing = threading.Event()
        client = (self.address or "").startswith("ray://")  # Ray Client: no GCS to look at
        self.watch = ClusterWatch(None if client else gcs_address(self.ray))
        self.lost: str | None = None  # why no attempt can run any more: the cluster went away
        self.pump = threading.Thread(target=self._pump, name="flowtui-ray-pump", daemon=True)
        self.pump.start()
        # The cluster is watched from a thread of its own: with the cluster gone the pump's
        # calls into Ray (`ray.wait`, the log sink's `ray.get`, up to 30 s) can block until
        # Ray ends this process (60 s), and a watch behind them never saw the cluster go.
        self.watcher = threading.Thread(
            target=self._watch_cluster, name="flowtui-ray-watch", daemon=True
        )
        self.watcher.start()

    # -- the cluster --------------------------------------------------------------------
    def _connect(self) -> None:
        ray = self.ray
        options: dict[str, Any] = {
            "log_to_driver": False,  # the task's logs reach its log files instead
            "logging_level": logging.ERROR,
            "namespace": "flowtui",
            # the flow's directory (its helper modules) and flowtui itself reach every worker
            "runtime_env": {
                "working_dir": str(self.flow_dir),
                "py_modules": [str(_FLOWTUI_DIR)],
                "excludes": [*_EXCLUDES, *_inside(self.store.root, self.flow_dir)],
                "env_vars": _task_environment(),
            },
        }
        if self.address is None:
            options.update(address="local", include_dashboard=False)
        else:
            check_reachable(self.address)
            options["address"] = self.address
        try:
            ray.init(**options)
        except Exception as e:
            if type(e).__name__ == "RuntimeEnvSetupError":  # the folder, not the cluster
                raise UsageError(
                    f"Ray could not ship the flow's folder {self.flow_dir} to the cluster "
                    f"({_setup_failure(e)}); keep large files out of it (list them in a "
                    ".gitignore or .rayignore there) or give the flow a folder of its own."
                ) from None
            where = self.address or "a local Ray"
            raise UsageError(
                f"Cannot connect to the Ray cluster at {where} ({_first_line(e)}); check that it "
                "runs (ray status) and that RAY_ADDRESS or --ray-address names it."
            ) from None

    def _this_node(self) -> Any:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        return NodeAffinitySchedulingStrategy(node_id=self.driver_node, soft=False)

    @cached_property
    def driver_node(self) -> str:
        """The id of the node this driver runs on (its raylet, object store and log sink)."""
        return str(self.ray.get_runtime_context().get_node_id())

    def nodes(self) -> list[dict[str, float]]:
        """The resources of each live node."""
        return [n["Resources"] for n in self.ray.nodes() if n.get("Alive")]

    def _live_nodes(self) -> set[str] | None:
        """The ids of the cluster's live nodes, as its GCS says (None: it did not say)."""
        try:
            return {n["NodeID"] for n in self.ray.nodes() if n.get("Alive")}
        except Exception:
            return None

    def capacity(self) -> int | None:
        return max(1, int(sum(n.get("CPU", 0) for n in self.nodes())))

    def wake_fd(self) -> int | None:
        return None  # each attempt's pipe is written when Ray says it ended

    def notices(self) -> list[str]:
        nodes = self.nodes()
        cpus = sum(n.get("CPU", 0) for n in nodes)
        gpus = sum(n.get("GPU", 0) for n in nodes)
        where = "a local Ray started for this run" if self.started_local else self.address
        return [
            f"Executor: ray at {where}: {len(nodes)} node{'s' * (len(nodes) != 1)}, "
            f"{cpus:g} CPUs, {gpus:g} GPUs."
        ]

    def honours(self, decorator: str) -> bool:
        return decorator == "resources"

    def close(self) -> None:
        self.closing.set()
        self.watcher.join(timeout=5)
        # with the cluster gone the pump may be inside Ray until Ray ends this process
        self.pump.join(timeout=1 if self.lost is not None else 10)
        if self.lost is not None:  # nothing to disconnect from: the driver's process ends
            return  # at once, in os._exit (engine/ray_driver.py)
        with contextlib.suppress(Exception):
            self.ray.shutdown()  # disconnects; also stops a Ray this run started

    # -- launching ----------------------------------------------------------------------
    def launch(self, request: TaskRequest) -> RayAttempt:
        for path in (request.stdout, request.stderr):  # the sink appends to them here
            os.close(create_log(path))
        read_fd, write_fd = os.pipe()
        attempt = RayAttempt(self, request, read_fd, write_fd)
        if self.lost is not None:
            attempt.finish(_failure("ClusterLost", self.lost, CLUSTER_LOST))
            return attempt
        options = ray_options(request.resources)
        unmet = self._infeasible(request, options)
        if unmet is not None:
            attempt.finish(_failure("ResourcesUnavailable", unmet, INFEASIBLE))
            return attempt
        remote_request = replace(request, file=os.path.relpath(request.file, self.flow_dir))
        try:
            refs = {h: self._object(h) for h in _needed_blobs(request)}
            attempt.ref = self._remote.options(**options, max_retries=0).remote(
                remote_request, str(self.flow_dir), refs, self.sink, self._source(request.file)
            )
        except Exception as e:
            attempt.finish(
                _failure("RayError", f"Ray could not start the task: {_first_line(e)}", EXCEPTION)
            )
            return attempt
        with self.lock:
            self.running[attempt.ref] = attempt
            self.by_key[attempt.key] = attempt
        return attempt

    def _source(self, file: str) -> Any:
        """The object holding the flow file's text as the run checked it, put once: a worker
        runs that text, not the copy of the folder Ray took when it connected."""
        if self.source_ref is None:
            self.source_ref = self.ray.put(checked_source(file))
        return self.source_ref

    def _object(self, digest: str, payload: Any = None) -> Any:
        """The object holding blob `digest`'s bytes, put once for every task that reads it:
        from `payload` (a Ray task's returned bytes) if given, else read from the store."""
        ref = self.refs.get(digest)
        if ref is None:
            if payload is None:
                import numpy as np

                payload = np.frombuffer(self.store.blobs.get_bytes(digest), dtype=np.uint8)
            ref = self.refs[digest] = self.ray.put(payload)
        return ref

    def _infeasible(self, request: TaskRequest, options: dict[str, Any]) -> str | None:
        """Why no live node could ever run this task, or None if one can."""
        if not request.resources:
            return None
        wanted = {
            "CPU": options.get("num_cpus", 1),
            "GPU": options.get("num_gpus", 0),
            "memory": options.get("memory", 0),
        }
        nodes = self.nodes()
        for node in nodes:
            if all(node.get(k, 0) >= v for k, v in wanted.items() if v):
                return None
        asked = ", ".join(f"{k}={v:g}" for k, v in request.resources.items())
        have = "; ".join(
            f"{n.get('CPU', 0):g} CPUs, {n.get('GPU', 0):g} GPUs, "
            f"{n.get('memory', 0) / 2**20:,.0f} MB memory"
            for n in nodes
        )
        return (
            f"step '{request.step}' asks for @resources({asked}), which no node of the Ray "
            f"cluster has (its {len(nodes)} node{'s' * (len(nodes) != 1)}: {have}); lower the "
            "request or add a node that has it."
        )

    # -- the pump -----------------------------------------------------------------------
    def _pump(self) -> None:
        ray = self.ray
        while not self.closing.is_set():
            with self.lock:
                refs = list(self.running)
            ready: list[Any] = []
            if refs:
                try:
                    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=_PUMP_EVERY)
                except Exception:  # Ray failing at once (its node going): not a busy loop
                    ready = []
                    self.closing.wait(_PUMP_EVERY)
            else:
                self.closing.wait(_PUMP_EVERY)
            if self.lost is not None:
                continue
            self._drain_logs()  # after the wait: a finished task's last lines are in
            for ref in ready:
                with self.lock:
                    attempt = self.running.get(ref)
                if attempt is None:
                    continue
                # The attempt stays running while it is collected: a collect that blocks in
                # Ray (the cluster going away as it ends) leaves it to the watch to fail.
                outcome = self._collected(attempt)
                with self.lock:
                    if self.running.pop(ref, None) is None:
                        continue  # the watch failed it meanwhile: the cluster went away
                    self.by_key.pop(attempt.key, None)
                attempt.finish(outcome)

    def _watch_cluster(self) -> None:
        while not self.closing.wait(_WATCH_EVERY):
            if self.watch.gone():
                self._lose_cluster(f"its GCS at {self.watch.address} refuses connections")
                return

    def _wait_while_the_gcs_refuses(self) -> None:
        """A task Ray failed while the GCS refuses connections may have gone with the whole
        cluster (its node "died" as the head stopped): wait for the watch to say so, or for the
        GCS to answer again, before it is called its node's or worker's loss (and before asking
        Ray which nodes live, which blocks while the GCS is gone)."""
        while not self.closing.is_set() and self.lost is None and not self.watch.answers():
            self.closing.wait(_WATCH_EVERY)

    def _lose_cluster(self, how: str) -> None:
        """The cluster went away (`how` says how it showed): every running attempt fails now
        (Ray would hold them until it ends this process), and so does every later launch."""
        with self.lock:
            if self.lost is not None:  # the watch and the pump both saw it: said once
                return
            self.lost = cluster_gone(self.address, how)
            lost, self.running = list(self.running.values()), {}
            self.by_key.clear()
        for attempt in lost:
            attempt.ref = None
            step = attempt.request.step
            attempt.finish(
                _failure("ClusterLost", f"step '{step}' stopped: {self.lost}", CLUSTER_LOST)
            )

    def _drain_logs(self) -> None:
        try:
            chunks, reports = self.ray.get(self.sink.drain.remote(), timeout=30)
        except Exception:
            return
        for path, data in chunks.items():
            with contextlib.suppress(OSError), open(path, "ab") as f:
                f.write(data)
        for key, report in reports.items():
            with self.lock:
                attempt = self.by_key.get(key)
            if attempt is None:
                continue
            attempt.where = {**attempt.where, **report.get("where", {})}
            if "clock" in report:
                attempt.note_clock(report["clock"])
            if "usage" in report:
                rss, cpu_time, cpu = report["usage"]
                attempt.reported.report(Usage(rss, cpu_time, cpu), report.get("peak", 0))

    def _collected(self, attempt: RayAttempt) -> TaskOutcome:
        """The attempt's outcome; if the driver cannot take it in (the store's disk is full),
        the attempt fails saying so, and the pump goes on (the run waits on it)."""
        try:
            return self._collect(attempt)
        except StoreFullError as e:  # as a local task's: not retried, "free some space"
            step = attempt.request.step
            why = f"the artifacts of step '{step}' were not stored: {e}"
            return _failure("StoreFullError", why, PICKLE)
        except Exception as e:
            return _failure(
                type(e).__name__,
                f"the runner could not take in the result of step '{attempt.request.step}' "
                f"from Ray: {_first_line(e)}",
                EXCEPTION,
            )

    def _collect(self, attempt: RayAttempt) -> TaskOutcome:
        """The attempt's outcome, with its new blobs written to the store."""
        ray = self.ray
        try:
            text, blobs, where = ray.get(attempt.ref)
        except Exception as e:
            self._wait_while_the_gcs_refuses()
            live = self._live_nodes() if self.lost is None else None
            if live is not None and self.driver_node not in live:
                # The driver's own node died (the GCS, still up, says so): the run's objects,
                # its log sink and its way into the cluster went with it. Whatever Ray made
                # of this attempt (its worker crashed, its inputs were lost), that is the
                # cause, as when the GCS stops: not the step's, nor its node's alone.
                self._lose_cluster("the node this run's driver is on died")
            if self.lost is not None:  # the watch failed the attempt: this outcome is dropped
                return _failure("ClusterLost", self.lost, CLUSTER_LOST)
            node = attempt.where.get("node-id")  # the node it ran on, as its worker reported
            return _ray_failure(e, attempt.request, bool(live and node and node not in live))
        finally:
            attempt.ref = None
        attempt.where = where
        outcome = TaskOutcome.from_json(text)
        # What a successful step (but the end) made, later tasks read: each value is put in
        # the object store now, from the object Ray returned it in, not read back from the
        # store for the first task that reads it (the driver held it twice more then).
        later = outcome.ok and not attempt.request.is_end
        for digest, payload in blobs.items():
            ref = self.store.blobs.put_bytes(memoryview(payload))  # type: ignore[arg-type]
            if ref.hash != digest:
                return _failure(
                    "ArtifactError",
                    f"an artifact of step '{attempt.request.step}' was damaged on its way from "
                    "the Ray worker (its bytes do not match their hash); run the step again",
                    EXCEPTION,
                )
            if later:  # if Ray cannot take it now, the task that reads it puts it (launch)
                with contextlib.suppress(Exception):
                    self._object(digest, payload)
        return outcome


def ray_options(resources: dict[str, float]) -> dict[str, Any]:
    """`@resources(cpu=, gpu=, memory=)` (memory in MB, as Metaflow's) as Ray task options."""
    options: dict[str, Any] = {}
    if resources.get("cpu"):
        options["num_cpus"] = float(resources["cpu"])
    if resources.get("gpu"):
        options["num_gpus"] = float(resources["gpu"])
    if resources.get("memory"):
        options["memory"] = int(float(resources["memory"]) * 2**20)
    return options


# Variables that describe this machine or session, not the run: not sent to other nodes.
_MACHINE_VARS = {"PATH", "HOME", "PWD", "OLDPWD", "SHELL", "USER", "LOGNAME", "TMPDIR", "TERM"}
_MACHINE_PREFIXES = ("RAY_", "SSH_", "XDG_", "LD_", "PYTHON", "VIRTUAL_ENV", "TMUX", "DISPLAY")


def _task_environment() -> dict[str, str]:
    """The runner's environment as tasks see it locally, less what belongs to this machine."""
    return {
        k: v
        for k, v in os.environ.items()
        if k not in _MACHINE_VARS and not k.startswith(_MACHINE_PREFIXES)
    }


def _inside(store: Path, folder: Path) -> list[str]:
    """The store's contents, as runtime_env excludes, when it lies inside the flow's folder.
    (Excludes apply to flowtui's own upload too, so they name the store's files precisely.)"""
    try:
        where = "/" + str(store.resolve().relative_to(folder))
    except ValueError:
        return []
    return [f"{where}/blobs", f"{where}/logs", f"{where}/metadata.db*", f"{where}/cards"]


def _needed_blobs(request: TaskRequest) -> set[str]:
    hashes = {ref.hash for ref in request.inherited.values()}
    for _step, _task, artifacts in request.join_inputs:
        hashes.update(ref.hash for ref in artifacts.values())
    hashes.update(frame.value_hash for frame in request.foreach)
    return hashes


def _failure(kind: str, message: str, reason: str) -> TaskOutcome:
    return TaskOutcome(ok=False, error=TaskError(kind, message, "", reason))


def _ray_failure(error: Exception, request: TaskRequest, node_gone: bool = False) -> TaskOutcome:
    """One sentence for each way Ray can lose a task. `node_gone`: the node the attempt ran on
    has left the cluster (a worker lost with its node is a lost node)."""
    kind = type(error).__name__
    detail = _first_line(error)
    if kind == "TaskCancelledError":
        return _failure("Cancelled", "the run was cancelled", CANCEL)
    lost_node = "node" in detail.lower() and "died" in detail.lower()
    if kind == "NodeDiedError" or lost_node or (node_gone and kind in _WORKER_LOST):
        return _failure(
            "NodeLost",
            f"the Ray node running step '{request.step}' went away ({kind}: {detail})",
            NODE_LOST,
        )
    if kind in _WORKER_LOST:
        return _failure(
            "WorkerLost",
            f"the Ray worker process running step '{request.step}' died (killed from outside, "
            f"or out of memory?) ({kind}: {detail})",
            WORKER_LOST,
        )
    if kind == "RuntimeEnvSetupError":
        return _failure(
            "RuntimeEnvError",
            f"Ray could not ship the flow's directory to a worker ({detail}); keep large files "
            "out of the flow's folder (or list them in a .gitignore)",
            EXCEPTION,
        )
    return _failure(kind, f"Ray failed the task: {detail}", EXCEPTION)


_WORKER_LOST = ("WorkerCrashedError", "OutOfMemoryError", "ActorDiedError", "LocalRayletDiedError")


def _setup_failure(error: BaseException) -> str:
    """Why Ray could not set up a runtime environment: the cause it wraps, else its text past
    its first line ("Failed to set up runtime environment.")."""
    cause = error.__cause__ or error.__context__
    text = str(cause) if cause is not None else "\n".join(str(error).splitlines()[1:])
    text = text.strip() or str(error).strip()
    return text.split(". To exclude", 1)[0].splitlines()[0][:300]


def _first_line(error: BaseException) -> str:
    cause = getattr(error, "cause", None)  # a RayTaskError wraps what the worker raised
    if isinstance(cause, BaseException) and cause is not error:
        error = getattr(cause, "cause", None) or cause
        lines = str(error).strip().splitlines()
        return f"{type(error).__name__}: {lines[0] if lines else ''}"[:300]
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300]
