"""Blobs never hand back a wrong value: damage is found on every read, repaired on re-write,
and writers never share or follow a temp file (defects 1, 2 and 6 of issue 10)."""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import cloudpickle
import pytest

from flowtui.store import BlobCorruptError, BlobStore


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def _flip(path: Path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    assert data.count(old) == 1
    path.write_bytes(data.replace(old, new))


def test_a_changed_blob_that_still_unpickles_is_reported_damaged_not_returned(blobs: BlobStore):
    ref = blobs.put_value("the answer is 42")
    _flip(blobs.path(ref.hash), b"42", b"92")
    assert pickle.loads(blobs.path(ref.hash).read_bytes()[1:]) == "the answer is 92"
    with pytest.raises(BlobCorruptError, match="damaged") as raised:
        blobs.get_value(ref.hash, what="F/1/start/1 answer")
    assert "F/1/start/1 answer" in str(raised.value)


@pytest.mark.parametrize("compressible", [True, False], ids=["zlib", "raw"])
def test_a_large_damaged_blob_is_caught_while_it_streams(blobs: BlobStore, compressible: bool):
    # compressible at first (so stored through zlib) and over 1 MB on disk (so streamed)
    payload = (b"a" * (300 << 10) if compressible else b"") + os.urandom(4 << 20)
    ref = blobs.put_value({"data": payload, "label": "seventeen"})
    path = blobs.path(ref.hash)
    assert path.read_bytes()[:1] == (b"Z" if compressible else b"R")
    assert path.stat().st_size > 2 << 20
    if compressible:  # change one byte in the middle of the compressed stream
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
    else:
        _flip(path, b"seventeen", b"eighteen!")
    with pytest.raises(BlobCorruptError, match="damaged"):
        blobs.get_value(ref.hash)


def test_appended_bytes_after_the_pickle_are_damage_too(blobs: BlobStore):
    ref = blobs.put_value(list(range(10)))
    with open(blobs.path(ref.hash), "ab") as f:
        f.write(b"trailing")
    with pytest.raises(BlobCorruptError):
        blobs.get_value(ref.hash)


def test_writing_the_same_value_again_repairs_a_damaged_blob(blobs: BlobStore):
    for value in ("the answer is 42", {"big": b"x" * (3 << 20), "n": 42}):
        ref = blobs.put_value(value)
        path = blobs.path(ref.hash)
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
        again = blobs.put_value(value)
        assert again.hash == ref.hash and again.written  # replaced, not deduplicated
        assert blobs.get_value(ref.hash) == value


def test_writers_with_the_same_pid_never_share_a_temp_file(blobs: BlobStore):
    """Two containers (or hosts on one filesystem) can run writers with the same pid: the temp
    files another such writer has open must never be opened, truncated or renamed by us."""
    blobs.root.mkdir(parents=True)
    planted = {}
    for n in range(1, 200):  # every name a same-pid writer of the old scheme would pick
        p = blobs.root / f".{os.getpid()}.{n}.tmp"
        p.write_bytes(b"another writer's half-written value")
        planted[p] = p.read_bytes()
    values = [os.urandom(2 << 20), "small", list(range(50_000))]
    refs = [blobs.put_value(v) for v in values]
    for ref, v in zip(refs, values, strict=True):
        assert blobs.get_value(ref.hash) == v
    for p, content in planted.items():
        assert p.read_bytes() == content


def test_blob_temp_files_never_follow_a_planted_symlink(blobs: BlobStore, tmp_path: Path):
    outside = tmp_path / "victim.txt"
    outside.write_bytes(b"precious")
    blobs.root.mkdir(parents=True)
    value = os.urandom(2 << 20)
    digest_dir = blobs.path(cloudpickle_hash(value)).parent
    digest_dir.mkdir(parents=True)
    for n in range(1, 50):
        (blobs.root / f".{os.getpid()}.{n}.tmp").symlink_to(outside)
    # a symlink planted at the blob's final name is replaced, never written through
    blobs.path(cloudpickle_hash(value)).symlink_to(outside)
    ref = blobs.put_value(value)
    assert outside.read_bytes() == b"precious"
    assert not blobs.path(ref.hash).is_symlink()
    assert blobs.get_value(ref.hash) == value


def cloudpickle_hash(value: object) -> str:
    import hashlib

    return hashlib.sha256(cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)).hexdigest()


def test_blobs_are_private_whatever_the_umask(blobs: BlobStore):
    old = os.umask(0)
    try:
        ref = blobs.put_value(os.urandom(2 << 20))
        small = blobs.put_value("small")
    finally:
        os.umask(old)
    for digest in (ref.hash, small.hash):
        path = blobs.path(digest)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(blobs.root.stat().st_mode) == 0o700
