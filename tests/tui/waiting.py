"""Waiting for the app in Pilot tests: on a state, never on a time.

The deadline only stops a hung test; it is generous because CI machines are shared and a busy
one may take many seconds for what takes milliseconds on a quiet one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot

#: How long a test waits for a state before it calls the app hung (s).
DEADLINE = 240.0


async def wait_until(
    pilot: Pilot[None], condition: Callable[[], object], what: str = "the expected state"
) -> None:
    """Let the app work until `condition()` holds, then let the screen catch up once."""
    give_up = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)
    await pilot.pause()
