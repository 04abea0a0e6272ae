"""`flowtui doctor [--repair]`: names every problem with the pathspecs it affects, tidies the
leftovers of crashes, and never deletes a blob a task uses."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys

import pytest
from lab import Lab, wait_for

from flowtui.store import BlobStore
from flowtui.store.blobs import TEMP_PLACE

FLOW = """
    import os
    from flowtui import FlowSpec, step

    class DocFlow(FlowSpec):
        @step
        def start(self):
            self.message = "the answer is 42"
            self.numbers = list(range(1000))
            if os.environ.get("STARTED"):
                open(os.environ["STARTED"], "w").close()
                while True:
                    pass
            self.next(self.end)

        @step
        def end(self):
            print("done")
"""


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_clean_store_is_clean(lab: Lab):
    lab.write("doc.py", FLOW)
    assert lab.cli("run", "doc.py").code == 0
    ran = lab.cli("doctor")
    assert ran.code == 0, ran.output
    assert "blobs verified" in ran.stdout and "ok: nothing wrong with the store." in ran.stdout


def test_damage_is_named_with_its_pathspecs_and_never_repaired_away(lab: Lab):
    lab.write("doc.py", FLOW)
    assert lab.cli("run", "doc.py").code == 0
    store = lab.store
    start = store.meta.tasks("1", "start")[0]
    art = {a.name: a for a in store.meta.artifacts(start.task_id)}["message"]
    path = store.blobs.path(art.hash)
    path.write_bytes(path.read_bytes().replace(b"42", b"92"))
    log = store.meta.attempts(start.task_id)[0].stdout
    os.unlink(log)
    ran = lab.cli("doctor")
    assert ran.code == 3, ran.output
    assert f"damage: blob {art.hash[:12]} is damaged" in ran.stdout
    assert f"DocFlow/1/start/{start.task_id} message" in ran.stdout
    assert "DocFlow/1/end/" in ran.stdout  # the end task inherited the same value
    assert f"damage: log file {log} is missing: DocFlow/1/start/{start.task_id}#0" in ran.stdout
    repaired = lab.cli("doctor", "--repair")
    assert repaired.code == 3 and path.exists()


def test_repair_removes_the_leftovers_of_crashes_and_keeps_every_used_blob(lab: Lab):
    lab.write("doc.py", FLOW)
    assert lab.cli("run", "doc.py").code == 0
    blobs = BlobStore(lab.store_path / "blobs")
    unused = blobs.put_value("nobody uses me")
    orphan = blobs.root / f".deadbeefdeadbeef.{dead_pid()}.{TEMP_PLACE}.tmp"
    orphan.write_bytes(b"half a blob")
    ran = lab.cli("doctor")
    assert ran.code == 1, ran.output
    assert f"leftover: blob {unused.hash[:12]} is referenced by no run" in ran.stdout
    assert f"leftover: temp file {orphan} was left by a writer that died" in ran.stdout
    repaired = lab.cli("doctor", "--repair")
    assert repaired.code == 0, repaired.output
    assert "repaired: removed unreferenced blob" in repaired.stdout
    assert not orphan.exists() and not blobs.path(unused.hash).exists()
    assert "the answer is 42" in lab.cli("artifacts", "DocFlow/1/end", "message").stdout
    assert lab.cli("doctor").code == 0


RETRIED = """
    from flowtui import FlowSpec, current, retry, step

    class RetriedFlow(FlowSpec):
        @retry(times=1)
        @step
        def start(self):
            self.tried = "attempt %d's own value" % current.retry_count
            if current.retry_count == 0:
                raise RuntimeError("the first attempt fails")
            self.next(self.end)

        @step
        def end(self):
            pass
