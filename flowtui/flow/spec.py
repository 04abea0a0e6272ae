"""`FlowSpec`: the base class of a flow, with Metaflow's surface.

A flow object lives inside one task process. Reading `self.x` first looks at what the step set,
then loads `x` lazily from the artifacts the task inherited (its parent's, for a linear step).
Everything public the step sets is persisted by the engine when the step returns.
"""

from __future__ import annotations

import inspect
import sys
from collections import namedtuple
from collections.abc import Iterable, Iterator, Sequence
from types import MethodType
from typing import Any, Protocol

from flowtui.client.errors import MetaflowException
from flowtui.flow.parameters import Parameter
from flowtui.graph.model import PARALLEL_VAR


class ArtifactSource(Protocol):
    """Where a flow object's inherited artifacts come from (the engine provides it)."""

    def names(self) -> Iterable[str]: ...

    def hash_of(self, name: str) -> str | None: ...

    def load(self, name: str) -> Any: ...


# One enclosing foreach, as Metaflow's `self._foreach_stack` holds it.
ForeachFrame = namedtuple("ForeachFrame", ["step", "var", "num_splits", "index", "value"])


class MergeArtifactsError(MetaflowException):
    """`merge_artifacts` was called wrongly (outside a join, include= with exclude=), or met
    trouble below; a `MetaflowException`, as Metaflow's are."""


class UnhandledInMergeArtifactsException(MergeArtifactsError):
    """`merge_artifacts` met artifacts whose values differ between inputs (Metaflow's name)."""


class MissingInMergeArtifactsException(MergeArtifactsError):
    """`merge_artifacts(include=...)` named artifacts no input has (Metaflow's name)."""


class TransitionError(Exception):
    """`self.next(...)` was called in a way the flow's structure does not allow."""


class ParallelUBF:
    """The gang of `self.next(self.train, num_parallel=4)`: a foreach over `PARALLEL_VAR`, as
    in Metaflow, whose items are the node indexes (node i's `self.input` is i)."""

    def __init__(self, num_parallel: int) -> None:
        self.num_parallel = num_parallel

    def __len__(self) -> int:
        return self.num_parallel

    def __getitem__(self, index: int) -> int:
        if not 0 <= index < self.num_parallel:
            raise IndexError(index)
        return index


class _NoArtifacts:
    def names(self) -> Iterable[str]:
        return ()

    def hash_of(self, name: str) -> str | None:
        return None

    def load(self, name: str) -> Any:
        raise KeyError(name)


