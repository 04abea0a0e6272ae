"""A full disk and an over-large task are named for what they are (defect 7 of issue 10, and
resource limits). The disk is a real small tmpfs, mounted in a private mount namespace
(`unshare -rm`), so nothing outside the test sees it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from lab import Lab


def _can_mount_tmpfs() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


needs_tmpfs = pytest.mark.skipif(
    not _can_mount_tmpfs(),
    reason="this machine does not allow a private mount namespace (unshare -rm) for a tmpfs",
)

BIG_FLOW = """
    import os
    from flowtui import FlowSpec, step

    class FillFlow(FlowSpec):
        @step
        def start(self):
            self.small = "kept"
            self.next(self.fill)

        @step
        def fill(self):
            self.big = os.urandom(6 << 20)  # incompressible, more than the disk has left
            self.next(self.end)

        @step
        def end(self):
            self.total = len(self.big)
"""


def in_small_disk(lab: Lab, script: str, size: str = "8m") -> subprocess.CompletedProcess[str]:
    """Run `script` (sh) with a fresh tmpfs of `size` mounted at $DISK, in a private namespace."""
    disk = lab.root / "disk"
    disk.mkdir()
    body = f"mount -t tmpfs -o size={size} tmpfs {disk} && cd {lab.root} && " + textwrap.dedent(
        script
    )
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", body],
        capture_output=True,
        text=True,
        timeout=300,
        env={**lab.env, "DISK": str(disk), "PY": sys.executable},
    )


@needs_tmpfs
def test_a_disk_filling_up_mid_run_is_named_and_resume_finishes_once_space_is_freed(lab: Lab):
    lab.write("fill.py", BIG_FLOW)
    out = lab.root / "out"
    out.mkdir()
    done = in_small_disk(
        lab,
        f"""
        export FLOWTUI_STORE=$DISK/store
        head -c 3M /dev/urandom > $DISK/ballast
        $PY -m flowtui run fill.py --quiet > {out}/run.out 2> {out}/run.err
        echo $? > {out}/run.code
        $PY -m flowtui runs FillFlow > {out}/runs.out 2>&1
        $PY -m flowtui artifacts FillFlow/1/start small > {out}/small.out 2>&1
        rm $DISK/ballast
        $PY -m flowtui resume fill.py --quiet > {out}/resume.out 2>&1
        echo $? > {out}/resume.code
        $PY -m flowtui artifacts FillFlow/2/end total > {out}/total.out 2>&1
        """,
    )
    assert done.returncode == 0, done.stderr
    said = (out / "run.out").read_text() + (out / "run.err").read_text()
    assert (out / "run.code").read_text().strip() == "1", said
    assert f"The disk holding the store {lab.root / 'disk' / 'store'} is full" in said
    assert "cannot be pickled" not in said and "read-only" not in said
    assert "Traceback" not in said
    assert "Free some space, then: flowtui resume fill.py" in said, said  # not "Fix the code"
    assert "failed" in (out / "runs.out").read_text()
    assert "kept" in (out / "small.out").read_text()  # what was stored before is kept
    assert (out / "resume.code").read_text().strip() == "0", (out / "resume.out").read_text()
    assert str(6 << 20) in (out / "total.out").read_text()


@needs_tmpfs
def test_a_store_on_a_full_disk_says_full_not_read_only(lab: Lab):
    lab.write("fill.py", BIG_FLOW)
    out = lab.root / "out"
    out.mkdir()
    done = in_small_disk(
        lab,
        f"""
        head -c 2M /dev/zero > $DISK/ballast 2>/dev/null
        $PY -m flowtui run fill.py --store $DISK/store > {out}/run.out 2>&1
        echo $? > {out}/run.code
        """,
        size="2m",
    )
    assert done.returncode == 0, done.stderr
    said = (out / "run.out").read_text()
    assert (out / "run.code").read_text().strip() != "0"
    assert "is full" in said and "read-only" not in said and "Traceback" not in said, said


def test_a_task_over_its_memory_limit_is_reported_out_of_memory(lab: Lab):
    lab.write(
        "hungry.py",
        """
        from flowtui import FlowSpec, resources, step

        class HungryFlow(FlowSpec):
            @resources(memory=200)
            @step
            def start(self):
                self.hog = bytearray(600 << 20)  # over the 200 MB asked for
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    )
    ran = lab.cli("run", "hungry.py", "--quiet")
    assert ran.code == 1
    assert "OutOfMemory" in ran.output and "@resources(memory=200)" in ran.output, ran.output
    run = lab.runs("HungryFlow")[0]
    assert run.status == "failed"


def test_free_disk_is_not_needed_to_read_back(lab: Lab, tmp_path: Path):
    """Readers open a store without writing to it: they work on a full disk too."""
    lab.write("fill.py", BIG_FLOW.replace("6 << 20", "1 << 10"))
    assert lab.cli("run", "fill.py", "--quiet").code == 0
    before = {p: p.stat().st_mtime_ns for p in lab.store_path.rglob("*") if p.is_file()}
    assert "kept" in lab.cli("artifacts", "FillFlow/1/start", "small").stdout
    after = {p: p.stat().st_mtime_ns for p in lab.store_path.rglob("*") if p.is_file()}
    assert {p for p in after if p not in before} <= {
        lab.store_path / "metadata.db-wal",
        lab.store_path / "metadata.db-shm",
    }


@needs_tmpfs
def test_an_existing_store_on_a_disk_that_filled_since_says_full_not_read_only(lab: Lab):
    """A store used before, its disk filled since: SQLite cannot grow the WAL's shared memory
    (an I/O error, not SQLITE_FULL), which read as 'read-only'. Readers still read it."""
    lab.write("fill.py", BIG_FLOW.replace("6 << 20", "1 << 10"))
    out = lab.root / "out"
    out.mkdir()
    done = in_small_disk(
        lab,
        f"""
        export FLOWTUI_STORE=$DISK/store
        $PY -m flowtui run fill.py --quiet > {out}/first.out 2>&1
        head -c 8M /dev/zero > $DISK/ballast 2>/dev/null
        $PY -m flowtui run fill.py --quiet > {out}/run.out 2>&1
        echo $? > {out}/run.code
        $PY -m flowtui doctor --repair > {out}/repair.out 2>&1
        $PY -m flowtui artifacts FillFlow/1/start small > {out}/small.out 2>&1
        rm $DISK/ballast
        $PY -m flowtui run fill.py --quiet > {out}/again.out 2>&1
        echo $? > {out}/again.code
        """,
        size="2m",
    )
    assert done.returncode == 0, done.stderr
    said = (out / "run.out").read_text()
    assert (out / "run.code").read_text().strip() not in ("0", ""), said
    assert f"The disk holding the store {lab.root / 'disk' / 'store'} is full" in said, said
    assert "read-only" not in said and "Traceback" not in said, said
    repair = (out / "repair.out").read_text()
    assert "is full" in repair and "read-only" not in repair, repair
    assert "kept" in (out / "small.out").read_text()  # readers read it, full or not
    assert (out / "again.code").read_text().strip() == "0", (out / "again.out").read_text()
