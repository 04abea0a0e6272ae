"""Which executor the TUI's next run uses, remembered per flow file and flow.

Kept in the user's config folder (`$XDG_CONFIG_HOME/flowtui/executors.json`), never in the
store, which only the runner writes.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

EXECUTORS = ("local", "ray")  # the order `e` cycles through


def _settings_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "flowtui" / "executors.json"


def _key(file: Path, flow: str | None) -> str:
    return f"{file.resolve()}::{flow or ''}"


def _read() -> dict[str, str]:
    try:
        data = json.loads(_settings_file().read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def remembered(file: Path, flow: str | None) -> str:
    """The executor last chosen for this flow (local if none)."""
    choice = _read().get(_key(file, flow), "local")
    return choice if choice in EXECUTORS else "local"


def remember(file: Path, flow: str | None, executor: str) -> None:
    """Keep `executor` for this flow (best effort: a read-only home only forgets it)."""
    data = _read()
    data[_key(file, flow)] = executor
    target = _settings_file()
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, target)


def next_executor(current: str) -> str:
    return EXECUTORS[(EXECUTORS.index(current) + 1) % len(EXECUTORS)]
