"""Failures on Ray are named, never hung: infeasible requests, killed workers, lost nodes,
cancelling; and a worker's log lines reach the driver while the task runs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import RayFlows, wait_for
from local_cluster import LocalCluster, start_cluster

from flowtui.errors import FlowtuiError

COMPAT_FLOWS = Path(__file__).resolve().parents[1] / "compat" / "flows"

WAITING_STEP = """
    import os, time
    from flowtui import FlowSpec, current, resources, retry, step

    PID_FILE = {pid_file!r}
    MARKER = {marker!r}

    class WaitFlow(FlowSpec):
        {decorators}
        @step
        def start(self):
            print("line from the worker", flush=True)
            if current.retry_count == 0:
                with open(PID_FILE, "w") as f:
                    f.write(str(os.getpid()))
                try:
                    for _ in range(12000):  # until stopped from outside (at most 10 minutes)
                        time.sleep(0.05)
                finally:
                    open(MARKER, "w").close()
            self.done = True
            self.next(self.end)

        @step
        def end(self):
            pass
"""


def _write(ray_flows: RayFlows, decorators: str) -> tuple[str, str]:
    pid_file, marker = str(ray_flows.root / "pid"), str(ray_flows.root / "stopped")
    source = WAITING_STEP.format(pid_file=pid_file, marker=marker, decorators=decorators)
    ray_flows.write("wait.py", source)
    return pid_file, marker


def _live_log_line(ray_flows: RayFlows) -> str:
    """Wait until the running task's stdout on the driver has its first line; returns the text."""

    def seen() -> str | None:
        try:
            meta = ray_flows.store.meta
        except FlowtuiError:  # the runner has not made its store yet
            return None
        for run in meta.runs("WaitFlow"):
            for task in meta.tasks(run.run_id):
                for attempt in meta.attempts(task.task_id):
                    path = Path(attempt.stdout)
                    if path.exists() and "line from the worker" in path.read_text():
                        return path.read_text()
        return None

    return wait_for(seen, "the worker's log line on the driver")


