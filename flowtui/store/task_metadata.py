"""Where each task attempt ran: executor, node, host, worker pid (`Task.metadata_dict`).

Name/value pairs per attempt, in a table of their own. Stores made before it existed get the
table on the first write; reading a store without it gives no metadata.
"""

from __future__ import annotations

import sqlite3

_TABLE = """
CREATE TABLE IF NOT EXISTS task_metadata (
    task_id INTEGER NOT NULL REFERENCES tasks(task_id),
    attempt INTEGER NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (task_id, attempt, field)
)
"""


def put_task_metadata(
    conn: sqlite3.Connection, task_id: str, attempt: int, fields: dict[str, str]
) -> None:
    """Record `fields` for one attempt, inside the caller's transaction."""
    if not fields:
        return
    rows = [(int(task_id), attempt, k, str(v)) for k, v in fields.items()]
    try:
        conn.executemany("INSERT OR REPLACE INTO task_metadata VALUES (?, ?, ?, ?)", rows)
    except sqlite3.OperationalError:  # a store made before the table existed
        conn.execute(_TABLE)
        conn.executemany("INSERT OR REPLACE INTO task_metadata VALUES (?, ?, ?, ?)", rows)


def task_metadata(conn: sqlite3.Connection, task_id: str) -> dict[int, dict[str, str]]:
    """attempt -> {field: value} for one task (empty for a store without the table)."""
    try:
        rows = conn.execute(
            "SELECT attempt, field, value FROM task_metadata WHERE task_id = ? "
            "ORDER BY attempt, field",
            (int(task_id),),
        ).fetchall()
    except sqlite3.OperationalError:
        return {}
    out: dict[int, dict[str, str]] = {}
    for attempt, field, value in rows:
        out.setdefault(int(attempt), {})[str(field)] = str(value)
    return out


def run_task_metadata(conn: sqlite3.Connection, run_id: str) -> dict[str, dict[str, str]]:
    """task id -> the fields of its latest recorded attempt, for every task of a run."""
    if not str(run_id).isdigit():
        return {}
    try:
        rows = conn.execute(
            "SELECT m.task_id, m.attempt, m.field, m.value FROM task_metadata m "
            "JOIN tasks t USING (task_id) WHERE t.run_id = ? ORDER BY m.task_id, m.attempt",
            (int(run_id),),
        ).fetchall()
    except sqlite3.OperationalError:
        return {}
    latest: dict[str, tuple[int, dict[str, str]]] = {}
    for task_id, attempt, field, value in rows:
        key = str(task_id)
        seen = latest.get(key)
        if seen is None or seen[0] < attempt:
            seen = latest[key] = (int(attempt), {})
        if seen[0] == attempt:
            seen[1][str(field)] = str(value)
    return {task_id: fields for task_id, (_, fields) in latest.items()}
