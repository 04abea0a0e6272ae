"""`@conda` and `@pypi` (and their `_base` forms on the class) against the Python environment
a local run uses.

Metaflow builds an environment per step from these decorators (and refuses them without
`--environment=conda`); flowtui runs every step in the Python it runs in, and installs nothing.
So a run reads what each step asks for, as Metaflow merges it (the flow's `@conda_base`
packages, then the step's own over them; `libraries=` is the older name of `packages=`;
`disabled=True` turns it off), and says before the first task what this environment lacks:
a package missing, at a version outside the pin, or another Python. The notice holds the
`pip install` line that would make the step run here.
"""

from __future__ import annotations

import importlib.metadata
import sys
from dataclasses import dataclass
from typing import Any

from flowtui.flow.decorators import step_decorators

_FAMILIES = {"conda": "conda_base", "pypi": "pypi_base"}  # a step decorator -> the flow's
ENVIRONMENT_DECORATORS = frozenset((*_FAMILIES, *_FAMILIES.values()))


@dataclass(frozen=True)
class Wanted:
    """What one step's `@conda` (or `@pypi`) asks for once merged with the flow's `_base`."""

    decorator: str  # conda | pypi
    own: bool  # the step has its own @conda (else only the flow's @conda_base applies)
    packages: tuple[tuple[str, str], ...]  # (name, version spec), in the order written
    python: str | None


def package_notices(
    flow: str, cls: type, decorators: dict[str, dict[str, dict[str, Any]]]
) -> list[str]:
    """One notice per `@conda`/`@pypi` ask (per group of steps asking the same): what this
    environment lacks for it, or that it has all of it."""
    asks: dict[Wanted, list[str]] = {}
    for step_name, decos in decorators.items():
        for wanted in _wanted(cls, decos):
            asks.setdefault(wanted, []).append(step_name)
    return [
        _notice(w, steps, flow, every=len(steps) == len(decorators)) for w, steps in asks.items()
    ]


def _notice(wanted: Wanted, steps: list[str], flow: str, every: bool) -> str:
    if wanted.own:
        head = f"@{wanted.decorator} on {_steps(steps)}"
    elif every:
        head = f"@{wanted.decorator}_base on flow {flow}"
    else:
        head = f"@{wanted.decorator}_base on flow {flow} ({_steps(steps)})"
    they = "the step runs" if len(steps) == 1 else "its steps run"
    here = ".".join(map(str, sys.version_info[:3]))
    python = wanted.python if wanted.python and not _python_matches(wanted.python) else None
    lacking = [
        (name, spec, why)
        for name, spec in wanted.packages
        if (why := _lack(name, spec, wanted.decorator))
    ]
    if not lacking:
        if python:
            return (
                f"{head} asks for Python {python}; flowtui builds no environment, "
                f"so {they} in this Python ({here})."
            )
        has = ", ".join(f"{_bare(name)} {_installed(name)}" for name, _ in wanted.packages)
        return f"{head} builds no environment in a local run; this Python has what it asks for" + (
            f" ({has})." if has else "."
        )
    asked = ", ".join(f"{f'{_bare(name)} {spec}'.strip()} ({why})" for name, spec, why in lacking)
    install = " ".join(f"'{_pip_pin(name, spec)}'" for name, spec, _ in lacking)
    also = f" (It asks for Python {python}; this is {here}.)" if python else ""
    return (
        f"{head} asks for {asked}; flowtui builds no environment, so {they} in this Python: "
        f"pip install {install} to run {'it' if len(steps) == 1 else 'them'} here.{also}"
    )


def _wanted(cls: type, decos: dict[str, dict[str, Any]]) -> list[Wanted]:
    """What a step's decorators (`decos`: name -> arguments) ask for, merged with the flow's."""
    flow_decos = {d.name: d.args for d in step_decorators(cls)}
    out = []
    for family, base_name in _FAMILIES.items():
        step_args, base_args = decos.get(family), flow_decos.get(base_name)
        if step_args is None and base_args is None:
            continue
        base, own = base_args or {}, step_args or {}
        disabled = own.get("disabled")
        if disabled is None:
            disabled = base.get("disabled")
        if disabled:
            continue
        packages = {**_packages(base), **_packages(own)}
        python = own.get("python") or base.get("python")
        python_ = str(python) if python else None
        out.append(Wanted(family, step_args is not None, tuple(packages.items()), python_))
    return out


def _packages(args: dict[str, Any]) -> dict[str, str]:
    """`packages=` over the older `libraries=`, as Metaflow reads them."""
    merged = {**(args.get("libraries") or {}), **(args.get("packages") or {})}
    return {str(name): str(spec or "") for name, spec in merged.items()}


def _lack(name: str, spec: str, decorator: str) -> str | None:
    """What is wrong with package `name` here, in a few words; None when it is as asked."""
    have = _installed(name)
    if have is None:
        return "not installed here"
    if _satisfies(have, spec, decorator) is False:
        return f"{have} here"
    return None


def _bare(name: str) -> str:
    """A conda package's name without its channel (`conda-forge::numpy` -> `numpy`)."""
    return name.rpartition("::")[2]


def _installed(name: str) -> str | None:
    try:
        return importlib.metadata.version(_bare(name))
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None


def _python_matches(spec: str) -> bool:
    """`3.11` or `3.11.7` against this interpreter (conda's `>=3.10` forms read as met)."""
    if not spec[:1].isdigit():
        return True
    here = [str(part) for part in sys.version_info[:3]]
    return spec.split(".") == here[: len(spec.split("."))]


def _satisfies(have: str, spec: str, decorator: str) -> bool | None:
    """Whether version `have` meets `spec`; None when it cannot tell (an unusual spec)."""
    if not spec.strip():
        return True
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - packaging is a dependency
        return None
    try:  # a bare version: pip pins it; conda matches it as a prefix
        pip = _as_pip(spec, prefix=decorator == "conda" and "*" not in spec)
        return Version(have) in SpecifierSet(pip, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return None


def _pip_pin(name: str, spec: str) -> str:
    """The argument to `pip install` for one package: `editdistance==0.5.3`."""
    return _bare(name) + _as_pip(spec, prefix=False)


def _as_pip(spec: str, prefix: bool) -> str:
    """A version spec as pip writes it: a bare version pinned (`==1.2`, or `==1.2.*` when it
    is a `prefix`), conda's `=1.2` as `==1.2.*`, any other spec as it is; no spaces."""
    spec = spec.replace(" ", "")
    if spec[:1].isdigit():
        return f"=={spec}.*" if prefix else f"=={spec}"
    if spec[:1] == "=" and spec[:2] != "==":
        return f"=={spec[1:]}.*"
    return spec


def _steps(steps: list[str]) -> str:
    names = ", ".join(f"'{s}'" for s in steps[:3])
    more = f" and {len(steps) - 3} more" if len(steps) > 3 else ""
    return f"step {names}" if len(steps) == 1 else f"steps {names}{more}"