"""


def test_repair_keeps_the_values_a_retried_attempt_stored(lab: Lab):
    """An attempt @retry ran again after keeps what it stored (`Task(p, attempt=0).data`):
    its blobs are referenced, so doctor neither calls them leftovers nor removes them."""
    lab.write("retried.py", RETRIED)
    assert lab.cli("run", "retried.py", "--quiet").code == 0
    clean = lab.cli("doctor")
    assert clean.code == 0 and "unreferenced" not in clean.output, clean.output
    assert lab.cli("doctor", "--repair").code == 0
    store = lab.store
    try:
        start = next(t for t in store.meta.tasks("1") if t.step == "start")
        first = {a.name: a.hash for a in store.meta.artifacts(start.task_id, attempt=0)}
        assert store.blobs.get_value(first["tried"]) == "attempt 0's own value"
    finally:
        store.close()


def test_a_run_whose_runner_was_killed_reads_crashed_and_repair_settles_it(lab: Lab):
    lab.write("doc.py", FLOW)
    started = lab.root / "started"
    lab.env["STARTED"] = str(started)
    proc = lab.start("run", "doc.py", "--quiet")
    wait_for(started.exists, "the step to start")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    wait_for(lambda: lab.runs("DocFlow")[0].status == "crashed", "the run to read crashed")
    ran = lab.cli("doctor")
    assert ran.code == 1, ran.output
    assert "run DocFlow/1 is recorded as running but its runner is gone" in ran.stdout
    repaired = lab.cli("doctor", "--repair")
    assert "repaired: marked run 1 crashed" in repaired.stdout
    assert repaired.code == 0, repaired.output
    assert lab.runs("DocFlow")[0].status == "crashed"
    del lab.env["STARTED"]
    assert lab.cli("resume", "doc.py").code == 0


def _can_bind_read_only() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount --bind /tmp /mnt && mount -o remount,bind,ro /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


PARAM_FLOW = """
    from flowtui import FlowSpec, Parameter, step

    class ParamFlow(FlowSpec):
        size = Parameter("size", default=3)

        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass
"""


@pytest.mark.skipif(
    not _can_bind_read_only(),
    reason="this machine does not allow a private mount namespace (unshare -rm) for a bind mount",
)
@pytest.mark.parametrize("in_use", [False, True], ids=["closed", "snapshot-in-use"])
def test_a_store_on_read_only_media_is_read_and_every_write_is_one_sentence(lab: Lab, in_use: bool):
    """A read-only store (a mounted snapshot, a colleague's share): doctor was a traceback
    from SQLite ("unable to open database file"); and when the WAL's files were there (a
    snapshot of a store in use), SQLite opened it for writing, so `run` of a flow with a
    parameter and `spin` were tracebacks (EROFS, "attempt to write a readonly database")."""
    lab.write("doc.py", FLOW)
    lab.write("param.py", PARAM_FLOW)
    assert lab.cli("run", "doc.py").code == 0
    out = lab.root / "out"
    out.mkdir()
    holder = None
    if in_use:  # a reader holds the database open: its -wal and -shm files exist
        holder = sqlite3.connect(lab.store_path / "metadata.db")
        holder.execute("SELECT count(*) FROM runs").fetchone()
        assert (lab.store_path / "metadata.db-shm").exists()
    commands = {
        "check": "doctor",
        "repair": "doctor --repair",
        "run": "run param.py --quiet",
        "spin": "spin doc.py end --quiet",
    }
    script = (
        f'mount --bind "{lab.store_path}" "{lab.store_path}" && '
        f'mount -o remount,bind,ro "{lab.store_path}" && '
        + "; ".join(
            f'"{sys.executable}" -m flowtui {args} > {out}/{name}.out 2>&1; '
            f"echo $? > {out}/{name}.code"
            for name, args in commands.items()
        )
    )
    try:
        done = subprocess.run(
            ["unshare", "-rm", "sh", "-c", script],
            capture_output=True,
            text=True,
            timeout=300,
            env=lab.env,
            cwd=lab.root,
        )
    finally:
        if holder is not None:
            holder.close()
    assert done.returncode == 0, done.stderr
    said = {name: (out / f"{name}.out").read_text() for name in commands}
    codes = {name: (out / f"{name}.code").read_text().strip() for name in commands}
    assert codes == {"check": "0", "repair": "2", "run": "2", "spin": "2"}, said
    assert "blobs verified" in said["check"] and "ok: nothing wrong" in said["check"]
    assert said["repair"] == (
        f"error: The store at {lab.store_path} is read-only, so flowtui doctor --repair cannot "
        "tidy it; make it writable, or run flowtui doctor without --repair to check it.\n"
    )
    refusal = (
        f"error: The store at {lab.store_path} is read-only; pass a writable --store to run "
        "flows or change tags.\n"
    )
    assert said["run"] == refusal and said["spin"].endswith(refusal), said["spin"]
    assert "Traceback" not in said["spin"]
