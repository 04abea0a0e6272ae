"""`parallel_map` and `parallel_imap_unordered`: call a function on each item in a forked
child process (so closures and lambdas work), as Metaflow's helpers do.

Each child writes its result, pickled with cloudpickle, to a private temporary file that the
parent reads and removes. A child that raises prints its traceback (on the task's stderr, so it
is in the task's log) and the parent raises `MulticoreException`, as in Metaflow.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NoReturn, TypeVar

import cloudpickle

A = TypeVar("A")
R = TypeVar("R")


class MulticoreException(Exception):
    """A child process of `parallel_map` failed; its traceback is in the task's stderr."""


def _child(func: Callable[[Any], Any], arg: Any, out: str) -> NoReturn:
    code = 1
    try:
        value = func(arg)
        with open(out, "wb") as f:
            cloudpickle.dump(value, f)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _start(func: Callable[[Any], Any], arg: Any, dir: str | None) -> tuple[int, str]:
    fd, out = tempfile.mkstemp(prefix="parallel_map_", dir=dir)
    os.close(fd)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _child(func, arg, out)
    return pid, out


def _collect(out: str, status: int) -> Any:
    try:
        if os.waitstatus_to_exitcode(status) != 0:
            raise MulticoreException("Child failed")
        with open(out, "rb") as f:
            return cloudpickle.load(f)
    finally:
        os.unlink(out)


def _reap_oldest(running: dict[int, str]) -> Any:
    """Wait for the oldest running child (never any other child of the task) and read it."""
    pid = next(iter(running))
    _, status = os.waitpid(pid, 0)
    return _collect(running.pop(pid), status)


def parallel_imap_unordered(
    func: Callable[[A], R],
    iterable: Iterable[A],
    max_parallel: int | None = None,
    dir: str | None = None,
) -> Iterator[R]:
    """Yield `func(item)` for each item as each finishes, at most `max_parallel` (default: the
    CPU count) at once."""
    limit = max_parallel or os.cpu_count() or 1
    running: dict[int, str] = {}
    items = iter(iterable)
    try:
        for arg in items:
            if len(running) >= limit:
                yield _reap_oldest(running)
            pid, out = _start(func, arg, dir)
            running[pid] = out
        while running:
            yield _reap_oldest(running)
    finally:  # on an error, stop the remaining children and leave no files behind
        for pid, out in running.items():
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            os.unlink(out)


def parallel_map(
    func: Callable[[A], R],
    iterable: Iterable[A],
    max_parallel: int | None = None,
    dir: str | None = None,
) -> list[R]:
    """`[func(item) for item in iterable]`, each call in its own child process; the results
    in the order of `iterable`."""

    def indexed(pair: tuple[int, A]) -> tuple[int, R]:
        return pair[0], func(pair[1])

    results = parallel_imap_unordered(indexed, enumerate(iterable), max_parallel, dir)
    return [value for _, value in sorted(results, key=lambda pair: pair[0])]
