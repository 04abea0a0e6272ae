"""The machine's floor for a foreach: the least work a fork-per-task engine must do per task.

A parent process forks one child per task (at most `workers` at once). Each child cloudpickles
one small value and writes it as a blob the way a durable store must (a temp file, fdatasync,
rename to its hash), then sends the hash back through a pipe; the parent records the task in
SQLite (WAL, synchronous=NORMAL, one transaction per task). Nothing else: no flow, no scheduler,
no logs, no events. flowtui's foreach rows are reported as ratios against this.

    python bench/floor.py 1000            # prints the wall time in seconds
    python bench/floor.py 1000 --workers 2 --dir /tmp/x
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import select
import sqlite3
import tempfile
import time
from pathlib import Path

import cloudpickle


def child(index: int, blobs: Path, write_fd: int) -> None:
    """A task: pickle one small value, write it durably under its hash, report the hash."""
    payload = cloudpickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)
    digest = hashlib.sha256(payload).hexdigest()
    target = blobs / digest[:2] / digest[2:]
    if not target.exists():
        tmp = blobs / f".{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, b"R" + payload)
        os.fdatasync(fd)
        os.close(fd)
        try:
            os.replace(tmp, target)
        except FileNotFoundError:
            target.parent.mkdir(exist_ok=True)
            os.replace(tmp, target)
    os.write(write_fd, digest.encode() + b"\n")
    os._exit(0)


def floor_run(width: int, workers: int, root: Path) -> float:
    """Run `width` floor tasks into a fresh store under `root`; the wall time in seconds."""
    blobs = root / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(root / "floor.sqlite", isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, hash TEXT NOT NULL)")
    began = time.perf_counter()
    next_index = 0
    running: dict[int, tuple[int, int]] = {}  # read fd -> (pid, task index)
    while next_index < width or running:
        while next_index < width and len(running) < workers:
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read_fd)
                child(next_index, blobs, write_fd)
            os.close(write_fd)
            running[read_fd] = (pid, next_index)
            next_index += 1
        readable, _, _ = select.select(list(running), [], [])
        for fd in readable:
            data = b""
            while not data.endswith(b"\n"):
                chunk = os.read(fd, 128)
                if not chunk:
                    break
                data += chunk
            pid, index = running.pop(fd)
            os.close(fd)
            os.waitpid(pid, 0)
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO tasks VALUES (?, ?)", (index, data.decode().strip()))
            db.execute("COMMIT")
    wall = time.perf_counter() - began
    db.close()
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("width", type=int)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to write (default: a temp dir)"
    )
    args = parser.parse_args()
    if args.dir is not None:
        print(f"{floor_run(args.width, args.workers, args.dir):.4f}")
        return
    with tempfile.TemporaryDirectory(prefix="flowtui-floor-") as tmp:
        print(f"{floor_run(args.width, args.workers, Path(tmp)):.4f}")


if __name__ == "__main__":
    main()
