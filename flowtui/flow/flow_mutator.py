"""`FlowMutator` (Metaflow >= 2.16): a class decorator on the flow whose `pre_mutate` and
`mutate` get the flow as a `MutableFlow`: its steps (each a `MutableStep`), its parameters
(added and removed in `pre_mutate`) and its flow decorators (`@project`, ...; added and
removed in `pre_mutate`).

Applied to a flow class, a mutator records itself on the class (`_flowtui_flow_mutators`)
and gives the class back; `mutate_flow` runs them, once per process that imports the flow,
before anything runs (`engine.run_options.apply_decorators`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flowtui.flow import decorators as deco
from flowtui.flow.parameters import Parameter
from flowtui.flow.user_decorator_base import (
    DecoratorQueries,
    DecoratorSpec,
    UserArguments,
    UserDecoratorError,
)
from flowtui.flow.user_decorators import MutableStep, UserDecoratorFailed

_MUTATORS = "_flowtui_flow_mutators"

# Every FlowMutator class the flow defined, by its full name (`module.Name`); only the most
# derived (add_decorator("NAME") finds them).
_registered: dict[str, type[FlowMutator]] = {}

# Flow decorators flowtui knows by name (`add_decorator("project:name=x")`).
_FLOW_DECORATORS = (
    "project",
    "schedule",
    "trigger",
    "trigger_on_finish",
    "conda_base",
    "pypi_base",
)


def _is_flow_class(obj: Any) -> bool:
    from flowtui.flow.spec import FlowSpec

    return isinstance(obj, type) and issubclass(obj, FlowSpec)


def _not_a_flow(what: str, obj: Any) -> UserDecoratorError:
    name = getattr(obj, "__name__", None)
    target = f"'{name}'" if name else repr(obj)
    return UserDecoratorError(
        f"@{what} is a FlowMutator, applied to {target}, which is not a flow: write it above "
        "the flow's class (class MyFlow(FlowSpec)); a StepMutator changes one step."
    )


class FlowMutatorMeta(type):
    """Registers each FlowMutator class, and makes `@Mutator` (bare, on a flow class) apply a
    fresh instance and give the class back."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> Any:
        cls: Any = super().__new__(mcs, name, bases, namespace)
        cls.decorator_name = namespace.get("_decorator_name", f"{cls.__module__}.{name}")
        if not (name == "FlowMutator" and cls.__module__ == __name__):
            for base in bases:
                _registered.pop(getattr(base, "decorator_name", ""), None)
            _registered[cls.decorator_name] = cls
        return cls

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if args and _is_flow_class(args[0]):  # bare: @Mutator above the class
            instance = super().__call__(*args[1:], **kwargs)
            return instance._apply(args[0])
        if args and getattr(args[0], "is_step", False):
            raise _not_a_flow(cls.__name__, args[0])
        return super().__call__(*args, **kwargs)

    def __str__(cls) -> str:
        return str(getattr(cls, "decorator_name", cls.__name__))


class FlowMutator(UserArguments, metaclass=FlowMutatorMeta):
    """Derive from this to change a flow before it runs: `pre_mutate(mutable_flow)` may add or
    remove parameters and flow decorators; both it and `mutate(mutable_flow)` may change each
    step's decorators (`mutable_flow.steps`). Arguments (`@Mutator(x=1)`) go to `init`."""

    decorator_name: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._args = list(args)
        self._kwargs = dict(kwargs)
        self._ran_init = False
        self._flow_cls: type | None = None
        self.statically_defined = True

    def __call__(self, flow_cls: Any = None) -> Any:
        if not _is_flow_class(flow_cls):
            raise _not_a_flow(type(self).__name__, flow_cls)
        return self._apply(flow_cls)

    def _apply(self, flow_cls: type) -> type:
        self._flow_cls = flow_cls
        setattr(flow_cls, _MUTATORS, (*flow_cls.__dict__.get(_MUTATORS, ()), self))
        return flow_cls

    def pre_mutate(self, mutable_flow: MutableFlow) -> None:
        return None

    def mutate(self, mutable_flow: MutableFlow) -> None:
        return None


def flow_mutators(cls: type) -> list[FlowMutator]:
    """The mutators of the flow and of the flows it derives from, the bases' first."""
    found: list[FlowMutator] = []
    for klass in reversed(cls.__mro__):
        found.extend(klass.__dict__.get(_MUTATORS, ()))
    return found


def _short_name(cls: type[FlowMutator]) -> str:
    parts = cls.decorator_name.split(".")
    for i in range(len(parts) - 1, -1, -1):
        tail = ".".join(parts[i:])
        if _find(tail) is cls:
            return tail
    return cls.decorator_name


def _find(name: str) -> type[FlowMutator] | None:
    if name in _registered:
        return _registered[name]
    found = [cls for full, cls in _registered.items() if full.endswith(f".{name}")]
    return found[0] if len(found) == 1 else None


