"""A user's machine breaking the store under a run (issue r17-crash): another program holding
the database's write lock. Real runners, a real store; waits on states, never on clocks."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import signal
import sqlite3
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path

import pytest
from lab import DEADLINE, Lab

from tests.gate import Gate, wait_for

WAIT = {"FLOWTUI_DB_WAIT": "1"}  # how long a writer waits for the lock before saying so

QUICK = """
    from flowtui import FlowSpec, step

    class QuickFlow(FlowSpec):
        @step
        def start(self):
            self.x = 1
            self.next(self.end)

        @step
        def end(self):
            pass
"""


@contextlib.contextmanager
def write_lock(db: Path) -> Iterator[None]:
    """Hold a write transaction on `db`, as an open `sqlite3` shell after BEGIN IMMEDIATE does."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def test_a_database_another_program_holds_is_one_sentence_not_a_traceback(lab: Lab):
    lab.write("quick.py", QUICK)
    assert lab.cli("run", "quick.py", "--quiet").code == 0
    with write_lock(lab.store_path / "metadata.db"):
        ran = lab.cli("run", "quick.py", "--quiet", **WAIT)
        runs = lab.cli("runs", "QuickFlow")  # readers never wait for a writer
    assert ran.code == 1, ran.output
    assert f"The store's database {lab.store_path / 'metadata.db'} stayed locked" in ran.output
    assert "Traceback" not in ran.output, ran.output
    assert runs.code == 0 and "succeeded" in runs.stdout, runs.output
    assert lab.cli("run", "quick.py", "--quiet").code == 0  # once it is let go, runs run
    assert [r.status for r in lab.runs("QuickFlow")] == ["succeeded", "succeeded"]


def test_a_database_locked_mid_run_stops_the_run_in_a_sentence_and_resume_finishes(lab: Lab):
    gate = Gate(lab.root)
    lab.env.update(WAIT)
    proc = lab.start("run", str(gate.path), "--quiet")
    try:
        wait_for(gate.started.exists, "the gated step to start", DEADLINE)
        with write_lock(lab.store_path / "metadata.db"):
            gate.release()  # the runner must now record the step's outcome: it cannot
            _, err = proc.communicate(timeout=DEADLINE)
    finally:
        proc.kill()
        proc.wait()
        gate.close()
    assert proc.returncode == 1, err
    assert "stayed locked by another process" in err and "Traceback" not in err, err
    assert [r.status for r in lab.runs("GateFlow")] == ["crashed"]
    resumed = lab.cli("resume", str(gate.path), "--quiet")
    assert resumed.code == 0, resumed.output
    assert [r.status for r in lab.runs("GateFlow")] == ["succeeded", "crashed"]


# `flowtui run` with each write of the runner's own thread that waited for the lock in vain
# said on stderr (`MetadataDB.transaction`, the one door every write goes through), so a test
# can count the waits a user sits through before the sentence.
COUNTED = """
import contextlib, sys, threading
from flowtui.store.db_trouble import StoreLockedError
from flowtui.store.metadata import MetadataDB

door = MetadataDB.transaction


@contextlib.contextmanager
def counted(self):
    try:
        with door(self) as c:
            yield c
    except StoreLockedError:
        if threading.current_thread() is threading.main_thread():
            print("a write waited in vain", file=sys.stderr, flush=True)
        raise


MetadataDB.transaction = counted
from flowtui.entry import main

sys.argv[0] = "flowtui"
main()
"""


