"""Metaflow's runs for a long-lived reader (the TUI), in the shapes flowtui's own runs have.

`MetaflowReader` is `RunReader`'s counterpart for the runs that real Metaflow made beside a
flow file (its local datastore, `.metaflow/`, found as `--source auto` finds it): the flow's
runs as `RunRecord`s, a run as a `RunState` (its tasks' states, their logs as files), a task's
artifacts as `ArtifactRecord`s. Reading goes through Metaflow's own client and metadata only:
no artifact's value is unpickled here (a failed task's error is read from its stderr), so the
TUI can call it from a thread. `metaflow` is imported on the first call, never before, and
reading writes nothing into `.metaflow/` (the logs are copied to a temporary folder of the
reader's own, removed on `close`). A value is loaded only in the preview process, by
`load_metaflow_value`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from flowtui.client.metaflow_runs import (
    METAFLOW_DIRNAME,
    find_metaflow_root,
    load_metaflow,
    metaflow_cards,
    metaflow_run_record,
    metaflow_task,
    run_outcome,
    task_outcome,
)
from flowtui.errors import FlowtuiError
from flowtui.run.state import RunState, TaskState
from flowtui.run.status import RunStatus, TaskError, TaskStatus
from flowtui.store.records import ArtifactRecord, RunRecord

METAFLOW = "metaflow"
"""The `source` of a run that Metaflow made (flowtui's own runs have `flowtui`)."""
_TYPE = re.compile(r"^<class '(.+)'>$")
_METAFLOW_CODE = f"{os.sep}metaflow{os.sep}"
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::\s?(.*))?$")


def error_from_stderr(text: str) -> TaskError | None:
    """The exception a failed Metaflow task printed (Metaflow writes the traceback to the
    task's stderr): its type, message and traceback, or None when there is none."""
    start = text.rfind("Traceback (most recent call last):")
    if start < 0:
        return None
    lines = text[start:].splitlines()
    body: list[str] = []
    for line in lines:
        if body and line.strip() in ("", "Task failed."):
            break
        body.append(line)
    last = body[-1] if len(body) > 1 else ""
    traceback = "\n".join(user_frames(body))
    found = _EXCEPTION_LINE.match(last)
    if found is None:
        return TaskError("Error", last.strip(), traceback)
    return TaskError(found.group(1), found.group(2) or "", traceback)


def user_frames(lines: list[str]) -> list[str]:
    """A traceback's lines without the frames of Metaflow's own code (its CLI and task
    runner come first in every failed task's traceback), as flowtui shows user frames."""
    kept: list[str] = []
    skipping = False
    for line in lines:
        if line.startswith('  File "'):
            skipping = _METAFLOW_CODE in line
        elif not line.startswith("    "):
            skipping = False
        if not skipping:
            kept.append(line)
    return kept


def type_of(info: dict[str, Any]) -> str:
    """`int`, `__main__.Point`: the type Metaflow's datastore recorded for a value."""
    found = _TYPE.match(str(info.get("type") or ""))
    return found.group(1) if found else str(info.get("type") or "?")


