"""Task: one execution of a step, read back from the store as Metaflow's client reads it: its
state, attempts, logs, lineage and artifacts (`task.data.NAME`, unpickled on first touch)."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowtui.client.base import (
    DataArtifact,
    MetaflowData,
    TaskException,
    _ClientObject,
    _in_namespace,
    _listing,
    _split,
    _time,
)
from flowtui.client.errors import ArtifactNotFound, MetaflowNotFound
from flowtui.client.metaflow_shapes import RunCode, task_metadata_dict
from flowtui.client.namespace import get_namespace
from flowtui.run.status import OK_STORED
from flowtui.run.usage import Usage
from flowtui.store import ArtifactRecord, Store, TaskRecord

if TYPE_CHECKING:
    from flowtui.client.objects import Step

_DONE_OK = OK_STORED
Metadata = namedtuple("Metadata", ["name", "value", "created_at", "type", "task"])
_FINISHED = (*OK_STORED, "failed")


class Task(_ClientObject):
    """One execution of a step (one foreach item, one branch)."""

    _record: TaskRecord
    _artifacts: dict[str, ArtifactRecord] | None

    _attempt: int | None = None  # set: this object reads that attempt (its logs), as Metaflow's

    def __init__(
        self,
        pathspec: str,
        attempt: int | None = None,
        *,
        _store: Store | None = None,
        _namespace_check: bool = True,
    ) -> None:
        from flowtui.client.objects import Step  # objects builds on this module

        flow, run_id, step, task_id = _split(pathspec, 4, "Task('FlowName/RunID/StepName/TaskID')")
        step_path = f"{flow}/{run_id}/{step}"
        found = Step(step_path, _store=_store, _namespace_check=_namespace_check)[task_id]
        self._store = found._store
        self._record = found._record
        self._artifacts: dict[str, ArtifactRecord] | None = None
        if attempt is not None:
            try:
                self._attempt = int(attempt)
            except (TypeError, ValueError):
                raise MetaflowNotFound(f"attempt must be a number, not {attempt!r}.") from None
            if self._attempt < 0:
                raise MetaflowNotFound(f"attempt must be 0 or more, not {attempt}.")

    def __repr__(self) -> str:
        if self._attempt is None:
            return super().__repr__()
        return f"Task('{self.pathspec}', attempt={self._attempt})"

    __str__ = __repr__

    @classmethod
    def _make(cls, record: TaskRecord, store: Store) -> Task:
        task = cls.__new__(cls)
        task._store = store
        task._record = record
        task._artifacts = None
        return task

    def _fresh(self) -> TaskRecord:
        if self._record.status not in _FINISHED:
            self._record = self._store.meta.task(self._record.task_id) or self._record
        return self._record

    @property
    def pathspec(self) -> str:
        return self._record.pathspec

    @property
    def parent(self) -> Step:
        from flowtui.client.objects import Run, Step

        run = Run(
            f"{self._record.flow}/{self._record.run_id}", _store=self._store, _namespace_check=False
        )
        return Step._make(run, self._record.step)

    # -- state ---------------------------------------------------------------------------
    @property
    def status(self) -> str:
        """pending, running, retrying, succeeded, failed, cloned (reused by a resume), or
        not run (its run ended before starting it: failed, cancelled or crashed)."""
        return self._fresh().status

    @property
    def successful(self) -> bool:
        """False for a failed task, and (as in Metaflow) for one whose exception @catch caught,
        also when a resume reused it."""
        record = self._fresh()
        return record.status in _DONE_OK and self._ran(record).exit_reason != "caught"

    def _ran(self, record: TaskRecord) -> TaskRecord:
        """The record of the task that actually ran: a reused task's origin, else itself."""
        if record.status != "cloned" or not record.origin_pathspec:
            return record
        return self._store.meta.task(record.origin_pathspec.rsplit("/", 1)[-1]) or record

    @property
    def finished(self) -> bool:
        """True when the task ran to its end: succeeded, or @catch caught its exception. As in
        Metaflow, a failed task is not finished (`finished_at` still says when it ended)."""
        return self._fresh().status in _DONE_OK

    @property
    def finished_at(self) -> datetime | None:
        record = self._fresh()
        return _time(record.finished) if record.status in _FINISHED else None

    @property
    def metadata_dict(self) -> dict[str, str]:
        """The task's metadata by Metaflow's names (`attempt`, `attempt_ok`, `user`, ...)."""
        record = self._fresh()
        return task_metadata_dict(record, self._store.meta.run(record.run_id), self._store)

    @property
    def peak_memory(self) -> int | None:
        """Bytes resident (RSS) at the peak of the task's latest finished attempt, as the OS
        measured it (None when nothing was measured: a Ray task, a system other than Linux,
        a task still running, or a run recorded before flowtui measured it). Also in
        `metadata_dict` as `peak-rss`."""
        usage = self._peak()
        return usage.rss if usage is not None else None

    @property
    def cpu_time(self) -> float | None:
        """Seconds of CPU (user + system) the task's latest finished attempt used (None as for
        `peak_memory`). Also in `metadata_dict` as `cpu-time`."""
        usage = self._peak()
        return usage.cpu_time if usage is not None else None

    def _peak(self) -> Usage | None:
        recorded = self._store.meta.task_metadata(self._fresh().task_id)
        return Usage.from_metadata(recorded[max(recorded)]) if recorded else None

    @property
    def created_at(self) -> datetime:
        return datetime.fromtimestamp(self._record.created)

    @property
    def exception(self) -> TaskException | None:
        """The exception that failed the task's latest attempt, if it failed."""
        record = self._fresh()
        error = record.error
        if not error or record.status in _DONE_OK:
            return None
        kind, module = str(error.get("type", "")), error.get("module")
        return TaskException(
            f"{module}.{kind}" if module else kind,  # as Metaflow's: `builtins.ValueError`
            str(error.get("message", "")),
            str(error.get("traceback") or ""),
        )

    @property
    def current_attempt(self) -> int:
        """The attempt asked for (`Task(pathspec, attempt=N)`), else the latest started."""
        if self._attempt is not None:
            return self._attempt
        return max(self._fresh().attempts - 1, 0)

    @property
    def metadata(self) -> list[Metadata]:
        """`metadata_dict` as Metaflow's list of `Metadata(name, value, created_at, type,
        task)` (created_at in milliseconds since the epoch, as Metaflow's), after the
        `attempt`, `attempt_ok` and `attempt-done` of each earlier attempt (@retry), as
        Metaflow lists one of each per attempt."""
        created = int(self._record.created * 1000)
        latest = self.metadata_dict
        earlier = []  # as Metaflow records them: attempt, attempt_ok, attempt-done per attempt
        for attempt in self._store.meta.attempts(self._fresh().task_id)[:-1]:
            at = int(attempt.started * 1000)
            earlier.append(Metadata("attempt", str(attempt.attempt), at, "attempt", self))
            if attempt.finished is not None:
                done = int(attempt.finished * 1000)
                ok = str(attempt.status == "succeeded")
                earlier.append(Metadata("attempt_ok", ok, done, "attempt_ok", self))
                earlier.append(
                    Metadata("attempt-done", str(attempt.attempt), done, "attempt-done", self)
                )
        return earlier + [Metadata(k, v, created, k, self) for k, v in latest.items()]

    @property
    def index(self) -> int | None:
        """The index of this task in its innermost foreach (None outside a foreach)."""
        return self._record.foreach_index

    @property
    def foreach_indices(self) -> tuple[int, ...]:
        """The task's index in each enclosing foreach, outermost first (`()` outside one)."""
        return tuple(int(entry[0]) for entry in self._record.foreach_stack)

    @property
    def origin_pathspec(self) -> str | None:
        """For a task a resume reused: the pathspec of the task that actually ran."""
        return self._record.origin_pathspec

    @property
    def tags(self) -> frozenset[str]:
        run = self._store.meta.run(self._record.run_id)
        return frozenset(run.tags) | frozenset(run.system_tags) if run else frozenset()

    @property
    def user_tags(self) -> frozenset[str]:
        run = self._store.meta.run(self._record.run_id)
        return frozenset(run.tags) if run else frozenset()

    @property
    def system_tags(self) -> frozenset[str]:
        run = self._store.meta.run(self._record.run_id)
        return frozenset(run.system_tags) if run else frozenset()

    def is_in_namespace(self) -> bool:
        run = self._store.meta.run(self._record.run_id)
        return run is not None and _in_namespace(run, get_namespace())

    @property
    def runtime_name(self) -> str | None:
        """The value of the run's `runtime:` system tag, as in Metaflow: flowtui's says how the
        run started (run, resume or spin); Metaflow's local runs say `dev`."""
        for tag in self.system_tags:
            if tag.startswith("runtime:"):
                return tag.split(":", 1)[1]
        return None

    @property
    def code(self) -> RunCode:
        """Its run's code (see `Run.code`)."""
        return self.parent.parent.code

    @property
    def environment_info(self) -> None:
        """None, as Metaflow's for a task with no environment package (@conda, @pypi): a
        flowtui task runs in the runner's own environment."""
        return None

    # -- lineage -------------------------------------------------------------------------
    @property
    def parent_task_pathspecs(self) -> Iterator[str]:
        for task in self.parent_tasks:
            yield task.pathspec

    @property
    def parent_tasks(self) -> Iterator[Task]:
        """The tasks whose output this task started from (all inputs, for a join)."""
        for task_id in self._record.parents:
            record = self._store.meta.task(task_id)
            if record is not None:
                yield Task._make(record, self._store)

    @property
    def child_task_pathspecs(self) -> Iterator[str]:
        for task in self.child_tasks:
            yield task.pathspec

    @property
    def child_tasks(self) -> Iterator[Task]:
        """The tasks that started from this task's output."""
        for record in self._store.meta.child_tasks(self._record.task_id):
            yield Task._make(record, self._store)

    # -- logs ----------------------------------------------------------------------------
    def log_path(self, stream: str = "stdout") -> Path | None:
        """The log file of the latest attempt (`stream`: stdout or stderr), if it started."""
        if stream not in ("stdout", "stderr"):
            raise ValueError(f"stream must be 'stdout' or 'stderr', not {stream!r}.")
        attempts = self._store.meta.attempts(self._record.task_id)
        if self._attempt is not None:
            attempts = [a for a in attempts if a.attempt == self._attempt]
        if not attempts:
            return None
        return Path(getattr(attempts[-1], stream))

    def _log(self, stream: str) -> str:
        path = self.log_path(stream)
        if path is None:
            return ""
        try:
            return path.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    @property
    def stdout(self) -> str:
        return self._log("stdout")

    @property
    def stderr(self) -> str:
        return self._log("stderr")

    @property
    def stdout_size(self) -> int:
        """Bytes of the attempt's stdout log so far (0 before it starts)."""
        return self._log_size("stdout")

    @property
    def stderr_size(self) -> int:
        return self._log_size("stderr")

    def _log_size(self, stream: str) -> int:
        path = self.log_path(stream)
        try:
            return path.stat().st_size if path is not None else 0
        except FileNotFoundError:
            return 0

    def loglines(
        self, stream: str, as_unicode: bool = True, meta_dict: dict[str, Any] | None = None
    ) -> Iterator[tuple[datetime | None, str | bytes]]:
        """Metaflow's `(timestamp, line)` pairs of the `stream` (stdout or stderr) log, line
        by line. flowtui's logs are the task's own output, without a time per line: the
        timestamp is None (docs/metaflow-compat.md). `meta_dict` is taken for Metaflow's
        signature; flowtui has no use for it."""
        if stream not in ("stdout", "stderr"):
            raise ValueError(f"stream must be 'stdout' or 'stderr', not {stream!r}")
        for line in self._log(stream).splitlines():
            yield None, line if as_unicode else line.encode("utf-8")

    # -- artifacts -----------------------------------------------------------------------
    def _artifact_records(self) -> dict[str, ArtifactRecord]:
        if self._artifacts is not None:
            return self._artifacts
        stored = self._store.meta.artifacts(self._record.task_id, self._attempt)
        records = {a.name: a for a in stored}
        if self._fresh().status in _FINISHED:  # final: keep them
            self._artifacts = records
        return records

    def __iter__(self) -> Iterator[DataArtifact]:
        for record in self._artifact_records().values():
            yield DataArtifact._make(self, record)

    def __getitem__(self, name: str) -> DataArtifact:
        records = self._artifact_records()
        record = records.get(name)
        if record is None:
            raise ArtifactNotFound(
                f"Task {self.pathspec} has no artifact '{name}'; its artifacts: "
                f"{_listing(sorted(records))}."
            )
        return DataArtifact._make(self, record)

    def __contains__(self, name: object) -> bool:
        return name in self._artifact_records()

    @property
    def data(self) -> MetaflowData:
        """The task's artifact values by attribute: `task.data.NAME` (loaded on access)."""
        return MetaflowData(self)

    @property
    def artifacts(self) -> Any:
        """The task's artifacts as a named tuple of `DataArtifact`: `task.artifacts.NAME.data`."""
        arts = list(self)
        fields = namedtuple("MetaflowArtifacts", [a.id for a in arts], rename=True)  # type: ignore[misc]
        return fields._make(arts)
