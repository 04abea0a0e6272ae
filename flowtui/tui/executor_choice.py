"""Which executor the TUI's next run uses, remembered per flow file and flow in the TUI's
settings (`tui/settings.py`), never in the store, which only the runner writes."""

from __future__ import annotations

from pathlib import Path

from flowtui.tui.settings import Settings

EXECUTORS = ("local", "ray")  # the order `w` cycles through


def _key(file: Path, flow: str | None) -> str:
    return f"{file.resolve()}::{flow or ''}"


def remembered(settings: Settings, file: Path, flow: str | None) -> str:
    """The executor last chosen for this flow (local if none)."""
    choice = settings.executors.get(_key(file, flow), "local")
    return choice if choice in EXECUTORS else "local"


def remember(settings: Settings, file: Path, flow: str | None, executor: str) -> None:
    """Keep `executor` for this flow in `settings` (the caller saves them)."""
    settings.executors[_key(file, flow)] = executor


def next_executor(current: str) -> str:
    return EXECUTORS[(EXECUTORS.index(current) + 1) % len(EXECUTORS)]