def _pid(pid_file: str) -> int:
    path = Path(pid_file)
    return int(wait_for(lambda: path.exists() and path.read_text(), "the task's pid"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.ray_faults
def test_a_killed_worker_is_named_and_retried_and_its_log_lines_arrive_while_it_runs(
    ray_flows: RayFlows,
) -> None:
    pid_file, _ = _write(ray_flows, "@retry(times=1)")
    proc = ray_flows.start("run", "wait.py")
    _live_log_line(ray_flows)  # before the task ends: it is still waiting
    pid = _pid(pid_file)
    assert proc.poll() is None
    os.kill(pid, signal.SIGKILL)  # the Ray worker process itself
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out + err
    assert "the Ray worker process running step 'start' died" in out + err
    meta = ray_flows.store.meta
    task = next(t for t in meta.tasks(meta.runs("WaitFlow")[0].run_id) if t.step == "start")
    attempts = meta.attempts(task.task_id)
    assert [a.status for a in attempts] == ["failed", "succeeded"]
    assert attempts[0].exit_reason == "worker-lost"


def test_an_infeasible_request_fails_fast_naming_the_step_and_the_cluster(
    ray_flows: RayFlows,
) -> None:
    ray_flows.write(
        "greedy.py",
        """
        from flowtui import FlowSpec, resources, retry, step

        class GreedyFlow(FlowSpec):
            @retry(times=2)
            @resources(gpu=8)
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    )
    ran = ray_flows.cli("run", "greedy.py")
    assert ran.code == 1
    text = " ".join(ran.output.split())
    assert "step 'start' asks for @resources(cpu=1, gpu=8, memory=4096)" in text  # with defaults
    assert "which no node of the Ray cluster has (its 2 nodes: " in text
    assert "2 CPUs, 0 GPUs" in text and "1 CPUs, 1 GPUs" in text
    meta = ray_flows.store.meta
    task = meta.tasks(meta.runs("GreedyFlow")[0].run_id)[0]
    assert len(meta.attempts(task.task_id)) == 1  # not retried: no node will ever fit it


def test_cancelling_stops_the_ray_task(ray_flows: RayFlows) -> None:
    pid_file, marker = _write(ray_flows, "")
    proc = ray_flows.start("run", "wait.py")
    _live_log_line(ray_flows)
    pid = _pid(pid_file)
    proc.send_signal(signal.SIGINT)  # Ctrl-C
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, out + err
    # the step was interrupted (its finally ran) or its worker was ended
    wait_for(lambda: os.path.exists(marker) or not _alive(pid), "the Ray task to stop")
    meta = ray_flows.store.meta
    run = meta.runs("WaitFlow")[0]
    assert run.status == "cancelled"


def test_a_step_that_does_not_stop_at_its_timeout_is_stopped_on_ray_too(
    ray_flows: RayFlows,
) -> None:
    """SIGALRM blocked (as in C code that never returns to Python): the step's own @timeout
    cannot stop it, so the runner cancels the Ray task, counting from the step's start as the
    worker reports it (not from its launch: a worker starting up is not the step's time)."""
    shutil.copy(COMPAT_FLOWS / "timeout_ignored.py", ray_flows.root / "stuck.py")
    ran = ray_flows.cli("run", "stuck.py")
    assert ran.code == 1, ran.output
    assert "step 'start' ran longer than its @timeout of 1 s" in " ".join(ran.output.split())
    meta = ray_flows.store.meta
    task = meta.tasks(meta.runs("StuckFlow")[0].run_id)[0]
    assert [(a.status, a.exit_reason) for a in meta.attempts(task.task_id)] == [
        ("failed", "timeout")
    ]


@pytest.mark.ray_faults
def test_losing_a_node_mid_run_names_it(ray_flows: RayFlows, gpu_node: str) -> None:
    _write(ray_flows, "@resources(gpu=1)")
    proc = ray_flows.start("run", "wait.py")
    _live_log_line(ray_flows)
    ray_flows.cluster.remove_gpu_node()  # as `ray stop` on that machine
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, out + err
    text = " ".join((out + err).split())
    assert (
        "the Ray node running step 'start' went away" in text
        or "the Ray worker process running step 'start' died" in text
    ), text


SPREAD = """
    import os, time
    import ray
    from flowtui import FlowSpec, current, retry, step

    NODES = {nodes!r}
    GATE = {gate!r}

    class SpreadFlow(FlowSpec):
        @step
        def start(self):
            self.items = [0, 1, 2]
            self.next(self.work, foreach="items")

        @retry(times=1)
        @step
        def work(self):
            print(f"attempt {{current.retry_count}} of item {{self.input}}", flush=True)
            if current.retry_count == 0:  # say which node, then wait for the test
                with open(os.path.join(NODES, str(self.input)), "w") as f:
                    f.write(ray.get_runtime_context().get_node_id())
                deadline = time.time() + 600
                while not os.path.exists(GATE) and time.time() < deadline:
                    time.sleep(0.05)
            self.out = self.input * 10
            self.next(self.join)

        @step
        def join(self, inputs):
            self.outs = sorted(i.out for i in inputs)
            self.next(self.end)

        @step
        def end(self):
            print("outs", self.outs)
"""


@pytest.mark.ray_faults
def test_a_task_of_a_lost_node_is_retried_on_another_node(
    ray_flows: RayFlows, gpu_node: str
) -> None:
    nodes, gate = ray_flows.root / "nodes", ray_flows.root / "gate"
    nodes.mkdir()
    ray_flows.write("spread.py", SPREAD.format(nodes=str(nodes), gate=str(gate)))
    proc = ray_flows.start("run", "spread.py")
    try:
        # three tasks of one CPU on 2 + 1 CPUs: one of them runs on the second node
        def all_placed() -> dict[str, str] | None:
            found = {p.name: p.read_text() for p in nodes.iterdir()}
            return found if len(found) == 3 and all(found.values()) else None

        placed = wait_for(all_placed, "the three tasks to start")
        on_lost = [item for item, node in placed.items() if node == gpu_node]
        assert len(on_lost) == 1, placed
        ray_flows.cluster.remove_gpu_node()  # as `ray stop` on that machine
    finally:
        gate.touch()  # the tasks on the head go on; the lost one is retried there
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, out + err
    text = " ".join((out + err).split())
    assert "the Ray node running step 'work' went away" in text, text

    meta = ray_flows.store.meta
    run = meta.runs("SpreadFlow")[0]
    assert run.status == "succeeded"
    tasks = [t for t in meta.tasks(run.run_id) if t.step == "work"]
    lost = next(t for t in tasks if t.foreach_index == int(on_lost[0]))
    attempts = meta.attempts(lost.task_id)
    assert [a.status for a in attempts] == ["failed", "succeeded"]
    assert attempts[0].exit_reason == "node-lost"
    where = meta.task_metadata(lost.task_id)
    assert where[0]["node-id"] == gpu_node  # the first attempt ran on the node that went away
    assert where[1]["node-id"] != gpu_node  # its retry on the head
    # the retry's log lines still reach the driver after the node went away
    assert f"attempt 1 of item {on_lost[0]}" in Path(attempts[1].stdout).read_text()
    end = next(t for t in meta.tasks(run.run_id) if t.step == "end")
    assert "outs [0, 10, 20]" in Path(meta.attempts(end.task_id)[0].stdout).read_text()


GATED = """
    import os, time
    from flowtui import FlowSpec, retry, step

    PID_FILE = {pid_file!r}
    GATE = {gate!r}

    class GatedFlow(FlowSpec):
        @retry(times=1)
        @step
        def start(self):
            with open(PID_FILE, "w") as f:
                f.write(str(os.getpid()))
            deadline = time.time() + 600
            while not os.path.exists(GATE) and time.time() < deadline:
                time.sleep(0.05)
            self.done = True
            self.next(self.end)

        @step
        def end(self):
            print("done", self.done)
"""


@pytest.fixture
def own_cluster() -> Iterator[LocalCluster]:
    """A one-node cluster of this test's own, which it may stop."""
    cluster = start_cluster(gpu_node=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.mark.ray_faults
def test_the_cluster_stopping_mid_run_fails_the_run_in_a_sentence_and_resume_finishes_it(
    tmp_path: Path, own_cluster: LocalCluster
) -> None:
    flows = RayFlows(tmp_path, own_cluster)
    pid_file, gate = tmp_path / "pid", tmp_path / "gate"
    flows.write("gated.py", GATED.format(pid_file=str(pid_file), gate=str(gate)))
    proc = flows.start("run", "gated.py")
    _pid(str(pid_file))  # the step runs on the cluster
    own_cluster.stop()  # as `ray stop` on its machine
    out, err = proc.communicate(timeout=300)  # without the watch: Ray ends the driver at 60 s
    text = " ".join((out + err).split())
    assert proc.returncode == 1, text
    assert f"the Ray cluster at {own_cluster.address} went away" in text, text
    assert "start it again and `flowtui resume` the run" in text
    assert "Start the Ray cluster again (or resume without --executor ray, here), then:" in text
    assert "Fix the code" not in text  # nothing in the code failed
    meta = flows.store.meta
    run = meta.runs("GatedFlow")[0]
    assert run.status == "failed"
    task = meta.tasks(run.run_id)[0]
    attempts = meta.attempts(task.task_id)
    assert [(a.status, a.exit_reason) for a in attempts] == [("failed", "cluster-lost")]

    gate.touch()
    resumed = flows.cli("resume", "gated.py", executor="local")
    assert resumed.code == 0, resumed.output
    assert meta.runs("GatedFlow")[0].status == "succeeded"


@pytest.mark.ray_faults
def test_the_driver_node_dying_with_its_gcs_still_up_fails_the_run_as_the_cluster_gone(
    tmp_path: Path, own_cluster: LocalCluster
) -> None:
    """The raylet of the driver's node dies before the GCS (as `ray stop` can leave it on a
    busy machine): Ray fails the attempt as a lost worker, but the step did nothing wrong and
    the run's objects went with the node; the run says the cluster went away."""
    flows = RayFlows(tmp_path, own_cluster)
    pid_file, gate = tmp_path / "pid", tmp_path / "gate"
    flows.write("gated.py", GATED.format(pid_file=str(pid_file), gate=str(gate)))
    proc = flows.start("run", "gated.py")
    _pid(str(pid_file))  # the step runs on the cluster
    own_cluster.kill_head_raylet()
    out, err = proc.communicate(timeout=300)
    text = " ".join((out + err).split())
    assert proc.returncode == 1, text
    # said by the pump, or by the driver's parent when Ray ended the driver first
    lost = f"the Ray cluster at {own_cluster.address} went away ("
    assert f"start/1: ClusterLost: step 'start' stopped: {lost}" in text, text
    assert "start it again and `flowtui resume` the run" in text, text
    assert "Start the Ray cluster again (or resume without --executor ray, here), then:" in text
    assert "WorkerLost" not in text and "Fix the code" not in text, text
    meta = flows.store.meta
    task = meta.tasks(meta.runs("GatedFlow")[0].run_id)[0]
    attempts = meta.attempts(task.task_id)
    assert [(a.status, a.exit_reason) for a in attempts] == [("failed", "cluster-lost")]


def test_a_flow_that_raises_at_import_is_said_as_a_local_run_says_it(ray_flows: RayFlows) -> None:
    """The driver (a child process on Ray) sends the import error to the CLI whole: the same
    sentence and the user's traceback, no traceback of flowtui's own."""
    ray_flows.write(
        "broken.py",
        """
        from flowtui import FlowSpec, step

        raise ValueError("boom at import")

        class BrokenFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    )
    ran = ray_flows.cli("run", "broken.py")
    assert ran.code == 1, ran.output
    assert "broken.py raised ValueError while being imported: boom at import" in ran.output
    assert 'broken.py", line 4, in <module>' in ran.output  # the user's line
    assert "ray_driver" not in ran.output and "pickle" not in ran.output


def test_a_flow_folder_too_large_to_ship_names_the_folder_not_the_cluster(
    ray_flows: RayFlows,
) -> None:
    ray_flows.write(
        "hello.py",
        """
        from flowtui import FlowSpec, step

        class HelloFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    )
    with open(ray_flows.root / "data.bin", "wb") as f:  # sparse: no disk used
        f.truncate(600 * 2**20)
    ran = ray_flows.cli("run", "hello.py")
    assert ran.code == 2, ran.output
    text = " ".join(ran.output.split())
    assert f"Ray could not ship the flow's folder {ray_flows.root.resolve()} to the cluster" in text
    assert "exceeds the maximum size of 512.00MiB" in text
    assert "list them in a .gitignore or .rayignore there" in text
    assert "Cannot connect" not in text and "Traceback" not in text


FILL = """
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


def _can_mount_tmpfs() -> bool:
    probe = ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="no private mount namespace (unshare -rm)")
def test_a_full_disk_on_the_driver_fails_the_step_and_resume_finishes_it(
    ray_flows: RayFlows,
) -> None:
    """The driver writes a Ray task's artifacts: a full disk there fails the step in a
    sentence (the driver's pump thread died on it, and the run waited for ever)."""
    ray_flows.write("fill.py", FILL)
    disk, out = ray_flows.root / "disk", ray_flows.root / "out"
    disk.mkdir()
    out.mkdir()
    run = " ".join(ray_flows.command("run", "fill.py"))
    resume = " ".join(ray_flows.command("resume", "fill.py"))
    script = (
        f"mount -t tmpfs -o size=8m tmpfs {disk} && export FLOWTUI_STORE={disk}/store && "
        f"head -c 3M /dev/urandom > {disk}/ballast && "
        f"timeout -s KILL 240 {run} > {out}/run.out 2>&1; echo $? > {out}/run.code; "
        f"rm {disk}/ballast; {resume} > {out}/resume.out 2>&1; echo $? > {out}/resume.code"
    )
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        cwd=ray_flows.root,
        capture_output=True,
        text=True,
        timeout=600,
        env=ray_flows.env(),
    )
    assert done.returncode == 0, done.stderr
    said = " ".join((out / "run.out").read_text().split())
    assert (out / "run.code").read_text().strip() == "1", said  # 137: killed, still waiting
    assert f"The disk holding the store {disk}/store is full" in said
    assert "Free some space, then: flowtui resume fill.py" in said
    assert "Traceback" not in said
    resumed = (out / "resume.out").read_text()
    assert (out / "resume.code").read_text().strip() == "0", resumed


def test_a_parallel_gang_on_ray_is_refused_in_one_sentence(ray_flows: RayFlows) -> None:
    """Its nodes are told to meet at 127.0.0.1, which on a cluster is each node's own host."""
    shutil.copy(COMPAT_FLOWS / "gang_parallel.py", ray_flows.root / "gang.py")
    ran = ray_flows.cli("run", "gang.py")
    assert ran.code == 2, ran.stdout + ran.stderr
    assert ran.stderr.strip().endswith(
        "Step 'train' is @parallel, whose gang runs on the local executor only (its nodes find "
        "each other at 127.0.0.1); run it without --executor ray."
    ), ran.stderr
    assert not ray_flows.store.meta.runs()
