"""Decorators users write themselves, with Metaflow's (>= 2.16) names and behaviour:
`user_step_decorator` (a generator around the step), `UserStepDecorator` (the class form:
`init`, `pre_step`, `post_step`, `skip_step`), `StepMutator` (`pre_mutate`/`mutate` add or
remove a step's decorators through a `MutableStep`) and `USER_SKIP_STEP`.

Applied to a step, each records itself on the step's function: wrappers (run around the step,
in the task's process: `run_step_with_wrappers`) and mutators (run once per process that
imports the flow, before anything runs: `mutate_steps`). The step function itself stays the
class attribute, so the flow's class reads as any other.
"""

from __future__ import annotations

import importlib
import inspect
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from flowtui.flow import decorators as deco
from flowtui.flow.user_decorator_base import (
    DecoratorQueries,
    DecoratorSpec,
    UserArguments,
    UserDecoratorError,
)

USER_SKIP_STEP: dict[str, Any] = {}

_FIELDS = {"wrappers": "_flowtui_wrappers", "mutators": "_flowtui_mutators"}


# Every user decorator class the flow defined, by its full name (`module.Name`); only the most
# derived classes, as Metaflow registers them (`--with NAME` and `add_decorator("NAME")`).
_registered: dict[str, type[UserStepDecoratorBase]] = {}
_BASES = ("UserStepDecoratorBase", "UserStepDecorator", "StepMutator")


def _is_step(obj: Any) -> bool:
    return callable(obj) and bool(getattr(obj, "is_step", False))


def _not_a_step(what: str, obj: Any) -> UserDecoratorError:
    name = getattr(obj, "__name__", None)
    target = f"'{name}'" if name else repr(obj)
    return UserDecoratorError(
        f"@{what} is applied to {target}, which is not a step: write it above @step "
        "(@step must be the decorator closest to the function)."
    )