class MetaflowReader:
    """Reads the runs Metaflow made beside `near` (a flow file's folder); thread-safe."""

    def __init__(self, near: Path) -> None:
        self.near = near
        self._lock = threading.Lock()
        self._logs: Path | None = None

    @property
    def root(self) -> Path | None:
        """The folder holding Metaflow's local datastore (`.metaflow/`), if there is one."""
        return find_metaflow_root(self.near)

    def has_runs(self, flow: str) -> bool:
        """Whether Metaflow's datastore beside the file has runs of `flow` (folders only:
        Metaflow is not imported)."""
        root = self.root
        return root is not None and (root / METAFLOW_DIRNAME / flow).is_dir()

    def runs(self, flow: str) -> list[RunRecord]:
        """`flow`'s runs that Metaflow made, newest first (empty when there are none)."""
        if not self.has_runs(flow):
            return []
        with self._lock:
            mf = load_metaflow(self.near)
            from metaflow.exception import MetaflowNotFound

            try:
                runs = list(mf.Flow(flow))
            except MetaflowNotFound:
                return []
            records = [metaflow_run_record(flow, run) for run in runs]
        return sorted(records, key=lambda r: r.created, reverse=True)

    def run_state(self, flow: str, run_id: str) -> RunState | None:
        """Run `run_id` of `flow` as Metaflow holds it now (None when it is not there): its
        tasks' states, and each task's stdout and stderr copied into files for the log view."""
        with self._lock:
            mf = load_metaflow(self.near)
            from metaflow.exception import MetaflowNotFound

            try:
                run = mf.Run(f"{flow}/{run_id}")
                steps = list(run)
            except MetaflowNotFound:
                return None
            status, finished, _ = run_outcome(run)
            state = RunState(
                flow=flow,
                run_id=str(run_id),
                store=str(self.root or ""),
                status=RunStatus.of(status),
                started=run.created_at.timestamp(),
                finished=finished,
                source=METAFLOW,
            )
            logs = self._log_folder() / flow / str(run_id)
            logs.mkdir(parents=True, exist_ok=True)
            for step in reversed(steps):  # Metaflow lists the last step first
                for task in sorted(step, key=lambda t: int(t.id) if t.id.isdigit() else 0):
                    state.tasks[task.pathspec] = self._task_state(task, logs, state.status)
            for task in state.tasks.values():
                if task.status is TaskStatus.FAILED and state.failed is None:
                    state.failed = task.pathspec
            return state

    def _task_state(self, task: Any, logs: Path, run_status: RunStatus) -> TaskState:
        status, attempt, started, finished = task_outcome(task)
        step = task.pathspec.split("/")[2]
        stdout = logs / f"{step}.{task.id}.stdout.log"
        stderr = logs / f"{step}.{task.id}.stderr.log"
        stdout.write_text(task.stdout or "", encoding="utf-8")
        errors = task.stderr or ""
        stderr.write_text(errors, encoding="utf-8")
        state = TaskStatus.of(status)
        if state is TaskStatus.RUNNING and run_status is RunStatus.FAILED:
            state = TaskStatus.CANCELLED  # Metaflow stops the other tasks when one fails
        return TaskState(
            pathspec=task.pathspec,
            step=step,
            task_id=task.id,
            status=state,
            attempt=attempt,
            index=task.index,  # Metaflow's own `_foreach_stack` (ints), not a user value
            stdout=str(stdout),
            stderr=str(stderr),
            started=started,
            finished=finished,
            error=error_from_stderr(errors) if state is TaskStatus.FAILED else None,
        )

    def artifacts(self, pathspec: str) -> list[ArtifactRecord]:
        """Task `pathspec`'s artifacts: names, types and sizes as Metaflow's datastore
        recorded them; no value is loaded (the short repr is left empty)."""
        with self._lock:
            task = metaflow_task(pathspec, self.near)
            info = _datastore_info(task)
            records = []
            for artifact in task:
                if artifact.id.startswith("_") or artifact.id == "name":
                    continue
                about = info.get(artifact.id, {})
                size = about.get("size")
                records.append(
                    ArtifactRecord(
                        task_id=task.id,
                        name=artifact.id,
                        hash=artifact.sha,
                        type=type_of(about),
                        size=int(size) if isinstance(size, int) else artifact.size,
                        repr="",
                    )
                )
        return sorted(records, key=lambda r: r.name)

    def cards(self, pathspec: str) -> list[dict[str, Any]]:
        """Task `pathspec`'s Metaflow cards as flowtui card documents (the data inside
        Metaflow's card pages: JSON, never unpickled), for the same drawing."""
        with self._lock:
            return metaflow_cards(metaflow_task(pathspec, self.near))

    def _log_folder(self) -> Path:
        if self._logs is None:
            self._logs = Path(tempfile.mkdtemp(prefix="flowtui-metaflow-logs-"))
        return self._logs

    def close(self) -> None:
        with self._lock:
            if self._logs is not None:
                shutil.rmtree(self._logs, ignore_errors=True)
                self._logs = None


def _datastore_info(task: Any) -> dict[str, dict[str, Any]]:
    """What Metaflow's datastore recorded of each of the task's values (type, size), read
    without loading any value; empty when this Metaflow keeps it elsewhere."""
    try:
        from metaflow.client import core

        artifact = next(iter(task), None)
        if artifact is None:
            return {}
        if core.filecache is None:
            core.filecache = core.FileCache()
        cache = core.filecache
        location = artifact._object["location"]
        ds_type = artifact._object["ds_type"]
        storage = cache._get_datastore_storage_impl(ds_type)
        flow, run_id, step, task_id = task.pathspec.split("/")
        ds_root = (
            location[6:]
            if location.startswith(":root:")
            else storage.get_datastore_root_from_location(location, flow)
        )
        task_ds = cache._get_task_datastore(
            ds_type, ds_root, flow, run_id, step, task_id, task.current_attempt
        )
        return dict(task_ds.ds_metadata.get("info", {}))
    except Exception:  # another Metaflow's internals: the sizes come from the client instead
        return {}


def load_metaflow_value(root: Path, pathspec: str, name: str) -> Any:
    """Artifact `name` of Metaflow's task `pathspec` (the datastore beside `root`), unpickled
    by Metaflow's client. Runs user code: only the preview process calls it."""
    from flowtui.client.runs import ValueUnavailable

    try:
        task = metaflow_task(pathspec, root)
        names = [a.id for a in task]
    except FlowtuiError as e:
        raise ValueUnavailable(str(e)) from None
    if name not in names:
        raise ValueUnavailable(f"Metaflow's task {pathspec} has no artifact named {name}.")
    try:
        return task[name].data
    except (ImportError, AttributeError) as e:
        raise ValueUnavailable(
            f"{name}'s class cannot be imported here ({e}); Metaflow pickled it from the "
            "flow's own module: load it in the flow's environment."
        ) from None
    except Exception as e:
        raise ValueUnavailable(f"{name} could not be loaded: {type(e).__name__}: {e}.") from None
