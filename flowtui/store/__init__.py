"""What runs leave behind: SQLite metadata, content-addressed artifact blobs, and log files.

A store is a directory (by default `.flowtui/`):

    metadata.db        SQLite (WAL): flows, runs, tasks, attempts, artifacts, tags
    blobs/ab/cdef...   one file per distinct artifact value, named by its SHA-256
    logs/RUN/STEP/     TASK.ATTEMPT.out / .err, written by the task's own fds 1 and 2
    cards/TASK/N.json  the task's N-th @card, written (and refreshed) by the task itself

A store is private: folders 0700, files 0600, whatever the umask. A `.flowtui/` found by
walking up is used only when it is the user's own and nobody else can write to it (artifacts
are pickles: loading one runs code). A store whose database is gone or empty while it holds
blobs or logs is refused, never silently started afresh over the old files.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from functools import cached_property
from pathlib import Path

from flowtui.errors import UsageError

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md)

if TYPE_CHECKING:
    from typing import Any

    from flowtui.store.blobs import ArtifactPickleError, BlobRef, BlobStore, StoreFullError
    from flowtui.store.cards import CardFiles
    from flowtui.store.lost_values import BlobCorruptError, BlobMissingError
    from flowtui.store.metadata import MetadataDB
    from flowtui.store.records import ArtifactRecord, AttemptRecord, RunRecord, TaskRecord

# The names re-exported from the store's modules, each imported on first use: the records are
# plain dataclasses every room reads (the TUI among them, before its first frame), while the
# blobs (cloudpickle) and the metadata (sqlite3) load only when a store is opened.
_LAZY = {
    "ArtifactPickleError": "blobs",
    "BlobCorruptError": "lost_values",
    "BlobMissingError": "lost_values",
    "BlobRef": "blobs",
    "BlobStore": "blobs",
    "StoreFullError": "blobs",
    "CardFiles": "cards",
    "MetadataDB": "metadata",
    "ArtifactRecord": "records",
    "AttemptRecord": "records",
    "RunRecord": "records",
    "TaskRecord": "records",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flowtui.store' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"flowtui.store.{module}"), name)
    globals()[name] = value
    return value


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
    "StoreConflictError",
    "StoreFullError",
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
        found = d / STORE_DIRNAME
        if found.is_dir():
            why = untrusted(found)
            if why is None:
                return found
            _say_skipped(found, why)
    default = here / STORE_DIRNAME
    if default.exists():  # only when it was skipped above
        raise UsageError(
            f"The store {default} cannot be used: {untrusted(default) or 'it is not a folder'}; "
            "move it aside or pass --store with a folder of your own."
        )
    return default


def untrusted(path: Path) -> str | None:
    """Why the folder at `path` must not be used as this user's store (None: it may)."""
    try:
        st = path.stat()
    except OSError as e:
        return f"it cannot be read ({e.strerror})"
    if st.st_uid != os.geteuid():
        return f"it belongs to another user (uid {st.st_uid})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "it is writable by other users"
    return None


_skipped: set[Path] = set()


def _say_skipped(path: Path, why: str) -> None:
    if path in _skipped:
        return
    _skipped.add(path)
    sys.stderr.write(
        f"flowtui: skipped the store {path}: {why}, and its artifacts (pickles) could run "
        "anyone's code; pass --store to choose a store.\n"
    )


def _has_entries(path: Path) -> bool:
    try:
        with os.scandir(path) as it:
            return any(True for _ in it)
    except OSError:
        return False


def _create_database(db: Path) -> None:
    """Create metadata.db whole: its schema is made under a temp name (private, whatever the
    umask) and linked into place, so no reader ever sees an empty database."""
    import secrets

    from flowtui.store.blobs import FULL_ERRNOS, StoreFullError
    from flowtui.store.metadata import MetadataDB

    tmp = db.with_name(f".{db.name}.{secrets.token_hex(8)}.tmp")
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
        MetadataDB(tmp).close()
        with contextlib.suppress(FileExistsError):  # another runner made it first
            os.link(tmp, db)
    except OSError as e:
        if e.errno in FULL_ERRNOS:
            raise StoreFullError(db.parent) from None
        raise UsageError(f"Cannot create the store's database {db}: {e.strerror}.") from None
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)


class StoreConflictError(UsageError):
    """The store's files disagree with its database (a reset or replaced metadata.db)."""


_NEW_LOG = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC


def create_log(path: str | Path) -> int:
    """Create an attempt's log file, empty and private, and open it for appending: never an
    existing file (a new attempt never appends to an old one), never through a symlink."""
    try:
        return os.open(path, _NEW_LOG, 0o600)
    except FileExistsError:
        raise StoreConflictError(
            f"The log file {path} already exists, so the store's files and its "
            "metadata.db disagree (was metadata.db replaced?); nothing was overwritten. "
            "Run flowtui doctor on the store, or move it aside to start a new one."
        ) from None


