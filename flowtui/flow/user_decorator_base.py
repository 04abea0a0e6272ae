"""What every user decorator class shares (`flow/user_decorators.py`: step decorators and
step mutators; `flow/flow_mutator.py`: flow mutators): the arguments kept for `init`, and
Metaflow's questions about a step's or a flow's decorators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flowtui.client.errors import MetaflowException


class UserDecoratorError(MetaflowException):
    """A user decorator used in a way Metaflow does not allow (a `MetaflowException`, as
    Metaflow raises)."""


class UserArguments:
    """What every user decorator class keeps (step decorators, step and flow mutators): the
    arguments it was given, for its own `init`, called once."""

    _args: list[Any]
    _kwargs: dict[str, Any]
    _ran_init: bool

    def __str__(self) -> str:
        return type(self).__name__

    def get_args_kwargs(self) -> tuple[list[Any], dict[str, Any]]:
        return list(self._args), dict(self._kwargs)

    def init(self, *args: Any, **kwargs: Any) -> None:
        pass

    def external_init(self) -> None:
        """Call `init` with the decorator's arguments, once (as Metaflow: only an `init` the
        class itself defines is called, and arguments need one)."""
        if self._ran_init:
            return
        has_init = "init" in type(self).__dict__
        if (self._args or self._kwargs) and not has_init:
            raise UserDecoratorError(
                f"@{self} is given arguments but its class defines no init() to take them; "
                "add def init(self, *args, **kwargs) to it."
            )
        if has_init:
            self.init(*self._args, **self._kwargs)
        self._ran_init = True


DecoratorSpec = tuple[str, str, list[Any], dict[str, Any]]  # short name, full name, args, kwargs


class DecoratorQueries:
    """What `MutableStep` and `MutableFlow` share: Metaflow's questions about the decorators,
    over `decorator_specs` (a name with a dot is matched whole, one without against the short
    names), and how `add_decorator` reads its arguments and treats a decorator already there."""

    IGNORE = 1
    ERROR = 2
    OVERRIDE = 3

    _mutator: Any  # the mutator making the change

    @property
    def decorator_specs(self) -> Iterator[DecoratorSpec]:
        raise NotImplementedError

    @staticmethod
    def _match(short: str, full: str, query: str) -> bool:
        return full == query if "." in query else short == query

    def has_decorator(self, name: str) -> bool:
        return any(self._match(s, f, name) for s, f, _, _ in self.decorator_specs)

    def get_decorator_specs(self, name: str) -> list[DecoratorSpec]:
        return [spec for spec in self.decorator_specs if self._match(spec[0], spec[1], name)]

    @staticmethod
    def _spec(text: str, args: list[Any], kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """`add_decorator("retry:times=2", ...)`: the name, and the text's keyword arguments
        with `deco_kwargs`'s (given in one place or the other, not both)."""
        from flowtui.flow import decorators

        try:
            name, spec_args = decorators.parse_spec(text)
        except ValueError as e:
            raise UserDecoratorError(f"add_decorator({text!r}): {e}") from None
        if spec_args and (args or kwargs):
            raise UserDecoratorError(
                f"add_decorator({text!r}) has arguments in its text; give them there or in "
                "deco_args/deco_kwargs, not both."
            )
        return name, {**spec_args, **kwargs}

    def _room_for(
        self, present: bool, duplicates: int, drop: Callable[[], object], already: str
    ) -> bool:
        """Whether to add a decorator that is `present` already (`already` says where):
        OVERRIDE drops the one there (`drop`), ERROR refuses when the mutator is written in the
        file, IGNORE (or ERROR from a mutator added by another) adds nothing."""
        if not present:
            return True
        if duplicates == self.OVERRIDE:
            drop()
            return True
        if duplicates == self.ERROR and self._mutator.statically_defined:
            raise UserDecoratorError(
                f"{already}, and {self._mutator} adds it again with "
                f"duplicates={type(self).__name__}.ERROR; remove one of them."
            )
        return False
