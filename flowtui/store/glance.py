"""The plain read commands' answers straight from SQLite: `flowtui runs NAME` and `flowtui logs
PATHSPEC` with nothing but `sqlite3` loaded.

The store's full reader (`MetadataDB`, its dataclass records, the client's objects) costs tens of
milliseconds of imports before its first query, more than the question takes on a 10,000-task
run. These functions answer the common case only — the store, the flow's runs, the run, the step
and the task all there — and return None for anything else, so that the full reader answers
that, in its own words (every message keeps one home).

A run's status as readers see it (`run_status`: a run whose runner is gone is crashed, or
succeeded when its end step had) and the reading of the runs table (`stored_runs`) are defined
here, and `MetadataDB` builds its records on them.
"""

from __future__ import annotations

import sqlite3
import time
from collections import namedtuple

from flowtui.store.liveness import runner_alive

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md)

if TYPE_CHECKING:
    from pathlib import Path

#: A run as `flowtui runs` draws it (the fields of `RunRecord` the table reads, so named).
RunRow = namedtuple(
    "RunRow", "run_id status kind created finished origin_run_id resume_step tags system_tags"
)
#: A task as `flowtui logs` prints it: its pathspec, foreach index (or None), its latest
#: attempt's stdout and stderr files (None before it starts), and whether that attempt is still
#: going (its task may not have created them yet).
TaskLogs = namedtuple("TaskLogs", "pathspec index stdout stderr running")
NOT_RUN = (None, None, False)  # the log files of a task no attempt of which has started


def connect(root: Path) -> sqlite3.Connection | None:
    """The store's database at `root`, opened to read (None: no such file, or it is empty)."""
    db = root / "metadata.db"
    try:
        if not db.is_file() or db.stat().st_size == 0:
            return None
        conn = sqlite3.connect(f"file:{db}?mode=rw", uri=True, timeout=60.0, isolation_level=None)
    except (OSError, sqlite3.Error):
        return None
    conn.row_factory = sqlite3.Row
    return conn


def ended_at(conn: sqlite3.Connection, run_id: int) -> float | None:
    """When run `run_id`'s end step succeeded (None if it has not): a run whose runner died
    after that has succeeded, all it promised stored; only the runner's last write is missing."""
    row = conn.execute(
        "SELECT finished FROM tasks WHERE run_id = ? AND step = 'end' AND status = 'succeeded'",
        (run_id,),
    ).fetchone()
    return None if row is None else float(row[0] or 0.0)


def run_status(conn: sqlite3.Connection, row: sqlite3.Row, now: float) -> tuple[str, float | None]:
    """A stored run's status and end as readers see them: a run still recorded as running
    whose runner is gone has crashed, or succeeded if its end step had (`ended_at`)."""
    status, finished = row["status"], row["finished"]
    if status == "running" and not runner_alive(
        row["host"], row["pid"], row["heartbeat"], row["created"], now
    ):
        finished = ended_at(conn, row["run_id"])
        status = "crashed" if finished is None else "succeeded"
    return status, finished


def stored_runs(
    conn: sqlite3.Connection, rows: list[sqlite3.Row]
) -> list[tuple[sqlite3.Row, str, float | None, tuple[str, ...], tuple[str, ...]]]:
    """Each row of the runs table with its status and end (`run_status`), its user tags and
    its system tags (each sorted)."""
    if not rows:
        return []
    ids = [r["run_id"] for r in rows]
    tags: dict[int, list[tuple[str, int]]] = {}
    for t in conn.execute(
        f"SELECT run_id, tag, system FROM tags WHERE run_id IN ({','.join('?' * len(ids))}) "
        "ORDER BY tag",
        ids,
    ).fetchall():
        tags.setdefault(t["run_id"], []).append((t["tag"], t["system"]))
    now = time.time()
    out = []
    for r in rows:
        status, finished = run_status(conn, r, now)
        run_tags = tags.get(r["run_id"], [])
        user = tuple(t for t, s in run_tags if not s)
        out.append((r, status, finished, user, tuple(t for t, s in run_tags if s)))
    return out


def flow_runs(conn: sqlite3.Connection, flow: str) -> list[RunRow] | None:
    """The flow's runs, newest first (None: it has none, or the store cannot be read here)."""
    try:
        rows = conn.execute(
            "SELECT * FROM runs WHERE flow = ? ORDER BY run_id DESC", (flow,)
        ).fetchall()
        found = stored_runs(conn, rows)
    except sqlite3.Error:
        return None
    return [
        RunRow(
            str(r["run_id"]),
            status,
            r["kind"],
            r["created"],
            finished,
            None if r["origin_run_id"] is None else str(r["origin_run_id"]),
            r["resume_step"],
            user,
            system,
        )
        for r, status, finished, user, system in found
    ] or None


def task_logs(conn: sqlite3.Connection, pathspec: str) -> list[TaskLogs] | None:
    """The tasks `RUN/STEP[/TASK]` or `Flow/RUN/STEP[/TASK]` names, in the order they ran, with
    their latest attempt's log files (None: any part of it is not there, or not well formed)."""
    parts = [p for p in pathspec.strip().strip("/").split("/") if p]
    if parts and parts[0].isdigit() and len(parts) in (2, 3):
        flow, run_id, rest = None, parts[0], parts[1:]
    elif parts and not parts[0].isdigit() and len(parts) in (3, 4):
        flow, run_id, rest = parts[0], parts[1], parts[2:]
    else:
        return None
    if not run_id.isdigit() or (len(rest) == 2 and not rest[1].isdigit()):
        return None
    try:
        run = conn.execute("SELECT flow FROM runs WHERE run_id = ?", (int(run_id),)).fetchone()
        if run is None or (flow is not None and run["flow"] != flow):
            return None
        where, args = "run_id = ? AND step = ?", [int(run_id), rest[0]]
        if len(rest) == 2:
            where, args = where + " AND task_id = ?", [*args, int(rest[1])]
        tasks = conn.execute(
            f"SELECT task_id, foreach_index FROM tasks WHERE {where} ORDER BY task_id", args
        ).fetchall()
        files = {
            # the last attempt of each wins; one not ended may not have created its files yet
            r["task_id"]: (r["stdout"], r["stderr"], r["finished"] is None)
            for r in conn.execute(
                "SELECT task_id, stdout, stderr, finished FROM attempts WHERE task_id IN "
                f"(SELECT task_id FROM tasks WHERE {where}) ORDER BY task_id, attempt",
                args,
            )
        }
    except (sqlite3.Error, OverflowError):  # an id past SQLite's integers: the full reader says
        return None
    prefix = f"{run['flow']}/{int(run_id)}/{rest[0]}"
    return [
        TaskLogs(f"{prefix}/{t['task_id']}", t["foreach_index"], *files.get(t["task_id"], NOT_RUN))
        for t in tasks
    ] or None
