"""Command-line parameter values: split `--name value` pairs, validate, parse by type."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flowtui.errors import UsageError
from flowtui.flow import FlowSpec, IncludeFile, Parameter
from flowtui.flow.parameters import ParameterValueError


def flow_parameters(cls: type[FlowSpec]) -> dict[str, Parameter]:
    """The flow's parameters by their command-line name, in declaration order (its configs,
    read apart, are not among them)."""
    found: dict[str, Parameter] = {}
    for klass in reversed(cls.__mro__):
        for value in vars(klass).values():
            if isinstance(value, Parameter) and value.kind != "config":
                found[value.name] = value
    return found


def split_param_args(args: Sequence[str]) -> dict[str, list[str | None]]:
    """`["--a", "3", "--b=x", "--flag", "--a", "4"]` -> `{"a": ["3", "4"], "b": ["x"],
    "flag": [None]}`: every value given, in order (a `multiple=True` parameter takes them all)."""
    out: dict[str, list[str | None]] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or arg == "--":
            raise UsageError(f"Unexpected argument {arg!r}; parameters are given as --NAME VALUE.")
        name, eq, value = arg[2:].partition("=")
        given: str | None = None
        if eq:
            given = value
        elif i + 1 < len(args) and not args[i + 1].startswith("--"):
            given = args[i + 1]
            i += 1
        out.setdefault(name, []).append(given)
        i += 1
    return out


def _lookup(params: dict[str, Parameter], given: str) -> tuple[Parameter, bool] | None:
    """Find a parameter by `--name` (dashes and underscores alike), or `--no-name` for bools."""
    norm = given.replace("-", "_")
    for name, p in params.items():
        if name.replace("-", "_") == norm:
            return p, True
    if norm.startswith("no_"):
        for name, p in params.items():
            if name.replace("-", "_") == norm[3:] and p.type_name == "bool":
                return p, False
    return None


def resolve_parameters(
    cls: type[FlowSpec], given: dict[str, list[str | None]], *, cwd: Path | None = None
) -> dict[str, Any]:
    """Attribute name -> value for every parameter, from the command line or defaults.

    Raises `UsageError` naming the parameter for an unknown name, a missing required value
    or a value of the wrong type, before anything runs.
    """
    params = flow_parameters(cls)
    values = given_parameters(cls, given)
    base = cwd or Path.cwd()
    for param in params.values():
        if param.attr not in values:
            from_env = _from_environment(param)
            if from_env is not None:
                values[param.attr] = from_env
        if param.attr not in values:
            if param.required and param.default is None:
                raise UsageError(
                    f"Parameter --{param.name} is required; pass --{param.name} VALUE."
                )
            try:
                values[param.attr] = param.resolved_default()
            except ParameterValueError as e:
                raise UsageError(str(e)) from None
        if isinstance(param, IncludeFile) and values[param.attr] is not None:
            try:
                values[param.attr] = param.read(str(values[param.attr]), base)
            except ParameterValueError as e:
                raise UsageError(str(e)) from None
    return values


def _from_environment(param: Parameter) -> Any:
    """A value from `METAFLOW_RUN_<NAME>` (dashes as underscores), as Metaflow's `run` reads
    one for a parameter not given on the command line; None when it is not set."""
    envvar = "METAFLOW_RUN_" + param.name.replace("-", "_").upper()
    text = os.environ.get(envvar)
    if text is None:
        return None
    try:
        if param.multiple:  # click splits a multiple option's variable on whitespace
            return tuple(_parse_one(param, True, t) for t in text.split())
        return _parse_one(param, True, text)
    except ParameterValueError as e:
        raise UsageError(f"{e} (from ${envvar})") from None


def given_parameters(cls: type[FlowSpec], given: dict[str, list[str | None]]) -> dict[str, Any]:
    """Attribute name -> parsed value, for the parameters given on the command line only."""
    params = flow_parameters(cls)
    values: dict[str, Any] = {}
    for name, texts in given.items():
        found = _lookup(params, name)
        if found is None:
            known = ", ".join(f"--{n}" for n in params) or "none"
            raise UsageError(
                f"{cls.__name__} has no parameter --{name}; its parameters are: {known}."
            )
        param, positive = found
        try:
            parsed = [_parse_one(param, positive, text) for text in texts]
        except ParameterValueError as e:
            raise UsageError(str(e)) from None
        # Several values: all of them for `multiple=True`, else the last (as Metaflow's click).
        values[param.attr] = tuple(parsed) if param.multiple else parsed[-1]
    return values


def _parse_one(param: Parameter, positive: bool, text: str | None) -> Any:
    if param.type_name == "bool" and text is None:
        return positive
    if text is None:
        raise UsageError(f"Parameter --{param.name} needs a value: --{param.name} VALUE.")
    return param.parse(text)
