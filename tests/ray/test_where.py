"""Where tasks run: `@resources(gpu=1)` lands on the GPU node, metadata says so, and runs made on
one executor resume (and spin) on the other."""

from __future__ import annotations

from conftest import RayFlows

from flowtui.client.runs import RunReader

FLOW = """
    import os
    from flowtui import FlowSpec, resources, step

    FLAG = {flag!r}

    class WhereFlow(FlowSpec):
        @step
        def start(self):
            self.base = 40
            self.next(self.train)

        @resources(gpu=1)
        @step
        def train(self):
            if not os.path.exists(FLAG):
                raise RuntimeError("not fixed yet")
            self.model = self.base + 2
            self.next(self.end)

        @step
        def end(self):
            print("model", self.model)
"""


def _task(ray_flows: RayFlows, step: str):  # -> TaskRecord of the latest run
    meta = ray_flows.store.meta
    run = meta.runs("WhereFlow")[0]
    return run, next(t for t in meta.tasks(run.run_id) if t.step == step)


def test_a_gpu_step_runs_on_the_gpu_node_and_runs_resume_across_executors(
    ray_flows: RayFlows, gpu_node: str
) -> None:
    flag = ray_flows.root / "fixed"
    ray_flows.write("where.py", FLOW.format(flag=str(flag)))

    first = ray_flows.cli("run", "where.py")  # on Ray: train fails there
    assert first.code == 1, first.output
    assert "not fixed yet" in first.output
    _, train = _task(ray_flows, "train")
    where = ray_flows.store.meta.task_metadata(train.task_id)[0]
    assert where["executor"] == "ray"
    assert where["node-id"] == gpu_node  # @resources(gpu=1): the node that has the GPU
    assert where["hostname"] and int(where["worker-pid"]) > 0
    assert "Executor: ray at" in first.output and "2 nodes, 3 CPUs, 1 GPUs" in first.output
    run, _ = _task(ray_flows, "train")
    shown = RunReader(ray_flows.store_path).run_state(run.run_id)
    assert shown is not None and shown.tasks[train.pathspec].node == gpu_node[:8]  # TUI's column

    flag.write_text("")
    resumed = ray_flows.cli("resume", "where.py", executor="local")  # Ray run, resumed locally
    assert resumed.code == 0, resumed.output
    run, train = _task(ray_flows, "train")
    assert run.kind == "resume"
    assert ray_flows.store.meta.task_metadata(train.task_id)[0]["executor"] == "local"
    _, start = _task(ray_flows, "start")
    assert start.status == "cloned"  # start is reused, as for a local run

    flag.unlink()
    assert ray_flows.cli("run", "where.py", executor="local").code == 1
    flag.write_text("")
    on_ray = ray_flows.cli("resume", "where.py")  # a local run, resumed on Ray
    assert on_ray.code == 0, on_ray.output
    assert "model 42" in (ray_flows.root / _log(ray_flows, "end")).read_text()
    _, train = _task(ray_flows, "train")
    assert ray_flows.store.meta.task_metadata(train.task_id)[0]["node-id"] == gpu_node

    spun = ray_flows.cli("spin", "where.py", "train")
    assert spun.code == 0, spun.output
    assert "model" in spun.output  # the spun task's artifacts are listed


def _log(ray_flows: RayFlows, step: str) -> str:
    meta = ray_flows.store.meta
    _, task = _task(ray_flows, step)
    return meta.attempts(task.task_id)[-1].stdout
