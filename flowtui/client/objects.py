"""Flow, Run and Step (Task in `client.task`, DataArtifact in `client.base`): past and running
runs, read back from the store.

The shape and names are Metaflow's client's, so notebook code ports over:
`Flow("MyFlow").latest_run["train"].task.data.model`. Everything is lazy: opening a run reads
one row, a step's tasks are read when asked for, and an artifact's value is unpickled only when
`.data` (or `task.data.NAME`) touches it, then cached for the process by its hash.

Objects are views on the store, not snapshots: state that a running run changes (a run's or a
task's status, its logs, a task's artifacts once it finishes) is read again on each access.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from flowtui.client.base import (
    MetaflowData,
    _ClientObject,
    _in_namespace,
    _listing,
    _require_store,
    _split,
    _time,
)
from flowtui.client.errors import (
    FlowNotFound,
    MetaflowNamespaceMismatch,
    MetaflowTaggingError,
    RunNotFound,
    StepNotFound,
    TaskNotFound,
)
from flowtui.client.metaflow_shapes import RunCode
from flowtui.client.namespace import get_namespace
from flowtui.client.task import Task
from flowtui.client.values import value_cache
from flowtui.run.status import OK_STORED
from flowtui.store import RunRecord, Store

_DONE_OK = OK_STORED


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
    _own_tags: frozenset[str] | None = None  # the user tags this object's last change left

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
        return self.user_tags | frozenset(self._record.system_tags)

    @property
    def user_tags(self) -> frozenset[str]:
        """The run's user tags, as the store has them; once this object changed them, as its
        last change left them (Metaflow's Run keeps the answer of its own change, so another
        process changing the tags meanwhile does not undo what this one just did)."""
        if self._own_tags is not None:
            return self._own_tags
        return frozenset(self._fresh().tags)

    @property
    def system_tags(self) -> frozenset[str]:
        return frozenset(self._record.system_tags)

    def add_tag(self, tag: str | Iterable[str]) -> None:
        """Add a tag (or, as Metaflow still accepts, an iterable of tags)."""
        self.replace_tags([], [tag] if isinstance(tag, str) else tag)

    def add_tags(self, tags: Iterable[str]) -> None:
        self.replace_tag([], tags)  # as Metaflow: a string is one tag here

    def remove_tag(self, tag: str | Iterable[str]) -> None:
        """Remove a user tag (or, as Metaflow still accepts, an iterable of them)."""
        self.replace_tags([tag] if isinstance(tag, str) else tag, [])

    def remove_tags(self, tags: Iterable[str]) -> None:
        self.replace_tags(tags, [])

    def replace_tag(self, old: str | Iterable[str], new: str | Iterable[str]) -> None:
        self.replace_tags(
            [old] if isinstance(old, str) else old, [new] if isinstance(new, str) else new
        )

    def replace_tags(self, tags_to_remove: Iterable[str], tags_to_add: Iterable[str]) -> None:
        """Remove some user tags, then add others, at once (Metaflow's `replace_tags`): every
        tag is checked first, and nothing changes when one is refused."""
        for what, tags in (("tags_to_remove", tags_to_remove), ("tags_to_add", tags_to_add)):
            if isinstance(tags, str):
                raise MetaflowTaggingError(f"{what} must be a list of tags, not a string.")
            try:
                iter(tags)
            except TypeError:
                raise MetaflowTaggingError(
                    f"{what} must be a list of tags, not {type(tags).__name__}."
                ) from None
        remove, add = list(tags_to_remove), list(tags_to_add)
        if not remove and not add:
            raise MetaflowTaggingError("Give at least one tag to add or remove.")
        _check_tags(remove + add)
        system = sorted(set(remove) & set(self._record.system_tags))
        if system:
            raise MetaflowTaggingError(
                f"{', '.join(system)} is a system tag of {self.pathspec} and cannot be removed; "
                "only tags added by users can."
            )
        system_tags = set(self._record.system_tags)  # adding a system tag is a no-op
        after = self._store.meta.set_tags(
            self._record.run_id, add=[t for t in add if t not in system_tags], remove=remove
        )
        self._own_tags = frozenset(after)

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
    def trigger(self) -> None:
        """None, as Metaflow's for a run no event triggered: a flowtui run is started by hand."""
        return None

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

    def __init__(
        self, pathspec: str, *, _store: Store | None = None, _namespace_check: bool = True
    ) -> None:
        flow, run_id, step = _split(pathspec, 3, "Step('FlowName/RunID/StepName')")
        run = Run(f"{flow}/{run_id}", _store=_store, _namespace_check=_namespace_check)
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
        """The control task of a `@parallel` step (its gang's node 0); None for any other."""
        return next(self.control_tasks(), None)

    def tasks(self, *tags: str) -> Iterator[Task]:
        """The step's tasks, latest first (as Metaflow orders them); with tags, only if the
        run has every one of them (a task's tags are its run's)."""
        if tags and not all(t in self.tags for t in tags):
            return
        for record in reversed(self._store.meta.tasks(self._run._record.run_id, self.name)):
            yield Task._make(record, self._store)

    def control_tasks(self, *tags: str) -> Iterator[Task]:
        """The control tasks of a `@parallel` step (each gang's node 0), as Metaflow's
        `Step.control_tasks()` finds them: by their `internal_task_type` metadata."""
        for task in self.tasks(*tags):
            if task.metadata_dict.get("internal_task_type") == "control_task":
                yield task

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
