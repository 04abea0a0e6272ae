"""Crash consistency: kill the runner (or a task) at many moments of a real run; the store
always opens, doctor finds nothing lost, every succeeded task's artifacts load and equal what
the task set, and `flowtui resume` finishes with the right result.

Moments are the run's own state changes (the N-th event of `flowtui run --events`), so a seed
names the same point of progress on a fast or a slow machine. CI runs `SWEEP_SEEDS` seeded
points (default 2); `pytest -m slow_sweep` runs every event of the run (over 50).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from lab import Lab, wait_for

WIDTH = 24
BIG_MB = int(os.environ.get("SWEEP_BIG_MB", "100"))
SEEDS = int(os.environ.get("SWEEP_SEEDS", "2"))

SWEEP_FLOW = f"""
import hashlib, os, random
from flowtui import FlowSpec, step

class SweepFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range({WIDTH}))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.sq = self.input * self.input
        if os.environ.get("SWEEP_EXIT") == str(self.input) and not os.path.exists("exited"):
            open("exited", "w").close()
            os._exit(7)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.sq for i in inputs)
        self.next(self.big)

    @step
    def big(self):
        self.blob = random.Random(7).randbytes({BIG_MB} << 20)
        self.next(self.end)

    @step
    def end(self):
        self.digest = hashlib.sha256(self.blob).hexdigest()
"""
BLOB_DIGEST = hashlib.sha256(random.Random(7).randbytes(BIG_MB << 20)).hexdigest()
TOTAL = sum(i * i for i in range(WIDTH))


def expected(step: str, index: int | None, name: str) -> object:
    """What the task of `step` (foreach `index`) set `name` to; ... for anything else."""
    if name == "items":
        return list(range(WIDTH))
    if name == "sq" and step == "body":
        return (index or 0) ** 2
    if name == "total":
        return TOTAL
    if name == "digest":
        return BLOB_DIGEST
    return ...


def check_store(lab: Lab) -> None:
    """The store opens, doctor finds no damage, every succeeded task's artifacts are right."""
    doctor = lab.cli("doctor")
    assert doctor.code in (0, 1), doctor.output  # leftovers of the kill at most, nothing lost
    store = lab.store
    try:
        for run in store.meta.runs("SweepFlow"):
            for task in store.meta.tasks(run.run_id):
                if task.status not in ("succeeded", "cloned"):
                    continue
                for art in store.meta.artifacts(task.task_id):
                    value = store.blobs.get_value(art.hash, f"{task.pathspec} {art.name}")
                    if art.name == "blob":
                        assert hashlib.sha256(value).hexdigest() == BLOB_DIGEST, task.pathspec
                        continue
                    want = expected(task.step, task.foreach_index, art.name)
                    if want is not ...:
                        assert value == want, (task.pathspec, art.name)
    finally:
        store.close()


def run_and_kill_after(lab: Lab, event: int) -> int:
    """Start a run, SIGKILL its runner right after its `event`-th event; how many it wrote."""
    proc = lab.start("run", "sweep.py", "--events", stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    seen = 0
    for line in proc.stdout:
        if line.startswith("{"):
            seen += 1
        if seen >= event:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    proc.stdout.close()
    return seen


def resume_and_check(lab: Lab) -> None:
    runs = lab.runs("SweepFlow")
    if runs[0].status != "succeeded":
        wait_for(lambda: lab.runs("SweepFlow")[0].status != "running", "the run to read crashed")
        assert lab.runs("SweepFlow")[0].status in ("crashed", "failed")
        resumed = lab.cli("resume", "sweep.py", "--quiet")
        assert resumed.code == 0, resumed.output
    final = lab.runs("SweepFlow")[0]
    assert final.status == "succeeded"
    store = lab.store
    try:
        end = store.meta.tasks(final.run_id, "end")[0]
    finally:
        store.close()
    assert lab.value(end.task_id, "digest") == BLOB_DIGEST
    assert lab.value(end.task_id, "total") == TOTAL
    check_store(lab)


def count_events(lab: Lab) -> int:
    ran = lab.cli("run", "sweep.py", "--events")
    assert ran.code == 0, ran.output
    return sum(1 for line in ran.stdout.splitlines() if line.startswith("{"))


def sweep(lab: Lab, points: list[int]) -> None:
    lab.write("sweep.py", SWEEP_FLOW)
    for point in points:
        store = lab.store_path
        if store.exists():
            subprocess.run(["rm", "-rf", str(store)], check=True)
        run_and_kill_after(lab, point)
        if (store / "metadata.db").exists():
            check_store(lab)
            if lab.runs("SweepFlow"):
                resume_and_check(lab)


def test_killing_the_runner_at_seeded_moments_never_loses_or_corrupts_a_result(lab: Lab):
    lab.write("sweep.py", SWEEP_FLOW)
    total = count_events(lab)
    assert total > 50  # the moments a full sweep covers
    rng = random.Random(int(os.environ.get("SWEEP_SEED", "1")))
    sweep(lab, sorted(rng.sample(range(1, total), SEEDS)))


@pytest.mark.slow_sweep
@pytest.mark.timeout(3600)  # every kill point of a run, each resumed: about 15 minutes
def test_killing_the_runner_at_every_moment_of_a_run(lab: Lab):
    lab.write("sweep.py", SWEEP_FLOW)
    total = count_events(lab)
    sweep(lab, list(range(1, total)))


@pytest.mark.parametrize("how", ["SIGKILL", "SIGSEGV", "os._exit"])
def test_a_task_killed_mid_step_fails_named_and_resume_finishes(lab: Lab, how: str):
    lab.write("sweep.py", SWEEP_FLOW)
    if how == "os._exit":
        ran = lab.cli("run", "sweep.py", "--quiet", SWEEP_EXIT="5")
        assert ran.code == 1 and "called os._exit(7)" in ran.output, ran.output
    else:
        proc = lab.start("run", "sweep.py", "--events", stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        for line in proc.stdout:  # the big step: kill it while it makes its 100 MB value
            if '"task_started"' in line and '"step": "big"' in line:
                task = wait_for(lambda: _task_of(proc.pid), "the big step's process")
                os.kill(task, getattr(signal, how))
                break
        rest = proc.stdout.read()
        proc.wait()
        finished = json.loads(rest.strip().splitlines()[-1])
        assert finished["event"] == "run_finished" and finished["status"] == "failed"
        assert how in rest
    check_store(lab)
    resume_and_check(lab)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _task_of(runner: int) -> int | None:
    """The running task's process: a child of the runner's fork server (its one child)."""
    for server in _children(runner):
        tasks = _children(server)
        if tasks:
            return tasks[0]
    return None


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-m", "slow_sweep"]))
