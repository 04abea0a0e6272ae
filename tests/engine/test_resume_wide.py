"""Resume of a wide foreach: every reused task reads, through the client, exactly as the task it
was cloned from (its artifacts, its logs, its attempts and where they ran, its place in the
foreach), and points back at it. The clone is one set operation in the store
(`store.attempts.clone_tasks`); this checks what a user reads of its result."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowtui.client import Run, Task, default_metadata, metadata, namespace

WIDTH = 300

WIDE = f"""
import os
import sys
from flowtui import FlowSpec, step

class WideFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range({WIDTH}))
        print("fanning out")
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.x = self.input * 2
        self.label = f"item-{{self.input}}"
        print(f"body {{self.input}} out")
        print(f"body {{self.input}} err", file=sys.stderr)
        self.next(self.join)

    @step
    def join(self, inputs):
        if os.environ.get("WIDE_FAIL") == "1":
            raise RuntimeError("the join fails on purpose")
        self.total = sum(i.x for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


@pytest.fixture
def wide(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "wide.py").write_text(textwrap.dedent(WIDE))
    metadata(str(tmp_path / "store"))
    namespace(None)
    yield tmp_path
    default_metadata()


def flowtui(folder: Path, *args: str, fail: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowtui", *args, "--store", str(folder / "store"), "-q"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "WIDE_FAIL": "1" if fail else "0"},
    )


def what_a_reader_sees(task: Task) -> dict[str, object]:
    """Everything the client answers about a finished task that is not about its new run."""
    meta = dict(task.metadata_dict)
    for key in ("runtime", "origin-run-id"):  # the run's, not the task's
        meta.pop(key)
    meta.pop("origin-task-id", None)  # a clone's only, as Metaflow's: the task it reused
    return {
        "step": task.parent.id,
        "index": task.index,
        "foreach_indices": task.foreach_indices,
        "successful": task.successful,
        "artifacts": {a.id: (a.sha, a.type, a.size) for a in task},
        "values": {a.id: a.data for a in task if a.id in ("x", "label")},
        "stdout": task.stdout,
        "stderr": task.stderr,
        "metadata": meta,
        "peak_memory": task.peak_memory,
        "cpu_time": task.cpu_time,
    }


def test_a_resumed_300_wide_foreach_reads_exactly_as_the_run_it_cloned(wide: Path):
    options = ("--max-workers", "2", "--max-num-splits", "1000")
    failed = flowtui(wide, "run", "wide.py", *options, fail=True)
    assert failed.returncode == 1, failed.stderr
    resumed_cli = flowtui(wide, "resume", "wide.py", *options)
    assert resumed_cli.returncode == 0, resumed_cli.stderr

    origin, resumed = Run("WideFlow/1"), Run("WideFlow/2")
    assert resumed.successful and resumed.origin == origin and resumed.resume_step == "join"
    assert resumed.data.total == sum(2 * i for i in range(WIDTH))

    before = {t.index: t for t in origin["body"]}
    after = {t.index: t for t in resumed["body"]}
    assert len(after) == len(before) == WIDTH
    assert all(t.status == "cloned" for t in after.values())
    for index, clone in after.items():
        source = before[index]
        assert clone.origin_pathspec == source.pathspec
        assert what_a_reader_sees(clone) == what_a_reader_sees(source), index
    # the clone keeps where each attempt ran and what it used (not only its values)
    some = after[7].metadata_dict
    assert some["executor"] == "local" and int(some["worker-pid"]) > 0 and "peak-rss" in some

    start = resumed["start"].task
    assert start.status == "cloned" and start.stdout == "fanning out\n"
    assert what_a_reader_sees(start) == what_a_reader_sees(origin["start"].task)
    # the steps that ran again ran in the new run, with their own records
    assert resumed["join"].task.origin_pathspec is None
    assert (
        resumed["join"].task.metadata_dict["worker-pid"]
        != origin["join"].task.metadata_dict["worker-pid"]
    )
