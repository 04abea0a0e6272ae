"""How sizes and durations are written for people, the same in the CLI and the TUI."""

from __future__ import annotations


def human_size(size: int) -> str:
    """`512 B`, `3.4 KB`, `1.2 GB`."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def human_duration(seconds: float | None) -> str:
    """`0.4s`, `12.0s`, `3m04s`, `1h02m`; empty when there is no duration yet."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def counted(noun: str, count: int) -> str:
    """`1 step`, `2 steps`, `0 tasks`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
