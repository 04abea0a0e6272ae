"""What trusting blobs costs: hash-on-read throughput, and peak memory loading a big artifact.

    python bench/bench_blobs.py                 # 1,000 small blobs, 20 x 4 MB, a 1 GB artifact
    python bench/bench_blobs.py --big-mb 256    # a smaller big artifact

Reported as ratios (verified read / unverified read; peak RSS growth / value size), never
asserted by tests. The unverified baseline is `pickle.loads` of the blob's bytes, read whole.
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

from flowtui.store.blobs import BlobStore


def _unverified(blobs: BlobStore, digest: str) -> object:
    data = blobs.path(digest).read_bytes()
    body = zlib.decompress(data[1:]) if data[:1] == b"Z" else data[1:]
    return pickle.loads(body)


def _time(fn, digests: list[str]) -> float:
    start = time.perf_counter()
    for d in digests:
        fn(d)
    return time.perf_counter() - start


def read_costs(root: Path) -> None:
    blobs = BlobStore(root / "blobs")
    groups = {
        "1,000 small values (dicts of ~1 KB)": [
            blobs.put_value({"i": i, "payload": os.urandom(512).hex()}).hash for i in range(1000)
        ],
        "20 values of 4 MB (incompressible)": [
            blobs.put_value(os.urandom(4 << 20)).hash for _ in range(20)
        ],
        "20 values of 4 MB (compressible)": [
            blobs.put_value(bytes([i]) * (4 << 20)).hash for i in range(20)
        ],
    }
    print("| blobs | unverified read | verified read (get_value) | ratio | intact() blobs/s |")
    print("|---|---|---|---|---|")
    for name, digests in groups.items():
        for d in digests:  # warm the page cache for both
            blobs.path(d).read_bytes()
        plain = min(_time(lambda d: _unverified(blobs, d), digests) for _ in range(3))
        checked = min(_time(blobs.get_value, digests) for _ in range(3))
        verify = min(_time(blobs.intact, digests) for _ in range(3))
        print(
            f"| {name} | {plain * 1e3:.1f} ms | {checked * 1e3:.1f} ms | "
            f"{checked / plain:.2f} | {len(digests) / verify:,.0f} |"
        )


# VmHWM (the peak RSS of this process image): ru_maxrss would carry the parent's over exec
_LOAD = """
import sys
from pathlib import Path
from flowtui.store.blobs import BlobStore
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
blobs = BlobStore(Path(sys.argv[1]))
before = peak()
value = blobs.get_value(sys.argv[2])
print(before, peak(), len(value))
"""


def big_load(root: Path, mb: int) -> None:
    blobs = BlobStore(root / "blobs")
    value = os.urandom(mb << 20)
    ref = blobs.put_value(value)
    del value
    blobs.path(ref.hash).read_bytes()  # in the page cache, as a fresh write would be
    out = subprocess.run(
        [sys.executable, "-c", _LOAD, str(blobs.root), ref.hash],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    before, after, size = (int(x) for x in out)
    grew = after - before
    print(
        f"| load a {mb:,} MB artifact (verified, streamed) | peak RSS grew {grew / 2**20:,.0f} MB"
        f" | {grew / size:.2f}x the value |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big-mb", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-blobs-") as tmp:
        read_costs(Path(tmp))
        print()
        big_load(Path(tmp), args.big_mb)
    print(f"\n(max RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss} KB)")


if __name__ == "__main__":
    main()
