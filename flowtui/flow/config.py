"""`Config`, `ConfigValue` and `config_expr`, with Metaflow's meaning.

A config is read once, when a run starts: a file (`default=` a path, or `--config NAME PATH`),
or a value (`default_value=` a dict, JSON text or a function of the parameters' context, or
`--config-value NAME JSON`), parsed by `parser=` (a function, or a "module.function" name) or
as JSON. Its value is known while the flow's class body runs, so `config.cpu` is a plain value
in decorator arguments and `Parameter` defaults, and `config_expr("config.a + 1")` is computed
there. Only what is evaluated before the class body (a flow decorator's arguments) stays a
`DelayEvaluator`, read when the runner reads that decorator (`resolve_delayed`).

Which values a class body sees is the importing process's business (`reading_configs`): the
runner reads them from files and the command line; a process importing the run's text afresh
(spawned, a Ray worker, a resume, spin or debug) is given the run's stored values and reads
nothing. Without either (the file run as `python FILE`), the defaults are read if they can be.
Inside a task, `self.config` is the run's stored value (a dict) as a read-only `ConfigValue`.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowtui.errors import UsageError
from flowtui.flow.parameters import Parameter, ParameterContext

IMMUTABLE = (
    "ConfigValue is immutable: a config is read-only in a flow; copy it with .to_dict() "
    "to change a value"
)


class ConfigError(UsageError):
    """A config that cannot be read; the message names the config and the fix."""


class ConfigValue(dict):
    """A config's value: a read-only mapping read as `value.a.b` or `value["a"]["b"]`.

    A dict as well (for `isinstance` and `json.dumps`); nested mappings are ConfigValues too.
    """

    def __init__(self, data: Mapping[Any, Any]) -> None:
        built = {k: _construct(v) for k, v in data.items()}
        object.__setattr__(self, "_data", built)
        super().__init__(built)

    def to_dict(self) -> dict[Any, Any]:
        """A plain, mutable copy (nested mappings as dicts)."""
        return _to_dict(self._data)

    def __getattr__(self, key: str) -> Any:
        if key == "_data":  # while unpickling
            raise AttributeError(key)
        data = self._data
        if key in data:
            return data[key]
        raise AttributeError(f"this config has no key '{key}'; its keys are: {_keys(data)}")

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def keys(self) -> Any:
        return self._data.keys()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ConfigValue):
            return bool(self._data == other._data)
        return isinstance(other, dict) and bool(self._data == other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None

    def __repr__(self) -> str:
        return repr(self._data)

    def __str__(self) -> str:
        return str(self._data)

    def __dir__(self) -> list[str]:
        return [*dir(type(self)), *(k for k in self._data if isinstance(k, str))]

    def copy(self) -> ConfigValue:
        return ConfigValue(self._data)

    def __copy__(self) -> ConfigValue:
        return ConfigValue(self._data)

    def __deepcopy__(self, memo: dict[int, Any]) -> ConfigValue:
        import copy

        return ConfigValue(copy.deepcopy(self.to_dict(), memo))

    def __reduce__(self) -> Any:
        return (type(self), (self.to_dict(),))

    def _immutable(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(IMMUTABLE)

    __setattr__ = __delattr__ = __setitem__ = __delitem__ = _immutable
    clear = update = setdefault = pop = popitem = __ior__ = _immutable


def _construct(value: Any) -> Any:
    if isinstance(value, ConfigValue):
        return value
    if isinstance(value, Mapping):
        return ConfigValue(value)
    if isinstance(value, list | tuple | set):
        return type(value)(_construct(v) for v in value)
    return value


def _to_dict(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _to_dict(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return type(value)(_to_dict(v) for v in value)
    return value


def _keys(data: Mapping[Any, Any]) -> str:
    return ", ".join(map(str, data)) or "none"


# -- which values a class body sees --------------------------------------------------------
@dataclass
class ConfigReading:
    """The configs of one import of a flow file: how each is found, and what was found."""

    flow_name: str = ""
    overrides: dict[str, tuple[str, str]] = field(default_factory=dict)  # name: (kind, text)
    given: dict[str, Any] | None = None  # name: the stored value (nothing is read)
    cwd: Path = field(default_factory=Path.cwd)
    found: dict[str, Any] = field(default_factory=dict)  # name: the value as stored


_reading: ConfigReading | None = None


@contextlib.contextmanager
def reading_configs(reading: ConfigReading) -> Iterator[ConfigReading]:
    """While a flow file is imported: its configs read (or given) as `reading` says."""
    global _reading
    before, _reading = _reading, reading
    try:
        yield reading
    finally:
        _reading = before


_UNREAD = object()


class Config(Parameter):
    """A configuration of the flow, read once when the run starts: `config = Config("config",
    default="config.json")`, then `self.config.a` in a step and `config.a` in the class body."""

    kind = "config"

    def __init__(
        self,
        name: str,
        default: Any = None,
        default_value: Any = None,
        help: str | None = None,
        required: bool | None = None,
        parser: Any = None,
        plain: bool = False,
        **kwargs: Any,
    ) -> None:
        if default is not None and default_value is not None:
            raise ConfigError(
                f"Config '{name}' has both default= (a file) and default_value= (a value); "
                "keep one of them."
            )
        super().__init__(
            name,
            default=default if default is not None else default_value,
            help=help,
            required=required,
            **kwargs,
        )
        self.default_is_file = default is not None
        self.parser = parser
        self.plain = bool(plain)
        self._stored: Any = _UNREAD
        self._read_now()

    def __repr__(self) -> str:
        return f"Config({self.name!r})"

    # -- reading -----------------------------------------------------------------------
    def _read_now(self) -> None:
        reading = _reading
        if reading is None:  # imported outside a run (python FILE): the defaults, if they read
            with contextlib.suppress(Exception):
                self._stored = read_config(self, ConfigReading())
            return
        if reading.given is not None and self.name in reading.given:
            self._stored = reading.given[self.name]
        else:
            self._stored = read_config(self, reading)
        reading.found[self.name] = self._stored

    @property
    def resolved(self) -> bool:
        return self._stored is not _UNREAD

    def stored_value(self) -> Any:
        """The value as the run stores it: a dict (or the plain value)."""
        if self._stored is _UNREAD:
            raise ConfigError(
                f"Config '{self.name}' was not read (its file is missing or does not parse); "
                "run the flow with flowtui run FILE to see why."
            )
        return self._stored

    def value(self) -> Any:
        """The value as the flow reads it: a ConfigValue (plain configs as they are)."""
        return _as_read(self.stored_value(), self.plain)

    # The value where a parameter has its default (the runner reads configs apart).
    def resolved_default(self) -> Any:
        return self.value()

    # -- in the class body: `config.a`, `config["a"]`, `**config` -------------------------
    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        if self._stored is _UNREAD:
            return getattr(DelayEvaluator(self.name), key)
        value = self.value()
        if value is None:
            raise AttributeError(
                f"Config '{self.name}' has no value, so no '{key}': it has no default and none "
                f"was given; pass --config {self.name} PATH or --config-value {self.name} JSON."
            )
        if isinstance(value, ConfigValue) and key not in value and not hasattr(value, key):
            raise AttributeError(
                f"Config '{self.name}' has no key '{key}'; its keys are: {_keys(value)}."
            )
        return getattr(value, key)

    def __getitem__(self, key: Any) -> Any:
        if self._stored is _UNREAD:
            return DelayEvaluator(self.name)[key]
        return self.value()[key]

    def keys(self) -> Any:
        return self.value().keys()

    def __iter__(self) -> Iterator[Any]:
        return iter(self.value())

    # -- in a task: `self.config` --------------------------------------------------------
    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        if "_flowtui_inherited" not in vars(obj):  # a flow object outside a running task
            return self.value()
        return _as_read(obj._flowtui_read_artifact(self.attr), self.plain)

    def __set__(self, obj: Any, value: Any) -> None:
        raise AttributeError(
            f"Config '{self.name}' is read-only inside a flow; store a changed copy under "
            f"another name, e.g. self.{self.attr}_used = self.{self.attr}.to_dict()"
        )


def _as_read(stored: Any, plain: bool) -> Any:
    if stored is None or plain or not isinstance(stored, Mapping):
        return stored
    return ConfigValue(stored)


# Metaflow's variables for configs not given on the command line: a JSON object of config
# names and paths (or values), each read when the command line has no option of its kind.
ENV_OVERRIDES = {"path": "METAFLOW_FLOW_CONFIG", "value": "METAFLOW_FLOW_CONFIG_VALUE"}


def given_configs(reading: ConfigReading) -> dict[str, tuple[str, str]]:
    """The configs given: the command line's, then its variables' (`ENV_OVERRIDES`, read now:
    a flow file may set them as it is imported, before its class)."""
    out = dict(reading.overrides)
    on_the_line = {kind for kind, _ in reading.overrides.values()}
    for kind, var in ENV_OVERRIDES.items():
        text = os.environ.get(var)
        if kind in on_the_line or not text:
            continue
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as e:
            loaded = e
        if not isinstance(loaded, dict):
            raise ConfigError(
                f"${var} is not a JSON object of config names and "
                f"{'paths' if kind == 'path' else 'values'}; fix it or unset it."
            )
        for name, value in loaded.items():
            if name in out and out[name][0] != kind:
                raise ConfigError(
                    f"Config '{name}' was given both a file and a value (--config, "
                    "--config-value or their variables $METAFLOW_FLOW_CONFIG and "
                    "$METAFLOW_FLOW_CONFIG_VALUE); give one of them."
                )
            out.setdefault(name, (kind, value if isinstance(value, str) else json.dumps(value)))
    return out


def read_config(config: Config, reading: ConfigReading) -> Any:
    """`config`'s value as stored, read as Metaflow reads it: the command line's file or value
    (or their variables'), else the default file, else the default value; parsed by its
    parser, else as JSON."""
    name = config.name
    given = given_configs(reading).get(name)
    if given is not None:
        kind, text = given
        if kind == "path":
            where = f"the file {text}"
            text = _read_file(config, text, reading.cwd, is_default=False)
        else:
            where = "--config-value's text"
        return _parse(config, text, where)
    default = config.default
    if callable(default):
        default = default(_context(config, reading))
    if default is None:
        if config.required:
            raise ConfigError(
                f"Config '{name}' is required and has no default; pass --config {name} PATH "
                f"or --config-value {name} JSON."
            )
        return None
    if config.default_is_file:
        return _parse(
            config, _read_file(config, str(default), reading.cwd, is_default=True), str(default)
        )
    if isinstance(default, Mapping):
        return _parse(config, json.dumps(default), "its default_value")
    return _parse(config, str(default), "its default_value")


def _context(config: Config, reading: ConfigReading) -> ParameterContext:
    from flowtui.flow.current import resolve_username

    return ParameterContext(
        flow_name=reading.flow_name,
        user_name=resolve_username(),
        parameter_name=config.name,
        logger=lambda *args, **kwargs: print(*args, file=sys.stderr),
        ds_type="local",
        configs=None,
    )


def _read_file(config: Config, path: str, cwd: Path, *, is_default: bool) -> str:
    file = Path(path).expanduser()
    if not file.is_absolute():
        file = cwd / file
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        why = "no such file" if isinstance(e, FileNotFoundError) else _first_line(e)
        if is_default:
            raise ConfigError(
                f"Config '{config.name}': its default file {path} could not be read ({why}, "
                f"from {cwd}); create it, or pass another with --config {config.name} PATH."
            ) from None
        raise ConfigError(
            f"Config '{config.name}': {path} could not be read ({why}); pass an existing "
            f"file with --config {config.name} PATH."
        ) from None


def _parse(config: Config, text: str, where: str) -> Any:
    name = config.name
    if config.parser is not None:
        parser = _parser_function(config)
        label = config.parser if isinstance(config.parser, str) else _name_of(parser)
        try:
            value = parser(text)
        except Exception as e:
            raise ConfigError(
                f"Config '{name}': its parser {label} raised {type(e).__name__} reading "
                f"{where}: {_first_line(e)}; fix {where} or the parser."
            ) from None
        if not config.plain and not isinstance(value, Mapping):
            raise ConfigError(
                f"Config '{name}': its parser {label} returned a {type(value).__name__}, not a "
                "mapping; return a dict, or declare the config with plain=True."
            )
    elif config.plain:
        value = text
    else:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(
                f"Config '{name}': {where} is not valid JSON ({e.msg}, line {e.lineno} column "
                f"{e.colno}); fix it, or give the config a parser= for another format."
            ) from None
        if not isinstance(value, Mapping):
            raise ConfigError(
                f"Config '{name}': {where} holds a JSON {type(value).__name__}, not an object; "
                "a config is an object ({...}), or declare it with plain=True."
            )
    return value if config.plain else _to_dict(value)


def _name_of(function: Any) -> str:
    return str(getattr(function, "__qualname__", None) or repr(function))


def _parser_function(config: Config) -> Any:
    parser = config.parser
    if not isinstance(parser, str):
        return parser
    path, _, func = parser.rpartition(".")
    try:
        module = importlib.import_module(path) if path else None
    except ImportError as e:
        raise ConfigError(
            f"Config '{config.name}': its parser {parser!r} cannot be imported ({e}); "
            "give an importable 'module.function' or the function itself."
        ) from None
    found = getattr(module, func, None)
    if not callable(found):
        raise ConfigError(
            f"Config '{config.name}': its parser {parser!r} names no function; give an "
            "importable 'module.function' or the function itself."
        )
    return found


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


# -- expressions -------------------------------------------------------------------------
class DelayEvaluator:
    """An expression over configs read later: `config_expr("config")` or `config.a.b` before
    the config is read (a flow decorator's arguments). `resolve_delayed` computes it."""

    def __init__(self, expr: str, saved_globals: dict[str, Any] | None = None) -> None:
        self._expr = expr
        self._globals = saved_globals
        self._access: list[Any] = []

    def _with(self, key: Any) -> DelayEvaluator:
        copy = DelayEvaluator(self._expr, self._globals)
        copy._access = [*self._access, key]
        return copy

    def __getattr__(self, key: str) -> DelayEvaluator:
        if key.startswith("__"):
            raise AttributeError(key)
        return self._with(key)

    def __getitem__(self, key: Any) -> DelayEvaluator:
        return self._with(("item", key))

    def __repr__(self) -> str:
        return f"config_expr({self._expr!r})"

    def evaluate(self, configs: Mapping[str, Any]) -> Any:
        """The value, with `configs` (config name: value as read) as the expression's names."""
        try:
            value = eval(self._expr, dict(self._globals or {}), dict(configs))
        except NameError as e:
            known = ", ".join(configs) or "none"
            raise ConfigError(
                f"config_expr({self._expr!r}) names something no config is called ({e}); "
                f"the flow's configs are: {known}."
            ) from None
        for key in self._access:
            value = value[key[1]] if isinstance(key, tuple) else getattr(value, key)
        return value


def config_expr(expr: str) -> Any:
    """An expression over the flow's configs, by their names: `config_expr("config.a + 1")`.

    In the class body, after the configs it names, it is computed at once; before them (a
    flow decorator's arguments) it is computed when the runner reads the decorator."""
    frame = inspect.currentframe()
    caller = frame.f_back if frame is not None else None
    saved = dict(caller.f_globals) if caller is not None else {}
    delayed = DelayEvaluator(expr, saved)
    reading = _reading
    if caller is not None and reading is not None:
        known = {n: _as_read(v, False) for n, v in reading.found.items()}
        plain = {n: v for n, v in caller.f_locals.items() if isinstance(v, Config)}
        for config in plain.values():
            if config.resolved:
                known[config.name] = config.value()
        with contextlib.suppress(ConfigError):
            return delayed.evaluate(known)
    return delayed


def flow_configs(cls: type) -> dict[str, Config]:
    """The flow's configs by name, in declaration order (a base flow's first). Two attributes
    holding configs of one name are refused, as Metaflow refuses them."""
    found: dict[str, Config] = {}
    attrs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            if not isinstance(value, Config):
                continue
            if attrs.setdefault(value.name, attr) != attr:
                raise ConfigError(
                    f"Two configs of {cls.__name__} are named '{value.name}' ({attrs[value.name]} "
                    f"and {attr}); give each config its own name."
                )
            found[value.name] = value
    return found


def resolve_delayed(value: Any, cls: type) -> Any:
    """`value` with every `DelayEvaluator` in it (in dicts, lists, tuples) computed with the
    configs of flow class `cls`."""
    if isinstance(value, DelayEvaluator):
        configs = {c.name: c.value() for c in flow_configs(cls).values()}
        return value.evaluate(configs)
    if isinstance(value, dict):
        return {k: resolve_delayed(v, cls) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(resolve_delayed(v, cls) for v in value)
    return value


def resolve_decorators(cls: type) -> None:
    """Compute, in place, every `DelayEvaluator` among the arguments of the flow's decorators
    (the class's own, as `@project(name=config_expr("config.project"))`, and its steps')."""
    from flowtui.flow.decorators import _DECORATORS_ATTR as DECORATORS_ATTR
    from flowtui.flow.decorators import StepDecorator

    holders: list[Any] = [cls]
    for klass in cls.__mro__:
        holders += [f for f in vars(klass).values() if DECORATORS_ATTR in vars_of(f)]
    for holder in holders:
        decorators = vars(holder).get(DECORATORS_ATTR, ())
        if not any(_has_delayed(d.args) for d in decorators):
            continue
        resolved = tuple(
            StepDecorator(d.name, resolve_delayed(d.args, cls)) if _has_delayed(d.args) else d
            for d in decorators
        )
        setattr(holder, DECORATORS_ATTR, resolved)


def vars_of(value: Any) -> dict[str, Any]:
    return getattr(value, "__dict__", None) or {}


def _has_delayed(value: Any) -> bool:
    if isinstance(value, DelayEvaluator):
        return True
    if isinstance(value, dict):
        return any(_has_delayed(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_delayed(v) for v in value)
    return False
