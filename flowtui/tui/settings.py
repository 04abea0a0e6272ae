"""What the TUI remembers between sessions: the theme, each flow's last parameter values, the
executor each flow file's next run uses, and how wide a foreach each flow was allowed.

One small JSON file in the platform's user config folder (`~/.config/flowtui/tui.json` on
Linux, through platformdirs), or wherever `FLOWTUI_CONFIG` points. Written atomically
(temp file + rename), so a crash never leaves half a file; a file that cannot be read is
kept aside as `tui.json.unreadable` rather than overwritten, and the TUI starts from the
defaults. Nothing here is a run's data: losing it costs a few keystrokes.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_config_path

#: An environment variable naming the settings file (tests point it at a temporary one).
CONFIG_ENV = "FLOWTUI_CONFIG"


def settings_path() -> Path:
    """Where the settings live: `$FLOWTUI_CONFIG`, else the platform's config folder."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    return user_config_path("flowtui") / "tui.json"


@dataclass
class Settings:
    """The remembered theme (None: the default), parameter values by flow name, and the
    executor by flow file and flow (`executor_key`)."""

    theme: str | None = None
    params: dict[str, dict[str, str]] = field(default_factory=dict)
    executors: dict[str, str] = field(default_factory=dict)
    splits: dict[str, int] = field(default_factory=dict)  # flow -> --max-num-splits allowed


def load_settings(path: Path | None = None) -> Settings:
    """The settings at `path` (the defaults when there are none or they cannot be read)."""
    path = path or settings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError):
        _set_aside(path)
        return Settings()
    if not isinstance(data, dict):
        _set_aside(path)
        return Settings()
    theme = data.get("theme")
    params = data.get("params")
    executors = data.get("executors")
    splits = data.get("splits")
    return Settings(
        theme=theme if isinstance(theme, str) else None,
        executors={str(k): str(v) for k, v in executors.items()}
        if isinstance(executors, dict)
        else {},
        splits={
            str(flow): limit
            for flow, limit in (splits.items() if isinstance(splits, dict) else [])
            if isinstance(limit, int) and limit >= 1
        },
        params={
            str(flow): {str(k): str(v) for k, v in values.items()}
            for flow, values in (params.items() if isinstance(params, dict) else [])
            if isinstance(values, dict)
        },
    )


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write `settings` to `path` atomically; an unwritable place is left alone."""
    path = path or settings_path()
    data = {
        "theme": settings.theme,
        "params": settings.params,
        "executors": settings.executors,
        "splits": settings.splits,
    }
    text = json.dumps(data, indent=2)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".tui-", suffix=".json", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        os.replace(temp, path)
    except OSError:
        Path(temp).unlink(missing_ok=True)


def _set_aside(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.replace(path, path.with_name(path.name + ".unreadable"))
