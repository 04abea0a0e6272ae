"""Content-addressed artifact blobs: each value cloudpickled, hashed, written once under its hash.

A blob file is one header byte (how the payload is encoded) followed by the payload. Writes are
atomic (temp file, fsync, rename), so a crash never leaves a half-written blob under a real
name. Identical values, in any task of any run, share one file.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import pickle
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle

_RAW = b"R"
_ZLIB = b"Z"
_COMPRESS_MIN = 64 * 1024  # below this, compression never pays for its time
_MMAP_MIN = 1 << 20  # above this, values are unpickled from a memory map (one copy fewer)
_STREAM_MIN = 1 << 20  # pickles larger than this stream to disk instead of memory
_HASH_IN_THREAD = 16 << 20  # chunks larger than this are hashed while they are written
_SAMPLE = 256 * 1024
_WORTH_IT = 0.7  # compress when a sample shrinks to under 70%


class ArtifactPickleError(Exception):
    """A value could not be serialized; the message names its type."""


class BlobMissingError(Exception):
    """A blob referenced by the metadata is not on disk."""


class BlobCorruptError(Exception):
    """A blob's bytes no longer match the hash it is stored under."""


@dataclass(frozen=True)
class BlobRef:
    hash: str
    size: int  # bytes of the pickled value (before compression)
    written: bool  # False when an identical blob was already stored


def digest_of(value: Any) -> str:
    """The hash `BlobStore.put_value(value)` stores `value` under (nothing is written)."""
    try:
        payload = cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as e:
        raise ArtifactPickleError(f"{type(value).__name__} cannot be pickled ({e})") from None
    return hashlib.sha256(payload).hexdigest()


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:]

    def put_value(self, value: Any) -> BlobRef:
        """Pickle `value` into the store. Small values are pickled in memory; a large one is
        streamed into a temp file while it is hashed, so it is never held twice in memory."""
        sink = _BlobSink(self)
        try:
            cloudpickle.dump(value, sink, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # cloudpickle raises many kinds for unpicklable values
            sink.abort()
            raise ArtifactPickleError(f"{type(value).__name__} cannot be pickled ({e})") from None
        return sink.finish()

    def put_bytes(self, payload: bytes) -> BlobRef:
        digest = hashlib.sha256(payload).hexdigest()
        target = self.path(digest)
        if target.exists():
            return BlobRef(digest, len(payload), written=False)
        header, body = _encode(payload)
        tmp = self._temp_path()
        fd = _create(tmp)
        try:
            os.write(fd, header)
            _write_all(fd, body)
            _sync(fd)
        finally:
            os.close(fd)
        self._publish(tmp, target)
        return BlobRef(digest, len(payload), written=True)

    def _temp_path(self) -> Path:
        _BlobSink.counter += 1
        return self.root / f".{os.getpid()}.{_BlobSink.counter}.tmp"

    def _publish(self, tmp: Path, target: Path) -> None:
        """Move a finished temp file to its name (atomic: readers never see a partial blob)."""
        try:
            os.replace(tmp, target)
        except FileNotFoundError:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)

    def get_bytes(self, digest: str) -> bytes:
        try:
            with open(self.path(digest), "rb") as f:
                header = f.read(1)
                body = f.read()
        except FileNotFoundError:
            raise BlobMissingError(
                f"artifact blob {digest[:12]} is missing from the store"
            ) from None
        if header == _ZLIB:
            return zlib.decompress(body)
        return body

    def get_value(self, digest: str) -> Any:
        """Unpickle a stored value. A value that fails to load is checked against its hash, so
        a damaged blob is reported as such, not as an unpickling error of the user's code."""
        try:
            return self._load(digest)
        except BlobMissingError:
            raise
        except Exception:
            if not self.intact(digest):
                raise BlobCorruptError(
                    f"artifact blob {digest[:12]} is damaged (its bytes no longer match their "
                    "hash); the value is lost, re-run the step that made it"
                ) from None
            raise

    def intact(self, digest: str) -> bool:
        try:
            return hashlib.sha256(self.get_bytes(digest)).hexdigest() == digest
        except (OSError, zlib.error, BlobMissingError):
            return False

    def _load(self, digest: str) -> Any:
        path = self.path(digest)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise BlobMissingError(
                f"artifact blob {digest[:12]} is missing from the store"
            ) from None
        if size < _MMAP_MIN:
            return pickle.loads(self.get_bytes(digest))
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            if m[:1] == _ZLIB:
                return pickle.loads(zlib.decompress(m[1:]))
            with memoryview(m) as view, view[1:] as payload:
                return pickle.loads(payload)  # unpickled straight from the page cache


