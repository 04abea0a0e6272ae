"""`flowtui doctor`: checks that a store can be trusted, and tidies what a crash leaves behind.

Findings come in two kinds. *Damage* means something stored is lost or wrong (a blob that
does not match its hash or is missing, a missing log file, a failed SQLite integrity check):
flowtui never hands such a value back, and only re-running the steps that made it recovers
it. *Leftovers* are what a killed runner or task leaves and nothing reads (temp files of dead
writers, blobs no run references, runs still marked running whose runner is dead, a store
others can read): `repair()` removes or settles them, and never deletes a referenced blob.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowtui.store import Store
from flowtui.store.blobs import dead_temp_files
from flowtui.store.glance import ended_at
from flowtui.store.liveness import runner_alive

DAMAGE = "damage"
LEFTOVER = "leftover"
_SHOWN = 5  # pathspecs named on a finding's line before "and N more"


@dataclass(frozen=True)
class Finding:
    kind: str  # damaged-blob, missing-blob, missing-log, database, temp-file, unreferenced-blob,
    #            dead-runner, permissions
    severity: str  # DAMAGE or LEFTOVER
    message: str
    pathspecs: tuple[str, ...] = ()
    path: str = ""  # the file concerned (blob, temp file, log), when there is one
    run_id: str = ""  # the run concerned (dead-runner)
    ended: bool = False  # dead-runner: its end step had succeeded (the run succeeded)

    def line(self) -> str:
        if not self.pathspecs:
            return self.message
        shown = ", ".join(self.pathspecs[:_SHOWN])
        more = len(self.pathspecs) - _SHOWN
        return f"{self.message}: {shown}" + (f" and {more} more" if more > 0 else "")


@dataclass
class Report:
    findings: list[Finding]
    blobs_checked: int
    bytes_checked: int
    seconds: float
    live_runs: tuple[str, ...] = ()  # runs in progress (pathspecs)
    unrecorded: int = 0  # blobs no run references yet, while a run is in progress

    @property
    def damaged(self) -> bool:
        return any(f.severity == DAMAGE for f in self.findings)

    @property
    def exit_code(self) -> int:
        """0: clean; 1: only leftovers (nothing lost; --repair tidies them); 3: damage."""
        if self.damaged:
            return 3
        return 1 if self.findings else 0


def examine(store: Store) -> Report:
    """Every check, read-only."""
    started = time.monotonic()
    db = _readonly(store.root / "metadata.db")
    try:
        findings = _integrity(db)
        refs = _blob_references(db)
        blob_findings, checked, nbytes = _blobs(store, refs)
        findings += blob_findings
        findings += _logs(db)
        running, dead = _recorded_running(db)
        findings += _dead_runs(db, dead)
        findings += _temp_files(store)
        findings += _permissions(store)
        live = tuple(f"{flow}/{run_id}" for flow, run_id, *_ in running)
    finally:
        db.close()
    unrecorded = 0
    if live:  # a blob no run references may be a running task's, about to be recorded
        unrecorded = sum(f.kind == "unreferenced-blob" for f in findings)
        findings = [f for f in findings if f.kind != "unreferenced-blob"]
    return Report(findings, checked, nbytes, time.monotonic() - started, live, unrecorded)


def repair(store: Store, report: Report) -> list[str]:
    """Fix what is safe; one sentence per thing done. Damage is left as it is (named)."""
    done: list[str] = []
    live_runs = _any_live_run(store)
    db = _readonly(store.root / "metadata.db")
    try:
        referenced = set(_blob_references(db))  # afresh: a run may have ended since
    finally:
        db.close()
    for f in report.findings:
        if f.kind == "temp-file":
            Path(f.path).unlink(missing_ok=True)
            done.append(f"removed {f.path}")
        elif f.kind == "unreferenced-blob":
            if live_runs:  # a running task may be about to record it
                done.append(f"kept {f.path}: a run is in progress; repair again once it ends")
                continue
            if Path(f.path).parent.name + Path(f.path).name not in referenced:
                Path(f.path).unlink(missing_ok=True)
                done.append(f"removed unreferenced blob {f.path}")
        elif f.kind == "dead-runner" and f.ended:
            store.meta.finish_run(f.run_id, "succeeded")
            done.append(f"marked run {f.run_id} succeeded (its end step had; its runner is gone)")
        elif f.kind == "dead-runner":
            store.meta.finish_run(
                f.run_id, "crashed", "the runner stopped before the run ended (settled by doctor)"
            )
            done.append(f"marked run {f.run_id} crashed (its runner is gone); resume it to finish")
        elif f.kind == "permissions":
            os.chmod(f.path, 0o700 if Path(f.path).is_dir() else 0o600)
            done.append(f"made {f.path} private")
    return done


# -- the checks ------------------------------------------------------------------------------
def _readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection; immutable for a store on read-only media (or without write
    permission) where SQLite cannot make the WAL's shared-memory file a reader needs (as the
    store's readers open it)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60.0)
    try:
        conn.execute("PRAGMA busy_timeout = 60000")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        conn.close()
        conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True, timeout=60.0)
    return conn


def _integrity(db: sqlite3.Connection) -> list[Finding]:
    rows = [r[0] for r in db.execute("PRAGMA integrity_check").fetchall()]
    if rows == ["ok"]:
        return []
    return [
        Finding("database", DAMAGE, f"metadata.db fails SQLite's integrity check: {row}")
        for row in rows[:10]
    ]


def _blob_references(db: sqlite3.Connection) -> dict[str, list[str]]:
    """Every referenced blob hash -> the pathspecs (task/artifact, run/parameter) using it."""
    refs: dict[str, list[str]] = {}
    for flow, run_id, step, task_id, name, digest in db.execute(
        "SELECT runs.flow, tasks.run_id, tasks.step, tasks.task_id, artifacts.name, "
        "artifacts.hash FROM artifacts JOIN tasks USING (task_id) JOIN runs USING (run_id)"
    ):
        refs.setdefault(digest, []).append(f"{flow}/{run_id}/{step}/{task_id} {name}")
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'attempt_artifacts'").fetchone():
        for flow, run_id, step, task_id, attempt, name, digest in db.execute(
            "SELECT runs.flow, tasks.run_id, tasks.step, tasks.task_id, a.attempt, a.name, "
            "a.hash FROM attempt_artifacts AS a JOIN tasks USING (task_id) JOIN runs USING (run_id)"
        ):  # what an attempt @retry ran again after stored
            where = f"{flow}/{run_id}/{step}/{task_id} {name} (attempt {attempt})"
            refs.setdefault(digest, []).append(where)
    for flow, run_id, params in db.execute("SELECT flow, run_id, params FROM runs"):
        for attr, p in json.loads(params or "{}").items():
            if isinstance(p, dict) and p.get("hash"):
                refs.setdefault(p["hash"], []).append(f"{flow}/{run_id} parameter {attr}")
    return refs


def _blobs(store: Store, refs: dict[str, list[str]]) -> tuple[list[Finding], int, int]:
    findings: list[Finding] = []
    checked = nbytes = 0
    on_disk: set[str] = set()
    root = store.blobs.root
    for folder in sorted(_entries(root)):
        if len(folder.name) != 2 or not folder.is_dir():
            continue
        for blob in sorted(_entries(folder)):
            digest = folder.name + blob.name
            on_disk.add(digest)
            if digest not in refs:
                findings.append(
                    Finding(
                        "unreferenced-blob",
                        LEFTOVER,
                        f"blob {digest[:12]} is referenced by no run ({blob})",
                        path=str(blob),
                    )
                )
                continue
            checked += 1
            nbytes += blob.lstat().st_size
            if not store.blobs.intact(digest):
                findings.append(
                    Finding(
                        "damaged-blob",
                        DAMAGE,
                        f"blob {digest[:12]} is damaged (its bytes do not match its hash); "
                        "re-run the steps that made it",
                        tuple(refs[digest]),
                        path=str(blob),
                    )
                )
    for digest, users in refs.items():
        if digest not in on_disk:
            findings.append(
                Finding(
                    "missing-blob",
                    DAMAGE,
                    f"blob {digest[:12]} is missing; re-run the steps that made it",
                    tuple(users),
                )
            )
    return findings, checked, nbytes


def _logs(db: sqlite3.Connection) -> list[Finding]:
    """Log files missing from ended attempts (one that never ended may have died before its
    task created them)."""
    missing: dict[str, list[str]] = {}
    for flow, run_id, step, task_id, attempt, out, err in db.execute(
        "SELECT runs.flow, tasks.run_id, tasks.step, tasks.task_id, attempts.attempt, "
        "attempts.stdout, attempts.stderr FROM attempts JOIN tasks USING (task_id) "
        "JOIN runs USING (run_id) WHERE attempts.finished IS NOT NULL"
    ):
        for path in (out, err):
            if path and not os.path.lexists(path):
                missing.setdefault(path, []).append(f"{flow}/{run_id}/{step}/{task_id}#{attempt}")
    return [
        Finding("missing-log", DAMAGE, f"log file {path} is missing", tuple(users), path=path)
        for path, users in missing.items()
    ]


def _recorded_running(
    db: sqlite3.Connection,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The runs recorded as running, `(flow, run_id, host, pid, heartbeat, created)`: those
    whose runner lives, and those whose runner is gone."""
    now = time.time()
    live: list[tuple[Any, ...]] = []
    dead: list[tuple[Any, ...]] = []
    for row in db.execute(
        "SELECT flow, run_id, host, pid, heartbeat, created FROM runs WHERE status = 'running'"
    ).fetchall():
        _, _, host, pid, beat, created = row
        (live if runner_alive(host, pid, beat, created, now) else dead).append(tuple(row))
    return live, dead


