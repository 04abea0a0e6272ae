"""A running task's CPU and memory, read from the OS (Linux's /proc) about once a second.

`UsageMonitor` lives in the runner's loop. Between samples it costs one clock read per turn;
a sample reads `/proc/<pid>/stat` of each local task process (and of its children, where the
kernel lists them in `/proc/<pid>/task/<tid>/children`) and gives each attempt its CPU % since
the previous sample and its resident memory (RSS, as the OS counts it: pages shared with the
runner the task was forked from count too). A pid is sampled only while the runner has not
reaped its process, so it cannot have been reused by another. When the attempt ends, its peak
is the larger of what the samples saw and what the kernel kept (`wait4`'s `ru_maxrss` and CPU
time), so a task shorter than a second has a peak too. Elsewhere than Linux nothing is read and
nothing is reported (`SUPPORTED`).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from flowtui.run.usage import Usage

SAMPLE_EVERY = 1.0  # seconds between samples
MAX_PROCESSES = 64  # processes of one task read per sample (a task that forks a crowd)
SUPPORTED = sys.platform.startswith("linux") and os.path.exists("/proc/self/stat")
_TICK = os.sysconf("SC_CLK_TCK") if SUPPORTED else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if SUPPORTED else 4096
_ME = os.getpid()
_CHILDREN_LISTED = SUPPORTED and os.path.exists(f"/proc/{_ME}/task/{_ME}/children")

Key = tuple[str, int]  # (task id, attempt)


def read_process(pid: int) -> tuple[float, int] | None:
    """(CPU seconds, RSS bytes) of process `pid`, counting the CPU of children it has reaped;
    None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        fields = data[data.rindex(b")") + 2 :].split()
        ticks = int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        return ticks / _TICK, int(fields[21]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def children_of(pid: int) -> list[int]:
    """The live children of `pid` (empty where the kernel does not list them)."""
    if not _CHILDREN_LISTED:
        return []
    found: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                found += [int(child) for child in f.read().split()]
        except (OSError, ValueError):
            continue
    return found


def read_tree(pid: int) -> tuple[float, int] | None:
    """(CPU seconds, RSS bytes) of `pid` and its descendants, summed; None when it is gone."""
    top = read_process(pid)
    if top is None:
        return None
    cpu, rss = top
    todo, seen = children_of(pid), 1
    while todo and seen < MAX_PROCESSES:
        child = todo.pop()
        usage = read_process(child)
        seen += 1
        if usage is not None:
            cpu, rss = cpu + usage[0], rss + usage[1]
            todo += children_of(child)
    return cpu, rss


class Sampler:
    """Samples one process tree where it runs (a Ray worker samples itself): CPU % since the
    previous sample, resident memory, and the peak of the attempt so far."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        first = read_tree(pid) if SUPPORTED else None
        self.start_cpu = first[0] if first else 0.0  # a reused worker's CPU before this attempt
        self.last_cpu, self.last_at = self.start_cpu, time.monotonic()
        self.peak_rss = first[1] if first else 0

    def note_peak(self) -> None:
        """Read the memory only, for the peak (cheaper than a sample, taken more often)."""
        read = read_tree(self.pid) if SUPPORTED else None
        if read is not None:
            self.peak_rss = max(self.peak_rss, read[1])

    def sample(self) -> Usage | None:
        """A sample now (None where nothing can be read); `cpu_time` counts this attempt only."""
        read = read_tree(self.pid) if SUPPORTED else None
        if read is None:
            return None
        now = time.monotonic()
        cpu_time, rss = read
        took = now - self.last_at
        cpu = max(0.0, (cpu_time - self.last_cpu) / took * 100) if took > 0 else 0.0
        self.last_cpu, self.last_at = cpu_time, now
        self.peak_rss = max(self.peak_rss, rss)
        return Usage(rss, max(0.0, cpu_time - self.start_cpu), round(cpu, 1))


class Reported:
    """Usage measured where a task runs, as it reaches the runner: the latest sample and the
    peak (written by the thread that receives samples, read by the runner's loop)."""

    def __init__(self) -> None:
        self.latest: Usage | None = None
        self.peak_rss = 0
        self.cpu_time = 0.0

    def report(self, usage: Usage, peak_rss: int = 0) -> None:
        self.peak_rss = max(self.peak_rss, usage.rss, peak_rss)
        self.cpu_time = max(self.cpu_time, usage.cpu_time)
        self.latest = usage

    def peak(self) -> Usage | None:
        return None if self.latest is None else Usage(self.peak_rss, round(self.cpu_time, 3))


@dataclass
class _Watched:
    pid: int
    last_cpu: float  # CPU seconds at the last sample
    last_at: float  # monotonic time of the last sample (the start, before the first)
    peak_rss: int = 0
    cpu_time: float = 0.0
    sampled: bool = False


class UsageMonitor:
    """The attempts being watched, their last sample, and their peaks."""

    def __init__(self, every: float = SAMPLE_EVERY, enabled: bool = SUPPORTED) -> None:
        self.every = every
        self.enabled = enabled
        self.watched: dict[Key, _Watched] = {}
        self.reported: dict[Key, Reported] = {}  # attempts sampled where they run
        self.next_at = time.monotonic() + every

    def watch(self, key: Key, pid: int | None, reported: Reported | None = None) -> None:
        """Watch attempt `key`, whose process is `pid` on this machine (None: elsewhere), or
        whose samples arrive in `reported` (a task on another machine)."""
        if reported is not None:
            self.reported[key] = reported
        elif self.enabled and pid is not None:
            self.watched[key] = _Watched(pid, 0.0, time.monotonic())

    def due(self) -> bool:
        return bool(self.watched or self.reported) and time.monotonic() >= self.next_at

    def sample(self) -> dict[Key, Usage]:
        """Read every watched attempt now: its CPU % since the last sample, its RSS."""
        now = time.monotonic()
        self.next_at = now + self.every
        samples: dict[Key, Usage] = {}
        for key, w in self.watched.items():
            read = read_tree(w.pid)
            if read is None:
                continue
            cpu_time, rss = read
            took = now - w.last_at
            cpu = max(0.0, (cpu_time - w.last_cpu) / took * 100) if took > 0 else 0.0
            w.last_cpu, w.last_at = cpu_time, now
            w.peak_rss = max(w.peak_rss, rss)
            w.cpu_time = max(w.cpu_time, cpu_time)
            w.sampled = True
            samples[key] = Usage(rss, cpu_time, round(cpu, 1))
        for key, reported in self.reported.items():
            if reported.latest is not None:
                samples[key] = reported.latest
        return samples

    def finish(self, key: Key, rusage: Any | None) -> Usage | None:
        """Stop watching `key`; its peak (None when nothing was measured). `rusage`: the
        kernel's account of the exited process (`os.wait4`), where the executor has one."""
        reported = self.reported.pop(key, None)
        if reported is not None:
            return reported.peak()
        w = self.watched.pop(key, None)
        if not self.enabled or (w is None and rusage is None):
            return None
        peak_rss, cpu_time = (w.peak_rss, w.cpu_time) if w is not None else (0, 0.0)
        if rusage is not None:  # Linux: ru_maxrss in KiB
            peak_rss = max(peak_rss, int(rusage.ru_maxrss) * 1024)
            cpu_time = max(cpu_time, float(rusage.ru_utime + rusage.ru_stime))
        elif w is None or not w.sampled:
            return None
        return Usage(peak_rss, round(cpu_time, 3))
