"""Step decorators, with Metaflow's names and arguments.

`@step` marks a method as a step. The others attach a `StepDecorator` record to the function;
the engine reads them (`step_decorators(func)`) and honours them when it runs the task. The
static graph reads the same decorators from the source text, without importing anything.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_DECORATORS_ATTR = "_flowtui_decorators"

# Decorators for remote compute or packaging: accepted locally with a one-line notice.
IGNORED_LOCALLY = (
    "kubernetes",
    "batch",
    "conda",
    "pypi",
    "secrets",
    "slurm",
    "nvidia",
    "trigger",
    "trigger_on_finish",
    "schedule",
    "conda_base",
    "pypi_base",
)


@dataclass(frozen=True)
class StepDecorator:
    name: str
    args: dict[str, Any] = field(default_factory=dict)


def step(func: F) -> F:
    """Mark a method of a `FlowSpec` as a step."""
    func.is_step = True  # type: ignore[attr-defined]
    if not hasattr(func, _DECORATORS_ATTR):
        setattr(func, _DECORATORS_ATTR, ())
    return func


def step_decorators(func: Callable[..., Any]) -> tuple[StepDecorator, ...]:
    return tuple(getattr(func, _DECORATORS_ATTR, ()))


def _attach(name: str, args: dict[str, Any]) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        existing = getattr(func, _DECORATORS_ATTR, ())
        setattr(func, _DECORATORS_ATTR, (*existing, StepDecorator(name, args)))
        return func

    return decorate


def _bare_or_called(name: str, func: Any, args: dict[str, Any]) -> Any:
    """Support both `@retry` and `@retry(times=2)`."""
    if callable(func):
        return _attach(name, args)(func)
    return _attach(name, args)


def retry(func: Any = None, *, times: int = 3, minutes_between_retries: int = 2) -> Any:
    """Re-run a failed attempt up to `times` more times (`current.retry_count` counts up).

    Locally flowtui retries at once; `minutes_between_retries` is recorded, not waited for.
    """
    if not isinstance(times, int) or times < 0:
        raise ValueError(f"@retry(times=...) must be a whole number >= 0, not {times!r}.")
    return _bare_or_called(
        "retry", func, {"times": times, "minutes_between_retries": minutes_between_retries}
    )


def catch(func: Any = None, *, var: str | None = None, print_exception: bool = True) -> Any:
    """Keep going when the step fails: store the exception in artifact `var` (None if none)."""
    return _bare_or_called("catch", func, {"var": var, "print_exception": print_exception})


def timeout(func: Any = None, *, seconds: int = 0, minutes: int = 0, hours: int = 0) -> Any:
    """Kill an attempt that runs longer than the given time (then `@retry` may try again)."""
    total = seconds + 60 * minutes + 3600 * hours
    if total <= 0:
        raise ValueError("@timeout needs a positive duration: seconds=, minutes= or hours=.")
    return _bare_or_called("timeout", func, {"seconds": total})


def resources(
    func: Any = None,
    *,
    cpu: int = 1,
    gpu: int | None = None,
    disk: int | None = None,
    memory: int = 4096,
    shared_memory: int | None = None,
) -> Any:
    """Record the resources a step asks for; locally `memory` (MB) caps the task's memory."""
    args = {"cpu": cpu, "gpu": gpu, "disk": disk, "memory": memory, "shared_memory": shared_memory}
    return _bare_or_called("resources", func, args)


def environment(func: Any = None, *, vars: dict[str, str] | None = None) -> Any:
    """Set environment variables for the step's task."""
    return _bare_or_called("environment", func, {"vars": dict(vars or {})})


def card(
    func: Any = None,
    *,
    type: str = "default",
    id: str | None = None,
    options: dict[str, Any] | None = None,
    timeout: int = 45,
    refresh_interval: float = 5,
    save_errors: bool = True,
    customize: bool = False,
) -> Any:
    """Attach a card to the step: `default` (the task's artifacts, plus what the step adds
    through `current.card`) or `blank` (only what it adds); several per step with `id=`."""
    if id is not None and not (isinstance(id, str) and id.replace("_", "a").isalnum()):
        raise ValueError(f"@card(id={id!r}) must be letters, digits and underscores.")
    args = {
        "type": type,
        "id": id,
        "options": dict(options or {}),
        "timeout": timeout,
        "refresh_interval": refresh_interval,
        "save_errors": save_errors,
        "customize": customize,
    }
    return _bare_or_called("card", func, args)


def parallel(func: Any = None) -> Any:
    """Run the step as a gang: `self.next(self.train, num_parallel=4)` starts its 4 tasks
    together (past `--max-workers`), each with `current.parallel` (`node_index`, `num_nodes`,
    `main_ip`, `control_task_id`, also in `MF_PARALLEL_*` environment variables); a join
    after it gets the 4 tasks' artifacts. Runs on the local executor."""
    return _bare_or_called("parallel", func, {})


def ignored_locally(name: str) -> Callable[..., Any]:
    """A decorator flowtui accepts for compatibility and does not apply locally."""

    def decorator(func: Any = None, **kwargs: Any) -> Any:
        return _bare_or_called(name, func, {"ignored": True, **kwargs})

    decorator.__name__ = name
    decorator.__doc__ = f"`@{name}` is accepted and recorded; it has no effect in a local run."
    return decorator


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """A decorator written as text, as `--with` and `add_decorator("...")` take it:
    `"retry:times=2,minutes_between_retries=0"` -> `("retry", {"times": 2, ...})`.

    Values are Python literals where they parse as one (`2`, `True`, `{"A": "b"}`), else text.
    Raises ValueError naming the part that is not `ARG=VALUE`.
    """
    name, _, rest = spec.partition(":")
    name = name.strip()
    args: dict[str, Any] = {}
    for part in _split_args(rest):
        key, eq, text = part.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"{part!r} is not ARG=VALUE; write e.g. {name}:ARG=VALUE.")
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
