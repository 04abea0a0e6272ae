"""Rich renderables for the CLI readers: the runs table, a task's artifacts, one value.

Text that comes from user code (reprs, tags) is never read as Rich markup.

The runs table is also written without Rich (`runs_table_text`), byte for byte as Rich writes it
to a file, when it fits the width: importing Rich costs more than `flowtui runs` may take.
"""

from __future__ import annotations

import time
from datetime import datetime

from flowtui.units import human_duration, human_size

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md)

if TYPE_CHECKING:  # `flowtui runs` draws its table without the client's objects (or Rich)
    from collections.abc import Iterable
    from typing import Protocol

    from rich.table import Table

    from flowtui.client.objects import Task
    from flowtui.store.glance import RunRow
    from flowtui.store.records import RunRecord

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


def _origin(run: RunRecord | RunRow) -> str:
    if run.kind == "resume":
        return f"resume of {run.origin_run_id} from {run.resume_step}"
    if run.kind == "spin":
        return f"spin of {run.resume_step} from {run.origin_run_id}"
    return ""


#: The runs table's columns: name, justification.
RUNS_COLUMNS = (
    ("id", "right"),
    ("status", "left"),
    ("start", "left"),
    ("duration", "right"),
    ("origin", "left"),
    ("tags", "left"),
)


def run_cells(run: RunRecord | RunRow, now: float) -> tuple[str, str, str, str, str, str]:
    """A run's row of the runs table: id, status, start, duration, origin, tags."""
    if run.finished is not None:
        duration = human_duration(run.finished - run.created)
    elif run.status == "running":
        duration = human_duration(now - run.created) + "…"
    else:
        duration = "—"
    origin, tags = _origin(run), ", ".join(run.tags)
    return run.run_id, run.status, started_at(run.created, now), duration, origin, tags


def runs_table(runs: list[RunRecord], *, now: float | None = None) -> Table:
    """One row per run: id, status, start, duration, origin, tags (user tags)."""
    from rich.table import Table
    from rich.text import Text

    now = time.time() if now is None else now
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name, justify in RUNS_COLUMNS[:4]:
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    table.add_column("origin", no_wrap=True)
    table.add_column("tags", overflow="fold")
    for run in runs:
        run_id, status, start, duration, origin, tags = run_cells(run, now)
        table.add_row(
            run_id,
            Text(status, style=STATUS_STYLES.get(status, "")),
            start,
            duration,
            Text(origin, style="dim"),
            Text(tags),
        )
    return table


#: Characters one cell wide to Rich whatever the terminal: the runs table's own (`…`, `—`) and
#: printable ASCII. A table holding any other is laid out by Rich.
_ONE_CELL = frozenset(map(chr, range(0x20, 0x7F))) | {"…", "—"}
#: The SGR codes of the words the table's styles are made of (in the order Rich writes them:
#: attributes, then the colour), the same on every colour system Rich detects on a terminal.
_SGR = {"bold": 1, "dim": 2} | {
    colour: 30 + n
    for n, colour in enumerate(("black", "red", "green", "yellow", "blue", "magenta", "cyan"))
}


def styled(text: str, style: str) -> str | None:
    """`text` in `style` as Rich writes it to a terminal (None: a style not made of `_SGR`'s
    words, or not in the order Rich writes its codes)."""
    if not style:
        return text
    codes = [_SGR.get(word) for word in style.split()]
    if None in codes or codes != sorted(codes):  # type: ignore[type-var]
        return None
    return f"\x1b[{';'.join(map(str, codes))}m{text}\x1b[0m"


def runs_table_text(
    runs: list[RunRow], width: int, *, terminal: bool = False, now: float | None = None
) -> str | None:
    """The runs table as Rich writes it `width` columns wide to a file (no styles) or to a
    `terminal` (styled), each line padded to the table's width; None when Rich would have to
    fit it (too wide, or characters whose width Rich measures) or draws a style not known here."""
    now = time.time() if now is None else now
    rows = [tuple(name for name, _ in RUNS_COLUMNS), *(run_cells(r, now) for r in runs)]
    if any(not _ONE_CELL.issuperset(cell) for row in rows for cell in row):
        return None
    widths = [max(len(row[i]) for row in rows) for i in range(len(RUNS_COLUMNS))]
    if sum(widths) + 2 * (len(widths) - 1) > width:
        return None
    lines = []
    for number, row in enumerate(rows):
        cells: list[str | None] = [
            cell.rjust(w) if justify == "right" else cell.ljust(w)
            for cell, w, (_, justify) in zip(row, widths, RUNS_COLUMNS, strict=True)
        ]
        between = "  "
        if terminal and number == 0:  # the header: each cell and each space bold
            cells = [styled(cell or "", "bold") for cell in cells]
            between = 2 * (styled(" ", "bold") or "")
        elif terminal:
            cells[1] = styled(cells[1] or "", STATUS_STYLES.get(row[1], ""))
            cells[4] = styled(cells[4] or "", "dim")
        if None in cells:
            return None
        lines.append(between.join(cell or "" for cell in cells) + "\n")
    return "".join(lines)


def artifacts_table(task: Task | Iterable[ArtifactRow], width: int = 100) -> Table:
    """A task's artifacts: name, type, size, and the short repr recorded when it was stored.

    Name, type and size are never squeezed out: the value column takes what is left of
    `width` (the console's), its text cut with an ellipsis."""
    from rich.text import Text

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
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("name", style="bold", no_wrap=True, min_width=fixed[0])
    table.add_column("type", style="cyan", no_wrap=True, min_width=fixed[1])
    table.add_column("size", justify="right", no_wrap=True, min_width=fixed[2])
    table.add_column("value", no_wrap=True, max_width=value_width)
    for name, type_, size, value in rows:
        value.truncate(value_width, overflow="ellipsis")
        table.add_row(name, type_, size, value)
    return table
