"""Flow, Run, Step, Task and DataArtifact: past and running runs, read back from the store.

The shape and names are Metaflow's client's, so notebook code ports over:
`Flow("MyFlow").latest_run["train"].task.data.model`. Everything is lazy: opening a run reads
one row, a step's tasks are read when asked for, and an artifact's value is unpickled only when
`.data` (or `task.data.NAME`) touches it, then cached for the process by its hash.

Objects are views on the store, not snapshots: state that a running run changes (a run's or a
task's status, its logs, a task's artifacts once it finishes) is read again on each access.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from flowtui.client.base import (
    DataArtifact,
    MetaflowData,
    TaskException,
    _ClientObject,
    _in_namespace,
    _listing,
    _require_store,
    _split,
    _time,
)
from flowtui.client.errors import (
    ArtifactNotFound,
    FlowNotFound,
    MetaflowNamespaceMismatch,
    MetaflowNotFound,
    MetaflowTaggingError,
    RunNotFound,
    StepNotFound,
    TaskNotFound,
)
from flowtui.client.metaflow_shapes import RunCode, task_metadata_dict
from flowtui.client.namespace import get_namespace
from flowtui.client.values import value_cache
from flowtui.run.status import OK_STORED
from flowtui.run.usage import Usage
from flowtui.store import ArtifactRecord, RunRecord, Store, TaskRecord

_DONE_OK = OK_STORED
Metadata = namedtuple("Metadata", ["name", "value", "created_at", "type", "task"])
_FINISHED = (*OK_STORED, "failed")


class Flow(_ClientObject):
    """A flow: its runs, newest first, filtered by the current namespace."""

    def __init__(
        self, pathspec: str, *, _store: Store | None = None, _namespace_check: bool = True
    ) -> None:
        (name,) = _split(pathspec, 1, "Flow('FlowName')")
        self._store = _store or _require_store()
        self.name = name
        known = self._store.meta.flows()
        if name not in known:
            raise FlowNotFound(
                f"Flow {name} has no runs in the store at {self._store.root}; "
                f"flows there: {_listing(known)}."
            )
        ns = get_namespace()
        if (
            _namespace_check
            and ns is not None
            and not any(_in_namespace(r, ns) for r in self._store.meta.runs(name))
        ):
            raise MetaflowNamespaceMismatch(
                f"Flow {name} has no runs in namespace {ns}; call namespace(None) to see "
                "runs of every user."
            )

    @property
    def pathspec(self) -> str:
        return self.name

    @property
    def parent(self) -> None:
        """A flow has no parent (as in Metaflow)."""
        return None

    @property
    def tags(self) -> frozenset[str]:
        """A flow has no tags of its own (its runs have them), as in Metaflow."""
        return frozenset()

    user_tags = system_tags = tags

    @property
    def created_at(self) -> datetime:
        """When the flow's first run was created."""
        return datetime.fromtimestamp(min(r.created for r in self._store.meta.runs(self.name)))

    def is_in_namespace(self) -> bool:
        """True when one of the flow's runs is in the current namespace."""
        return next(self._records(), None) is not None

    def _records(self, *tags: str) -> Iterator[RunRecord]:
        ns = get_namespace()
        for record in self._store.meta.runs(self.name):
            if not record.listed or not _in_namespace(record, ns):
                continue
            all_tags = set(record.tags) | set(record.system_tags)
            if all(t in all_tags for t in tags):
                yield record

    def runs(self, *tags: str) -> Iterator[Run]:
        """The flow's runs, newest first; with tags, only runs that have all of them."""
        for record in self._records(*tags):
            yield Run._from_record(record, self._store)

    def __iter__(self) -> Iterator[Run]:
        return self.runs()

    @property
    def latest_run(self) -> Run | None:
        """The newest run, finished or not (spins kept apart are not runs)."""
        return next(self.runs(), None)

    @property
    def latest_successful_run(self) -> Run | None:
        for record in self._records():
            if record.status == "succeeded" and _end_not_caught(self._store, record):
                return Run._from_record(record, self._store)
        return None

    def __getitem__(self, run_id: str) -> Run:
        return Run(f"{self.name}/{run_id}", _store=self._store)

    def __contains__(self, run_id: object) -> bool:
        try:
            self[str(run_id)]
        except (RunNotFound, MetaflowNamespaceMismatch):
            return False
        return True


