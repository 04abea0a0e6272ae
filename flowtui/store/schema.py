"""The metadata database's tables (SQLite). Creating them is idempotent, so two processes
opening a new store at once both succeed. A store made by an older version is brought up to
`SCHEMA_VERSION` when it is opened for writing (`migrate`, from `MetadataDB`)."""

import sqlite3

SCHEMA_VERSION = 2  # 2: lost_values, attempt_artifacts

# What an attempt @retry ran again after stored (its task's own are its last attempt's).
ATTEMPT_ARTIFACTS = """
CREATE TABLE IF NOT EXISTS attempt_artifacts (
    task_id INTEGER NOT NULL REFERENCES tasks(task_id),
    attempt INTEGER NOT NULL,
    name TEXT NOT NULL,
    hash TEXT NOT NULL,
    type TEXT NOT NULL,
    size INTEGER NOT NULL,
    repr TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (task_id, attempt, name)
);
"""

# Which task found which stored value (blob) damaged or missing (store/lost_values.py).
LOST_VALUES = """
CREATE TABLE IF NOT EXISTS lost_values (
    task_id INTEGER NOT NULL REFERENCES tasks(task_id),
    hash TEXT NOT NULL,
    PRIMARY KEY (task_id, hash)
);
"""

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS flows (
    name TEXT PRIMARY KEY,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    flow TEXT NOT NULL REFERENCES flows(name),
    status TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'run',
    created REAL NOT NULL,
    finished REAL,
    file TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    params TEXT NOT NULL DEFAULT '{}',
    origin_run_id INTEGER,
    resume_step TEXT,
    user TEXT NOT NULL DEFAULT '',
    host TEXT NOT NULL DEFAULT '',
    pid INTEGER,
    heartbeat REAL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_flow ON runs(flow, run_id);
CREATE TABLE IF NOT EXISTS tags (
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    tag TEXT NOT NULL,
    system INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, tag)
);
CREATE TABLE IF NOT EXISTS tasks (
    task_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    step TEXT NOT NULL,
    status TEXT NOT NULL,
    foreach_index INTEGER,
    foreach_stack TEXT NOT NULL DEFAULT '[]',
    frames TEXT NOT NULL DEFAULT '[]',
    parents TEXT NOT NULL DEFAULT '[]',
    attempts INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    exit_reason TEXT,
    error TEXT,
    origin_pathspec TEXT,
    foreach_count INTEGER
);
CREATE INDEX IF NOT EXISTS tasks_by_run ON tasks(run_id, step);
CREATE TABLE IF NOT EXISTS attempts (
    task_id INTEGER NOT NULL REFERENCES tasks(task_id),
    attempt INTEGER NOT NULL,
    status TEXT NOT NULL,
    started REAL NOT NULL,
    finished REAL,
    stdout TEXT NOT NULL,
    stderr TEXT NOT NULL,
    exit_reason TEXT,
    error TEXT,
    PRIMARY KEY (task_id, attempt)
);
CREATE TABLE IF NOT EXISTS artifacts (
    task_id INTEGER NOT NULL REFERENCES tasks(task_id),
    name TEXT NOT NULL,
    hash TEXT NOT NULL,
    type TEXT NOT NULL,
    size INTEGER NOT NULL,
    repr TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (task_id, name)
);
"""
    + LOST_VALUES
)


def schema_version(c: sqlite3.Connection) -> int:
    """The store's schema version (1 for a store that does not say)."""
    try:
        row = c.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:
        return 1
    return int(row[0]) if row and str(row[0]).isdigit() else 1


def migrate(c: sqlite3.Connection) -> None:
    """Bring a store to SCHEMA_VERSION inside the caller's write transaction (idempotent).

    1 → 2: `lost_values`, filled from the messages version 1 kept those facts in; and
    `attempt_artifacts`, filled from now on (version 1 kept only a task's last attempt's)."""
    if schema_version(c) >= SCHEMA_VERSION:
        return
    from flowtui.store.lost_values import in_messages

    c.execute(LOST_VALUES)
    c.execute(ATTEMPT_ARTIFACTS)
    c.executemany("INSERT OR IGNORE INTO lost_values VALUES (?, ?)", in_messages(c))
    c.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
