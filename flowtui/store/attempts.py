"""Recording task attempts: started, failed, succeeded; one at a time or many per transaction.

A runner finishing hundreds of tasks a second records them in groups (`AttemptBatch`): every
start and outcome that arrives while it is busy goes into one transaction, so each page of the
tables is written to the WAL once per group, not once per task. A task's outcome reaches the
runner only after its blobs are durable (the task fsyncs them), so a committed success always
points at durable blobs; a crash before a group commits loses only records of tasks that then
read as not run, and resume runs them again.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flowtui.store.records import ArtifactRecord, TaskRecord
from flowtui.store.task_metadata import put_task_metadata

if TYPE_CHECKING:
    from flowtui.store.metadata import MetadataDB

Write = Callable[[sqlite3.Connection], None]


def start_attempt(
    c: sqlite3.Connection, task_id: str, attempt: int, stdout: str, stderr: str, now: float
) -> None:
    c.execute(
        "INSERT OR REPLACE INTO attempts (task_id, attempt, status, started, stdout, "
        "stderr) VALUES (?, ?, 'running', ?, ?, ?)",
        (int(task_id), attempt, now, stdout, stderr),
    )
    c.execute(
        "UPDATE tasks SET status = 'running', attempts = ?, "
        "started = COALESCE(started, ?) WHERE task_id = ?",
        (attempt + 1, now, int(task_id)),
    )


def fail_attempt(
    c: sqlite3.Connection,
    task_id: str,
    attempt: int,
    *,
    reason: str,
    error: dict[str, Any] | None,
    final: bool,
    artifacts: Iterable[ArtifactRecord],
    now: float,
    metadata: dict[str, str] | None = None,
) -> None:
    c.execute(
        "UPDATE attempts SET status = 'failed', finished = ?, exit_reason = ?, error = ? "
        "WHERE task_id = ? AND attempt = ?",
        (now, reason, json.dumps(error), int(task_id), attempt),
    )
    c.execute(
        "UPDATE tasks SET status = ?, finished = ?, exit_reason = ?, error = ? WHERE task_id = ?",
        (
            "failed" if final else "retrying",
            now if final else None,
            reason,
            json.dumps(error),
            int(task_id),
        ),
    )
    if final:
        put_artifacts(c, task_id, artifacts)
    put_task_metadata(c, task_id, attempt, metadata or {})


def succeed_task(
    c: sqlite3.Connection,
    task_id: str,
    attempt: int,
    artifacts: Iterable[ArtifactRecord],
    foreach_count: int | None,
    now: float,
    caught: dict[str, Any] | None = None,
    metadata: dict[str, str] | None = None,
) -> None:
    """`caught`: the error `@catch` caught, kept as the task's error (exit reason `caught`);
    `metadata`: where the attempt ran (executor, node, host, pid)."""
    c.execute(
        "UPDATE attempts SET status = 'succeeded', finished = ? WHERE task_id = ? AND attempt = ?",
        (now, int(task_id), attempt),
    )
    c.execute(
        "UPDATE tasks SET status = 'succeeded', finished = ?, error = ?, "
        "exit_reason = ?, foreach_count = ? WHERE task_id = ?",
        (
            now,
            json.dumps(caught) if caught else None,
            "caught" if caught else None,
            foreach_count,
            int(task_id),
        ),
    )
    put_artifacts(c, task_id, artifacts)
    put_task_metadata(c, task_id, attempt, metadata or {})


def put_artifacts(c: sqlite3.Connection, task_id: str, arts: Iterable[ArtifactRecord]) -> None:
    c.executemany(
        "INSERT OR REPLACE INTO artifacts VALUES (?, ?, ?, ?, ?, ?)",
        [(int(task_id), a.name, a.hash, a.type, a.size, a.repr) for a in arts],
    )


def clone_task(
    c: sqlite3.Connection,
    run_id: str,
    origin: TaskRecord,
    frames: list[Any],
    parents: list[str],
    now: float,
) -> str:
    """Record `origin` (a succeeded task of another run) as done in `run_id`; the new id."""
    cur = c.execute(
        "INSERT INTO tasks (run_id, step, status, foreach_index, foreach_stack, frames, "
        "parents, attempts, created, started, finished, origin_pathspec, foreach_count) "
        "VALUES (?, ?, 'cloned', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            int(run_id),
            origin.step,
            origin.foreach_index,
            json.dumps(origin.foreach_stack),
            json.dumps(frames),
            json.dumps(parents),
            origin.attempts,
            now,
            now,
            now,
            origin.origin_pathspec or origin.pathspec,
            origin.foreach_count,
        ),
    )
    new_id = int(cur.lastrowid or 0)
    c.execute(
        "INSERT INTO attempts SELECT ?, attempt, status, started, finished, stdout, "
        "stderr, exit_reason, error FROM attempts WHERE task_id = ?",
        (new_id, int(origin.task_id)),
    )
    c.execute(
        "INSERT INTO artifacts SELECT ?, name, hash, type, size, repr FROM artifacts "
        "WHERE task_id = ?",
        (new_id, int(origin.task_id)),
    )
    return str(new_id)


class AttemptBatch:
    """Starts and outcomes waiting to be committed together, in the order they happened.

    Each keeps the time it happened, so a group commit does not shift recorded times."""

    def __init__(self, meta: MetadataDB) -> None:
        self.meta = meta
        self.writes: list[Write] = []

    def __len__(self) -> int:
        return len(self.writes)

    def start_attempt(self, task_id: str, attempt: int, stdout: str, stderr: str) -> None:
        now = time.time()
        self.writes.append(lambda c: start_attempt(c, task_id, attempt, stdout, stderr, now))

    def succeed_task(
        self,
        task_id: str,
        attempt: int,
        artifacts: list[ArtifactRecord],
        *,
        foreach_count: int | None = None,
        caught: dict[str, Any] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        now = time.time()
        self.writes.append(
            lambda c: succeed_task(
                c, task_id, attempt, artifacts, foreach_count, now, caught, metadata
            )
        )

    def fail_attempt(
        self,
        task_id: str,
        attempt: int,
        *,
        reason: str,
        error: dict[str, Any] | None,
        final: bool,
        artifacts: list[ArtifactRecord],
        metadata: dict[str, str] | None = None,
    ) -> None:
        now = time.time()
        self.writes.append(
            lambda c: fail_attempt(
                c,
                task_id,
                attempt,
                reason=reason,
                error=error,
                final=final,
                artifacts=artifacts,
                now=now,
                metadata=metadata,
            )
        )

    def commit(self) -> None:
        """Write everything waiting in one transaction (nothing when nothing waits)."""
        if not self.writes:
            return
        writes, self.writes = self.writes, []
        with self.meta.transaction() as c:
            for write in writes:
                write(c)
