"""Content-addressed blobs: what goes in comes out, once, and damage is named as damage."""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
from pathlib import Path

import cloudpickle
import pytest

from flowtui.store import ArtifactPickleError, BlobCorruptError, BlobMissingError, BlobStore

VALUES = [
    0,
    "short text",
    {"nested": [1, 2.5, None, ("t", b"b")]},
    os.urandom(3 << 20),  # large and incompressible: streamed raw
    b"abc" * (2 << 20),  # large and compressible: streamed through zlib
    list(range(300_000)),  # large, made of many small pickle writes
]


# A task pickles values of these types with pickle itself and hashes small payloads with
# CPython's own SHA-256 (cheaper in a forked task): the same bytes and names as cloudpickle's
# and OpenSSL's, on each side of both cut-offs (64 KiB).
PLAIN = [
    -1,
    2**70,
    -(2**4000),
    0.1,
    float("-inf"),
    True,
    None,
    "",
    "café ☕ \U0001f600",
    "é" * (64 * 1024 - 1),  # under the cut-off in characters, over it in bytes
    "x" * (64 * 1024),
    b"\x00" * (64 * 1024 - 40),
    b"\xff" * (64 * 1024 + 1),
]


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def files(blobs: BlobStore) -> list[Path]:
    return [p for p in blobs.root.rglob("*") if p.is_file()]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_round_trip_is_addressed_by_the_hash_of_the_pickle(blobs: BlobStore, value: object):
    ref = blobs.put_value(value)
    expected = cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    assert ref.hash == hashlib.sha256(expected).hexdigest()
    assert ref.size == len(expected) and ref.written
    assert blobs.get_value(ref.hash) == value
    again = blobs.put_value(value)
    assert again.hash == ref.hash and not again.written
    assert len(files(blobs)) == 1  # stored once, no temp files left


def test_compressible_values_take_less_room(blobs: BlobStore):
    ref = blobs.put_value(b"abc" * (2 << 20))
    assert blobs.path(ref.hash).stat().st_size < ref.size / 10


def test_unpicklable_value_names_its_type_and_leaves_nothing(blobs: BlobStore):
    with pytest.raises(ArtifactPickleError, match="list cannot be pickled"):
        blobs.put_value([os.urandom(2 << 20), threading.Lock()])
    assert files(blobs) == []


def test_missing_and_damaged_blobs_are_told_apart_from_user_errors(blobs: BlobStore):
    ref = blobs.put_value({"k": os.urandom(1000)})
    path = blobs.path(ref.hash)
    data = bytearray(path.read_bytes())
    data[3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(BlobCorruptError, match="damaged"):
        blobs.get_value(ref.hash)
    path.unlink()
    with pytest.raises(BlobMissingError, match="missing"):
        blobs.get_value(ref.hash)


@pytest.mark.parametrize("value", PLAIN, ids=lambda v: f"{type(v).__name__}-{len(repr(v))}")
def test_plain_values_have_the_names_cloudpickle_gives_them(blobs: BlobStore, value: object):
    ref = blobs.put_value(value)
    expected = cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    assert ref.hash == hashlib.sha256(expected).hexdigest()
    assert ref.size == len(expected)
    assert blobs.get_value(ref.hash) == value
    assert not blobs.put_value(value).written  # found under the same name
