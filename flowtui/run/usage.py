"""A task attempt's use of the machine: CPU and memory, live while it runs, peak once it ended.

The local runner reads them from the OS (`engine/usage.py`); live samples travel as `task_usage`
events, and each attempt's peak is stored with its metadata under `PEAK_RSS` and `CPU_TIME`
(`Task.metadata_dict`). A Ray task is sampled the same way on its worker. Where nothing was
measured (an OS other than Linux) there is no usage at all, never a made-up one.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowtui.units import human_duration, human_size

PEAK_RSS = "peak-rss"  # bytes resident at the attempt's peak (task metadata field)
CPU_TIME = "cpu-time"  # seconds of CPU the attempt used, user + system (task metadata field)


@dataclass(frozen=True)
class Usage:
    """Memory (`rss`, bytes) and CPU time (s) of a task attempt; `cpu` (percent of one core
    over the last second) only in a live sample."""

    rss: int
    cpu_time: float
    cpu: float | None = None

    def to_metadata(self) -> dict[str, str]:
        """The stored form of a peak: task metadata fields."""
        return {PEAK_RSS: str(self.rss), CPU_TIME: f"{self.cpu_time:.3f}"}

    @classmethod
    def from_metadata(cls, fields: dict[str, str]) -> Usage | None:
        """The peak stored in an attempt's metadata (None when none was measured)."""
        try:
            return cls(int(fields[PEAK_RSS]), float(fields[CPU_TIME]))
        except (KeyError, ValueError):
            return None

    def live_fields(self) -> list[str]:
        """`CPU 97%`, `mem 212.4 MB`: a running task, as the TUI's task header shows it."""
        cpu = [] if self.cpu is None else [f"CPU {self.cpu:.0f}%"]
        return [*cpu, f"mem {human_size(self.rss)}"]

    def peak_fields(self) -> list[str]:
        """`peak mem 212.4 MB`, `CPU time 3.1s`: a finished attempt's stored peak."""
        return [f"peak mem {human_size(self.rss)}", f"CPU time {human_duration(self.cpu_time)}"]
