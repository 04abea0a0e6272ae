"""The flow files the engine benchmark runs, written so that flowtui and Metaflow run them alike.

Every flow imports from `metaflow` (flowtui resolves that to its own API), keeps its steps
trivial, and takes its sizes as literals baked into the source, so no parameter parsing is
measured. Steps that the benchmark times from inside write `name time` lines to the file named
by `$BENCH_STAMPS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STAMPS_ENV = "BENCH_STAMPS"
FAIL_JOIN_ENV = "BENCH_FAIL_JOIN"


@dataclass(frozen=True)
class BenchFlow:
    name: str  # the FlowSpec class, and the file's stem in lower case
    source: str
    tasks: int  # tasks one successful run executes

    def write(self, folder: Path) -> Path:
        path = folder / f"{self.name.lower()}.py"
        path.write_text(self.source)
        return path


_HEADER = '''import os
import time

from metaflow import FlowSpec, step


def stamp(name):
    """Append `name time` to the benchmark's stamp file."""
    with open(os.environ["BENCH_STAMPS"], "a") as f:
        f.write(f"{name} {time.time():.6f}\\n")

'''

_MAIN = """

if __name__ == "__main__":
    {name}()
"""


def _flow(name: str, body: str, tasks: int) -> BenchFlow:
    return BenchFlow(name, _HEADER + body + _MAIN.format(name=name), tasks)


def empty_flow() -> BenchFlow:
    """start -> end: the cost of starting the CLI, importing the flow and running two tasks."""
    return _flow(
        "EmptyFlow",
        """
class EmptyFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
""",
        2,
    )


def linear_flow(steps: int = 10) -> BenchFlow:
    """A chain of `steps` trivial steps (start and end included), each setting one integer."""
    names = ["start", *(f"step{i}" for i in range(1, steps - 1)), "end"]
    methods: list[str] = []
    for here, after in zip(names, [*names[1:], None], strict=True):
        lines = ["    @step", f"    def {here}(self):", f"        self.n = {len(methods)}"]
        if after:
            lines.append(f"        self.next(self.{after})")
        methods.append("\n".join(lines) + "\n")
    return _flow("LinearFlow", "\nclass LinearFlow(FlowSpec):\n" + "\n".join(methods), steps)


def foreach_flow(
    width: int, *, name: str = "ForeachFlow", fail_join: bool = False, join_reads: bool = True
) -> BenchFlow:
    """start fans out `width` trivial tasks, a join sums them; with `fail_join`, the join
    raises when $BENCH_FAIL_JOIN is 1 (for resume); without `join_reads`, the join only
    counts its inputs (reads no input's artifact)."""
    failure = (
        f"""        if os.environ.get("{FAIL_JOIN_ENV}") == "1":
            raise RuntimeError("the join fails on purpose (benchmark)")
"""
        if fail_join
        else ""
    )
    return _flow(
        name,
        f"""
class {name}(FlowSpec):
    @step
    def start(self):
        self.items = list(range({width}))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.x = self.input
        self.next(self.join)

    @step
    def join(self, inputs):
{failure}        self.total = {"sum(i.x for i in inputs)" if join_reads else "len(inputs)"}
        self.next(self.end)

    @step
    def end(self):
        pass
""",
        width + 3,
    )


def blob_flow(megabytes: int) -> BenchFlow:
    """start sets a `megabytes` MB random `bytes` artifact; `read` loads it (`len`).

    Stamps: `stored` just before start returns (the value exists, nothing written yet),
    `loaded` when the next step has the value in hand."""
    return _flow(
        "BlobFlow",
        f"""
class BlobFlow(FlowSpec):
    @step
    def start(self):
        import random

        rng = random.Random(7)  # randbytes takes at most 256 MB at a time
        self.blob = b"".join(rng.randbytes(1024 * 1024) for _ in range({megabytes}))
        stamp("stored")
        self.next(self.read)

    @step
    def read(self):
        self.size = len(self.blob)
        stamp("loaded")
        self.next(self.end)

    @step
    def end(self):
        pass
""",
        3,
    )


def passthrough_flow(steps: int = 10, kilobytes: int = 1024) -> BenchFlow:
    """start sets a random `kilobytes` KB value; it passes unchanged through `steps` steps,
    every other one reading it. Stored once means one blob of that size in the store."""
    names = ["start", *(f"step{i}" for i in range(1, steps - 1)), "end"]
    methods = [
        f"""    @step
    def start(self):
        import random

        self.payload = random.Random(11).randbytes({kilobytes} * 1024)
        self.next(self.{names[1]})
"""
    ]
    for i, here in enumerate(names[1:], start=1):
        lines = ["    @step", f"    def {here}(self):"]
        lines.append("        self.seen = len(self.payload)" if i % 2 else "        self.seen = 0")
        if i < len(names) - 1:
            lines.append(f"        self.next(self.{names[i + 1]})")
        methods.append("\n".join(lines) + "\n")
    return _flow("PassFlow", "\nclass PassFlow(FlowSpec):\n" + "\n".join(methods), steps)
