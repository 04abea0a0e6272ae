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
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle

_RAW = b"R"
_ZLIB = b"Z"
_COMPRESS_MIN = 64 * 1024  # below this, compression never pays for its time
_MMAP_MIN = 1 << 20  # above this, values are unpickled from a memory map (one copy fewer)
_SAMPLE = 256 * 1024
_WORTH_IT = 0.7  # compress when a sample shrinks to under 70%


class ArtifactPickleError(Exception):
    """A value could not be serialized; the message names its type."""


class BlobMissingError(Exception):
    """A blob referenced by the metadata is not on disk."""


@dataclass(frozen=True)
class BlobRef:
    hash: str
    size: int  # bytes of the pickled value (before compression)
    written: bool  # False when an identical blob was already stored


def serialize(value: Any) -> bytes:
    try:
        return cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as e:  # cloudpickle raises many kinds for unpicklable values
        raise ArtifactPickleError(f"{type(value).__name__} cannot be pickled ({e})") from None


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:]

    def exists(self, digest: str) -> bool:
        return self.path(digest).exists()

    def put_value(self, value: Any) -> BlobRef:
        return self.put_bytes(serialize(value))

    def put_bytes(self, payload: bytes) -> BlobRef:
        digest = hashlib.sha256(payload).hexdigest()
        target = self.path(digest)
        if target.exists():
            return BlobRef(digest, len(payload), written=False)
        header, body = _encode(payload)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            with memoryview(body) as view:
                os.write(fd, header)
                written = 0
                while written < len(view):
                    written += os.write(fd, view[written : written + (64 << 20)])
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        return BlobRef(digest, len(payload), written=True)

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


def _encode(payload: bytes) -> tuple[bytes, bytes | memoryview]:
    if len(payload) < _COMPRESS_MIN:
        return _RAW, payload
    sample = payload[:_SAMPLE]
    if len(zlib.compress(sample, 1)) > _WORTH_IT * len(sample):
        return _RAW, payload
    return _ZLIB, zlib.compress(payload, 1)
