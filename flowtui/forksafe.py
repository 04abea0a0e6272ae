"""Forking a process that has threads, safely: a thread that is inside a lock a forked child
may need (SQLite's, while the runner's heartbeat writes; the console's, while its echo thread
prints) holds `quiet()`, and a fork waits for it. Otherwise a child can be born holding a lock
whose owner does not exist in it, and hangs the first time it opens the store or prints.

The runner forks a task per attempt (`flowtui.engine.executor`); the hooks are registered with
`os.register_at_fork`, so every `os.fork()` of the process waits, whoever calls it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_GATE = threading.Lock()


@contextmanager
def quiet() -> Iterator[None]:
    """No fork happens while this is held (one forks once it is let go)."""
    with _GATE:
        yield


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_GATE.acquire, after_in_parent=_GATE.release, after_in_child=_GATE.release
    )
