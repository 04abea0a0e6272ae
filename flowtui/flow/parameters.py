"""`Parameter`, `IncludeFile` and `JSONType`, with Metaflow's meaning.

A parameter is declared as a class attribute of the flow. Inside a running task it reads as
its value (it is a descriptor), and it cannot be assigned. Values given on the command line
are parsed by `Parameter.parse` from text, by the declared `type=` or the default's type.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NamedTuple

from flowtui.run.params import EXPECTED, parse_value


class JSONTypeClass:
    """Marks a parameter whose command-line value is JSON (Metaflow's `JSONType`)."""

    name = "json"

    def __repr__(self) -> str:
        return "JSONType"


JSONType = JSONTypeClass()

_TYPE_NAMES = {int: "int", float: "float", bool: "bool", str: "str"}


class ParameterContext(NamedTuple):
    """What a parameter's default function receives (Metaflow's `ParameterContext`)."""

    flow_name: str
    user_name: str
    parameter_name: str
    logger: Any
    ds_type: str
    configs: Any


def _configs_read() -> Any:
    """The running flow's configs by name (`ctx.configs.config.a`), as Metaflow gives them."""
    from flowtui.flow.config import ConfigValue, flow_configs
    from flowtui.flow.current import current

    cls = current._get("flow_class")
    configs = flow_configs(cls) if cls is not None else {}
    return ConfigValue({name: c.value() for name, c in configs.items()})


_PLAIN_DEFAULTS = (str, int, float, bool, type(None), list, tuple, dict)


def _from_configs(default: Any) -> Any:
    """A default written as an expression over the flow's configs (`config_expr(...)` above
    the config it names), computed with the running flow's configs; any other default as it
    is."""
    from flowtui.flow.config import DelayEvaluator, resolve_delayed
    from flowtui.flow.current import current

    if not isinstance(default, DelayEvaluator) or not current.is_running_flow:
        return default
    cls = current._get("flow_class")
    return default if cls is None else resolve_delayed(default, cls)


class ParameterValueError(ValueError):
    """A value given for a parameter could not be parsed; the message names the parameter."""


class Parameter:
    """A run-time input of the flow: `alpha = Parameter("alpha", default=0.5, help="...")`."""

    kind = "parameter"

    def __init__(
        self,
        name: str,
        default: Any = None,
        type: Any = None,
        help: str | None = None,
        required: bool | None = None,
        show_default: bool = True,
        separator: str | None = None,
        multiple: bool = False,
        **kwargs: Any,
    ) -> None:
        self.name = name
        self.multiple = bool(multiple)
        self.default = default
        self.type = type
        self.help = help or ""
        self.required = bool(required)
        self.show_default = show_default
        self.separator = separator
        self.extra = kwargs
        self.attr = name  # set to the attribute name by __set_name__

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr
        self._owner_name = owner.__name__

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, default={self.default!r})"

    def _context(self) -> ParameterContext:
        """What a default computed by a function is given, as Metaflow gives it."""
        from flowtui.flow.current import current, resolve_username

        flow = current.flow_name if current.is_running_flow else ""
        return ParameterContext(
            flow_name=flow or getattr(self, "_owner_name", ""),
            user_name=resolve_username(),
            parameter_name=self.name,
            logger=lambda *args, **kwargs: print(*args, file=sys.stderr),
            ds_type="local",
            configs=_configs_read() if current.is_running_flow else None,
        )

    # Descriptor: inside a task the attribute reads as the parameter's value.
    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        if "_flowtui_inherited" not in vars(obj):  # a flow object outside a running task
            return self.resolved_default()
        return obj._flowtui_read_artifact(self.attr)

    def __set__(self, obj: Any, value: Any) -> None:
        raise AttributeError(
            f"Parameter '{self.name}' is read-only inside a flow; "
            f"store a changed value under another name, e.g. self.{self.attr}_used = ..."
        )

    # What the command line and the static graph need.
    @property
    def type_name(self) -> str:
        if self.type is JSONType or isinstance(self.type, JSONTypeClass):
            return "json"
        if self.type in _TYPE_NAMES:
            return _TYPE_NAMES[self.type]
        if callable(self.default) and not isinstance(self.default, type):
            return "str"  # as Metaflow: a computed default is not called to learn a type
        default = self.resolved_default()
        if default is not None and type(default) in _TYPE_NAMES:
            return _TYPE_NAMES[type(default)]
        return "str"

    def resolved_default(self) -> Any:
        default = self.default
        if not isinstance(default, _PLAIN_DEFAULTS):
            default = _from_configs(default)
        if callable(default) and not isinstance(default, type):
            if "_computed" not in vars(self):  # called once, as Metaflow calls it
                self._computed = default(self._context())
            default = self._computed
        if self.multiple:  # a tuple, as Metaflow gives: () without a default
            if default is None:
                return ()
            items = default if isinstance(default, list | tuple) else (default,)
            return tuple(self.parse(v) if isinstance(v, str) else v for v in items)
        declared = self.type_name_of_declared()
        if declared == "json" and isinstance(default, str):
            return self.parse(default)
        if declared in ("int", "float", "bool") and default is not None:
            return self._declared_default(declared, default)
        return self.split(default)

    def _declared_default(self, declared: str, default: Any) -> Any:
        """The default as the declared `type=` makes it, as Metaflow (click) does: `"5"` is 5
        for an int, `3` is 3.0 for a float, `"false"` is False for a bool (a string default
        left as it is would be truthy)."""
        if isinstance(default, str):
            try:
                return parse_value(declared, default)
            except ValueError:
                raise ParameterValueError(
                    f"Parameter '{self.name}' has the default {default!r}, which is not "
                    f"{EXPECTED[declared]}; fix its default in the flow file."
                ) from None
        if declared in ("int", "float") and isinstance(default, int | float):
            return self.type(default)
        return default

    def type_name_of_declared(self) -> str | None:
        if self.type is JSONType or isinstance(self.type, JSONTypeClass):
            return "json"
        return _TYPE_NAMES.get(self.type)

    def parse(self, text: str) -> Any:
        """Turn command-line text into a value of this parameter's type."""
        kind = self.type_name
        try:
            value = parse_value(kind, text)
        except ValueError:
            raise ParameterValueError(
                f"Parameter '{self.name}' takes {EXPECTED.get(kind, 'a string')}, not {text!r}."
            ) from None
        if kind != "str":
            return value
        return self.split(text)

    def split(self, value: Any) -> Any:
        """With `separator=`, a non-empty string value becomes a list (as in Metaflow)."""
        if self.separator and isinstance(value, str) and value:
            return value.split(self.separator)
        return value


