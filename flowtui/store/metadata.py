"""Run metadata in SQLite (WAL): flows, runs, tasks, attempts, artifacts, tags.

One runner writes while TUIs and notebooks read. Every state change is one short transaction,
so a crash at any moment leaves the database consistent. A run whose runner died is recognised
by its pid (same host) or a stale heartbeat, and reported as crashed.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from flowtui.errors import UsageError
from flowtui.store import attempts
from flowtui.store.db_trouble import DB_WAIT, StoreLockedError, disk_full, locked, out_of_space
from flowtui.store.glance import stored_runs
from flowtui.store.liveness import runner_place
from flowtui.store.lost_values import lost_holders
from flowtui.store.records import (
    NOT_RUN,
    ArtifactRecord,
    AttemptRecord,
    NewTask,
    RunnerRecord,
    RunRecord,
    TaskRecord,
)
from flowtui.store.schema import SCHEMA, SCHEMA_VERSION, migrate, schema_version
from flowtui.store.task_metadata import run_task_metadata, task_metadata


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class MetadataDB:
    """A connection to the store's SQLite file. Not shared across processes: open one each."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        self.read_only = False
        self.full = False  # read-only because its disk is full, not its media
        try:
            self._conn = self._connect(f"file:{path}")
            if self._conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            if not self._conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='runs'"
            ).fetchone():
                if not create:  # a reader never makes a store
                    self._conn.close()
                    raise UsageError(
                        f"No flowtui store at {path.parent} (its metadata.db has no runs "
                        "table); run a flow first or pass --store PATH."
                    )
                self._conn.executescript(SCHEMA)  # idempotent: safe when two processes race
                self._conn.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
        except sqlite3.OperationalError as e:
            if disk_full(e):
                from flowtui.store.blobs import StoreFullError  # cloudpickle: only when full

                raise StoreFullError(path.parent) from None
            if not path.is_file():
                raise UsageError(f"Cannot create the store's database {path}: {e}.") from None
            # A store on read-only media (or without write permission): readers still work.
            # So does one whose disk filled since it was made: SQLite then fails to grow the
            # WAL's shared memory (an I/O error, not SQLITE_FULL), and writers are told so.
            self.full = out_of_space(path.parent)
            self._conn = self._connect(f"file:{path}?immutable=1")
            self.read_only = True
        except sqlite3.DatabaseError as e:
            raise UsageError(
                f"{path} is not a flowtui store database ({e}); pass another --store."
            ) from None
        else:
            # Opened, yet not writable: read-only media where the WAL's shared-memory file
            # already existed (a snapshot of a store in use) lets SQLite open it for reading
            # and fail at the first write; say so before anything is written.
            if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
                self.read_only = True
            else:
                self._migrate()

    @staticmethod
    def _connect(uri: str) -> sqlite3.Connection:
        conn = sqlite3.connect(
            uri, uri=True, timeout=DB_WAIT, isolation_level=None, check_same_thread=False
        )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(DB_WAIT * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _migrate(self) -> None:
        """Bring a store an older version made up to the schema's version, unless another
        process holds it for writing: a reader never waits (the old facts read as they were
        written until a later open migrates it)."""
        c = self._conn
        if schema_version(c) >= SCHEMA_VERSION:
            return
        c.execute("PRAGMA busy_timeout = 0")
        try:
            c.execute("BEGIN IMMEDIATE")
            migrate(c)
            c.execute("COMMIT")
        except sqlite3.Error:  # held by another process, its disk full: read it as it is
            pass
        finally:
            if c.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    c.execute("ROLLBACK")
            c.execute(f"PRAGMA busy_timeout = {int(DB_WAIT * 1000)}")

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (taken immediately, so writers queue rather than deadlock)."""
        c = self._conn
        if self.read_only:
            from flowtui.store.blobs import StoreFullError, read_only_store

            if self.full:
                raise StoreFullError(self.path.parent)
            raise read_only_store(self.path.parent)
        try:
            c.execute("BEGIN IMMEDIATE")
            try:
                yield c
            except BaseException:
                if c.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        c.execute("ROLLBACK")
                raise
            else:
                if c.in_transaction:
                    c.execute("COMMIT")
        except sqlite3.OperationalError as e:
            if disk_full(e):
                from flowtui.store.blobs import StoreFullError

                raise StoreFullError(self.path.parent, "the run's records") from None
            if locked(e):
                raise StoreLockedError(self.path) from None
            raise

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        try:
            return self._conn.execute(sql, tuple(args)).fetchall()
        except OverflowError:  # an id past SQLite's 64-bit integers: no row has it
            return []

    # -- writing: runs -----------------------------------------------------------------
    def create_run(
        self,
        flow: str,
        *,
        file: str,
        source: str,
        params: dict[str, Any],
        user: str,
        tags: Iterable[str] = (),
        system_tags: Iterable[str] = (),
        kind: str = "run",
        origin_run_id: str | None = None,
        resume_step: str | None = None,
    ) -> str:
        now = time.time()
        with self.transaction() as c:
            c.execute("INSERT OR IGNORE INTO flows VALUES (?, ?)", (flow, now))
            cur = c.execute(
                "INSERT INTO runs (flow, status, kind, created, file, source, params, "
                "origin_run_id, resume_step, user, host, pid, heartbeat) "
                "VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    flow,
                    kind,
                    now,
                    file,
                    source,
                    json.dumps(params),
                    int(origin_run_id) if origin_run_id else None,
                    resume_step,
                    user,
                    runner_place(),
                    os.getpid(),
                    now,
                ),
            )
            run_id = int(cur.lastrowid or 0)
            python = f"python_version:{platform.python_version()}"
            system = [f"user:{user}", f"runtime:{kind}", python, *system_tags]
            c.executemany(
                "INSERT OR IGNORE INTO tags VALUES (?, ?, ?)",
                [(run_id, t, 1) for t in system] + [(run_id, t, 0) for t in tags],
            )
        return str(run_id)

    def heartbeat(self, run_id: str) -> None:
        with self.transaction() as c:
            c.execute("UPDATE runs SET heartbeat = ? WHERE run_id = ?", (time.time(), int(run_id)))

    def finish_run(self, run_id: str, status: str, error: str | None = None) -> None:
        with self.transaction() as c:
            c.execute(
                "UPDATE runs SET status = ?, finished = ?, error = ?, heartbeat = NULL "
                "WHERE run_id = ?",
                (status, time.time(), error, int(run_id)),
            )
            # Tasks still marked active belong to a run that stopped: they will not finish.
            c.execute(
                "UPDATE tasks SET status = 'failed', finished = ?, "
                "exit_reason = COALESCE(exit_reason, ?) "
                "WHERE run_id = ? AND status IN ('running', 'retrying')",
                (time.time(), status, int(run_id)),
            )
            c.execute(
                "UPDATE attempts SET status = 'failed', finished = ?, "
                "exit_reason = COALESCE(exit_reason, ?) "
                "WHERE status = 'running' AND task_id IN (SELECT task_id FROM tasks "
                "WHERE run_id = ?)",
                (time.time(), status, int(run_id)),
            )

    def set_tags(
        self, run_id: str, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> list[str]:
        """Remove user tags, then add others, at once; the run's user tags after it."""
        with self.transaction() as c:
            c.executemany(
                "DELETE FROM tags WHERE run_id = ? AND tag = ? AND system = 0",
                [(int(run_id), t) for t in remove],
            )
            c.executemany(
                "INSERT OR IGNORE INTO tags VALUES (?, ?, 0)", [(int(run_id), t) for t in add]
            )
            rows = c.execute(
                "SELECT tag FROM tags WHERE run_id = ? AND system = 0", (int(run_id),)
            ).fetchall()
        return [r[0] for r in rows]

    # -- writing: tasks ----------------------------------------------------------------
    def create_task(
        self,
        run_id: str,
        step: str,
        *,
        foreach_index: int | None = None,
        foreach_stack: list[Any] | None = None,
        frames: list[Any] | None = None,
        parents: list[str] | None = None,
    ) -> str:
        spec = NewTask(step, foreach_index, foreach_stack or [], frames or [], parents or [])
        return self.create_tasks(run_id, [spec])[0]

    def create_tasks(self, run_id: str, tasks: list[NewTask]) -> list[str]:
        """Record pending tasks in one transaction (a foreach fan-out at once); their ids."""
        now = time.time()
        ids = []
        with self.transaction() as c:
            for t in tasks:
                cur = c.execute(
                    "INSERT INTO tasks (run_id, step, status, foreach_index, foreach_stack, "
                    "frames, parents, created) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?)",
                    (
                        int(run_id),
                        t.step,
                        t.foreach_index,
                        json.dumps(t.foreach_stack),
                        json.dumps(t.frames),
                        json.dumps(t.parents),
                        now,
                    ),
                )
                ids.append(str(cur.lastrowid))
        return ids

    def start_attempt(self, task_id: str, attempt: int, stdout: str, stderr: str) -> None:
        with self.transaction() as c:
            attempts.start_attempt(c, task_id, attempt, stdout, stderr, time.time())

    def fail_attempt(
        self,
        task_id: str,
        attempt: int,
        *,
        reason: str,
        error: dict[str, Any] | None,
        final: bool,
        artifacts: Iterable[ArtifactRecord] = (),
        metadata: dict[str, str] | None = None,
    ) -> None:
        with self.transaction() as c:
            attempts.fail_attempt(
                c,
                task_id,
                attempt,
                reason=reason,
                error=error,
                final=final,
                artifacts=artifacts,
                now=time.time(),
                metadata=metadata,
            )

    def succeed_task(
        self,
        task_id: str,
        attempt: int,
        artifacts: Iterable[ArtifactRecord],
        *,
        foreach_count: int | None = None,
        caught: dict[str, Any] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        """`caught`: the error `@catch` caught; kept as the task's error with exit reason
        `caught` (the task succeeded, but is not `successful` to the client, as in Metaflow)."""
        with self.transaction() as c:
            attempts.succeed_task(
                c,
                task_id,
                attempt,
                artifacts,
                foreach_count,
                time.time(),
                caught=caught,
                metadata=metadata,
            )

    def clone_task(
        self,
        run_id: str,
        origin: TaskRecord,
        *,
        frames: list[Any],
        parents: list[str],
    ) -> str:
        """Record `origin` (a succeeded task of another run) as done in `run_id`.

        Artifacts point at the same blobs and attempts at the same log files: nothing copied.
        """
        return self.clone_tasks(run_id, [(origin, frames, parents)])[0]

    def clone_tasks(self, run_id: str, clones: list[attempts.Clone]) -> list[str]:
        """`clone_task` for many (origin, frames, parents) at once: one transaction, one
        statement per table (`store.attempts.clone_tasks`); all are recorded or none."""
        with self.transaction() as c:
            return attempts.clone_tasks(c, run_id, clones, time.time())

    def artifact_rows(self, task_ids: list[str]) -> list[tuple[int, str, str, str, int, str]]:
        """The artifacts of each of `task_ids` as plain rows `(task id, name, hash, type, size,
        repr)`, ordered by task and name: one query however many tasks (the runner reads back
        a foreach's clones with it)."""
        cursor = self._conn.cursor()
        cursor.row_factory = None  # plain tuples
        return cursor.execute(
            "SELECT task_id, name, hash, type, size, repr FROM artifacts "
            "WHERE task_id IN (SELECT value FROM json_each(?)) ORDER BY task_id, name",
            (json.dumps([int(t) for t in task_ids]),),
        ).fetchall()

    # -- reading -----------------------------------------------------------------------
    def flows(self) -> list[str]:
        return [r["name"] for r in self._query("SELECT name FROM flows ORDER BY name")]

    def runs(self, flow: str | None = None) -> list[RunRecord]:
        """Runs newest first (optionally of one flow)."""
        if flow is None:
            rows = self._query("SELECT * FROM runs ORDER BY run_id DESC")
        else:
            rows = self._query("SELECT * FROM runs WHERE flow = ? ORDER BY run_id DESC", (flow,))
        return self._runs(rows)

    def run(self, run_id: str) -> RunRecord | None:
        if not str(run_id).isdigit():
            return None
        rows = self._query("SELECT * FROM runs WHERE run_id = ?", (int(run_id),))
        runs = self._runs(rows)
        return runs[0] if runs else None

    def runner(self, run_id: str) -> RunnerRecord | None:
        """Where run `run_id`'s runner recorded itself (None: no such run)."""
        if not str(run_id).isdigit():
            return None
        rows = self._query(
            "SELECT run_id, status, host, pid, heartbeat, created FROM runs WHERE run_id = ?",
            (int(run_id),),
        )
        if not rows:
            return None
        r = rows[0]
        return RunnerRecord(
            str(r["run_id"]), r["status"], r["host"], r["pid"], r["heartbeat"], r["created"]
        )

    def run_source(self, run_id: str) -> str:
        rows = self._query("SELECT source FROM runs WHERE run_id = ?", (int(run_id),))
        return str(rows[0]["source"]) if rows else ""

    def _runs(self, rows: list[sqlite3.Row]) -> list[RunRecord]:
        return [
            RunRecord(
                flow=r["flow"],
                run_id=str(r["run_id"]),
                status=status,
                kind=r["kind"],
                created=r["created"],
                finished=finished,
                file=r["file"],
                params=json.loads(r["params"]),
                origin_run_id=None if r["origin_run_id"] is None else str(r["origin_run_id"]),
                resume_step=r["resume_step"],
                user=r["user"],
                tags=user_tags,
                system_tags=system_tags,
                error=r["error"],
            )
            for r, status, finished, user_tags, system_tags in stored_runs(self._conn, rows)
        ]

    def tasks(self, run_id: str, step: str | None = None) -> list[TaskRecord]:
        flow = self._flow_of(run_id)
        if step is None:
            rows = self._query(
                "SELECT * FROM tasks WHERE run_id = ? ORDER BY task_id", (int(run_id),)
            )
        else:
            rows = self._query(
                "SELECT * FROM tasks WHERE run_id = ? AND step = ? ORDER BY task_id",
                (int(run_id), step),
            )
        return self._settled([_task(flow, r) for r in rows])

    def resumable_tasks(self, run_id: str) -> list[TaskRecord]:
        """`tasks(run_id)`, for resuming it: a task holding a stored value a task of the run
        found damaged or missing (`lost_values`) reads failed, so a resume runs it again
        (writing the value again repairs its blob) rather than reuse it and fail the same
        way for ever."""
        tasks = self.tasks(run_id)
        lost = lost_holders(self._conn, run_id) if str(run_id).isdigit() else set()
        if not lost:
            return tasks
        return [replace(t, status="failed") if t.task_id in lost else t for t in tasks]

    def task(self, task_id: str) -> TaskRecord | None:
        if not str(task_id).isdigit():
            return None
        rows = self._query(
            "SELECT tasks.*, runs.flow AS flow FROM tasks JOIN runs USING (run_id) "
            "WHERE task_id = ?",
            (int(task_id),),
        )
        return self._settled([_task(rows[0]["flow"], rows[0])])[0] if rows else None

    def _settled(self, tasks: list[TaskRecord]) -> list[TaskRecord]:
        """Tasks as they read once their run has stopped: those that were running when their
        runner died are failed, not running forever; those the run never started did not run
        (`NOT_RUN`), not pending for ever."""
        open_ = [t for t in tasks if t.status in ("running", "retrying", "pending")]
        if not open_:
            return tasks
        ended = {
            run_id: run.status
            for run_id in {t.run_id for t in open_}
            if (run := self.run(run_id)) is not None and run.status != "running"
        }
        if not ended:
            return tasks
        lost = {
            "type": "RunnerDied",
            "message": "the run's runner stopped (killed, or its machine went down) while this "
            "task ran; resume the run to run it again",
            "traceback": "",
        }
        settled = []
        for t in tasks:
            ended_as = ended.get(t.run_id)
            if ended_as is not None and t.status == "pending":
                t = replace(t, status=NOT_RUN)
            elif ended_as == "crashed" and t.status in ("running", "retrying"):
                t = replace(t, status="failed", exit_reason="crashed", error=lost)
            settled.append(t)
        return settled

    def attempts(self, task_id: str) -> list[AttemptRecord]:
        rows = self._query(
            "SELECT * FROM attempts WHERE task_id = ? ORDER BY attempt", (int(task_id),)
        )
        return [_attempt(r) for r in rows]

    def last_attempts(self, run_id: str) -> dict[str, AttemptRecord]:
        """Each task of run `run_id` that has started: its latest attempt (one query)."""
        if not str(run_id).isdigit():
            return {}
        rows = self._query(
            "SELECT attempts.* FROM attempts JOIN tasks USING (task_id) WHERE tasks.run_id = ? "
            "ORDER BY attempts.task_id, attempts.attempt",
            (int(run_id),),
        )
        return {str(r["task_id"]): _attempt(r) for r in rows}  # the last one of each wins

    def task_metadata(self, task_id: str) -> dict[int, dict[str, str]]:
        return task_metadata(self._conn, task_id)

    def run_task_metadata(self, run_id: str) -> dict[str, dict[str, str]]:
        """Each task of the run: its latest recorded attempt's metadata (one query)."""
        return run_task_metadata(self._conn, run_id)

    def artifacts(self, task_id: str, attempt: int | None = None) -> list[ArtifactRecord]:
        """What the task stored (its last attempt), or what attempt `attempt` stored."""
        rows = None if attempt is None else attempts.attempt_artifacts(self._conn, task_id, attempt)
        if rows is None:
            rows = self._query(
                "SELECT * FROM artifacts WHERE task_id = ? ORDER BY name", (int(task_id),)
            )
        return [
            ArtifactRecord(str(r["task_id"]), r["name"], r["hash"], r["type"], r["size"], r["repr"])
            for r in rows
        ]

    def step_names(self, run_id: str) -> list[str]:
        """The steps that have tasks in the run, in the order their first task was created."""
        rows = self._query(
            "SELECT step, MIN(task_id) AS first FROM tasks WHERE run_id = ? GROUP BY step "
            "ORDER BY first",
            (int(run_id),),
        )
        return [r["step"] for r in rows]

    def first_task(self, run_id: str, step: str, *, latest: bool = False) -> TaskRecord | None:
        """The step's task with the lowest id (the only one outside a foreach); with `latest`,
        the one with the highest id (the client's `Step.task`, as Metaflow's)."""
        order = "DESC" if latest else "ASC"
        rows = self._query(
            f"SELECT * FROM tasks WHERE run_id = ? AND step = ? ORDER BY task_id {order} LIMIT 1",
            (int(run_id), step),
        )
        return self._settled([_task(self._flow_of(run_id), rows[0])])[0] if rows else None

    def child_tasks(self, task_id: str) -> list[TaskRecord]:
        """The tasks of the same run that list `task_id` among their parents."""
        task = self.task(task_id)
        if task is None:
            return []
        rows = self._query(
            "SELECT tasks.* FROM tasks, json_each(tasks.parents) AS p "
            "WHERE tasks.run_id = ? AND CAST(p.value AS INTEGER) = ? ORDER BY tasks.task_id",
            (int(task.run_id), int(task_id)),
        )
        return self._settled([_task(task.flow, r) for r in rows])

    def _flow_of(self, run_id: str) -> str:
        rows = self._query("SELECT flow FROM runs WHERE run_id = ?", (int(run_id),))
        return str(rows[0]["flow"]) if rows else ""


def _task(flow: str, r: sqlite3.Row) -> TaskRecord:
    return TaskRecord(
        flow=flow,
        run_id=str(r["run_id"]),
        step=r["step"],
        task_id=str(r["task_id"]),
        status=r["status"],
        foreach_index=r["foreach_index"],
        foreach_stack=json.loads(r["foreach_stack"]),
        frames=json.loads(r["frames"]),
        parents=[str(p) for p in json.loads(r["parents"])],
        attempts=r["attempts"],
        created=r["created"],
        started=r["started"],
        finished=r["finished"],
        exit_reason=r["exit_reason"],
        error=_loads(r["error"]),
        origin_pathspec=r["origin_pathspec"],
        foreach_count=r["foreach_count"],
    )


def _attempt(r: sqlite3.Row) -> AttemptRecord:
    return AttemptRecord(
        task_id=str(r["task_id"]),
        attempt=r["attempt"],
        status=r["status"],
        started=r["started"],
        finished=r["finished"],
        stdout=r["stdout"],
        stderr=r["stderr"],
        exit_reason=r["exit_reason"],
        error=_loads(r["error"]),
    )