class Run(_ClientObject):
    """One run of a flow (or a resume of one)."""

    _record: RunRecord

    def __init__(
        self, pathspec: str, *, _store: Store | None = None, _namespace_check: bool = True
    ) -> None:
        flow, run_id = _split(pathspec, 2, "Run('FlowName/RunID')")
        store = _store or _require_store()
        record = store.meta.run(run_id)
        if record is None or record.flow != flow:
            ids = [r.run_id for r in store.meta.runs(flow)]
            raise RunNotFound(f"Flow {flow} has no run {run_id}; its latest runs: {_listing(ids)}.")
        ns = get_namespace()
        if _namespace_check and not _in_namespace(record, ns):
            raise MetaflowNamespaceMismatch(
                f"Run {record.pathspec} is not in namespace {ns} (it belongs to "
                f"user:{record.user}); call namespace(None) to see every run."
            )
        self._store = store
        self._record = record

    @classmethod
    def _from_record(cls, record: RunRecord, store: Store) -> Run:
        run = cls.__new__(cls)
        run._store = store
        run._record = record
        return run

    def _fresh(self) -> RunRecord:
        self._record = self._store.meta.run(self._record.run_id) or self._record
        return self._record

    @property
    def pathspec(self) -> str:
        return self._record.pathspec

    @property
    def parent(self) -> Flow:
        return Flow(self._record.flow, _store=self._store, _namespace_check=False)

    # -- state ---------------------------------------------------------------------------
    @property
    def status(self) -> str:
        """running, succeeded, failed, cancelled or crashed (the runner died)."""
        return self._fresh().status

    @property
    def successful(self) -> bool:
        """True when the run finished and its end task is successful: as in Metaflow, a run
        whose end step's exception @catch caught is finished but not successful."""
        return self._fresh().status == "succeeded" and _end_not_caught(self._store, self._record)

    @property
    def finished(self) -> bool:
        """True when the end step finished: succeeded, or @catch caught its exception (as in
        Metaflow, a run whose end step failed is not finished, although that task is)."""
        end = self.end_task
        return end is not None and end._fresh().status in _DONE_OK

    @property
    def finished_at(self) -> datetime | None:
        end = self.end_task
        return end.finished_at if end else None

    @property
    def created_at(self) -> datetime:
        return datetime.fromtimestamp(self._record.created)

    @property
    def kind(self) -> str:
        """run, resume or spin."""
        return self._record.kind

    @property
    def user(self) -> str:
        return self._record.user

    @property
    def error(self) -> str | None:
        """Why the run failed, in one line (the first failed task and its exception)."""
        return self._fresh().error

    # -- resume --------------------------------------------------------------------------
    @property
    def origin_pathspec(self) -> str | None:
        """For a resume (or a spin): the pathspec of the run it started from."""
        origin = self._record.origin_run_id
        return f"{self._record.flow}/{origin}" if origin else None

    @property
    def origin(self) -> Run | None:
        """For a resume (or a spin): the run it started from."""
        origin = self._record.origin_run_id
        if origin is None:
            return None
        return Run(f"{self._record.flow}/{origin}", _store=self._store, _namespace_check=False)

    @property
    def resume_step(self) -> str | None:
        return self._record.resume_step

    # -- tags ----------------------------------------------------------------------------
    @property
    def tags(self) -> frozenset[str]:
        record = self._fresh()
        return frozenset(record.tags) | frozenset(record.system_tags)

    @property
    def user_tags(self) -> frozenset[str]:
        return frozenset(self._fresh().tags)

    @property
    def system_tags(self) -> frozenset[str]:
        return frozenset(self._record.system_tags)

    def add_tag(self, tag: str) -> None:
        self.add_tags([tag])

    def add_tags(self, tags: list[str] | tuple[str, ...] | set[str]) -> None:
        tags = list(tags)
        _check_tags(tags)
        self._store.meta.set_tags(self._record.run_id, add=tags)
        self._fresh()

    def remove_tag(self, tag: str) -> None:
        self.remove_tags([tag])

    def remove_tags(self, tags: list[str] | tuple[str, ...] | set[str]) -> None:
        system = sorted(set(tags) & set(self._record.system_tags))
        if system:
            raise MetaflowTaggingError(
                f"{', '.join(system)} is a system tag of {self.pathspec} and cannot be removed; "
                "only tags added by users can."
            )
        self._store.meta.set_tags(self._record.run_id, remove=list(tags))
        self._fresh()

    def replace_tag(self, old: str, new: str) -> None:
        self.replace_tags([old], [new])

    def replace_tags(
        self, tags_to_remove: list[str] | tuple[str, ...], tags_to_add: list[str] | tuple[str, ...]
    ) -> None:
        """Remove some user tags and add others (Metaflow's `replace_tags`)."""
        _check_tags(list(tags_to_add))
        self.remove_tags(list(tags_to_remove))
        self.add_tags(list(tags_to_add))

    def is_in_namespace(self) -> bool:
        return _in_namespace(self._fresh(), get_namespace())

    # -- steps ---------------------------------------------------------------------------
    def steps(self, *tags: str) -> Iterator[Step]:
        """The steps that have run, latest first (as Metaflow orders them)."""
        if tags and not all(t in self.tags for t in tags):
            return
        for name in reversed(self._store.meta.step_names(self._record.run_id)):
            yield Step._make(self, name)

    def __iter__(self) -> Iterator[Step]:
        return self.steps()

    def __getitem__(self, step: str) -> Step:
        if self._store.meta.first_task(self._record.run_id, step) is None:
            names = self._store.meta.step_names(self._record.run_id)
            raise StepNotFound(
                f"Run {self.pathspec} has no step '{step}'"
                + (" (it has not started yet)" if self._fresh().status == "running" else "")
                + f"; its steps: {_listing(names)}."
            )
        return Step._make(self, step)

    def __contains__(self, step: object) -> bool:
        return self._store.meta.first_task(self._record.run_id, str(step)) is not None

    @property
    def end_task(self) -> Task | None:
        record = self._store.meta.first_task(self._record.run_id, "end")
        return Task._make(record, self._store) if record else None

    @property
    def data(self) -> MetaflowData | None:
        """The end step's artifacts (None until the end step has run)."""
        end = self.end_task
        return end.data if end else None

    @property
    def code(self) -> RunCode:
        """The flow file's source as it was when the run started (with `.flowspec`, as
        Metaflow's code package; see RunCode)."""
        return RunCode(self._store.meta.run_source(self._record.run_id), self._record.file)

    @property
    def parameters(self) -> dict[str, Any]:
        """The run's parameter values by attribute name (loaded from the store)."""
        return {
            attr: value_cache.get(self._store.blobs, p["hash"], p["size"])
            for attr, p in self._record.params.items()
        }


