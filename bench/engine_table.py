"""The engine benchmark's results: one `Row` per measurement, printed as a table or Markdown,
and a description of the machine they were measured on."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Row:
    """One line of the table. Numbers are kept raw for --json; `unit` says how to read them."""

    group: str
    name: str
    unit: str  # "s", "ms", "MB", "%", "count", "ms/task"
    flowtui: float | None
    metaflow: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Metaflow / flowtui: how many times more Metaflow takes (or holds)."""
        if self.flowtui and self.metaflow is not None and self.unit != "%":
            return self.metaflow / self.flowtui
        return None


def number(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "count":
        return f"{value:g}"
    if unit == "%":
        return f"{value:.0f}%"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    return f"{value:.2f} {unit}" if value < 100 else f"{value:.0f} {unit}"


def verdict(row: Row) -> str:
    return "" if row.met is None else ("yes" if row.met else "NO")


COLUMNS = ("name", "flowtui", "Metaflow", "MF/flowtui", "target", "met")


def cells(row: Row) -> tuple[str, ...]:
    ratio = f"{row.ratio:.1f}x" if row.ratio is not None else ""
    return (
        row.name,
        number(row.flowtui, row.unit),
        number(row.metaflow, row.unit),
        ratio,
        row.target,
        verdict(row),
    )


def format_row(row: Row) -> str:
    return "  " + " | ".join(cells(row))


def table(rows: list[Row], markdown: bool = False) -> str:
    body = [COLUMNS, *(cells(r) for r in rows)]
    if markdown:
        lines = ["| " + " | ".join(body[0]) + " |", "|" + "---|" * len(COLUMNS)]
        lines += ["| " + " | ".join(c or " " for c in r) + " |" for r in body[1:]]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in body) for i in range(len(COLUMNS))]
    out = []
    for i, r in enumerate(body):
        out.append(
            "  ".join(
                c.ljust(w) if j == 0 else c.rjust(w)
                for j, (c, w) in enumerate(zip(r, widths, strict=True))
            ).rstrip()
        )
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def machine(metaflow_python: str | None) -> dict[str, str]:
    info = {
        "nproc": str(os.cpu_count()),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "flowtui": _version("flowtui"),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    if metaflow_python:
        done = subprocess.run(
            [
                metaflow_python,
                "-c",
                "import metaflow, sys; print(metaflow.__version__, sys.version.split()[0])",
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode == 0:
            version, python = done.stdout.split()
            info["metaflow"] = version
            info["metaflow_python"] = python
    return info


def load_after() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown"
