"""What runs leave behind: SQLite metadata, content-addressed artifact blobs, and log files.

A store is a directory (by default `.flowtui/`):

    metadata.db        SQLite (WAL): flows, runs, tasks, attempts, artifacts, tags
    blobs/ab/cdef...   one file per distinct artifact value, named by its SHA-256
    logs/RUN/STEP/     TASK.ATTEMPT.out / .err, written by the task's own fds 1 and 2
    cards/TASK/N.json  the task's N-th @card, written (and refreshed) by the task itself
"""

from __future__ import annotations

import os
from pathlib import Path

from flowtui.errors import UsageError
from flowtui.store.blobs import (
    ArtifactPickleError,
    BlobCorruptError,
    BlobMissingError,
    BlobRef,
    BlobStore,
)
from flowtui.store.cards import CardFiles
from flowtui.store.metadata import MetadataDB
from flowtui.store.records import ArtifactRecord, AttemptRecord, RunRecord, TaskRecord

STORE_DIRNAME = ".flowtui"
STORE_ENV = "FLOWTUI_STORE"

__all__ = [
    "STORE_DIRNAME",
    "STORE_ENV",
    "ArtifactPickleError",
    "ArtifactRecord",
    "AttemptRecord",
    "BlobCorruptError",
    "BlobMissingError",
    "BlobRef",
    "BlobStore",
    "CardFiles",
    "MetadataDB",
    "RunRecord",
    "Store",
    "TaskRecord",
    "find_store_root",
]


def find_store_root(
    explicit: str | os.PathLike[str] | None = None, *, start: Path | None = None
) -> Path:
    """Where the store is: `explicit`, else $FLOWTUI_STORE, else the nearest `.flowtui/` from
    `start` (the current directory) upwards, else `.flowtui/` in `start`."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    if os.environ.get(STORE_ENV):
        return Path(os.environ[STORE_ENV]).expanduser().resolve()
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / STORE_DIRNAME).is_dir():
            return d / STORE_DIRNAME
    return here / STORE_DIRNAME


class Store:
    """Opens (creating when asked) the store at `root`."""

    def __init__(self, root: Path, *, create: bool = True) -> None:
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise UsageError(
                f"The store path {self.root} is a file; pass a directory with --store."
            )
        if not self.root.exists():
            if not create:
                raise UsageError(
                    f"No flowtui store at {self.root}; run a flow first (flowtui run FILE) "
                    "or pass --store PATH."
                )
            try:
                self.root.mkdir(parents=True, exist_ok=True)  # two runs may race here
            except OSError as e:
                raise UsageError(f"Cannot create the store at {self.root}: {e.strerror}.") from None
        self.blobs = BlobStore(self.root / "blobs")
        self.cards = CardFiles(self.root)
        self._meta: MetadataDB | None = None
        self._log_dirs: set[str] = set()

    @classmethod
    def open(cls, explicit: str | os.PathLike[str] | None = None, *, create: bool = True) -> Store:
        return cls(find_store_root(explicit), create=create)

    @property
    def meta(self) -> MetadataDB:
        """The metadata connection, opened on first use (and re-opened after a fork)."""
        if self._meta is None or self._meta_pid != os.getpid():
            self._meta = MetadataDB(self.root / "metadata.db")
            self._meta_pid = os.getpid()
        return self._meta

    _meta_pid: int = -1

    def log_paths(self, run_id: str, step: str, task_id: str, attempt: int) -> tuple[Path, Path]:
        """The attempt's stdout and stderr files (their folder is created on first use)."""
        folder = f"{self.root}/logs/{run_id}/{step}"
        if folder not in self._log_dirs:
            os.makedirs(folder, exist_ok=True)
            self._log_dirs.add(folder)
        base = f"{folder}/{task_id}.{attempt}"
        return Path(base + ".out"), Path(base + ".err")

    def close(self) -> None:
        if self._meta is not None and self._meta_pid == os.getpid():
            self._meta.close()
        self._meta = None