class Step(_ClientObject):
    """A step of a run: its tasks (one, or one per foreach item)."""

    _run: Run
    name: str

    def __init__(self, pathspec: str, *, _store: Store | None = None) -> None:
        flow, run_id, step = _split(pathspec, 3, "Step('FlowName/RunID/StepName')")
        run = Run(f"{flow}/{run_id}", _store=_store)
        run[step]  # raises StepNotFound naming the steps that exist
        self._run = run
        self._store = run._store
        self.name = step

    @classmethod
    def _make(cls, run: Run, name: str) -> Step:
        step = cls.__new__(cls)
        step._run = run
        step._store = run._store
        step.name = name
        return step

    @property
    def pathspec(self) -> str:
        return f"{self._run.pathspec}/{self.name}"

    @property
    def parent(self) -> Run:
        return self._run

    @property
    def task(self) -> Task | None:
        """A task of the step: its only one outside a foreach; in a foreach, as in Metaflow,
        the first that iterating the step gives (the latest task)."""
        record = self._store.meta.first_task(self._run._record.run_id, self.name, latest=True)
        return Task._make(record, self._store) if record else None

    @property
    def created_at(self) -> datetime:
        """When the step's first task was created."""
        first = self._store.meta.first_task(self._run._record.run_id, self.name)
        return datetime.fromtimestamp(first.created if first else self._run._record.created)

    @property
    def tags(self) -> frozenset[str]:
        """Its run's tags (as every Metaflow object has)."""
        return self._run.tags

    @property
    def user_tags(self) -> frozenset[str]:
        return self._run.user_tags

    @property
    def system_tags(self) -> frozenset[str]:
        return self._run.system_tags

    @property
    def origin_pathspec(self) -> str | None:
        """For a step of a resumed run: the same step of the run it resumed."""
        origin = self._run.origin_pathspec
        return f"{origin}/{self.name}" if origin else None

    def is_in_namespace(self) -> bool:
        return self._run.is_in_namespace()

    @property
    def parent_steps(self) -> Iterator[Step]:
        """The steps whose tasks this step's tasks started from (none for `start`)."""
        return self._linked(lambda task: task.parent_tasks)

    @property
    def child_steps(self) -> Iterator[Step]:
        """The steps whose tasks started from this step's tasks (that have run)."""
        return self._linked(lambda task: task.child_tasks)

    def _linked(self, link: Any) -> Iterator[Step]:
        names: dict[str, None] = {}
        for task in self.tasks():
            for other in link(task):
                names.setdefault(other._record.step)
        for name in names:
            yield Step._make(self._run, name)

    @property
    def control_task(self) -> Task | None:
        """Metaflow's control task of a @parallel step; flowtui runs none: None."""
        return next(self.control_tasks(), None)

    def control_tasks(self, *tags: str) -> Iterator[Task]:
        """Metaflow's control tasks of a @parallel step; flowtui runs none."""
        return iter(())

    def tasks(self, *tags: str) -> Iterator[Task]:
        """The step's tasks, latest first (as Metaflow orders them)."""
        for record in reversed(self._store.meta.tasks(self._run._record.run_id, self.name)):
            yield Task._make(record, self._store)

    def __iter__(self) -> Iterator[Task]:
        return self.tasks()

    def __getitem__(self, task_id: str) -> Task:
        record = self._store.meta.task(str(task_id))
        if record is None or record.run_id != self._run._record.run_id or record.step != self.name:
            ids = [t.task_id for t in self._store.meta.tasks(self._run._record.run_id, self.name)]
            raise TaskNotFound(
                f"Step {self.pathspec} has no task {task_id}; its tasks: {_listing(ids)}."
            )
        return Task._make(record, self._store)

    def __contains__(self, task_id: object) -> bool:
        try:
            self[str(task_id)]
        except TaskNotFound:
            return False
        return True

    @property
    def finished_at(self) -> datetime | None:
        """When the step's last task finished (None while any task has not)."""
        times = [t.finished for t in self._store.meta.tasks(self._run._record.run_id, self.name)]
        if not times or any(t is None for t in times):
            return None
        return _time(max(t for t in times if t is not None))


