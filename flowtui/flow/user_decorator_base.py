"""What every user decorator class shares (`flow/user_decorators.py`: step decorators and
step mutators; `flow/flow_mutator.py`: flow mutators): the arguments kept for `init`, and
Metaflow's questions about a step's or a flow's decorators."""

from __future__ import annotations

from collections.abc import Iterator
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
    """Metaflow's questions about a step's (or a flow's) decorators, over `decorator_specs`:
    a name with a dot is matched whole, one without against the short names."""

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
