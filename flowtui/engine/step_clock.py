"""A @timeout step's clock, in the task that runs it and in the runner that watches it.

The task stops its own step at its @timeout: SIGALRM raises `TimeoutException` in the step, so
@catch and @retry see it as the step's exception. The runner kills the task only as a backstop,
for a step that does not stop (stuck in C code that never returns to Python): `GRACE` seconds
past the timeout, counted from when the task says the step's clock started, and dropped when the
task says the step's code ended. The task says each with one byte on its result pipe, which an
outcome's JSON never holds raw. So neither a slow start (a busy machine, a Ray worker starting
up, a queue) nor a slow end (storing big artifacts) is counted as the step's time.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

STARTED = b"\x01"  # the step's code starts: its @timeout counts from now
STOPPED = b"\x02"  # the step's code has ended (returned, raised or timed out)
GRACE = 5.0  # seconds past a step's @timeout before the runner kills a task that did not stop

Note = Callable[[bytes], None]  # sends one of the bytes above to the runner


def timeout_message(step: str, seconds: float) -> str:
    return f"step '{step}' ran longer than its @timeout of {seconds:g} s and was stopped"


class TimeoutException(Exception):
    """Raised inside a step that ran longer than its @timeout."""


def start(step: str, seconds: float | None, note: Note | None) -> None:
    """Arm the step's @timeout (if it has one) and tell the runner it counts from now."""
    if not seconds:
        return

    def expired(signum: int, frame: Any) -> None:
        raise TimeoutException(timeout_message(step, seconds or 0))

    if note is not None:  # first: the timeout cannot fire while the note is on its way
        note(STARTED)
    signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def disarm() -> None:
    """The step's code returned or raised: its @timeout can no longer fire."""
    signal.setitimer(signal.ITIMER_REAL, 0)


def stopped(seconds: float | None, note: Note | None) -> None:
    """Tell the runner the step's code has ended: what the task does now is flowtui's."""
    if seconds and note is not None:
        note(STOPPED)


def read_notes(chunk: bytes) -> tuple[bytes, bytes | None]:
    """What a task wrote on its result pipe, less the clock's notes, and the last note."""
    started, ended = chunk.rfind(STARTED), chunk.rfind(STOPPED)
    if started < 0 and ended < 0:
        return chunk, None
    last = STOPPED if ended > started else STARTED
    return chunk.replace(STARTED, b"").replace(STOPPED, b""), last
