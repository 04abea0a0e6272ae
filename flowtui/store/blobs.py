"""Content-addressed artifact blobs: each value cloudpickled, hashed, written once under its hash.

A blob file is one header byte (how the payload is encoded) followed by the payload. Writes are
atomic (temp file, fsync, rename), so a crash never leaves a half-written blob under a real
name. Identical values, in any task of any run, share one file.

Trust: every read checks the bytes against the name while pickle consumes them (`_HashingReader`)
and a mismatch is a `BlobCorruptError`, never a value. Temp files have random names and are
created exclusively without following symlinks (writers with the same pid in two containers
never share one); a stored file that does not match its name is replaced when the value is
written again. Files are 0600 and folders 0700 whatever the umask.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import pickle
import stat
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle

try:  # CPython's own SHA-256 (3.11: _sha256; 3.12+: _sha2), used for small payloads
    from _sha256 import sha256 as _builtin_sha256
except ImportError:
    try:
        from _sha2 import sha256 as _builtin_sha256
    except ImportError:
        _builtin_sha256 = hashlib.sha256

from flowtui.errors import FlowtuiError, UsageError
from flowtui.store.liveness import pid_alive, runner_place
from flowtui.store.lost_values import BlobCorruptError, BlobMissingError

_RAW = b"R"
_ZLIB = b"Z"
_COMPRESS_MIN = 64 * 1024  # below this, compression never pays for its time
_STREAM_READ_MIN = 1 << 20  # above this, a value streams from its file into pickle
_STREAM_MIN = 1 << 20  # pickles larger than this stream to disk instead of memory
_HASH_IN_THREAD = 16 << 20  # chunks larger than this are hashed while they are written
_SAMPLE = 256 * 1024
_CHUNK = 1 << 20  # bytes read (or decompressed) at a time while a blob is verified
_WORTH_IT = 0.7  # compress when a sample shrinks to under 70%
_SMALL_HASH = 64 * 1024  # payloads hashed by CPython's SHA-256 rather than OpenSSL's
_PLAIN_MAX = 64 * 1024  # bytes or characters of a str/bytes value pickled without cloudpickle


def _plain(value: Any) -> bool:
    """Whether `value` is small and of a type cloudpickle pickles exactly as pickle does (its
    bytes, so its hash, are the same), so a task need not make a cloudpickle pickler for it."""
    kind = type(value)
    if kind is int:
        return value.bit_length() < 8 * _PLAIN_MAX
    if kind is str or kind is bytes:
        return len(value) < _PLAIN_MAX
    return kind is float or kind is bool or value is None


class ArtifactPickleError(Exception):
    """A value could not be serialized; the message names its type."""


FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


class StoreFullError(FlowtuiError):
    """The disk (or quota) holding the store is full; what was stored before is kept."""

    def __init__(self, root: Path, what: str = "") -> None:
        saving = f" while saving {what}" if what else ""
        super().__init__(
            f"The disk holding the store {root} is full (or over its quota){saving}. Everything "
            "stored before is kept; free some space, then flowtui resume finishes the run."
        )


def read_only_store(root: Path) -> UsageError:
    """The sentence for a store nothing can be written to (the metadata's too)."""
    return UsageError(
        f"The store at {root} is read-only; pass a writable --store to run flows or change tags."
    )


def _store_write_error(e: OSError, root: Path) -> FlowtuiError | None:
    """What a failed write into the store at `root` is to the user: full, or read-only."""
    if e.errno in FULL_ERRNOS:
        return StoreFullError(root)
    if e.errno == errno.EROFS:  # read-only media, whatever the metadata's connection thought
        return read_only_store(root)
    return None


TEMP_SUFFIX = ".tmp"


def _temp_place() -> str:
    """This process's host and PID namespace, as a file-name part: a pid in a temp file's name
    means something only to a reader in the same place."""
    host, _, ns = runner_place().partition(" ")
    inode = "".join(c for c in ns if c.isdigit())
    return f"{host}@{inode}" if inode else host


TEMP_PLACE = _temp_place()


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
    return _sha256_hex(payload)


def _sha256_hex(data: bytes) -> str:
    """SHA-256 of `data`, as hex. OpenSSL's is faster on big data but costs a freshly forked
    task ~50 page faults to set up (its shared state is written), CPython's own ~20: small
    payloads (a task's typical artifact) are hashed with the latter; the digests are equal."""
    if len(data) < _SMALL_HASH:
        return str(_builtin_sha256(data).hexdigest())
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._dir = os.path.join(root, "")  # as text: a task's paths cost no Path objects

    def path(self, digest: str) -> Path:
        return Path(self._file(digest))

    def _file(self, digest: str) -> str:
        return f"{self._dir}{digest[:2]}{os.sep}{digest[2:]}"

    def put_value(self, value: Any) -> BlobRef:
        """Pickle `value` into the store. Small values are pickled in memory; a large one is
        streamed into a temp file while it is hashed, so it is never held twice in memory."""
        if _plain(value):  # cloudpickle would write the same bytes, at more cost
            return self.put_bytes(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
        sink = _BlobSink(self)
        try:
            cloudpickle.dump(value, sink, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError as e:
            sink.abort()
            if (named := _store_write_error(e, self.root.parent)) is not None:
                raise named from None
            raise
        except Exception as e:  # cloudpickle raises many kinds for unpicklable values
            sink.abort()
            raise ArtifactPickleError(f"{type(value).__name__} cannot be pickled ({e})") from None
        try:
            return sink.finish()
        except OSError as e:
            if (named := _store_write_error(e, self.root.parent)) is not None:
                raise named from None
            raise

    def put_bytes(self, payload: bytes) -> BlobRef:
        try:
            return self._put_bytes(payload)
        except OSError as e:
            if (named := _store_write_error(e, self.root.parent)) is not None:
                raise named from None
            raise

    def _put_bytes(self, payload: bytes) -> BlobRef:
        digest = _sha256_hex(payload)
        target = self._file(digest)
        if self.intact(digest):
            return BlobRef(digest, len(payload), written=False)
        header, body = _encode(payload)
        tmp = self._temp_path()
        fd = _create(tmp)
        try:
            os.write(fd, header)
            _write_all(fd, body)
            _sync(fd)
        except BaseException:
            os.close(fd)
            _unlink(tmp)
            raise
        os.close(fd)
        self._publish(tmp, target)
        return BlobRef(digest, len(payload), written=True)

    def _temp_path(self) -> str:
        """A fresh temp name: random (so no other writer, whatever its pid, picks it) and
        carrying the writer's pid and host (so a crashed writer's leftovers can be found)."""
        return f"{self._dir}.{os.urandom(8).hex()}.{os.getpid()}.{TEMP_PLACE}{TEMP_SUFFIX}"

    def _publish(self, tmp: str, target: str) -> None:
        """Move a finished temp file to its name (atomic: readers never see a partial blob)."""
        try:
            os.replace(tmp, target)
        except FileNotFoundError:  # the first blob whose hash starts so: make its folder
            folder = os.path.dirname(target)
            try:
                os.mkdir(folder, 0o700)  # as private_dirs does, without its Path objects
            except FileExistsError:  # another task made it meanwhile
                pass
            except FileNotFoundError:  # the blobs folder itself is gone
                private_dirs(Path(folder), self.root)
            os.replace(tmp, target)

    def get_bytes(self, digest: str, what: str | None = None) -> bytes:
        """The pickled bytes of a blob, checked against its name."""
        try:
            fd, size = _open_blob_fd(self._file(digest))
        except FileNotFoundError:
            raise BlobMissingError(digest, what) from None
        return self._read_whole(fd, size, digest, what)

    def _read_whole(self, fd: int, size: int, digest: str, what: str | None) -> bytes:
        """A blob's checked payload, read whole from `fd` (closed here) without a file object."""
        try:
            data = os.read(fd, size + 1)
            while more := os.read(fd, 1 << 16):  # it grew since its size was taken
                data += more
        finally:
            os.close(fd)
        return _verified(data[:1], data[1:], digest, what)

    def get_value(self, digest: str, what: str | None = None) -> Any:
        """Unpickle a stored value, verifying its bytes against `digest` as they are read: a
        mismatch raises `BlobCorruptError` (naming `what`, e.g. the artifact's pathspec) and
        the value is never returned. A large blob streams into pickle (never held twice)."""
        try:
            fd, size = _open_blob_fd(self._file(digest))
        except FileNotFoundError:
            raise BlobMissingError(digest, what) from None
        if size < _STREAM_READ_MIN:
            return pickle.loads(self._read_whole(fd, size, digest, what))
        with os.fdopen(fd, "rb") as f:
            header = f.read(1)
            if header not in (_ZLIB, _RAW):
                raise BlobCorruptError(digest, what)
            reader = _HashingReader(f, header == _ZLIB)
            try:
                value = pickle.Unpickler(reader).load()
            except Exception:
                if not reader.matches(digest):
                    raise BlobCorruptError(digest, what) from None
                raise
            if not reader.matches(digest):
                del value
                raise BlobCorruptError(digest, what)
            return value

    def intact(self, digest: str) -> bool:
        """Whether the blob is stored and its bytes match its name (streamed, any size)."""
        path = self._file(digest)
        if not os.access(path, os.F_OK):  # the usual answer for a new value, without raising
            return False
        try:
            with _open_blob(path) as f:
                header = f.read(1)
                if header not in (_ZLIB, _RAW):
                    return False
                return _HashingReader(f, header == _ZLIB).matches(digest)
        except OSError:
            return False


def _verified(header: bytes, body: bytes, digest: str, what: str | None) -> bytes:
    """A blob's payload from its header and body, decompressed; BlobCorruptError if its
    bytes do not match `digest`."""
    try:
        if header == _ZLIB:
            body = zlib.decompress(body)
    except zlib.error:
        raise BlobCorruptError(digest, what) from None
    if header not in (_ZLIB, _RAW) or _sha256_hex(body) != digest:
        raise BlobCorruptError(digest, what)
    return body


def dead_temp_files(folder: Path, *, db_exists: bool = True) -> list[Path]:
    """Temp files in `folder` whose writer died (on this host): blobs, or a database, cut
    short by a kill. Files of writers on other hosts, or still alive, are never listed."""
    out = []
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    for name in names:
        if not (name.startswith(".") and name.endswith(TEMP_SUFFIX)):
            continue
        parts = name[1 : -len(TEMP_SUFFIX)].split(".", 2)
        if name.startswith(".metadata.db."):
            if db_exists:  # a database being created: old once the database exists
                out.append(folder / name)
            continue
        if len(parts) == 3:  # .RANDOM.PID.HOST@PIDNS.tmp
            _, pid, place = parts
        elif len(parts) == 2 and parts[0].isdigit():  # the old .PID.N.tmp
            pid, place = parts[0], TEMP_PLACE
        else:
            continue
        if place == TEMP_PLACE and pid.isdigit() and not pid_alive(int(pid)):
            out.append(folder / name)
    return out


def _open_blob(path: str | Path) -> Any:
    """Open a blob for reading: a regular file, never through a symlink."""
    fd, _ = _open_blob_fd(path)
    return os.fdopen(fd, "rb")


def _open_blob_fd(path: str | Path) -> tuple[int, int]:
    """A blob's fd, open for reading, and its size (a regular file, never a symlink)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        if e.errno == errno.ELOOP:  # a symlink planted in the store is not a blob
            raise FileNotFoundError(e.errno, "not a blob", str(path)) from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise FileNotFoundError(errno.ENOENT, "not a regular file", str(path))
    return fd, info.st_size


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


class _HashingReader:
    """A file-like source for `pickle.Unpickler` that hashes every byte it hands out (the
    payload after the header, decompressed when stored compressed). `matches()` reads what
    pickle left (a damaged blob may have more) and compares the digest with the name."""

    def __init__(self, f: Any, compressed: bool) -> None:
        self._f = f
        self._hash = hashlib.sha256()
        self._inflate = zlib.decompressobj() if compressed else None
        self._pending = memoryview(b"")
        self._eof = False
        self._damaged = False

    # Uncompressed: straight from the file into pickle's buffers, hashed on the way.
    def readinto(self, buf: Any) -> int:
        with memoryview(buf) as view, view.cast("B") as out:
            if self._inflate is None:
                n = self._f.readinto(out)
                self._hash.update(out[:n])
                return int(n)
            filled = 0
            while filled < len(out):
                if not self._pending and not self._more():
                    break
                take = min(len(self._pending), len(out) - filled)
                out[filled : filled + take] = self._pending[:take]
                self._pending = self._pending[take:]
                filled += take
            return filled

    def read(self, n: int = -1) -> bytes:
        if self._inflate is None:
            data = self._f.read(n)
            self._hash.update(data)
            return bytes(data)
        if n is None or n < 0:
            parts = [bytes(self._pending)]
            self._pending = memoryview(b"")
            while self._more():
                parts.append(bytes(self._pending))
                self._pending = memoryview(b"")
            return b"".join(parts)
        buf = bytearray(n)
        got = self.readinto(buf)
        del buf[got:]
        return bytes(buf)

    def readline(self) -> bytes:
        if self._inflate is None:
            line = self._f.readline()
            self._hash.update(line)
            return bytes(line)
        out = bytearray()
        while True:
            if not self._pending and not self._more():
                return bytes(out)
            end = bytes(self._pending).find(b"\n")
            take = len(self._pending) if end < 0 else end + 1
            out += self._pending[:take]
            self._pending = self._pending[take:]
            if end >= 0:
                return bytes(out)

    def _more(self) -> bool:
        """Decompress the next chunk into `_pending` (hashing it); False at the end."""
        assert self._inflate is not None
        while not self._eof:
            tail = self._inflate.unconsumed_tail
            raw = tail if tail else self._f.read(_CHUNK)
            try:
                if raw:
                    data = self._inflate.decompress(raw, _CHUNK)
                else:
                    self._eof = True
                    data = self._inflate.flush()
                    if not self._inflate.eof:
                        self._damaged = True  # the compressed stream was cut short
            except zlib.error:
                self._damaged = True
                self._eof = True
                return False
            if self._inflate.unused_data:
                self._damaged = True  # bytes after the end of the compressed stream
            if data:
                self._hash.update(data)
                self._pending = memoryview(data)
                return True
        return False

    def matches(self, digest: str) -> bool:
        try:
            if self._inflate is None:
                while chunk := self._f.read(_CHUNK):
                    self._hash.update(chunk)
            else:
                self._pending = memoryview(b"")
                while self._more():
                    self._pending = memoryview(b"")
        except OSError:
            return False
        return not self._damaged and self._hash.hexdigest() == digest


def private_dirs(path: Path, root: Path) -> None:
    """Create `path` (and its parents up to `root`) as 0700 folders."""
    missing = []
    for d in (path, *path.parents):
        if d.exists() or d == root.parent:
            break
        missing.append(d)
    for d in reversed(missing):
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:
            continue


# The data (and the size needed to read it back) must be on disk before the blob gets its
# name; fdatasync does that without also flushing times.
_sync = getattr(os, "fdatasync", os.fsync)


_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _create(path: str) -> int:
    """A new private file: exclusive (never another writer's), never through a symlink."""
    try:
        return os.open(path, _CREATE_FLAGS, 0o600)
    except FileNotFoundError:
        folder = Path(path).parent
        private_dirs(folder, folder)
        return os.open(path, _CREATE_FLAGS, 0o600)


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
        self.tmp: str | None = None
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
            return self.store._put_bytes(bytes(self.buffer))
        assert self.tmp is not None
        try:
            if self.compressor is not None:
                _write_all(self.fd, self.compressor.flush())
            digest = self.hash.hexdigest()
            target = self.store._file(digest)
            if self.store.intact(digest):
                os.close(self.fd)
                self.fd = None
                os.unlink(self.tmp)
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
            _unlink(self.tmp)


def _encode(payload: bytes) -> tuple[bytes, bytes | memoryview]:
    if len(payload) < _COMPRESS_MIN:
        return _RAW, payload
    sample = payload[:_SAMPLE]
    if len(zlib.compress(sample, 1)) > _WORTH_IT * len(sample):
        return _RAW, payload
    return _ZLIB, zlib.compress(payload, 1)