class IncludeFile(Parameter):
    """A parameter naming a file whose *content* is stored as the artifact, read at run start."""

    kind = "include_file"

    def __init__(
        self,
        name: str,
        default: Any = None,
        is_text: bool = True,
        encoding: str = "utf-8",
        help: str | None = None,
        required: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, default=default, type=str, help=help, required=required, **kwargs)
        self.is_text = is_text
        self.encoding = encoding

    def read(self, path: str, base: Path) -> str | bytes:
        """The content of `path` (`~` expanded; relative paths resolve against `base`, the
        working directory of the run, as in Metaflow)."""
        file = Path(path).expanduser()
        if not file.is_absolute():
            file = base / file
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            raise ParameterValueError(
                f"IncludeFile '{self.name}': no file at {path}; pass an existing path "
                f"with --{self.name} PATH."
            ) from None
        except IsADirectoryError:
            raise ParameterValueError(
                f"IncludeFile '{self.name}': {path} is a directory; pass a file."
            ) from None
        if not self.is_text:
            return data
        try:
            return data.decode(self.encoding)
        except UnicodeDecodeError:
            raise ParameterValueError(
                f"IncludeFile '{self.name}': {path} is not {self.encoding} text; "
                f"declare it with is_text=False to read bytes."
            ) from None