class FlowSpec:
    """Subclass this and define `@step` methods, from `start` to `end`."""

    # Engine-managed state lives in attributes named `_flowtui_*` (never persisted).
    _flowtui_source: ArtifactSource = _NoArtifacts()
    _flowtui_inherited: dict[str, str]
    _flowtui_transition: tuple[tuple[str, ...], str | None] | None = None
    _flowtui_switched: bool = False  # the transition is a switch's chosen case
    _flowtui_foreach_frames: tuple[tuple[int, int, Any], ...] = ()
    _flowtui_foreach_names: tuple[tuple[str, str], ...] = ()  # (step, var) of each frame
    _flowtui_input: Any = None
    _flowtui_read_only: bool = False
    _flowtui_step: str = ""

    def __init__(self, use_cli: bool = True) -> None:
        """`MyFlow()` under `if __name__ == "__main__"` runs the command line, as Metaflow."""
        if use_cli:
            from flowtui.cli import main_for_flow_file

            main_for_flow_file(type(self), inspect.getfile(type(self)), sys.argv[1:])

    # -- artifacts ---------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: the value may be an inherited artifact.
        if name.startswith("_"):
            raise AttributeError(name)
        inherited = self.__dict__.get("_flowtui_inherited")
        if inherited is not None and name in inherited:
            value = self._flowtui_source.load(name)
            self.__dict__[name] = value  # bypasses descriptors: parameters cache here too
            return value
        declared: Any = getattr(type(self), name, None)
        if getattr(declared, "kind", None) in ("parameter", "include_file"):
            raise AttributeError(
                f"Parameter '{declared.name}' has no value in this run: it was added to the "
                "flow after the run whose tasks this one reuses (a resume or a spin keeps that "
                "run's parameters); start a new run (flowtui run) to use it."
            )
        raise AttributeError(
            f"'{type(self).__name__}' has no artifact or attribute '{name}' in this step"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if self._flowtui_read_only and not name.startswith("_flowtui"):
            raise AttributeError(f"Cannot set '{name}' on an input of a join; set it on self.")
        if name in _RESERVED:  # stored, it would be shadowed by FlowSpec's own and never read
            raise AttributeError(
                f"self.{name} cannot be an artifact: '{name}' is part of FlowSpec "
                f"(self.{name}{'()' if callable(getattr(FlowSpec, name)) else ''}); "
                "give the artifact another name."
            )
        if name in class_constants(type(self)):  # as Metaflow: a read-only property in a task
            raise AttributeError(
                f"'{name}' is a constant of the flow class ({name} = ... in its body), and flow "
                "level attributes are not modifiable (as in Metaflow); store a changed value "
                f"under another name, e.g. self.{name}_used = ..."
            )
        object.__setattr__(self, name, value)

    def _flowtui_read_artifact(self, name: str) -> Any:
        """Read an artifact by name, whether set in this step or inherited (parameters use it)."""
        if name in self.__dict__:
            return self.__dict__[name]
        return self.__getattr__(name)

    def _flowtui_bind(
        self,
        source: ArtifactSource,
        inherited: dict[str, str],
        *,
        step: str = "",
        foreach_frames: tuple[tuple[int, int, Any], ...] = (),
        foreach_input: Any = None,
        read_only: bool = False,
        foreach_names: tuple[tuple[str, str], ...] = (),
    ) -> None:
        object.__setattr__(self, "_flowtui_step", step)
        object.__setattr__(self, "_flowtui_input", foreach_input)
        object.__setattr__(self, "_flowtui_source", source)
        object.__setattr__(self, "_flowtui_inherited", dict(inherited))
        object.__setattr__(self, "_flowtui_foreach_frames", foreach_frames)
        object.__setattr__(self, "_flowtui_read_only", read_only)
        object.__setattr__(self, "_flowtui_foreach_names", foreach_names)

    # -- transitions -------------------------------------------------------------------
    def next(
        self,
        *steps: Any,
        foreach: str | None = None,
        condition: str | None = None,
        num_parallel: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Say which step(s) run after this one: `self.next(self.a)`, `self.next(self.a,
        self.b)` (a split), `self.next(self.body, foreach="items")` (one task per item),
        `self.next(self.train, num_parallel=4)` (a gang of 4 tasks of a `@parallel` step,
        started together), or `self.next({"high": self.high, "low": self.low},
        condition="route")` (a switch: only the step whose case is the value of `self.route`
        runs)."""
        if condition is not None or (len(steps) == 1 and isinstance(steps[0], dict)):
            if num_parallel is not None or foreach is not None:
                raise TransitionError("A switch cannot be combined with foreach or num_parallel.")
            self._flowtui_switch(steps, condition)
            return
        if num_parallel is not None:
            if foreach is not None:
                raise TransitionError("self.next() takes foreach= or num_parallel=, not both.")
            if isinstance(num_parallel, bool) or not isinstance(num_parallel, int):
                raise TransitionError(
                    f"num_parallel= must be a whole number of tasks, not {num_parallel!r}."
                )
            if num_parallel < 1:
                raise TransitionError(f"num_parallel= must be at least 1, not {num_parallel}.")
            object.__setattr__(self, PARALLEL_VAR, ParallelUBF(num_parallel))
            foreach = PARALLEL_VAR
        if kwargs:
            bad = ", ".join(sorted(kwargs))
            raise TransitionError(f"self.next() got unsupported argument(s): {bad}.")
        if self._flowtui_transition is not None:
            raise TransitionError("self.next() was called twice in this step; call it once, last.")
        names: list[str] = []
        for target in steps:
            name = getattr(target, "__name__", None)
            if name is None or not getattr(target, "is_step", False):
                raise TransitionError(f"self.next() takes steps like self.a, not {target!r}.")
            names.append(name)
        if not names:
            raise TransitionError("self.next() needs at least one step.")
        if foreach is not None and len(names) != 1:
            raise TransitionError("self.next(..., foreach=...) takes exactly one step.")
        object.__setattr__(self, "_flowtui_transition", (tuple(names), foreach))

    def _flowtui_switch(self, steps: tuple[Any, ...], condition: str | None) -> None:
        if self._flowtui_transition is not None:
            raise TransitionError("self.next() was called twice in this step; call it once, last.")
        if len(steps) != 1 or not isinstance(steps[0], dict) or not steps[0]:
            raise TransitionError(
                "With condition=, self.next() takes one dict of cases to steps: "
                'self.next({"a": self.a, "b": self.b}, condition="route").'
            )
        if not isinstance(condition, str):
            raise TransitionError(
                'A dict of steps in self.next() needs condition="<artifact name>".'
            )
        cases: dict[Any, Any] = steps[0]
        try:
            value = getattr(self, condition)
        except AttributeError:
            raise TransitionError(
                f"The switch's condition self.{condition} was never set; set it in this step "
                "before self.next()."
            ) from None
        if value not in cases:
            known = ", ".join(repr(c) for c in cases)
            raise TransitionError(
                f"The switch's condition self.{condition} is {value!r}, which is none of its "
                f"cases ({known})."
            )
        chosen = getattr(cases[value], "__name__", None)
        if chosen is None or not getattr(cases[value], "is_step", False):
            raise TransitionError(f"The switch case {value!r} must be a step like self.a.")
        object.__setattr__(self, "_flowtui_transition", ((chosen,), None))
        object.__setattr__(self, "_flowtui_switched", True)

    # -- foreach -----------------------------------------------------------------------
    @property
    def input(self) -> Any:
        """In a foreach body: the item this task works on (None elsewhere)."""
        return self._flowtui_input if self._flowtui_foreach_frames else None

    @property
    def index(self) -> int | None:
        """In a foreach body: the position of this task's item (None elsewhere)."""
        frames = self._flowtui_foreach_frames
        return frames[-1][0] if frames else None

    def foreach_stack(self) -> list[tuple[int, int, Any]]:
        """One `(index, num_splits, value)` per enclosing foreach, outermost first."""
        return list(self._flowtui_foreach_frames)

    @property
    def _current_step(self) -> str:
        """The running step's name, under Metaflow's own attribute (flows read it too)."""
        return self._flowtui_step

    @property
    def _foreach_stack(self) -> list[ForeachFrame]:
        """Metaflow's own frames, which flows read too (`frame.var` names the foreach's
        artifact): `ForeachFrame(step, var, num_splits, index, value)`, outermost first."""
        names = self._flowtui_foreach_names or (("", ""),) * len(self._flowtui_foreach_frames)
        return [
            ForeachFrame(step, var, count, index, value)
            for (step, var), (index, count, value) in zip(
                names, self._flowtui_foreach_frames, strict=True
            )
        ]

    # -- joins -------------------------------------------------------------------------
    def merge_artifacts(
        self,
        inputs: Inputs,
        exclude: Sequence[str] | None = None,
        include: Sequence[str] | None = None,
    ) -> None:
        """Copy onto self every artifact whose value agrees across `inputs`.

        Artifacts the join step already set are left alone; a name whose value differs
        between inputs raises `MergeArtifactsError` unless excluded.
        """
        if not isinstance(inputs, Inputs):
            raise MergeArtifactsError("merge_artifacts() can only be called in a join step.")
        if include and exclude:
            raise MergeArtifactsError("merge_artifacts() takes include= or exclude=, not both.")
        excluded = set(exclude or ())
        params = {n for n, v in _class_attrs(type(self)) if isinstance(v, Parameter)}
        candidates: dict[str, set[str]] = {}
        for inp in inputs:
            for name, digest in inp._flowtui_inherited.items():
                candidates.setdefault(name, set()).add(digest)
        wanted = set(include) if include else set(candidates)
        missing = sorted(wanted - set(candidates))
        if include and missing:
            raise MissingInMergeArtifactsException(
                f"merge_artifacts(include=...) names artifacts no input has: {', '.join(missing)}."
            )
        conflicts = []
        merged = {}
        for name in sorted(wanted):
            if name in excluded or name in params or name in self.__dict__:
                continue
            digests = candidates[name]
            if len(digests) > 1:
                conflicts.append(name)
                continue
            merged[name] = next(iter(digests))
        if conflicts:  # nothing is merged, as in Metaflow
            raise UnhandledInMergeArtifactsException(
                "Step '{}' cannot merge artifacts that differ between its inputs: {}. "
                "Set them in the join step, or pass exclude=[...].".format(
                    self._flowtui_step, ", ".join(conflicts)
                )
            )
        self._flowtui_inherited.update(merged)
        source = _MergedSource({inp._flowtui_source for inp in inputs})
        object.__setattr__(self, "_flowtui_source", _ChainedSource(self._flowtui_source, source))


_CONSTANTS: dict[type, tuple[str, ...]] = {}


def class_constants(cls: type) -> tuple[str, ...]:
    """The names of the class body's constants (`LIMIT = 5`): not methods, classes,
    parameters or other descriptors (property, cached_property). As in Metaflow, the start
    step stores them as artifacts and no step may set them."""
    found = _CONSTANTS.get(cls)
    if found is None:
        names = []
        for name in dir(cls):
            if name.startswith("_"):
                continue
            value = getattr(cls, name)
            if not (isinstance(value, (MethodType, type)) or hasattr(type(value), "__get__")):
                names.append(name)
        found = _CONSTANTS[cls] = tuple(names)
    return found


def _class_attrs(cls: type) -> Iterator[tuple[str, Any]]:
    for klass in reversed(cls.__mro__):
        yield from vars(klass).items()


class _MergedSource:
    """Loads a merged artifact from whichever input has it (their values agree)."""

    def __init__(self, sources: set[Any]) -> None:
        self._sources = list(sources)

    def names(self) -> Iterable[str]:
        return {n for s in self._sources for n in s.names()}

    def hash_of(self, name: str) -> str | None:
        return next((h for s in self._sources if (h := s.hash_of(name))), None)

    def load(self, name: str) -> Any:
        for s in self._sources:
            if s.hash_of(name) is not None:
                return s.load(name)
        raise KeyError(name)


class _ChainedSource:
    def __init__(self, first: ArtifactSource, second: ArtifactSource) -> None:
        self._first, self._second = first, second

    def names(self) -> Iterable[str]:
        return set(self._first.names()) | set(self._second.names())

    def hash_of(self, name: str) -> str | None:
        return self._first.hash_of(name) or self._second.hash_of(name)

    def load(self, name: str) -> Any:
        if self._first.hash_of(name) is not None:
            return self._first.load(name)
        return self._second.load(name)


class Inputs(Sequence[FlowSpec]):
    """A join step's inputs: iterate, index, or name a branch (`inputs.train.score`)."""

    def __init__(self, flows: Sequence[FlowSpec], steps: Sequence[str]) -> None:
        self._flows = list(flows)
        self._by_step: dict[str, FlowSpec] = {}
        for flow, step_name in zip(flows, steps, strict=True):
            self._by_step.setdefault(step_name, flow)

    def __getitem__(self, i: Any) -> Any:
        return self._flows[i]

    def __len__(self) -> int:
        return len(self._flows)

    def __iter__(self) -> Iterator[FlowSpec]:
        return iter(self._flows)

    def __getattr__(self, name: str) -> FlowSpec:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._by_step[name]
        except KeyError:
            raise AttributeError(
                f"This join has no input from a step named '{name}'; "
                f"its inputs come from: {', '.join(sorted(self._by_step))}."
            ) from None


# FlowSpec's own public names (methods and properties): never artifact names.
_RESERVED = frozenset(
    name for name in vars(FlowSpec) if not name.startswith("_") and name != "script_name"
)