# The data (and the size needed to read it back) must be on disk before the blob gets its
# name; fdatasync does that without also flushing times.
_sync = getattr(os, "fdatasync", os.fsync)


def _create(path: Path) -> int:
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)


def _write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    with memoryview(data) as view:
        written = 0
        while written < len(view):
            written += os.write(fd, view[written : written + (64 << 20)])


class _BlobSink:
    """A file-like target for the pickler: buffers small payloads, streams large ones to a
    temp file (compressed when a sample says it pays) while hashing the uncompressed bytes."""

    counter = 0

    def __init__(self, store: BlobStore) -> None:
        self.store = store
        self.buffer = bytearray()
        self.hash = hashlib.sha256()
        self.size = 0
        self.fd: int | None = None
        self.tmp: Path | None = None
        self.compressor: Any = None

    def write(self, data: Any) -> int:
        n = memoryview(data).nbytes
        self.size += n
        if self.fd is None:
            if len(self.buffer) + n < _STREAM_MIN:
                self.buffer += data
                return n
            self._start(data)
        self._stream(data)
        return n

    def _start(self, data: Any) -> None:
        """Open the temp file and write what was buffered; `data` (not copied) comes next."""
        with memoryview(data) as view:
            sample = bytes(self.buffer[:_SAMPLE]) + bytes(
                view[: max(0, _SAMPLE - len(self.buffer))]
            )
        compress = len(zlib.compress(sample, 1)) <= _WORTH_IT * len(sample)
        self.compressor = zlib.compressobj(1) if compress else None
        self.tmp = self.store._temp_path()
        self.fd = _create(self.tmp)
        os.write(self.fd, _ZLIB if compress else _RAW)
        pending, self.buffer = self.buffer, bytearray()
        if pending:
            self._stream(pending)

    def _stream(self, data: Any) -> None:
        assert self.fd is not None
        out = self.compressor.compress(data) if self.compressor else data
        if memoryview(data).nbytes < _HASH_IN_THREAD:
            self.hash.update(data)
            _write_all(self.fd, out)
            return
        # Hashing releases the GIL: hash a big chunk while it is being written.
        hasher = threading.Thread(target=self.hash.update, args=(data,))
        hasher.start()
        try:
            _write_all(self.fd, out)
        finally:
            hasher.join()

    def finish(self) -> BlobRef:
        if self.fd is None:
            return self.store.put_bytes(bytes(self.buffer))
        assert self.tmp is not None
        try:
            if self.compressor is not None:
                _write_all(self.fd, self.compressor.flush())
            digest = self.hash.hexdigest()
            target = self.store.path(digest)
            if target.exists():
                os.close(self.fd)
                self.fd = None
                self.tmp.unlink()
                return BlobRef(digest, self.size, written=False)
            _sync(self.fd)
        except BaseException:
            self.abort()
            raise
        os.close(self.fd)
        self.fd = None
        self.store._publish(self.tmp, target)
        return BlobRef(digest, self.size, written=True)

    def abort(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)


def _encode(payload: bytes) -> tuple[bytes, bytes | memoryview]:
    if len(payload) < _COMPRESS_MIN:
        return _RAW, payload
    sample = payload[:_SAMPLE]
    if len(zlib.compress(sample, 1)) > _WORTH_IT * len(sample):
        return _RAW, payload
    return _ZLIB, zlib.compress(payload, 1)
