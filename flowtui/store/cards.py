"""Cards, stored with their task: one JSON document per card, in `cards/TASK_ID/`.

A task process writes its own cards (as it writes its logs): `N.json` for the step's N-th
`@card`, replaced atomically (temp file + rename) each time the step refreshes it and once
more when the task ends (`"final": true`). Readers never see a half-written card, and a
running task's card can be read (and re-read) while it changes.

A document: `{"type", "id", "title", "pathspec", "final", "updated", "components": [...],
"artifacts": [...] (the default card), "error": str | None}`; components are stored in
Metaflow's shape (see `flowtui.flow.cards.components`).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

CARDS_DIRNAME = "cards"


class CardFiles:
    """The cards of a store (`root` is the store's directory)."""

    def __init__(self, root: Path) -> None:
        self.dir = Path(root) / CARDS_DIRNAME

    def folder(self, task_id: str) -> Path:
        return self.dir / str(task_id)

    def write(self, task_id: str, index: int, document: dict[str, Any]) -> None:
        folder = self.folder(task_id)
        folder.mkdir(parents=True, exist_ok=True)
        data = json.dumps(document, default=str).encode()
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{index}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, folder / f"{index}.json")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def clear(self, task_id: str) -> None:
        """Drop a task's cards (a new attempt writes its own)."""
        for path in self.folder(task_id).glob("*.json"):
            with contextlib.suppress(OSError):
                path.unlink()

    def read(self, task_id: str) -> list[dict[str, Any]]:
        """The task's cards, in the order of its `@card` decorators; none if it has none."""
        found = []
        for path in self.folder(task_id).glob("*.json"):
            if not path.stem.isdigit():
                continue
            try:
                document = json.loads(path.read_bytes())
            except (OSError, ValueError):
                continue  # vanished between listing and reading, or not ours
            if isinstance(document, dict):
                found.append((int(path.stem), document))
        return [document for _, document in sorted(found, key=lambda pair: pair[0])]

    def stamp(self, task_id: str) -> tuple[tuple[str, int], ...]:
        """Changes whenever any of the task's cards is written (for readers that poll)."""
        out = []
        for path in sorted(self.folder(task_id).glob("*.json")):
            with contextlib.suppress(OSError):
                out.append((path.name, path.stat().st_mtime_ns))
        return tuple(out)
