"""Rich renderables for the CLI readers: the runs table, a task's artifacts, one value.

Text that comes from user code (reprs, tags) is never read as Rich markup.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from rich.table import Table
from rich.text import Text

from flowtui.store.records import RunRecord
from flowtui.units import human_duration, human_size

if TYPE_CHECKING:  # `flowtui runs` draws its table without loading the client's objects
    from flowtui.client.objects import Task

STATUS_STYLES = {
    "running": "bold yellow",
    "succeeded": "green",
    "failed": "bold red",
    "cancelled": "yellow",
    "crashed": "bold magenta",
}


def started_at(ts: float, now: float) -> str:
    """`14:03:27` for today, `2024-05-02 14:03` before."""
    when = datetime.fromtimestamp(ts)
    if when.date() == datetime.fromtimestamp(now).date():
        return when.strftime("%H:%M:%S")
    return when.strftime("%Y-%m-%d %H:%M")


def _origin(run: RunRecord) -> str:
    if run.kind == "resume":
        return f"resume of {run.origin_run_id} from {run.resume_step}"
    if run.kind == "spin":
        return f"spin of {run.resume_step} from {run.origin_run_id}"
    return ""


def runs_table(runs: list[RunRecord], *, now: float | None = None) -> Table:
    """One row per run: id, status, start, duration, origin, tags (user tags)."""
    now = time.time() if now is None else now
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name, justify in (("id", "right"), ("status", "left"), ("start", "left")):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    table.add_column("duration", justify="right", no_wrap=True)
    table.add_column("origin", no_wrap=True)
    table.add_column("tags", overflow="fold")
    for run in runs:
        if run.finished is not None:
            duration = human_duration(run.finished - run.created)
        elif run.status == "running":
            duration = human_duration(now - run.created) + "…"
        else:
            duration = "—"
        table.add_row(
            run.run_id,
            Text(run.status, style=STATUS_STYLES.get(run.status, "")),
            started_at(run.created, now),
            duration,
            Text(_origin(run), style="dim"),
            Text(", ".join(run.tags)),
        )
    return table


class ArtifactRow(Protocol):
    """What the artifacts table shows of an artifact (flowtui's, or one Metaflow stored)."""

    @property
    def id(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def size(self) -> int | None: ...

    @property
    def repr(self) -> str: ...


def artifacts_table(task: Task | Iterable[ArtifactRow], width: int = 100) -> Table:
    """A task's artifacts: name, type, size, and the short repr recorded when it was stored.

    Name, type and size are never squeezed out: the value column takes what is left of
    `width` (the console's), its text cut with an ellipsis."""
    rows = [
        (
            Text(a.id),
            Text(a.type),
            Text("—" if a.size is None else human_size(a.size)),
            Text(a.repr),
        )
        for a in task
    ]
    fixed = [
        max([len(header), *(r[i].cell_len for r in rows)])
        for i, header in enumerate(("name", "type", "size"))
    ]
    value_width = max(12, width - sum(fixed) - 6)  # two spaces between columns
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("name", style="bold", no_wrap=True, min_width=fixed[0])
    table.add_column("type", style="cyan", no_wrap=True, min_width=fixed[1])
    table.add_column("size", justify="right", no_wrap=True, min_width=fixed[2])
    table.add_column("value", no_wrap=True, max_width=value_width)
    for name, type_, size, value in rows:
        value.truncate(value_width, overflow="ellipsis")
        table.add_row(name, type_, size, value)
    return table
