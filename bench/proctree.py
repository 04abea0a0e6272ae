"""Peak memory of a process and all its descendants, sampled from /proc (Linux only).

`ProcessTreeSampler(pid)` runs a thread that, every `interval` seconds, walks the tree below
`pid` through `/proc/PID/task/TID/children` and sums each process's `Pss` and `Rss` from
`/proc/PID/smaps_rollup`. PSS splits pages shared between processes (a forked child and its
parent, say) among them, so summed PSS is the tree's real footprint; summed RSS counts shared
pages once per process and overstates it. Both peaks are kept.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class MemoryPeak:
    pss_mb: float
    rss_mb: float
    max_processes: int
    samples: int


def supported() -> bool:
    return (PROC / "self" / "smaps_rollup").exists()


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (those alive right now)."""
    found = [pid]
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            threads = list((PROC / str(parent) / "task").iterdir())
        except OSError:
            continue
        for thread in threads:
            try:
                children = (thread / "children").read_text().split()
            except OSError:
                continue
            for child in children:
                found.append(int(child))
                todo.append(int(child))
    return found


def memory_kb(pid: int) -> tuple[int, int]:
    """(Pss, Rss) of one process in kB, or (0, 0) once it has gone."""
    pss = rss = 0
    try:
        text = (PROC / str(pid) / "smaps_rollup").read_text()
    except OSError:
        return 0, 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            pss = int(line.split()[1])
        elif line.startswith("Rss:"):
            rss = int(line.split()[1])
    return pss, rss


class ProcessTreeSampler:
    """Samples a process tree's summed memory in a thread until `stop()`; then read `peak`."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.pid = pid
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)
        self._pss = self._rss = self._processes = self._samples = 0

    def start(self) -> ProcessTreeSampler:
        self._thread.start()
        return self

    def stop(self) -> MemoryPeak:
        self._stop.set()
        self._thread.join()
        return self.peak

    @property
    def peak(self) -> MemoryPeak:
        return MemoryPeak(self._pss / 1024, self._rss / 1024, self._processes, self._samples)

    def _sample_until_stopped(self) -> None:
        while not self._stop.is_set():
            pids = descendants(self.pid)
            pss = rss = 0
            for pid in pids:
                p, r = memory_kb(pid)
                pss += p
                rss += r
            self._pss = max(self._pss, pss)
            self._rss = max(self._rss, rss)
            self._processes = max(self._processes, len(pids))
            self._samples += 1
            self._stop.wait(self.interval)
