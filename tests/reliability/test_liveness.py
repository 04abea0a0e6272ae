"""A live run is never declared crashed, a dead task is always seen, and console output never
holds up the run (defects 3 and 4 of issue 10)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess

from lab import Lab, wait_for

WAITING_FLOW = """
    import os, time
    from flowtui import FlowSpec, step

    class WaitFlow(FlowSpec):
        @step
        def start(self):
            open(os.environ["STARTED"], "w").close()
            while not os.path.exists(os.environ["GO"]):
                time.sleep(0.02)
            self.next(self.end)

        @step
        def end(self):
            pass
"""


def test_a_live_runner_with_a_stale_heartbeat_is_running_and_cannot_be_resumed(lab: Lab):
    lab.write("wait.py", WAITING_FLOW)
    started, go = lab.root / "started", lab.root / "go"
    lab.env.update(STARTED=str(started), GO=str(go))
    proc = lab.start("run", "wait.py", "--quiet")
    try:
        wait_for(started.exists, "the step to start")
        run = lab.runs("WaitFlow")[0]
        # As if the runner had been stopped (^Z) or busy for an hour: its heartbeat is old.
        with sqlite3.connect(lab.store_path / "metadata.db") as db:
            db.execute("UPDATE runs SET heartbeat = heartbeat - 3600")
        assert lab.runs("WaitFlow")[0].status == "running"
        resumed = lab.cli("resume", "wait.py")
        assert resumed.code == 2
        assert f"Run {run.run_id} of WaitFlow is still running" in resumed.stderr
        assert len(lab.runs("WaitFlow")) == 1  # no second run writing the same outcomes
        go.touch()
        assert proc.wait(timeout=120) == 0
    finally:
        proc.kill()
        proc.wait()
    assert lab.runs("WaitFlow")[0].status == "succeeded"


def test_a_task_that_exits_while_its_forked_child_holds_the_pipe_is_seen_dead(lab: Lab):
    child_pid = lab.root / "child.pid"
    lab.write(
        "forks.py",
        f"""
        import os, signal
        from flowtui import FlowSpec, step

        class ForkFlow(FlowSpec):
            @step
            def start(self):
                if os.fork() == 0:  # a daemon that outlives the step, holding every fd
                    with open({str(child_pid)!r}, "w") as f:
                        f.write(str(os.getpid()))
                    signal.pause()
                while not os.path.exists({str(child_pid)!r}):
                    pass
                os._exit(3)
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    )
    try:
        ran = lab.cli("run", "forks.py", "--quiet")
    finally:
        if child_pid.exists():
            os.kill(int(child_pid.read_text()), signal.SIGKILL)
    assert ran.code == 1, ran.output
    assert "called os._exit(3)" in ran.output
    assert lab.runs("ForkFlow")[0].status == "failed"


def test_a_console_nobody_reads_never_holds_up_the_run(lab: Lab):
    lab.write(
        "loud.py",
        """
        from flowtui import FlowSpec, step

        class LoudFlow(FlowSpec):
            @step
            def start(self):
                import sys
                sys.stdout.write("".join(f"line {i}\\n" for i in range(1_000_000)))
                self.next(self.end)

            @step
            def end(self):
                self.done = True
        """,
    )
    # stdout is a pipe nobody reads: its 64 KB buffer fills after a few thousand lines
    proc = lab.start("run", "loud.py", stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        wait_for(
            lambda: [r for r in lab.runs("LoudFlow") if r.status == "succeeded"],
            "the run to succeed while its console is blocked",
        )
        out, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0
    # 12 MB of output: the console skipped ahead to the end, and said so
    assert "lines of start/1 skipped (the console fell behind); flowtui logs" in out
    assert "start/1 line 999999" in out
    assert "succeeded" in out.splitlines()[-1]
    logs = lab.cli("logs", "LoudFlow/1/start", "--stdout")
    assert logs.stdout.count("\n") == 1_000_000 and "line 999999" in logs.stdout


def test_a_run_whose_runner_died_after_its_end_step_succeeded_reads_succeeded(lab: Lab):
    """Found by the full crash sweep: a kill between the end task's record and the run's read
    `crashed` in `flowtui runs` while `flowtui resume` said the run had succeeded."""
    lab.write("wait.py", WAITING_FLOW)
    (lab.root / "go").touch()
    lab.env.update(STARTED=str(lab.root / "started"), GO=str(lab.root / "go"))
    assert lab.cli("run", "wait.py", "--quiet").code == 0
    gone = subprocess.Popen(["true"])
    gone.wait()
    with sqlite3.connect(lab.store_path / "metadata.db") as db:  # what that kill leaves
        db.execute(
            "UPDATE runs SET status = 'running', finished = NULL, pid = ?, heartbeat = created",
            (gone.pid,),
        )
    run = lab.runs("WaitFlow")[0]
    assert run.status == "succeeded" and run.finished is not None
    doctor = lab.cli("doctor")
    assert "it reads succeeded: its end step had" in doctor.output
    repaired = lab.cli("doctor", "--repair")
    assert f"marked run {run.run_id} succeeded" in repaired.output
    assert lab.cli("doctor").code == 0
    resumed = lab.cli("resume", "wait.py")
    assert resumed.code == 2 and "succeeded, so there is nothing to resume" in resumed.output
