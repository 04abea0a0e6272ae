"""Metaflow's run options, with Metaflow's meaning: `--with DECORATOR[:ARG=VALUE,...]`,
`--max-num-splits`, `--run-id-file` and `--namespace` (`--tag` and `--max-workers` are the
runner's own). The command line parses them into the `RunConfig`; these functions apply them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from flowtui.errors import UsageError
from flowtui.flow import decorators as deco
from flowtui.flow.current import NAMESPACE_ENV
from flowtui.flow.flow_mutator import mutate_flow
from flowtui.flow.user_decorators import (
    UserDecoratorError,
    attach,
    find_decorator,
    has_user_decorator,
    mutate_steps,
)

# `--with NAME` for each decorator a local run honours; the remote ones are accepted with the
# same notice as when they decorate a step.
HONOURED = ("retry", "catch", "timeout", "resources", "environment", "card")


def parse_with(spec: str) -> tuple[str, dict[str, Any]]:
    """`"retry:times=2,minutes_between_retries=0"` -> `("retry", {"times": 2, ...})`.

    Values are Python literals where they parse as one (`2`, `True`, `{"A": "b"}`), else text.
    """
    try:
        name, args = deco.parse_spec(spec)
    except ValueError as e:
        raise UsageError(f"--with {spec}: {e}") from None
    if name not in HONOURED and name not in deco.IGNORED_LOCALLY:
        known = ", ".join((*HONOURED, *deco.IGNORED_LOCALLY))
        raise UsageError(f"--with {spec}: flowtui has no decorator {name!r}; it knows: {known}.")
    return name, args


def apply_decorators(cls: type, steps: Iterable[str], specs: Sequence[str]) -> None:
    """Make the flow's class what its run uses, in Metaflow's order: each `FlowMutator`'s
    and then each `StepMutator`'s `pre_mutate`, the `--with` decorators, each `mutate` (flow
    then steps), then every user decorator's `init`. Done once in each process that imports
    the flow (the runner; a spawned task or a Ray worker). A user decorator's own exception
    comes out as `UserDecoratorFailed` (the CLI's edge quotes the user's traceback), a misuse
    as `UserDecoratorError`."""
    steps = list(steps)
    mutate_flow(cls, "pre_mutate")
    mutate_steps(cls, steps, "pre_mutate")
    add_to_every_step(cls, steps, specs)
    mutate_flow(cls, "mutate")
    mutate_steps(cls, steps, "mutate")


def add_to_every_step(cls: type, steps: Iterable[str], specs: Sequence[str]) -> None:
    """Attach each `--with` decorator to every one of `steps` that does not already have one of
    that name (a step's own `@retry(times=5)` wins over `--with retry`, as in Metaflow). A step
    may have several cards (Metaflow's `allow_multiple`): `--with card` adds its card to every
    step without that same card (type and id). A user decorator the flow defines is named by
    its class or function name (or its dotted path, `module.Name`)."""
    steps = list(steps)
    for spec in specs:
        try:
            user = find_decorator(spec.partition(":")[0].strip())
        except UserDecoratorError as e:
            raise UsageError(f"--with {spec}: {e}") from None
        if user is not None:
            _add_user_decorator(cls, steps, spec, user)
            continue
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


def _add_user_decorator(cls: type, steps: list[str], spec: str, user: Any) -> None:
    try:
        _, args = deco.parse_spec(spec)
    except ValueError as e:
        raise UsageError(f"--with {spec}: {e}") from None
    for step in steps:
        func = getattr(cls, step, None)
        if func is not None and not has_user_decorator(func, user):
            attach(func, user, (), args)


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
LEADING_OPTIONS = {
    "--branch": 1,
    "--production": 0,
    "--with": 1,
    "--quiet": 0,
    "--config": 2,
    "--config-value": 2,
}


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
