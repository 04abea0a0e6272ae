"""What every client object shares (pathspec parsing, the store it reads, equality by
pathspec), and the smaller objects: `Metaflow` (every flow), `TaskException`, `MetaflowData`
(a task's artifacts as attributes) and `DataArtifact` (one artifact)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowtui.client.errors import ArtifactNotFound, FlowNotFound, MetaflowInvalidPathspec
from flowtui.client.namespace import get_namespace, open_store, store_root
from flowtui.client.values import value_cache
from flowtui.run.artifacts import inert
from flowtui.store import ArtifactRecord, RunRecord, Store

if TYPE_CHECKING:
    from flowtui.client.objects import Flow, Task


def _split(pathspec: str, parts: int, example: str) -> list[str]:
    ids = str(pathspec).strip("/").split("/")
    if len(ids) != parts or not all(ids):
        raise MetaflowInvalidPathspec(f"{pathspec!r} is not a valid pathspec; expected {example}.")
    return ids


def _time(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts)


def _require_store() -> Store:
    store = open_store()
    if store is None:
        raise FlowNotFound(
            f"There is no flowtui store at {store_root()}; run a flow first, or point the "
            "client at a store with metadata('PATH')."
        )
    return store


def _listing(names: list[str], limit: int = 10) -> str:
    if not names:
        return "none"
    shown = ", ".join(names[:limit])
    return shown + (f" (and {len(names) - limit} more)" if len(names) > limit else "")


def _in_namespace(run: RunRecord, ns: str | None) -> bool:
    return ns is None or ns in run.tags or ns in run.system_tags


class Metaflow:
    """Every flow in the store (that has a run in the current namespace)."""

    def __init__(self) -> None:
        self._store = open_store()

    @property
    def flows(self) -> list[Flow]:
        return list(self)

    def __iter__(self) -> Iterator[Flow]:
        if self._store is None:
            return
        ns = get_namespace()
        for name in self._store.meta.flows():
            runs = self._store.meta.runs(name)
            if any(_in_namespace(r, ns) for r in runs):
                from flowtui.client.objects import Flow  # objects builds on this module

                yield Flow(name, _store=self._store, _namespace_check=False)

    def __getitem__(self, name: str) -> Flow:
        from flowtui.client.objects import Flow

        return Flow(name)

    def __repr__(self) -> str:
        return "Metaflow()"


class _ClientObject:
    """What every client object has: a pathspec, an id, equality by pathspec."""

    _store: Store

    @property
    def pathspec(self) -> str:
        raise NotImplementedError

    @property
    def id(self) -> str:
        return self.pathspec.rsplit("/", 1)[-1]

    @property
    def path_components(self) -> list[str]:
        return self.pathspec.split("/")

    def __repr__(self) -> str:
        return f"{type(self).__name__}('{self.pathspec}')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ClientObject) and (type(other), other.pathspec) == (
            type(self),
            self.pathspec,
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.pathspec))

    def __reduce__(self) -> Any:
        """Pickled (as an artifact: `self.run = current.run`), it is its pathspec and store;
        unpickled, it is opened again whatever the namespace then, as Metaflow's are."""
        attempt = getattr(self, "_attempt", None)
        return _reopen, (type(self).__name__, self.pathspec, str(self._store.root), attempt)


def _reopen(kind: str, pathspec: str, root: str, attempt: int | None = None) -> Any:
    """A pickled client object, opened again: in the store it came from when that is still
    there, else in the client's store now."""
    from flowtui.client.objects import Flow, Run, Step
    from flowtui.client.task import Task

    store = open_store() if Path(root) == store_root() else None
    if store is None and (Path(root) / "metadata.db").is_file():
        store = Store(Path(root), create=False)
    store = store or _require_store()
    if kind == "DataArtifact":
        *task_parts, name = pathspec.split("/")
        owner = Task("/".join(task_parts), attempt, _store=store, _namespace_check=False)
        return owner[name]
    if kind == "Task":
        return Task(pathspec, attempt, _store=store, _namespace_check=False)
    kinds: dict[str, Any] = {"Flow": Flow, "Run": Run, "Step": Step}
    return kinds[kind](pathspec, _store=store, _namespace_check=False)


class MetaflowData:
    """`task.data.NAME`: the value of artifact NAME, unpickled on first access."""

    def __init__(self, task: Task) -> None:
        self._task = task

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._task[name].data
        except ArtifactNotFound as e:
            raise AttributeError(str(e)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._task

    def __dir__(self) -> list[str]:
        return sorted(self._task._artifact_records())

    def __repr__(self) -> str:  # Metaflow's, as a notebook cell shows it
        return f"<MetaflowData: {', '.join(dir(self))}>"


@dataclass(frozen=True)
class TaskException:
    """Why a task failed: the exception's type (module-qualified, as Metaflow's: the step's
    own `builtins.ValueError`; a failure flowtui names, such as `Killed`, has no module),
    message and the user-code traceback."""

    type: str
    message: str
    traceback: str

    def __str__(self) -> str:
        name = self.type.rpartition(".")[2]
        return f"{name}: {self.message}" if self.message else name

    @property
    def exception(self) -> str:
        """The message, under the name Metaflow's `MetaflowExceptionWrapper` gives it."""
        return self.message

    @property
    def stacktrace(self) -> str:
        """The traceback, under the name Metaflow's `MetaflowExceptionWrapper` gives it."""
        return self.traceback


class DataArtifact(_ClientObject):
    """One artifact of a task: its name, type, size, hash, and its value on demand."""

    _task: Task
    _record: ArtifactRecord

    def __init__(self, pathspec: str, *, _store: Store | None = None) -> None:
        *task_parts, name = _split(
            pathspec, 5, "DataArtifact('FlowName/RunID/StepName/TaskID/Name')"
        )
        from flowtui.client.objects import Task  # objects builds on this module

        found = Task("/".join(task_parts), _store=_store)[name]
        self._task = found._task
        self._store = found._store
        self._record = found._record

    @classmethod
    def _make(cls, task: Task, record: ArtifactRecord) -> DataArtifact:
        art = cls.__new__(cls)
        art._task = task
        art._store = task._store
        art._record = record
        return art

    @property
    def pathspec(self) -> str:
        return f"{self._task.pathspec}/{self._record.name}"

    @property
    def parent(self) -> Task:
        return self._task

    @property
    def tags(self) -> frozenset[str]:
        """Its run's tags (as every Metaflow object has)."""
        return self._task.tags

    @property
    def user_tags(self) -> frozenset[str]:
        return self._task.user_tags

    @property
    def system_tags(self) -> frozenset[str]:
        return self._task.system_tags

    @property
    def data(self) -> Any:
        """The value (unpickled on first access, then cached for the process)."""
        return value_cache.get(
            self._store.blobs, self._record.hash, self._record.size, what=self.pathspec
        )

    @property
    def sha(self) -> str:
        """The SHA-256 of the pickled value: equal values share it, across tasks and runs."""
        return self._record.hash

    @property
    def size(self) -> int:
        """Bytes of the pickled value."""
        return self._record.size

    @property
    def type(self) -> str:
        """The value's type name (e.g. `int`, `pandas.core.frame.DataFrame`)."""
        return self._record.type

    @property
    def repr(self) -> str:
        """A short repr of the value, recorded when it was stored (no unpickling); control
        characters spelled out (a run stored before they were kept them raw)."""
        return inert(self._record.repr)

    @property
    def created_at(self) -> datetime:
        return self._task.created_at

    @property
    def finished_at(self) -> datetime | None:
        return self._task.finished_at
