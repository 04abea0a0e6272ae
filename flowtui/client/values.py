"""Artifact values loaded from blobs, cached per process by content hash.

Blobs are content-addressed, so a hash always means the same value: the cache is shared by every
task, run and store the process reads. It keeps the most recently used values up to a byte budget
(sizes as stored, i.e. pickled).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # a reader of logs or runs never loads cloudpickle
    from flowtui.store import BlobStore

CACHE_BYTES = 512 * 1024 * 1024


class ValueCache:
    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self.budget = budget
        self._values: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._used = 0
        self._lock = threading.Lock()

    def get(self, blobs: BlobStore, digest: str, size: int, what: str | None = None) -> Any:
        with self._lock:
            hit = self._values.get(digest)
            if hit is not None:
                self._values.move_to_end(digest)
                return hit[0]
        value = blobs.get_value(digest, what)
        if size <= self.budget:
            with self._lock:
                if digest not in self._values:
                    self._values[digest] = (value, size)
                    self._used += size
                while self._used > self.budget and self._values:
                    _, (_, dropped) = self._values.popitem(last=False)
                    self._used -= dropped
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._used = 0


value_cache = ValueCache()
