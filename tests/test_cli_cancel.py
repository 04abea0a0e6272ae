"""`flowtui cancel`: a live run started anywhere is stopped by its own runner (recorded
cancelled, its task stopped); a run that is not live, or runs elsewhere, gets one sentence, and
a process that took a dead runner's pid is never signalled."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

from flowtui.client.runs import RunReader
from flowtui.store.liveness import runner_place, signal_runner
from tests.gate import Gate, wait_for


def cancel(gate: Gate, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowtui", "cancel", *args, "--store", str(gate.store)],
        cwd=gate.root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def status(gate: Gate, run_id: str = "1") -> str:
    reader = RunReader(gate.store)
    try:
        return next(r.status for r in reader.runs("GateFlow") if r.run_id == run_id)
    finally:
        reader.close()


def test_cancel_file_stops_the_newest_live_run_as_ctrl_c_would(gate: Gate) -> None:
    runner = gate.cli_run()
    wait_for(gate.started.exists, "the run to reach its waiting step")
    done = cancel(gate, "gate.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Cancelling run GateFlow/1 (started from a terminal)",
        "Run GateFlow/1 cancelled.",
    ]
    assert runner.wait(timeout=60) == 130  # what Ctrl-C ends it with
    assert status(gate) == "cancelled"
    again = cancel(gate, "GateFlow/1")
    assert again.returncode == 1
    assert again.stderr.strip() == "error: Run GateFlow/1 is not running: it was cancelled."


def test_a_run_on_another_host_is_named_and_left_alone(gate: Gate) -> None:
    runner = gate.cli_run()
    wait_for(gate.started.exists, "the run to reach its waiting step")
    with sqlite3.connect(gate.store / "metadata.db") as db:
        db.execute("UPDATE runs SET host = 'build-box-7'")
    refused = cancel(gate, "1")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "error: Run GateFlow/1 runs on host build-box-7, not here; "
        "stop it there with `flowtui cancel GateFlow/1`."
    )
    gate.release()
    assert runner.wait(timeout=60) == 0  # never signalled: it went on to succeed


def test_a_process_that_took_a_dead_runners_pid_is_never_signalled(gate: Gate) -> None:
    runner = gate.cli_run()
    wait_for(gate.started.exists, "the run to reach its waiting step")
    runner.kill()
    runner.wait()
    created = time.time() - 60  # the run began a minute ago; then its runner died, and
    younger = subprocess.Popen(["sleep", "600"])  # a new process was given the runner's pid
    try:
        with sqlite3.connect(gate.store / "metadata.db") as db:
            db.execute("UPDATE runs SET pid = ?, created = ?", (younger.pid, created))
        refused = cancel(gate, "GateFlow/1")
        assert refused.returncode == 1
        assert refused.stderr.strip() == (
            "error: Run GateFlow/1 is not running: its runner is gone (the run reads crashed)."
        )
        assert not signal_runner(runner_place(), younger.pid, created, signal.SIGTERM)
        assert younger.poll() is None  # still alive: nothing reached it
    finally:
        younger.kill()
        younger.wait()


def test_a_flow_with_no_live_run_says_so(gate: Gate) -> None:
    gate.release()
    assert gate.cli_run().wait(timeout=60) == 0
    refused = cancel(gate, "gate.py")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "error: GateFlow has no live run to cancel; `flowtui runs GateFlow` lists its runs."
    )
