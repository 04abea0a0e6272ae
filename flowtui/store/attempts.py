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

from flowtui.errors import UsageError
from flowtui.store.lost_values import record_lost
from flowtui.store.records import ArtifactRecord, TaskRecord
from flowtui.store.schema import ATTEMPT_ARTIFACTS
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
    lost: str | None = None,
) -> None:
    """`lost`: the blob of a stored value the attempt found damaged or missing."""
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
    else:  # @retry runs it again: what this attempt stored stays its own
        put_attempt_artifacts(c, task_id, attempt, artifacts)
    put_task_metadata(c, task_id, attempt, metadata or {})
    if lost:
        record_lost(c, task_id, lost)


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


def put_attempt_artifacts(
    c: sqlite3.Connection, task_id: str, attempt: int, arts: Iterable[ArtifactRecord]
) -> None:
    rows = [(int(task_id), attempt, a.name, a.hash, a.type, a.size, a.repr) for a in arts]
    if rows:
        c.execute(ATTEMPT_ARTIFACTS)  # a store no process could migrate yet
        c.executemany("INSERT OR REPLACE INTO attempt_artifacts VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def attempt_artifacts(c: sqlite3.Connection, task_id: str, attempt: int) -> list[Any] | None:
    """Rows `(task id, name, hash, type, size, repr)` of what attempt `attempt` of a task
    stored when @retry ran the task again after it; None when it is the task's last attempt
    (its artifacts are the task's)."""
    row = c.execute("SELECT attempts FROM tasks WHERE task_id = ?", (int(task_id),)).fetchone()
    if row is None or attempt >= int(row[0]) - 1:
        return None
    try:
        return c.execute(
            "SELECT task_id, name, hash, type, size, repr FROM attempt_artifacts "
            "WHERE task_id = ? AND attempt = ? ORDER BY name",
            (int(task_id), attempt),
        ).fetchall()
    except sqlite3.OperationalError:  # a store from before attempts kept their own
        return []


#: A task to clone: (the origin task, the clone's frames, the clone's parent task ids).
Clone = tuple[TaskRecord, list[Any], list[str]]

# The clones as JSON rows `[new id, origin id, frames, parents, origin pathspec]`, read by
# SQLite itself: each statement below copies every clone's rows of one table at once.
_CLONES = (
    "WITH clone(new_id, origin_id) AS (SELECT json_extract(value, '$[0]'), "
    "json_extract(value, '$[1]') FROM json_each(?)) "
)


def clone_tasks(c: sqlite3.Connection, run_id: str, clones: list[Clone], now: float) -> list[str]:
    """Record each origin (a succeeded task of another run) as done in `run_id`, inside the
    caller's transaction; the new ids, in order.

    A set operation: one statement per table, whatever the number of tasks (the task rows,
    then their attempts, artifacts and attempt metadata copied from the origins by
    INSERT ... SELECT). Artifacts point at the same blobs and attempts at the same log files:
    nothing is copied but rows. The transaction holds the write lock, so the ids taken here
    (after the largest ever given) are the ones the rows get.
    """
    if not clones:
        return []
    first = _next_task_id(c)
    rows = json.dumps(
        [
            [
                first + i,
                int(origin.task_id),
                frames,
                parents,
                origin.origin_pathspec or origin.pathspec,
            ]
            for i, (origin, frames, parents) in enumerate(clones)
        ]
    )
    inserted = c.execute(
        "INSERT INTO tasks (task_id, run_id, step, status, foreach_index, foreach_stack, "
        "frames, parents, attempts, created, started, finished, origin_pathspec, "
        "foreach_count) "
        "SELECT json_extract(j.value, '$[0]'), ?, o.step, 'cloned', o.foreach_index, "
        "o.foreach_stack, json_extract(j.value, '$[2]'), json_extract(j.value, '$[3]'), "
        "o.attempts, ?, ?, ?, json_extract(j.value, '$[4]'), o.foreach_count "
        "FROM json_each(?) AS j JOIN tasks AS o ON o.task_id = json_extract(j.value, '$[1]') "
        "ORDER BY j.key",
        (int(run_id), now, now, now, rows),
    ).rowcount
    if inserted != len(clones):  # an origin is gone: the caller's transaction rolls back
        raise UsageError(
            f"{len(clones) - inserted} of the tasks this resume reuses are no longer in the "
            "store (was their run removed?); resume another run with --origin-run-id."
        )
    c.execute(
        _CLONES + "INSERT INTO attempts SELECT clone.new_id, a.attempt, a.status, a.started, "
        "a.finished, a.stdout, a.stderr, a.exit_reason, a.error "
        "FROM clone JOIN attempts AS a ON a.task_id = clone.origin_id",
        (rows,),
    )
    c.execute(
        _CLONES + "INSERT INTO artifacts SELECT clone.new_id, a.name, a.hash, a.type, a.size, "
        "a.repr FROM clone JOIN artifacts AS a ON a.task_id = clone.origin_id",
        (rows,),
    )
    if c.execute("SELECT 1 FROM sqlite_master WHERE name = 'attempt_artifacts'").fetchone():
        c.execute(
            _CLONES + "INSERT INTO attempt_artifacts SELECT clone.new_id, a.attempt, a.name, "
            "a.hash, a.type, a.size, a.repr "
            "FROM clone JOIN attempt_artifacts AS a ON a.task_id = clone.origin_id",
            (rows,),
        )
    if c.execute("SELECT 1 FROM sqlite_master WHERE name = 'task_metadata'").fetchone():
        c.execute(
            _CLONES + "INSERT INTO task_metadata SELECT clone.new_id, m.attempt, m.field, "
            "m.value FROM clone JOIN task_metadata AS m ON m.task_id = clone.origin_id",
            (rows,),
        )
    return [str(first + i) for i in range(len(clones))]


def _next_task_id(c: sqlite3.Connection) -> int:
    """The id AUTOINCREMENT would give the next task: past every id ever used."""
    row = c.execute(
        "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'tasks'), 0), "
        "COALESCE((SELECT MAX(task_id) FROM tasks), 0))"
    ).fetchone()
    return int(row[0]) + 1


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
        lost: str | None = None,
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
                lost=lost,
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