class UserStepDecoratorMeta(type):
    """Registers each user decorator class, and makes `@Deco` (bare, on a step) apply a fresh
    instance and give the step back."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> Any:
        cls: Any = super().__new__(mcs, name, bases, namespace)
        cls.decorator_name = namespace.get("_decorator_name", f"{cls.__module__}.{name}")
        if not (name in _BASES and cls.__module__ == __name__):
            for base in bases:  # only the most derived class is a decorator by name
                _registered.pop(getattr(base, "decorator_name", ""), None)
            _registered[cls.decorator_name] = cls
        return cls

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if args and _is_step(args[0]):  # bare: @Deco above @step (args after it are its own)
            instance = super().__call__(*args[1:], **kwargs)
            return instance._apply(args[0])
        own: Any = cls
        if args and isinstance(args[0], types.FunctionType) and not own._allowed_args:
            raise _not_a_step(str(cls.__name__), args[0])
        return super().__call__(*args, **kwargs)

    def __str__(cls) -> str:
        return str(getattr(cls, "decorator_name", cls.__name__))


class UserStepDecoratorBase(UserArguments, metaclass=UserStepDecoratorMeta):
    """What the class forms share: arguments kept for `init`, applied to one step."""

    _step_field: ClassVar[str | None] = None
    _allowed_args: ClassVar[bool] = False
    _allowed_kwargs: ClassVar[bool] = True
    decorator_name: ClassVar[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._args = list(args)
        self._kwargs = dict(kwargs)
        self._ran_init = False
        self._my_step: Callable[..., Any] | None = None
        self.statically_defined = True
        if self._args and not self._allowed_args:
            raise UserDecoratorError(
                f"@{self} takes no positional arguments; pass keyword arguments "
                f"(@{type(self).__name__}(name=value))."
            )

    def __call__(self, step: Any = None) -> Any:
        if not _is_step(step):
            raise _not_a_step(type(self).__name__, step)
        return self._apply(step)

    def _apply(self, step: Callable[..., Any]) -> Callable[..., Any]:
        self._my_step = step
        for attr in self._fields():
            setattr(step, attr, (*getattr(step, attr, ()), self))
        return step

    @classmethod
    def _fields(cls) -> list[str]:
        fields = (k.__dict__.get("_step_field") for k in cls.__mro__)
        return list(dict.fromkeys(_FIELDS[f] for f in fields if f is not None))


class UserStepDecorator(UserStepDecoratorBase):
    """Derive from this to run code around a step, in the task's process: `pre_step` before
    it (return a callable to run instead of the step, or set `self.skip_step`), `post_step`
    after it (return the exception the step ends with: None for success)."""

    _step_field = "wrappers"

    def pre_step(self, step_name: str, flow: Any, inputs: Any = None) -> Any:
        return None

    def post_step(self, step_name: str, flow: Any, exception: Exception | None = None) -> Any:
        if exception:
            return exception, None
        return None, None

    @property
    def skip_step(self) -> bool | dict[str, Any]:
        return getattr(self, "_skip_step", False)

    @skip_step.setter
    def skip_step(self, value: bool | dict[str, Any]) -> None:
        self._skip_step = value


def user_step_decorator(*args: Any, **kwargs: Any) -> Any:
    """Make a generator function a step decorator: it takes (step_name, flow, inputs) and
    optionally the decorator's keyword arguments (`attributes`), and yields once: nothing (the
    step runs there), a callable (run instead of the step), or a dict (`USER_SKIP_STEP`: the
    step is skipped; a non-empty dict is `self.next`'s keyword arguments)."""
    if not args:
        return lambda f: user_step_decorator(f, **kwargs)
    gen = args[0]
    if not isinstance(gen, types.FunctionType) or not inspect.isgeneratorfunction(gen):
        raise UserDecoratorError(
            f"@user_step_decorator decorates a generator function (one that yields once), "
            f"not {getattr(gen, '__name__', gen)!r}; put a `yield` where the step runs."
        )
    count = len(inspect.signature(gen).parameters)
    if count not in (3, 4) or (kwargs and count != 4):
        raise UserDecoratorError(
            f"@user_step_decorator: {gen.__name__}() takes (step_name, flow, inputs) or "
            f"(step_name, flow, inputs, attributes), not {count} arguments."
        )
    name = gen.__name__

    class WrapClass(UserStepDecorator):
        _decorator_name = f"{gen.__module__}.{name}"

        def init(self, *args: Any, **kwargs: Any) -> None:
            self._kwargs = kwargs

        def __str__(self) -> str:
            return name

        def pre_step(self, step_name: str, flow: Any, inputs: Any = None) -> Any:
            given = (step_name, flow, inputs, self._kwargs)[:count]
            self._running = gen(*given)
            try:
                value = self._running.send(None)
            except StopIteration:
                raise UserDecoratorError(
                    f"@{name} returned without yielding, so step '{step_name}' cannot run; "
                    "yield once where the step runs (or yield USER_SKIP_STEP to skip it)."
                ) from None
            if isinstance(value, dict):
                self.skip_step = value or True
                return None
            return value

        def post_step(self, step_name: str, flow: Any, exception: Exception | None = None) -> Any:
            try:
                if exception:
                    self._running.throw(exception)
                else:
                    self._running.send(None)
            except StopIteration as stop:
                return stop.value
            except Exception as e:
                return e
            return (
                None,
                None,
                UserDecoratorError(
                    f"@{name} yielded twice around step '{step_name}'; a user step decorator "
                    "yields once."
                ),
            )

    WrapClass.__name__ = WrapClass.__qualname__ = name
    WrapClass.__module__ = gen.__module__
    WrapClass.__doc__ = gen.__doc__
    return WrapClass


def step_wrappers(func: Any) -> tuple[UserStepDecorator, ...]:
    """The user step decorators around a step, innermost first."""
    return tuple(getattr(func, _FIELDS["wrappers"], ()))


def step_mutators(func: Any) -> tuple[StepMutator, ...]:
    return tuple(getattr(func, _FIELDS["mutators"], ()))


def run_step_with_wrappers(
    flow: Any,
    step_name: str,
    call: Callable[..., Any],
    inputs: Any,
    wrappers: Sequence[UserStepDecorator],
    default_next: Callable[[dict[str, Any] | None], None],
) -> None:
    """Run the step inside its user decorators, as Metaflow's task does: each `pre_step`,
    outermost first, until one skips the step or gives a callable to run instead; the step (or
    that callable); then each `post_step` back out, each deciding the exception the step ends
    with. A skipped step, a replacement that asks for it, or an exception a decorator
    swallowed gets the step's `self.next` (`default_next`, with the arguments asked for)."""
    entered: list[UserStepDecorator] = []
    instead = None
    next_args: Any = None
    raised: Exception | None = None
    had_raised = False
    for w in reversed(wrappers):
        instead = w.pre_step(step_name, flow, inputs)
        entered.append(w)
        if w.skip_step:
            next_args = w.skip_step
            break
        if instead:
            break
    try:
        if not next_args:
            args = () if inputs is None else (inputs,)
            if instead:
                next_args = instead(flow, *args) or None
            else:
                call(*args)
    except Exception as e:
        raised, had_raised = e, True
    for w in reversed(entered):
        try:
            r = w.post_step(step_name, flow, raised)
        except Exception as e:
            r = e
        if r is None:
            raised = None
        elif isinstance(r, Exception):
            raised = r
        elif isinstance(r, tuple) and len(r) == 2:
            raised, next_args = r
        elif isinstance(r, tuple) and len(r) == 3:  # a generator that yielded twice
            raise r[2]
        else:
            raise UserDecoratorError(
                f"{w}.post_step returned {r!r}; return an exception (None: the step "
                "succeeded) or a pair (exception, arguments for self.next)."
            )
    if raised is not None:
        raise raised
    if (next_args is not None and next_args is not False) or had_raised:
        if isinstance(next_args, dict) and next_args:
            default_next(next_args)
        elif next_args is True or next_args == {} or had_raised:
            default_next(None)
        else:
            raise UserDecoratorError(
                f"A user decorator of step '{step_name}' asked for self.next with "
                f"{next_args!r}; give True or a dict of self.next's keyword arguments."
            )


class StepMutator(UserStepDecoratorBase):
    """Derive from this to change a step's decorators before the flow runs: `pre_mutate` and
    `mutate` get the step as a `MutableStep` (`add_decorator`, `remove_decorator`)."""

    _step_field = "mutators"
    _allowed_args = True

    def pre_mutate(self, mutable_step: MutableStep) -> None:
        return None

    def mutate(self, mutable_step: MutableStep) -> None:
        return None


def registered(name: str) -> type[UserStepDecoratorBase] | None:
    """The user decorator class `name` names: its full name (`module.Name`), or any dotted
    tail of it that names one class alone (`Name`), as Metaflow finds them."""
    if name in _registered:
        return _registered[name]
    found = [cls for full, cls in _registered.items() if full.endswith(f".{name}")]
    return found[0] if len(found) == 1 else None


def find_decorator(name: str) -> type[UserStepDecoratorBase] | None:
    """`registered(name)`, or for a dotted name none registered, the class its module
    defines, imported (`--with mypackage.my_profile`, as Metaflow imports it: the file
    need not import it)."""
    found = registered(name)
    if found is not None or "." not in name:
        return found
    module_name, _, attr = name.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise UserDecoratorError(
            f"Cannot import {module_name} for the user decorator {name} ({e}); check the name "
            "and that the module is on the path (beside the flow file, or installed)."
        ) from None
    value = getattr(module, attr, None)
    if isinstance(value, type) and issubclass(value, UserStepDecoratorBase):
        return value
    raise UserDecoratorError(
        f"{module_name} has no user step decorator {attr}; name one made with "
        "@user_step_decorator or a UserStepDecorator or StepMutator class."
    )


def short_name(cls: type[UserStepDecoratorBase]) -> str:
    """The shortest dotted tail of the class's full name that names it alone."""
    parts = cls.decorator_name.split(".")
    for i in range(len(parts) - 1, -1, -1):
        tail = ".".join(parts[i:])
        if registered(tail) is cls:
            return tail
    return cls.decorator_name


class MutableStep(DecoratorQueries):
    """A step as a `StepMutator` sees it: its decorators, to read, add and remove."""

    def __init__(self, step: Any, mutator: Any, pre_mutate: bool, flow_cls: type) -> None:
        self._my_step = step
        self._mutator = mutator  # the StepMutator or FlowMutator making the change
        self._pre_mutate = pre_mutate
        self._flow_cls = flow_cls

    @property
    def flow(self) -> Any:
        """The flow the step is in, as a `MutableFlow`."""
        from flowtui.flow.flow_mutator import MutableFlow

        return MutableFlow(self._flow_cls, self._mutator, self._pre_mutate)

    @property
    def decorator_specs(self) -> Iterator[DecoratorSpec]:
        """(short name, full name, args, kwargs) of each decorator of the step."""
        for own in deco.step_decorators(self._my_step):
            yield own.name, f"flowtui.flow.decorators.{own.name}", [], dict(own.args)
        seen: set[int] = set()
        for d in (*step_wrappers(self._my_step), *step_mutators(self._my_step)):
            if id(d) not in seen:
                seen.add(id(d))
                args, kwargs = d.get_args_kwargs()
                yield short_name(type(d)), d.decorator_name, args, kwargs

    def add_decorator(
        self,
        deco_type: Any,
        deco_args: list[Any] | None = None,
        deco_kwargs: dict[str, Any] | None = None,
        duplicates: int = DecoratorQueries.IGNORE,
    ) -> Any:
        """Add a decorator to the step: flowtui's own (`retry`, `"retry:times=2"`, ...) or a
        user one (its class or its name); `duplicates` says what happens when the step has
        one of that name already. Returns what was added, or None."""
        args, kwargs = list(deco_args or []), dict(deco_kwargs or {})
        if isinstance(deco_type, str):
            name, kwargs = self._spec(deco_type, args, kwargs)
            user = registered(name)
            if user is None:
                return self._add_flowtui(name, args, kwargs, duplicates)
            deco_type = user
        if isinstance(deco_type, type) and issubclass(deco_type, UserStepDecoratorBase):
            return self._add_user(deco_type, args, kwargs, duplicates)
        called = getattr(deco_type, "__name__", None) or getattr(
            getattr(deco_type, "func", None), "__name__", ""
        )
        return self._add_flowtui(str(called), args, kwargs, duplicates)

    def _add_flowtui(
        self, name: str, args: list[Any], kwargs: dict[str, Any], duplicates: int
    ) -> Any:
        factory = _flowtui_decorator(name)
        if args:
            raise UserDecoratorError(
                f"add_decorator({name!r}): step decorators take keyword arguments only "
                "(deco_kwargs=...)."
            )
        step = self._my_step

        def drop() -> None:
            kept = tuple(d for d in deco.step_decorators(step) if d.name != name)
            setattr(step, deco._DECORATORS_ATTR, kept)

        present = name != "card" and any(d.name == name for d in deco.step_decorators(step))
        if not self._room_for(  # (a step may have several cards)
            present, duplicates, drop, f"Step '{step.__name__}' already has @{name}"
        ):
            return None
        try:
            factory(**kwargs)(step)
        except TypeError as e:
            raise UserDecoratorError(f"add_decorator({name!r}): {e}.") from None
        return deco.step_decorators(step)[-1]

    def _add_user(
        self,
        cls: type[UserStepDecoratorBase],
        args: list[Any],
        kwargs: dict[str, Any],
        duplicates: int,
    ) -> Any:
        if issubclass(cls, StepMutator) and not self._pre_mutate:
            raise UserDecoratorError(
                f"{self._mutator} adds the step mutator {cls.__name__} in mutate(); a "
                "mutator can add another only in pre_mutate()."
            )
        step = self._my_step
        if not self._room_for(
            has_user_decorator(step, cls),
            duplicates,
            lambda: self._drop(lambda d: d.decorator_name == cls.decorator_name),
            f"Step '{step.__name__}' already has @{cls.__name__}",
        ):
            return None
        return attach(step, cls, args, kwargs)

    def _drop(self, doomed: Callable[[UserStepDecoratorBase], bool]) -> bool:
        removed = False
        for attr in _FIELDS.values():
            kept = []
            for d in getattr(self._my_step, attr, ()):
                if doomed(d):
                    if isinstance(d, StepMutator) and not self._pre_mutate:
                        raise UserDecoratorError(
                            f"{self._mutator} removes the step mutator {d} in mutate(); a "
                            "mutator can remove another only in pre_mutate()."
                        )
                    removed = True
                else:
                    kept.append(d)
            setattr(self._my_step, attr, tuple(kept))
        return removed

    def remove_decorator(
        self,
        deco_name: str,
        deco_args: list[Any] | None = None,
        deco_kwargs: dict[str, Any] | None = None,
    ) -> bool:
        """Remove the step's decorators named `deco_name` (only those with exactly these
        arguments, when given). True if one was removed."""
        every = deco_args is None and deco_kwargs is None
        user = registered(deco_name)
        if user is not None:

            def doomed(d: UserStepDecoratorBase) -> bool:
                if d.decorator_name != user.decorator_name:
                    return False
                return every or d.get_args_kwargs() == (deco_args or [], deco_kwargs or {})

            if self._drop(doomed):
                return True
        step = self._my_step
        before = deco.step_decorators(step)
        kept = tuple(
            d
            for d in before
            if d.name != deco_name or not (every or (not deco_args and d.args == deco_kwargs))
        )
        setattr(step, deco._DECORATORS_ATTR, kept)
        return len(kept) != len(before)


def attach(
    step: Any, cls: type[UserStepDecoratorBase], args: Sequence[Any], kwargs: dict[str, Any]
) -> UserStepDecoratorBase:
    """Apply a new `cls(*args, **kwargs)` to `step` (added by a mutator or `--with`, not
    written in the file), its arguments given to its `init`."""
    added = cls(*args, **kwargs)
    added.statically_defined = False
    added._apply(step)
    added.external_init()
    return added


def has_user_decorator(step: Any, cls: type[UserStepDecoratorBase]) -> bool:
    mine = (*step_wrappers(step), *step_mutators(step))
    return any(d.decorator_name == cls.decorator_name for d in mine)


def _flowtui_decorator(name: str) -> Callable[..., Any]:
    if name in deco.IGNORED_LOCALLY:
        return deco.ignored_locally(name)
    factory = getattr(deco, name, None) if name in _STEP_DECORATORS else None
    if factory is None:
        known = ", ".join((*_STEP_DECORATORS, *deco.IGNORED_LOCALLY))
        raise UserDecoratorError(
            f"add_decorator({name!r}): there is no step decorator {name!r}; flowtui knows "
            f"{known}, and the user decorators the flow defines."
        )
    return factory


_STEP_DECORATORS = ("retry", "catch", "timeout", "resources", "environment", "card")


class UserDecoratorFailed(Exception):
    """A user decorator's own code raised while the flow was made ready to run; the
    exception it raised is the cause."""


def mutate_steps(cls: type, steps: Sequence[str], stage: str) -> None:
    """Run each step's `StepMutator`s' `pre_mutate` or `mutate` (`stage`), innermost first,
    as Metaflow does before the flow runs; then, after `mutate`, give every user decorator its
    arguments (`init`). Their own exceptions come out as `UserDecoratorFailed`, naming them."""
    for name in steps:
        func = getattr(cls, name, None)
        if func is None:
            continue
        for mutator in step_mutators(func):
            with _naming(mutator, name, "init"):
                mutator.external_init()
            with _naming(mutator, name, stage):
                getattr(mutator, stage)(MutableStep(func, mutator, stage == "pre_mutate", cls))
        if stage == "mutate":
            for wrapper in step_wrappers(func):
                with _naming(wrapper, name, "init"):
                    wrapper.external_init()


@contextmanager
def _naming(decorator: UserStepDecoratorBase, step: str, method: str) -> Iterator[None]:
    """Turns an exception of a user decorator's code into `UserDecoratorFailed`."""
    try:
        yield
    except UserDecoratorError:
        raise  # already a sentence
    except Exception as e:
        raise UserDecoratorFailed(
            f"@{decorator} on step '{step}' raised {type(e).__name__} in {method}(): {e}"
        ) from e