def ensure_logs(*paths: str | Path) -> None:
    """Create whichever of an ended attempt's log files its task did not (it died first), so
    that every recorded attempt has both: a missing one then means a deleted one."""
    for path in paths:
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, _NEW_LOG, 0o600))


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
                self.root.parent.mkdir(parents=True, exist_ok=True)
                os.mkdir(self.root, 0o700)
            except FileExistsError:
                pass  # two runs may race here
            except OSError as e:
                raise UsageError(f"Cannot create the store at {self.root}: {e.strerror}.") from None
        why = untrusted(self.root)
        if create and why is not None:
            raise UsageError(
                f"Not writing to the store {self.root}: {why}; flowtui writes only to a store "
                "that is yours alone (its artifacts are pickles: loading one runs code). Pass "
                "--store with a folder of your own."
            )
        self.create = create
        self._meta: MetadataDB | None = None
        self._log_dirs: set[str] = set()
        if create:
            from flowtui.store.blobs import dead_temp_files

            self.meta  # noqa: B018 - checked and created now, before any blob is written
            for leftover in dead_temp_files(self.blobs.root):  # of writers killed earlier
                leftover.unlink(missing_ok=True)

    @cached_property
    def blobs(self) -> BlobStore:
        """The artifact blobs, on first use: a reader of runs or logs never loads cloudpickle."""
        from flowtui.store.blobs import BlobStore

        return BlobStore(self.root / "blobs")

    @cached_property
    def cards(self) -> CardFiles:
        from flowtui.store.cards import CardFiles

        return CardFiles(self.root)

    def _check_database(self) -> None:
        """Refuse a store whose metadata.db is gone or empty while it holds blobs or logs."""
        db = self.root / "metadata.db"
        try:
            empty = db.stat().st_size == 0
        except FileNotFoundError:
            empty = True
        if not empty:
            return
        if _has_entries(self.root / "blobs") or _has_entries(self.root / "logs"):
            raise StoreConflictError(
                f"The store at {self.root} holds artifacts and logs but its metadata.db is missing "
                "or empty, so its runs are unknown; nothing was written. Restore metadata.db "
                f"from a backup, or move the store aside (mv {self.root} {self.root}.old) to "
                "start a new one."
            )
        if not self.create:
            raise UsageError(
                f"No flowtui store at {self.root}; run a flow first (flowtui run FILE) "
                "or pass --store PATH."
            )
        if not db.exists():
            _create_database(db)

    @classmethod
    def open(cls, explicit: str | os.PathLike[str] | None = None, *, create: bool = True) -> Store:
        return cls(find_store_root(explicit), create=create)

    @property
    def meta(self) -> MetadataDB:
        """The metadata connection, opened on first use (and re-opened after a fork)."""
        if self._meta is None or self._meta_pid != os.getpid():
            from flowtui.store.metadata import MetadataDB

            self._check_database()
            self._meta = MetadataDB(self.root / "metadata.db", create=self.create)
            self._meta_pid = os.getpid()
        return self._meta

    _meta_pid: int = -1

    def log_paths(self, run_id: str, step: str, task_id: str, attempt: int) -> tuple[Path, Path]:
        """The attempt's stdout and stderr files, in a private folder made here. The files are
        created by whoever writes them first (`create_log`): the task itself, so the runner's
        loop does not pay for two new files per task."""
        stdout, stderr = self.log_files(run_id, step, task_id, attempt)
        return Path(stdout), Path(stderr)

    def log_files(self, run_id: str, step: str, task_id: str, attempt: int) -> tuple[str, str]:
        """`log_paths` as text (the runner's loop makes no Path per task)."""
        folder = f"{self.root}/logs/{run_id}/{step}"
        if folder not in self._log_dirs:
            from flowtui.store.blobs import private_dirs

            private_dirs(Path(folder), self.root)
            for d in (self.root / "logs", Path(folder).parent, Path(folder)):
                if not stat.S_ISDIR(os.lstat(d).st_mode):
                    raise StoreConflictError(
                        f"{d} in the store is not a folder (a symlink?); flowtui writes logs "
                        "only inside the store. Remove it, then run again."
                    )
            self._log_dirs.add(folder)
        base = f"{folder}/{task_id}.{attempt}"
        return base + ".out", base + ".err"

    def close(self) -> None:
        if self._meta is not None and self._meta_pid == os.getpid():
            self._meta.close()
        self._meta = None