class Task(_ClientObject):
    """One execution of a step (one foreach item, one branch)."""

    _record: TaskRecord
    _artifacts: dict[str, ArtifactRecord] | None

    _attempt: int | None = None  # set: this object reads that attempt (its logs), as Metaflow's

    def __init__(
        self, pathspec: str, attempt: int | None = None, *, _store: Store | None = None
    ) -> None:
        flow, run_id, step, task_id = _split(pathspec, 4, "Task('FlowName/RunID/StepName/TaskID')")
        found = Step(f"{flow}/{run_id}/{step}", _store=_store)[task_id]
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
        return TaskException(
            str(error.get("type", "")),
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
        task)` (created_at in milliseconds since the epoch, as Metaflow's)."""
        created = int(self._record.created * 1000)
        return [Metadata(k, v, created, k, self) for k, v in self.metadata_dict.items()]

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
        records = {a.name: a for a in self._store.meta.artifacts(self._record.task_id)}
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


MAX_TAG_SIZE = 500  # Metaflow's limit on one tag's length


def _check_tags(tags: list[str]) -> None:
    """Refuse tags Metaflow refuses: not a string, empty, or longer than 500 characters."""
    for tag in tags:
        if not isinstance(tag, str):
            raise MetaflowTaggingError(f"A tag must be a string, not {type(tag).__name__}.")
        if not tag:
            raise MetaflowTaggingError("A tag must not be empty; give it some text.")
        if len(tag) > MAX_TAG_SIZE:
            raise MetaflowTaggingError(
                f"A tag must be at most {MAX_TAG_SIZE} characters long, not {len(tag)}."
            )


def _end_not_caught(store: Store, run: RunRecord) -> bool:
    """Whether the run's end task ran without @catch catching its exception (a reused end
    task: the one that ran)."""
    end = store.meta.first_task(run.run_id, "end")
    if end is None:
        return False
    if end.status == "cloned" and end.origin_pathspec:
        end = store.meta.task(end.origin_pathspec.rsplit("/", 1)[-1]) or end
    return end.exit_reason != "caught"