def test_a_database_locked_mid_run_is_one_wait_then_the_sentence(lab: Lab):
    """After the outcome's write has waited FLOWTUI_DB_WAIT in vain, the runner's cleanup does
    not wait again (to record the run's end) before it says why it stopped: the run reads
    crashed whatever it wrote, and resume finishes it."""
    gate = Gate(lab.root)
    lab.env.update(WAIT)
    counted = lab.write("counted.py", COUNTED)
    proc = subprocess.Popen(
        [sys.executable, str(counted), "run", str(gate.path), "--quiet"],
        cwd=lab.root,
        env=lab.env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(gate.started.exists, "the gated step to start", DEADLINE)
        with write_lock(lab.store_path / "metadata.db"):
            gate.release()
            _, err = proc.communicate(timeout=DEADLINE)
    finally:
        proc.kill()
        proc.wait()
        gate.close()
    assert proc.returncode == 1, err
    waits, _, said = err.partition("stayed locked by another process")
    assert said and "Traceback" not in err, err
    assert waits.count("a write waited in vain") == 1, err
    assert [r.status for r in lab.runs("GateFlow")] == ["crashed"]


DAMAGE_FLOW = """
    import os
    from flowtui import FlowSpec, step

    class DmgFlow(FlowSpec):
        @step
        def start(self):
            self.items = list(range(4))
            self.next(self.body, foreach="items")

        @step
        def body(self):
            self.sq = "value %d" % (self.input * self.input)
            self.next(self.join)

        @step
        def join(self, inputs):
            self.total = [i.sq for i in inputs]
            if os.path.exists("bug"):
                raise RuntimeError("the user's bug")
            self.next(self.end)

        @step
        def end(self):
            pass
"""


@pytest.mark.parametrize("damage", ["truncated", "deleted"])
def test_resume_re_runs_the_task_whose_stored_value_a_run_found_damaged(lab: Lab, damage: str):
    """A stored value damaged after its task succeeded stops the step that loads it, which
    says 're-run the step that made it'; the resume the run's hint names must do that, not
    reuse the damaged task again (and fail the same way forever)."""
    lab.write("dmg.py", DAMAGE_FLOW)
    (lab.root / "bug").touch()
    assert lab.cli("run", "dmg.py", "--quiet").code == 1
    store = lab.store
    try:
        body = [t for t in store.meta.tasks("1") if t.step == "body"]
        digest = {a.name: a.hash for a in store.meta.artifacts(body[2].task_id)}["sq"]
        blob = store.blobs.path(digest)
    finally:
        store.close()
    if damage == "truncated":
        blob.write_bytes(blob.read_bytes()[:-3])
    else:
        blob.unlink()
    (lab.root / "bug").unlink()  # the user fixes the code and resumes
    first = lab.cli("resume", "dmg.py", "--quiet")
    assert first.code == 1 and "re-run the step that made it" in first.output, first.output
    assert "A stored value was lost; resume makes it again: flowtui resume dmg.py" in first.output
    # the plan `resume --plan` and the TUI's R show re-runs that task too
    plan = lab.cli("resume", "dmg.py", "--plan", "--json")
    assert plan.code == 0, plan.output
    assert json.loads(plan.output)["reused"]["body"] == [3, 4], plan.output
    again = lab.cli("resume", "dmg.py", "--quiet")  # as the run's last line says
    assert again.code == 0, again.output
    assert "body: 3 foreach tasks reused" in again.output, again.output
    store = lab.store
    try:
        join = next(t for t in store.meta.tasks("3") if t.step == "join")
        total = {a.name: a.hash for a in store.meta.artifacts(join.task_id)}["total"]
        assert store.blobs.get_value(total) == ["value 0", "value 1", "value 4", "value 9"]
    finally:
        store.close()
    assert lab.cli("doctor").code in (0, 1)  # the damaged value was written again: no damage


def _as_written_before_lost_values(db: Path) -> None:
    """Make `db` a store as flowtui wrote it before schema version 2: the facts of lost values
    only in the tasks' error messages."""
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("DROP TABLE lost_values")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")


@pytest.mark.parametrize("held", [False, True])
def test_a_store_written_before_lost_values_were_recorded_reads_them_from_its_messages(
    lab: Lab, held: bool
):
    """A store from before the lost_values table: opened for writing it is migrated (the
    table filled from the old messages); opened while another program holds it (or read-only),
    it is read as it was written, without waiting. Either way its plan re-runs the task whose
    value was found damaged, and nothing else changes."""
    lab.write("dmg.py", DAMAGE_FLOW)
    (lab.root / "bug").touch()
    assert lab.cli("run", "dmg.py", "--quiet").code == 1
    store = lab.store
    try:
        body = [t for t in store.meta.tasks("1") if t.step == "body"]
        blob = store.blobs.path(
            {a.name: a.hash for a in store.meta.artifacts(body[2].task_id)}["sq"]
        )
    finally:
        store.close()
    blob.write_bytes(blob.read_bytes()[:-3])
    (lab.root / "bug").unlink()
    assert lab.cli("resume", "dmg.py", "--quiet").code == 1
    db = lab.store_path / "metadata.db"
    _as_written_before_lost_values(db)
    with write_lock(db) if held else contextlib.nullcontext():
        plan = lab.cli("resume", "dmg.py", "--plan", "--json")
        runs = lab.cli("runs", "DmgFlow")
    assert plan.code == 0, plan.output
    assert json.loads(plan.output)["reused"]["body"] == [3, 4], plan.output
    assert runs.code == 0 and runs.stdout.count("failed") == 2, runs.output
    with contextlib.closing(sqlite3.connect(db)) as conn:
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert version == (("1",) if held else ("2",))


SPLIT_FLOW = """
    import os
    from flowtui import FlowSpec, step

    class SplitFlow(FlowSpec):
        @step
        def start(self):
            self.items = ["a", "b", "c"]
            self.next(self.body, foreach="items")

        @step
        def body(self):
            if self.input == "b" and os.path.exists("bug"):
                raise RuntimeError("the user's bug")
            self.out = self.input.upper()
            self.next(self.join)

        @step
        def join(self, inputs):
            self.outs = [i.out for i in inputs]
            self.next(self.end)

        @step
        def end(self):
            pass
"""


def test_resume_re_runs_the_split_whose_foreach_list_a_run_found_damaged(lab: Lab):
    """A foreach task reads its item from the split's stored list before the step runs; that
    list damaged stops it with a sentence naming only the blob. The resume it asks for must run
    the split again, as for any value a task found damaged (the fact is recorded, not read
    back out of the message)."""
    lab.write("split.py", SPLIT_FLOW)
    (lab.root / "bug").touch()
    assert lab.cli("run", "split.py", "--quiet").code == 1
    store = lab.store
    try:
        start = next(t for t in store.meta.tasks("1") if t.step == "start")
        blob = store.blobs.path(
            {a.name: a.hash for a in store.meta.artifacts(start.task_id)}["items"]
        )
    finally:
        store.close()
    blob.write_bytes(blob.read_bytes()[:-3])
    (lab.root / "bug").unlink()
    first = lab.cli("resume", "split.py", "--quiet")  # body "b" runs: it finds the list damaged
    assert first.code == 1 and "is damaged" in first.output, first.output
    plan = lab.cli("resume", "split.py", "--plan", "--json")
    assert plan.code == 0, plan.output
    assert json.loads(plan.output)["rerun"] == ["start", "body", "join", "end"], plan.output
    again = lab.cli("resume", "split.py", "--quiet")
    assert again.code == 0, again.output
    assert lab.value(_task_of(lab, "3", "join"), "outs") == ["A", "B", "C"]


def _task_of(lab: Lab, run_id: str, step: str) -> str:
    store = lab.store
    try:
        return next(t.task_id for t in store.meta.tasks(run_id) if t.step == step)
    finally:
        store.close()


def _run_in_a_terminal(
    lab: Lab, gate: Gate, *, nohup: bool, hangup_ignored: bool = False
) -> tuple[subprocess.Popen[bytes], int]:
    """`flowtui run gate.py` with a pseudo-terminal as its controlling terminal (as a shell's
    window gives it), under `nohup` or not, or with SIGHUP ignored but its output still on the
    terminal (`trap '' HUP` in a shell); the terminal's master side."""
    master, slave = pty.openpty()

    def in_its_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        if hangup_ignored:
            signal.signal(signal.SIGHUP, signal.SIG_IGN)

    command = [sys.executable, "-m", "flowtui", "run", str(gate.path)]
    proc = subprocess.Popen(
        ["nohup", *command] if nohup else command,
        cwd=lab.root,
        env=lab.env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        preexec_fn=in_its_terminal,
    )
    os.close(slave)
    return proc, master


def _drain(master: int, until: Path) -> None:
    """Read what the run writes to its terminal (so it never blocks) until `until` exists."""
    os.set_blocking(master, False)

    def read_and_check() -> bool:
        with contextlib.suppress(BlockingIOError, OSError):
            os.read(master, 1 << 16)
        return until.exists()

    wait_for(read_and_check, "the gated step to start", DEADLINE)


@pytest.mark.parametrize("nohup", [False, True])
def test_closing_the_terminal_of_a_run_cancels_it_unless_nohup(lab: Lab, nohup: bool):
    """A terminal window closed under `flowtui run` (SIGHUP) killed the runner: the run read
    crashed, doctor listed it for ever. It cancels, as Ctrl-C does; under nohup it runs on."""
    gate = Gate(lab.root)
    proc, master = _run_in_a_terminal(lab, gate, nohup=nohup)
    try:
        _drain(master, gate.started)
        os.close(master)  # the window closes: the kernel hangs up the terminal
        if nohup:
            gate.release()
        code = proc.wait(timeout=DEADLINE)
    finally:
        proc.kill()
        proc.wait()
        gate.close()
    runs = lab.runs("GateFlow")
    if nohup:
        assert code == 0 and [r.status for r in runs] == ["succeeded"]
        return
    assert code == 130 and [r.status for r in runs] == ["cancelled"]
    doctor = lab.cli("doctor")
    assert doctor.code == 0, doctor.output  # nothing crashed: no leftover to tidy
    gate.release()
    resumed = lab.cli("resume", str(gate.path), "--quiet")
    assert resumed.code == 0, resumed.output


def test_a_run_that_ignores_the_hangup_of_its_closed_terminal_exits_as_the_run_ended(lab: Lab):
    """SIGHUP ignored (`trap '' HUP`) but the output still on the terminal: the window closes,
    the run goes on and succeeds, and `flowtui run` exits 0 as its run did, not 1 because
    its last lines could not reach a terminal nobody reads."""
    gate = Gate(lab.root)
    proc, master = _run_in_a_terminal(lab, gate, nohup=False, hangup_ignored=True)
    try:
        _drain(master, gate.started)
        os.close(master)  # the window closes: the kernel hangs up the terminal
        gate.release()
        code = proc.wait(timeout=DEADLINE)
    finally:
        proc.kill()
        proc.wait()
        gate.close()
    assert [r.status for r in lab.runs("GateFlow")] == ["succeeded"]
    assert code == 0


def test_doctor_during_a_run_counts_no_running_tasks_blobs_as_leftovers(lab: Lab):
    """A blob a running task wrote but its runner has not recorded yet is no run's yet: doctor
    called it a leftover of a crash (exit 1) while nothing had crashed."""
    gate = Gate(lab.root)
    proc = lab.start("run", str(gate.path), "--quiet")
    try:
        wait_for(gate.started.exists, "the gated step to start", DEADLINE)
        store = lab.store
        try:  # as a task in flight leaves it: written, not yet recorded
            store.blobs.put_value("a value a running task has just stored")
        finally:
            store.close()
        during = lab.cli("doctor")
        gate.release()
        proc.communicate(timeout=DEADLINE)
    finally:
        proc.kill()
        proc.wait()
        gate.close()
    assert during.code == 0, during.output
    assert "leftover:" not in during.output and "in progress: GateFlow/1" in during.output
    after = lab.cli("doctor")  # once the run has ended, no run will ever reference it
    assert after.code == 1 and "referenced by no run" in after.output, after.output
