"""`@parallel` gangs: `self.next(self.train, num_parallel=N)` starts N tasks together, each
told its place; a failed node stops its peers; the linter holds Metaflow's rules. Real runs
through the CLI, a real store; the client reads them back."""

from __future__ import annotations

import pytest

from flowtui.client import Flow, default_metadata, default_namespace, metadata, namespace

# Every node waits until all its peers have started (as a training framework's rendezvous
# does): a gang started a few at a time never gets past this. The wait's bound only turns a
# hang into a failure the test can read.
GANG = """
import os, time
from metaflow import FlowSpec, Parameter, current, parallel, step


def wait_for(folder, names):
    deadline = time.monotonic() + 600
    while not all(os.path.exists(os.path.join(folder, n)) for n in names):
        if time.monotonic() > deadline:
            raise RuntimeError("the gang's peers never started")
        time.sleep(0.01)


class GangFlow(FlowSpec):
    rendezvous = Parameter("rendezvous")
    fail_node = Parameter("fail_node", default=-1)

    @step
    def start(self):
        self.next(self.train, num_parallel=3)

    @parallel
    @step
    def train(self):
        me = current.parallel.node_index
        if me == self.fail_node:
            raise ValueError(f"node {me} failed")
        open(os.path.join(self.rendezvous, str(me)), "w").close()
        peers = [str(i) for i in range(current.parallel.num_nodes)]
        if self.fail_node >= 0:
            peers.append("never")  # as a peer that died: nobody comes
        wait_for(self.rendezvous, peers)
        self.control = current.parallel.control_task_id
        self.env_index = os.environ["MF_PARALLEL_NODE_INDEX"]
        self.next(self.join)

    @step
    def join(self, inputs):
        self.controls = {i.control for i in inputs}
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_a_gang_starts_together_past_max_workers_and_knows_its_control_task(flows) -> None:
    flows.write("gang.py", GANG)
    (flows.root / "meet").mkdir()
    ran = flows.run("gang.py", "--max-workers", "1", "--rendezvous", str(flows.root / "meet"))
    assert ran.code == 0, ran.output

    metadata(str(flows.store_path))
    namespace(None)
    try:
        run = Flow("GangFlow").latest_run
        train = run["train"]
        nodes = sorted(train.tasks(), key=lambda t: t.index)
        assert [t.data.env_index for t in nodes] == ["0", "1", "2"]
        (control,) = train.control_tasks()
        assert control.id == nodes[0].id
        assert run["join"].task.data.controls == {control.id}  # every node was told it
        assert all(t.metadata_dict["parallel-world-size"] == "3" for t in nodes)
    finally:
        default_metadata()
        default_namespace()


def test_a_failed_node_stops_the_rest_of_its_gang(flows) -> None:
    """Its peers waited for it for ever: the run never ended."""
    flows.write("gang.py", GANG)
    (flows.root / "meet").mkdir()
    ran = flows.run("gang.py", "--rendezvous", str(flows.root / "meet"), "--fail_node", "1", "-q")
    assert ran.code == 1, ran.output
    assert "ValueError: node 1 failed" in ran.output, ran.output
    assert "train: node 1 of its @parallel gang failed, so the 2 still running were stopped" in (
        ran.output
    ), ran.output
    meta = flows.store.meta
    errors = {
        t.foreach_index: meta.attempts(t.task_id)[-1].error
        for t in flows.tasks("GangFlow")["train"]
    }
    assert errors[1]["type"] == "ValueError", errors
    for peer in (0, 2):  # stopped, and saying why
        assert (errors[peer]["reason"], errors[peer]["message"]) == (
            "cancel",
            "node 1 of its @parallel gang failed",
        ), errors


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (
            "self.next(self.train, num_parallel=2)",
            "Step start starts step train with num_parallel=, but train is not a @parallel "
            "step; add @parallel above its @step.",
        ),
        (
            "self.next(self.train)",
            "Step train is @parallel, but step start starts it without num_parallel=; write "
            "self.next(self.train, num_parallel=N).",
        ),
    ],
)
def test_the_linter_holds_metaflows_rules_for_gangs(flows, source: str, problem: str) -> None:
    parallel = "" if "num_parallel" in source else "@parallel\n    "
    flows.write(
        "lint.py",
        f"""
from metaflow import FlowSpec, parallel, step

class LintFlow(FlowSpec):
    @step
    def start(self):
        {source}

    {parallel}@step
    def train(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    ran = flows.cli("check", "lint.py")
    assert ran.code != 0 and problem in ran.output, ran.output


def test_a_gang_must_be_followed_by_a_join(flows) -> None:
    flows.write(
        "nojoin.py",
        """
from metaflow import FlowSpec, parallel, step

class NoJoinFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train, num_parallel=2)

    @parallel
    @step
    def train(self):
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    ran = flows.cli("check", "nojoin.py")
    assert ran.code != 0
    assert "Step end follows the @parallel step train, so it must be a join of its tasks" in (
        ran.output
    ), ran.output
