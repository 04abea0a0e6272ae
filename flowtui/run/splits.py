"""A foreach wider than `--max-num-splits` allows (Metaflow's default: 100 children).

The runner stops the run at such a foreach with Metaflow's own sentence; the terminal's hint and
the TUI read back from that sentence how many children were asked for, to offer allowing them.
Both directions live here, so the sentence and its reading cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Metaflow's default for `--max-num-splits`.
DEFAULT_MAX_NUM_SPLITS = 100

_REFUSED = re.compile(
    r"Foreach in step \S+ yielded (\d+) child steps which is more than the current maximum"
)


def too_many_splits(step: str, count: int, limit: int) -> str | None:
    """The error for a foreach of more children than `--max-num-splits` allows, or None."""
    if count <= limit:
        return None
    return (
        f"Foreach in step {step} yielded {count} child steps which is more than the current "
        f"maximum of {limit} children. You can raise the maximum with the --max-num-splits option."
    )


def splits_asked(messages: Iterable[str | None]) -> int | None:
    """The most children a refused foreach asked for, named in `messages` (None: none was)."""
    asked = [int(m.group(1)) for text in messages if text for m in _REFUSED.finditer(text)]
    return max(asked, default=None)


def refusal(messages: Iterable[str | None]) -> str | None:
    """The first refusal of a foreach in `messages`, from its sentence's start (a notice or a
    run's error puts the task's pathspec before it); None when no foreach was refused."""
    for text in messages:
        found = _REFUSED.search(text or "")
        if text and found:
            return text[found.start() :]
    return None
