"""Metaflow's run options, with Metaflow's meaning: `--with DECORATOR[:ARG=VALUE,...]`,
`--max-num-splits`, `--run-id-file` and `--namespace` (`--tag` and `--max-workers` are the
runner's own). The command line parses them into the `RunConfig`; these functions apply them.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from flowtui.errors import UsageError
from flowtui.flow import decorators as deco
from flowtui.flow.current import NAMESPACE_ENV

# `--with NAME` for each decorator a local run honours; the remote ones are accepted with the
# same notice as when they decorate a step.
HONOURED = ("retry", "catch", "timeout", "resources", "environment", "card")


def parse_with(spec: str) -> tuple[str, dict[str, Any]]:
    """`"retry:times=2,minutes_between_retries=0"` -> `("retry", {"times": 2, ...})`.

    Values are Python literals where they parse as one (`2`, `True`, `{"A": "b"}`), else text.
    """
    name, _, rest = spec.partition(":")
    name = name.strip()
    if name not in HONOURED and name not in deco.IGNORED_LOCALLY:
        known = ", ".join((*HONOURED, *deco.IGNORED_LOCALLY))
        raise UsageError(f"--with {spec}: flowtui has no decorator {name!r}; it knows: {known}.")
    args: dict[str, Any] = {}
    for part in _split_args(rest):
        key, eq, text = part.partition("=")
        if not eq or not key.strip():
            raise UsageError(
                f"--with {spec}: {part!r} is not ARG=VALUE; write e.g. --with {name}:ARG=VALUE."
            )
        args[key.strip()] = _literal(text.strip())
    return name, args


def _split_args(text: str) -> list[str]:
    """Split on the commas between arguments, not those inside brackets or quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def add_to_every_step(cls: type, steps: Iterable[str], specs: Sequence[str]) -> None:
    """Attach each `--with` decorator to every one of `steps` that does not already have one of
    that name (a step's own `@retry(times=5)` wins over `--with retry`, as in Metaflow). A step
    may have several cards (Metaflow's `allow_multiple`): `--with card` adds its card to every
    step without that same card (type and id)."""
    steps = list(steps)
    for spec in specs:
        name, args = parse_with(spec)
        factory = getattr(deco, name, None) or deco.ignored_locally(name)
        for step in steps:
            func = getattr(cls, step, None)
            if func is None or _has(func, name, args):
                continue
            try:
                factory(**args)(func)
            except (TypeError, ValueError) as e:
                raise UsageError(f"--with {spec}: {e}") from None


def _has(func: Any, name: str, args: dict[str, Any]) -> bool:
    same = [d for d in deco.step_decorators(func) if d.name == name]
    if name != "card":
        return bool(same)
    card = (args.get("type", "default"), args.get("id"))
    return any((d.args.get("type"), d.args.get("id")) == card for d in same)


def write_run_id(path: str | None, run_id: str) -> None:
    """`--run-id-file`: the run's id, written as soon as the run exists (as Metaflow does)."""
    if path is None:
        return
    try:
        Path(path).write_text(run_id)
    except OSError as e:
        raise UsageError(f"--run-id-file {path}: cannot write it ({e.strerror}).") from None


# Metaflow's options that go before the command (`python flow.py --branch X run`), and whether
# each takes a value.
LEADING_OPTIONS = {"--branch": 1, "--production": 0, "--with": 1, "--quiet": 0}


def split_leading_options(argv: list[str]) -> tuple[list[str], list[str]]:
    """`["--branch", "x", "run", ...]` -> `(["--branch", "x"], ["run", ...])`."""
    before: list[str] = []
    while argv and argv[0] in LEADING_OPTIONS:
        takes_value = LEADING_OPTIONS[argv[0]]
        before += argv[: 1 + takes_value]
        argv = argv[1 + takes_value :]
    return before, argv


def set_client_namespace(ns: str | None) -> None:
    """`--namespace`: the client namespace the run's tasks start in (`current.namespace` is
    unchanged, as in Metaflow); an empty value sees every run."""
    if ns is not None:
        os.environ[NAMESPACE_ENV] = ns