class MutableFlow(DecoratorQueries):
    """A flow as a `FlowMutator` sees it (and a `StepMutator`, as `mutable_step.flow`)."""

    def __init__(self, flow_cls: type, mutator: Any, pre_mutate: bool) -> None:
        self._flow_cls = flow_cls
        self._mutator = mutator
        self._pre_mutate = pre_mutate

    def _only_in_pre_mutate(self, what: str) -> None:
        if not self._pre_mutate:
            raise UserDecoratorError(
                f"{self._mutator} {what} in mutate(); a flow's parameters and flow decorators "
                "change only in pre_mutate()."
            )

    @property
    def steps(self) -> Iterator[tuple[str, MutableStep]]:
        """Each step of the flow, by name, as a `MutableStep`."""
        for name in dir(self._flow_cls):
            func = getattr(self._flow_cls, name, None)
            if callable(func) and getattr(func, "is_step", False):
                yield name, MutableStep(func, self._mutator, self._pre_mutate, self._flow_cls)

    @property
    def parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Each parameter of the flow (`IncludeFile`s too, not its configs), by attribute
        name."""
        seen: dict[str, Parameter] = {}
        for klass in reversed(self._flow_cls.__mro__):
            for attr, value in vars(klass).items():
                if isinstance(value, Parameter) and value.kind != "config":
                    seen[attr] = value
        for attr, param in list(seen.items()):
            if getattr(self._flow_cls, attr, None) is param:
                yield attr, param

    @property
    def configs(self) -> Iterator[tuple[str, Any]]:
        """The flow's configs by name, with their values (a `ConfigValue`; a plain config's
        as it is), read before any mutator runs (flow/config.py), as Metaflow gives them."""
        from flowtui.flow.config import flow_configs

        for name, config in flow_configs(self._flow_cls).items():
            yield name, config.value()

    def add_parameter(self, name: str, value: Parameter, overwrite: bool = False) -> None:
        """Add `value` (a `Parameter` or `IncludeFile`) as the flow's attribute `name`."""
        self._only_in_pre_mutate(f"adds parameter '{name}'")
        if hasattr(self._flow_cls, name) and not overwrite:
            raise UserDecoratorError(
                f"Flow '{self._flow_cls.__name__}' already has a member '{name}'; pass "
                "overwrite=True to add_parameter to replace it."
            )
        if not isinstance(value, Parameter):
            raise UserDecoratorError(
                f"add_parameter('{name}', ...) takes a Parameter or an IncludeFile, not a "
                f"{type(value).__name__}."
            )
        setattr(self._flow_cls, name, value)
        value.__set_name__(self._flow_cls, name)

    def remove_parameter(self, parameter_name: str) -> bool:
        """Remove the parameter named `parameter_name` (its command-line name)."""
        self._only_in_pre_mutate(f"removes parameter '{parameter_name}'")
        for attr, param in self.parameters:
            if param.name == parameter_name:
                owner = next(k for k in self._flow_cls.__mro__ if attr in vars(k))
                if owner is not self._flow_cls:
                    raise UserDecoratorError(
                        f"Parameter '{parameter_name}' is declared by {owner.__name__}, a "
                        f"flow {self._flow_cls.__name__} derives from; remove it there."
                    )
                delattr(self._flow_cls, attr)
                return True
        return False

    @property
    def decorator_specs(self) -> Iterator[DecoratorSpec]:
        """(short name, full name, args, kwargs) of each flow decorator and flow mutator."""
        for d in deco.step_decorators(self._flow_cls):
            yield d.name, f"flowtui.flow.decorators.{d.name}", [], dict(d.args)
        for m in flow_mutators(self._flow_cls):
            args, kwargs = m.get_args_kwargs()
            yield _short_name(type(m)), m.decorator_name, args, kwargs

    def add_decorator(
        self,
        deco_type: Any,
        deco_args: list[Any] | None = None,
        deco_kwargs: dict[str, Any] | None = None,
        duplicates: int = DecoratorQueries.IGNORE,
    ) -> Any:
        """Add a flow decorator (`project`, `"project:name=x"`, ...) or a `FlowMutator` (its
        class or name: its `pre_mutate` runs after those already there)."""
        called = deco_type if isinstance(deco_type, str) else getattr(deco_type, "__name__", "")
        self._only_in_pre_mutate(f"adds the flow decorator '{called}'")
        args, kwargs = list(deco_args or []), dict(deco_kwargs or {})
        if isinstance(deco_type, str):
            name, kwargs = self._spec(deco_type, args, kwargs)
            mutator = _find(name)
            if mutator is None:
                return self._add_flow_decorator(name, args, kwargs, duplicates)
            deco_type = mutator
        if isinstance(deco_type, type) and issubclass(deco_type, FlowMutator):
            return self._add_mutator(deco_type, args, kwargs, duplicates)
        return self._add_flow_decorator(str(called), args, kwargs, duplicates)

    def _add_flow_decorator(
        self, name: str, args: list[Any], kwargs: dict[str, Any], duplicates: int
    ) -> Any:
        if name not in _FLOW_DECORATORS:
            raise UserDecoratorError(
                f"add_decorator({name!r}): there is no flow decorator {name!r}; flowtui knows "
                f"{', '.join(_FLOW_DECORATORS)}, and the FlowMutators the flow defines."
            )
        if args:
            raise UserDecoratorError(
                f"add_decorator({name!r}): flow decorators take keyword arguments only "
                "(deco_kwargs=...)."
            )
        cls = self._flow_cls
        if not self._room_for(
            any(d.name == name for d in deco.step_decorators(cls)),
            duplicates,
            lambda: self._drop_flow_decorators(name, None),
            f"Flow '{cls.__name__}' already has @{name}",
        ):
            return None
        factory = _flow_decorator(name)
        try:
            factory(**kwargs)(cls)
        except TypeError as e:
            raise UserDecoratorError(f"add_decorator({name!r}): {e}.") from None
        return deco.step_decorators(cls)[-1]

    def _add_mutator(
        self, mutator_cls: type[FlowMutator], args: list[Any], kwargs: dict[str, Any], dup: int
    ) -> Any:
        cls = self._flow_cls
        existing = [m for m in flow_mutators(cls) if m.decorator_name == mutator_cls.decorator_name]

        def drop() -> None:
            kept = tuple(m for m in cls.__dict__.get(_MUTATORS, ()) if m not in existing)
            setattr(cls, _MUTATORS, kept)

        if not self._room_for(
            bool(existing), dup, drop, f"Flow '{cls.__name__}' already has @{mutator_cls.__name__}"
        ):
            return None
        added = mutator_cls(*args, **kwargs)
        added.statically_defined = False
        added._apply(cls)
        added.external_init()
        return added

    def _drop_flow_decorators(self, name: str, match: Callable[[Any], bool] | None) -> bool:
        before = deco.step_decorators(self._flow_cls)
        kept = tuple(d for d in before if d.name != name or (match is not None and not match(d)))
        setattr(self._flow_cls, deco._DECORATORS_ATTR, kept)
        return len(kept) != len(before)

    def remove_decorator(
        self,
        deco_name: str,
        deco_args: list[Any] | None = None,
        deco_kwargs: dict[str, Any] | None = None,
    ) -> bool:
        """Remove the flow decorators named `deco_name` (only those with exactly these
        arguments, when given). A FlowMutator cannot be removed (as on Metaflow)."""
        self._only_in_pre_mutate(f"removes the flow decorator '{deco_name}'")
        for m in flow_mutators(self._flow_cls):
            if self._match(_short_name(type(m)), m.decorator_name, deco_name):
                raise UserDecoratorError(
                    f"{self._mutator} removes the FlowMutator {deco_name}; a FlowMutator cannot "
                    "be removed (only flow decorators such as @project can)."
                )
        if deco_args is None and deco_kwargs is None:
            return self._drop_flow_decorators(deco_name, None)
        return self._drop_flow_decorators(
            deco_name, lambda d: not deco_args and d.args == (deco_kwargs or {})
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        value = getattr(self._flow_cls, name, None)
        if callable(value) and getattr(value, "is_step", False):
            return MutableStep(value, self._mutator, self._pre_mutate, self._flow_cls)
        if isinstance(value, Parameter):
            return value
        raise AttributeError(
            f"Flow '{self._flow_cls.__name__}' has no step or parameter named {name!r}."
        )


def _flow_decorator(name: str) -> Callable[..., Any]:
    if name == "project":
        from flowtui.flow.project import project

        return project
    return deco.ignored_locally(name)


def mutate_flow(cls: type, stage: str) -> None:
    """Run the flow's `FlowMutator`s' `pre_mutate` or `mutate` (`stage`), in the order they
    were applied (a mutator one adds in `pre_mutate` runs after those there before). Their own
    exceptions come out as `UserDecoratorFailed`, naming them."""
    done = 0
    while True:
        mutators = flow_mutators(cls)
        if done >= len(mutators):
            return
        mutator = mutators[done]
        done += 1
        with _naming(mutator, cls, "init"):
            mutator.external_init()
        with _naming(mutator, cls, stage):
            getattr(mutator, stage)(MutableFlow(cls, mutator, stage == "pre_mutate"))


@contextmanager
def _naming(mutator: FlowMutator, cls: type, method: str) -> Iterator[None]:
    try:
        yield
    except UserDecoratorError:
        raise
    except Exception as e:
        raise UserDecoratorFailed(
            f"@{mutator} on flow {cls.__name__} raised {type(e).__name__} in {method}(): {e}"
        ) from e