def _dead_runs(db: sqlite3.Connection, dead: list[tuple[Any, ...]]) -> list[Finding]:
    found = []
    for flow, run_id, *_ in dead:
        ended = ended_at(db, run_id) is not None
        reads = "succeeded: its end step had" if ended else "crashed; resume it to finish"
        message = (
            f"run {flow}/{run_id} is recorded as running but its runner is gone (it reads {reads})"
        )
        found.append(
            Finding(
                "dead-runner",
                LEFTOVER,
                message,
                (f"{flow}/{run_id}",),
                run_id=str(run_id),
                ended=ended,
            )
        )
    return found


def _temp_files(store: Store) -> list[Finding]:
    """Temp files whose writer is dead: a blob (or the database) interrupted while written."""
    db_exists = (store.root / "metadata.db").exists()
    return [
        Finding(
            "temp-file",
            LEFTOVER,
            f"temp file {path} was left by a writer that died",
            path=str(path),
        )
        for folder in (store.blobs.root, store.root)
        for path in dead_temp_files(folder, db_exists=db_exists)
    ]


def _permissions(store: Store) -> list[Finding]:
    out = []
    for path in (store.root, store.blobs.root, store.root / "logs", store.root / "metadata.db"):
        try:
            mode = stat.S_IMODE(path.lstat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            out.append(
                Finding(
                    "permissions",
                    LEFTOVER,
                    f"{path} can be read by other users (mode {mode:o}); artifacts, logs and "
                    "flow source are private",
                    path=str(path),
                )
            )
    return out


def _entries(folder: Path) -> Iterable[Path]:
    try:
        with os.scandir(folder) as it:
            return [Path(e.path) for e in it]
    except OSError:
        return []


def _any_live_run(store: Store) -> bool:
    return any(r.status == "running" for r in store.meta.runs())
