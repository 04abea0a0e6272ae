"""What a failing store database is to the user: its disk full, locked by another program for
longer than a writer waits (`FLOWTUI_DB_WAIT`), or no room left to open it for writing."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from flowtui.errors import FlowtuiError

_SQLITE_FULL = 13  # sqlite3.SQLITE_FULL (not in the stubs)
_SQLITE_BUSY = 5  # sqlite3.SQLITE_BUSY
# How long a writer waits for another process's write transaction before saying so.
DB_WAIT = float(os.environ.get("FLOWTUI_DB_WAIT") or 60.0)


class StoreLockedError(FlowtuiError):
    """Another process held the store's database for a write longer than DB_WAIT seconds."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"The store's database {path} stayed locked by another process for {DB_WAIT:g} s "
            "(a program holding a write transaction on it, such as an open sqlite3 shell); "
            "close that program, then run again (flowtui resume finishes a run this stopped)."
        )


def disk_full(e: sqlite3.Error) -> bool:
    return getattr(e, "sqlite_errorcode", None) == _SQLITE_FULL or "disk is full" in str(e)


def locked(e: sqlite3.Error) -> bool:
    return getattr(e, "sqlite_errorcode", None) == _SQLITE_BUSY or "database is locked" in str(e)


_ROOM_FOR_WAL = 1 << 20  # less free space than this and SQLite cannot open a store to write


def out_of_space(folder: Path) -> bool:
    """Whether `folder` is writable media with (almost) no space left for this user."""
    try:
        fs = os.statvfs(folder)
    except OSError:
        return False
    writable = not fs.f_flag & os.ST_RDONLY and os.access(folder, os.W_OK)
    return writable and fs.f_bavail * fs.f_frsize < _ROOM_FOR_WAL
