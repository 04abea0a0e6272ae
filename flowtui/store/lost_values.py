"""Stored values a task found damaged or missing: the errors it meets (`LostValueError`, naming
the blob), and the fact its runner records of one: which task found which blob (the
`lost_values` table), which resume, `resume --plan` and the TUI's `R` read
(`MetadataDB.resumable_tasks`) to run the task that made the value again.

The table came with schema version 2. A store written before has those facts only in its
tasks' error messages ("… (blob 0123456789ab) is damaged"): opened for writing, it is
migrated once (`schema.migrate`: the table filled from them); opened read-only (or while
another process holds it), the same facts are read from the messages (`in_messages`), so no
store reads differently for its age.
"""

from __future__ import annotations

import json
import re
import sqlite3

from flowtui.store.records import LOST_VALUE
from flowtui.store.schema import LOST_VALUES, SCHEMA_VERSION, schema_version


class LostValueError(Exception):
    """A stored value that cannot be loaded: `digest` names its blob (a task that meets one
    sends it to its runner, `TaskOutcome.lost`), `what` the value, for the sentence."""

    trouble = "cannot be loaded"

    def __init__(self, digest: str, what: str | None = None) -> None:
        super().__init__(digest, what)  # both in args: it pickles whole
        self.digest, self.what = digest, what

    def __str__(self) -> str:
        blob = f"blob {self.digest[:12]}"
        subject = f"the stored value of {self.what} ({blob})" if self.what else blob
        return f"{subject} {self.trouble}"


class BlobMissingError(LostValueError):
    """A blob referenced by the metadata is not on disk."""

    trouble = "is missing from the store; re-run the step that made it"


class BlobCorruptError(LostValueError):
    """A blob's bytes no longer match the hash it is stored under."""

    trouble = (
        "is damaged: its bytes no longer match their hash, so it is not loaded; "
        "re-run the step that made it (flowtui doctor lists every damaged blob)"
    )


def record_lost(c: sqlite3.Connection, task_id: str, digest: str) -> None:
    """Task `task_id` found blob `digest` damaged or missing (inside the caller's transaction)."""
    c.execute(LOST_VALUES)  # a store no process could migrate yet
    c.execute("INSERT OR IGNORE INTO lost_values VALUES (?, ?)", (int(task_id), digest))


def lost_holders(c: sqlite3.Connection, run_id: str) -> set[str]:
    """The ids of `run_id`'s tasks holding a stored value a task of the run found lost."""
    found = _found(c, run_id)
    if not found:
        return set()
    rows = c.execute(
        "SELECT DISTINCT artifacts.task_id FROM artifacts JOIN tasks USING (task_id) "
        "WHERE tasks.run_id = ? AND artifacts.hash IN (SELECT value FROM json_each(?))",
        (int(run_id), json.dumps(sorted(found))),
    )
    return {str(r[0]) for r in rows}


def _found(c: sqlite3.Connection, run_id: str) -> set[str]:
    """The blobs a task of `run_id` found damaged or missing."""
    recorded: set[str] = set()
    if _has_table(c):
        rows = c.execute(
            "SELECT lost_values.hash FROM lost_values JOIN tasks USING (task_id) "
            "WHERE tasks.run_id = ?",
            (int(run_id),),
        )
        recorded = {str(r[0]) for r in rows}
    if schema_version(c) >= SCHEMA_VERSION:
        return recorded
    return recorded | {digest for _, digest in in_messages(c, run_id)}  # not migrated yet


_BLOB_NAMED = re.compile(r"\(blob ([0-9a-f]{12})\)")  # as a store before version 2 wrote them


def in_messages(c: sqlite3.Connection, run_id: str | None = None) -> list[tuple[int, str]]:
    """(task id, blob) for each blob a failed task's message names, as stores before version
    2 kept them: by the first 12 characters of its name, among its run's artifacts."""
    where, args = ("AND run_id = ?", (int(run_id),)) if run_id is not None else ("", ())
    rows = c.execute(
        f"SELECT task_id, run_id, error FROM tasks WHERE error LIKE '%(blob %' {where}", args
    ).fetchall()
    found: list[tuple[int, str]] = []
    for task_id, run, error in rows:
        try:
            data = json.loads(error)
        except ValueError:
            continue
        if not isinstance(data, dict) or data.get("type") not in LOST_VALUE:
            continue
        for prefix in _BLOB_NAMED.findall(str(data.get("message", ""))):
            hashes = c.execute(
                "SELECT DISTINCT artifacts.hash FROM artifacts JOIN tasks USING (task_id) "
                "WHERE tasks.run_id = ? AND substr(artifacts.hash, 1, 12) = ?",
                (run, prefix),
            )
            found.extend((int(task_id), str(h[0])) for h in hashes)
    return found


def _has_table(c: sqlite3.Connection) -> bool:
    return bool(
        c.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='lost_values'"
        ).fetchone()
    )
