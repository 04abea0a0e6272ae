"""The client, read back from runs made through the CLI: every navigation path of issue 4."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest

import flowtui
from flowtui.client import (
    ArtifactNotFound,
    DataArtifact,
    Flow,
    FlowNotFound,
    Metaflow,
    MetaflowInvalidPathspec,
    MetaflowNamespaceMismatch,
    Run,
    RunNotFound,
    Step,
    StepNotFound,
    Task,
    TaskNotFound,
    default_namespace,
    get_metadata,
    get_namespace,
    namespace,
)

FOREACH = """
from flowtui import FlowSpec, Parameter, step

class ShapesFlow(FlowSpec):
    scale = Parameter("scale", default=10)
    fail_on = Parameter("fail_on", default=-1)

    @step
    def start(self):
        self.items = [1, 2, 3]
        self.same = "shared value"
        print("starting")
        self.next(self.body, foreach="items")

    @step
    def body(self):
        if self.input == self.fail_on:
            raise ValueError(f"item {self.input} is bad")
        self.value = self.input * self.scale
        self.same = "shared value"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        import sys
        print("total is", self.total)
        print("a warning", file=sys.stderr)
"""


def test_flow_lists_runs_newest_first_and_finds_latest_successful(flowtui, store):
    assert flowtui("run", FOREACH).exit_code == 0
    assert flowtui("run", FOREACH, "--fail_on", "2", "--tag", "broken").exit_code == 1

    flow = Flow("ShapesFlow")
    runs = list(flow)
    assert [r.id for r in runs] == ["2", "1"]
    assert flow.latest_run == Run("ShapesFlow/2")
    assert flow.latest_successful_run == Run("ShapesFlow/1")
    assert [r.id for r in flow.runs("broken")] == ["2"]
    assert [r.id for r in flow.runs("runtime:run")] == ["2", "1"]
    assert "1" in flow and "99" not in flow
    assert flow["1"].successful and not flow["2"].successful
    assert Metaflow().flows == [flow]
    assert get_metadata() == f"local@{store.resolve()}"


END_FAILS = """
from flowtui import FlowSpec, catch, step

class EndFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        raise ValueError("the end is broken")
"""


def test_a_run_whose_end_step_failed_is_not_finished(flowtui):
    """As in Metaflow (`Run.finished` is the end task's `_task_ok`): a run whose end task
    failed is not finished; one whose end's exception @catch caught is."""
    caught = END_FAILS.replace(
        "    @step\n    def end", "    @catch(var='oops')\n    @step\n    def end"
    )
    assert flowtui("run", END_FAILS).exit_code == 1
    assert flowtui("run", caught, name="caught.py").exit_code == 0
    failed, ended = Run("EndFlow/1"), Run("EndFlow/2")
    assert failed.status == "failed" and failed.end_task is not None
    assert not failed.finished and not failed.successful
    assert ended.finished and ended.end_task is not None
    assert ended.end_task.data.oops is not None


def test_loglines_gives_metaflows_pairs_line_by_line(flowtui):
    """`task.loglines("stdout")`, Metaflow's way to read a log line by line, was an
    AttributeError; flowtui records no time per line, so the timestamp is None."""
    assert flowtui("run", FOREACH).exit_code == 0
    end = Run("ShapesFlow/1")["end"].task
    assert list(end.loglines("stdout")) == [(None, "total is 60")]
    assert list(end.loglines("stderr", as_unicode=False)) == [(None, b"a warning")]
    with pytest.raises(ValueError, match="stdout"):
        list(end.loglines("both"))


def test_run_navigation_steps_data_and_times(flowtui):
    assert flowtui("run", FOREACH).exit_code == 0
    run = Run("ShapesFlow/1")

    assert [s.id for s in run] == ["end", "join", "body", "start"]
    assert "body" in run and "nope" not in run
    assert run.successful and run.finished and run.status == "succeeded"
    assert isinstance(run.created_at, datetime)
    assert run.finished_at is not None and run.finished_at >= run.created_at
    assert run.data is not None and run.data.total == 60
    assert run.end_task == Task(f"ShapesFlow/1/end/{run['end'].task.id}")
    assert run.origin is None and run.origin_pathspec is None
    assert "class ShapesFlow" in run.code
    assert run.parameters == {"scale": 10, "fail_on": -1}
    assert run.parent == Flow("ShapesFlow")


def test_step_and_task_navigation_through_a_foreach(flowtui):
    assert flowtui("run", FOREACH, "--scale", "100").exit_code == 0
    run = Run("ShapesFlow/1")

    bodies = list(run["body"])[::-1]  # the client lists them latest first, as Metaflow
    assert [t.index for t in bodies] == [0, 1, 2]
    assert [t.data.value for t in bodies] == [100, 200, 300]
    assert run["body"].task == bodies[-1]  # the first the step iterates, as in Metaflow
    assert run["start"].task.index is None
    first = bodies[0]
    assert first.pathspec == f"ShapesFlow/1/body/{first.id}"
    assert run["body"][first.id] == first
    assert Step("ShapesFlow/1/body") == run["body"]
    assert first.parent == run["body"] and run["body"].parent == run
    assert list(first.parent_tasks) == [run["start"].task]
    assert list(run["start"].task.child_tasks) == bodies
    assert list(run["join"].task.parent_tasks) == bodies
    assert list(first.child_task_pathspecs) == [run["join"].task.pathspec]
    assert run["body"].finished_at is not None


def test_task_artifacts_by_attribute_item_and_named_tuple(flowtui):
    assert flowtui("run", FOREACH).exit_code == 0
    task = next(t for t in Run("ShapesFlow/1")["body"] if t.index == 0)

    assert task.data.value == 10
    assert task["value"].data == 10
    assert "value" in task and "value" in task.data
    assert sorted(a.id for a in task) == ["fail_on", "items", "name", "same", "scale", "value"]
    assert task.artifacts.value.data == 10
    art = task["items"]
    assert isinstance(art, DataArtifact)
    assert art.type == "list" and art.size > 0 and len(art.sha) == 64
    assert art.repr == "[1, 2, 3]"
    assert art.pathspec == f"{task.pathspec}/items"
    assert DataArtifact(art.pathspec).data == [1, 2, 3]
    # Equal values share one blob, across tasks.
    assert task["same"].sha == Run("ShapesFlow/1")["start"].task["same"].sha


def test_logs_exception_and_status_of_tasks(flowtui):
    assert flowtui("run", FOREACH, "--fail_on", "2").exit_code == 1
    run = Run("ShapesFlow/1")
    assert run.status == "failed" and not run.successful and not run.finished
    assert run.data is None and run.finished_at is None
    assert "ShapesFlow/1/body" in (run.error or "")

    failed = next(t for t in run["body"] if t.index == 1)
    assert not failed.successful and not failed.finished  # as in Metaflow
    assert failed.finished_at is not None  # it did end
    assert failed.exception is not None
    assert str(failed.exception) == "ValueError: item 2 is bad"
    assert 'raise ValueError(f"item {self.input} is bad")' in failed.exception.traceback
    assert "ValueError: item 2 is bad" in failed.stderr
    assert run["start"].task.stdout == "starting\n"
    assert run["start"].task.exception is None


def test_stdout_and_stderr_of_the_end_step(flowtui):
    assert flowtui("run", FOREACH).exit_code == 0
    end = Run("ShapesFlow/1")["end"].task
    assert end.stdout == "total is 60\n"
    assert end.stderr == "a warning\n"
    assert end.log_path("stdout") is not None


def test_tags_can_be_added_and_removed_but_not_system_tags(flowtui):
    assert flowtui("run", FOREACH, "--tag", "first").exit_code == 0
    run = Run("ShapesFlow/1")
    user = f"user:{os.environ.get('USER') or __import__('getpass').getuser()}"
    python = f"python_version:{platform.python_version()}"
    assert run.tags == {"first", user, "runtime:run", python}
    assert run.system_tags == {user, "runtime:run", python}

    run.add_tag("keep")
    run.remove_tag("first")
    assert Run("ShapesFlow/1").user_tags == {"keep"}
    assert [r.id for r in Flow("ShapesFlow").runs("keep")] == ["1"]
    with pytest.raises(ValueError, match="system tag"):
        run.remove_tag("runtime:run")
    assert "runtime:run" in Run("ShapesFlow/1").tags


def test_namespaces_filter_runs_by_user(flowtui, monkeypatch):
    monkeypatch.setenv("USER", "alice")
    assert flowtui("run", FOREACH).exit_code == 0
    monkeypatch.setenv("USER", "bob")
    assert flowtui("run", FOREACH).exit_code == 0

    assert default_namespace() == "user:bob"
    assert [r.id for r in Flow("ShapesFlow")] == ["2"]
    with pytest.raises(MetaflowNamespaceMismatch, match="namespace"):
        Run("ShapesFlow/1")
    namespace("user:alice")
    assert get_namespace() == "user:alice"
    assert [r.id for r in Flow("ShapesFlow")] == ["1"]
    namespace("user:carol")
    with pytest.raises(MetaflowNamespaceMismatch):
        Flow("ShapesFlow")
    assert Metaflow().flows == []
    namespace(None)
    assert get_namespace() is None
    assert [r.id for r in Flow("ShapesFlow")] == ["2", "1"]
    assert Run("ShapesFlow/1").user == "alice"


def test_resumed_runs_know_their_origin_and_cloned_tasks_theirs(flowtui, tmp_path):
    assert flowtui("run", FOREACH, "--fail_on", "2").exit_code == 1
    assert flowtui("resume", tmp_path / "flow.py").exit_code == 1  # still failing
    first, second = Run("ShapesFlow/1"), Run("ShapesFlow/2")
    assert second.origin == first and second.origin_pathspec == "ShapesFlow/1"
    assert second.kind == "resume" and "runtime:resume" in second.tags
    origin_start = first["start"].task
    clone = second["start"].task
    assert clone.origin_pathspec == origin_start.pathspec
    assert clone.status == "cloned" and clone.successful
    assert clone.stdout == "starting\n"  # logs of the origin, reachable from the clone
    assert clone["items"].sha == origin_start["items"].sha
    assert clone.data.items == [1, 2, 3]


def test_missing_things_raise_key_errors_naming_what_exists(flowtui, store):
    assert flowtui("run", FOREACH).exit_code == 0
    run = Run("ShapesFlow/1")
    task_id = run["end"].task.id

    with pytest.raises(FlowNotFound, match=r"Flow Nope .* flows there: ShapesFlow\."):
        Flow("Nope")
    with pytest.raises(RunNotFound, match=r"has no run 7; its latest runs: 1\."):
        Flow("ShapesFlow")["7"]
    with pytest.raises(StepNotFound, match=r"no step 'train'; its steps: start, body, join, end"):
        run["train"]
    with pytest.raises(TaskNotFound, match=rf"no task 999; its tasks: {task_id}\."):
        run["end"]["999"]
    with pytest.raises(ArtifactNotFound, match=r"no artifact 'model'; its artifacts: .*total"):
        run["end"].task["model"]
    with pytest.raises(AttributeError, match="no artifact 'model'"):
        run["end"].task.data.model  # noqa: B018
    with pytest.raises(KeyError):  # all of them are KeyErrors, as in Metaflow
        Task("ShapesFlow/1/end/999")
    with pytest.raises(MetaflowInvalidPathspec, match="FlowName/RunID"):
        Run("ShapesFlow")
    assert str(RunNotFound("x")) == "x"  # no KeyError quoting in messages


def test_a_missing_store_is_a_flow_not_found(tmp_path, store):
    with pytest.raises(FlowNotFound, match="no flowtui store"):
        Flow("Anything")
    assert Metaflow().flows == []


def test_artifacts_load_lazily_one_value_at_a_time(flowtui, store):
    assert flowtui("run", FOREACH).exit_code == 0
    task = Run("ShapesFlow/1")["start"].task
    # Remove the blob of one artifact: reading the others must not touch it.
    same = task["same"]
    (store / "blobs" / same.sha[:2] / same.sha[2:]).unlink()
    assert Run("ShapesFlow/1")["start"].task.data.items == [1, 2, 3]


def test_the_package_reexports_the_client():
    assert flowtui.Flow is Flow and flowtui.Run is Run
    assert flowtui.namespace is namespace
    with pytest.raises(AttributeError):
        flowtui.NoSuchName  # noqa: B018


def test_a_step_reads_another_flows_latest_successful_run(tmp_path):
    """Inside a running task, the client reads the run's store ($FLOWTUI_STORE), not cwd's."""
    producer = tmp_path / "producer.py"
    producer.write_text(
        textwrap.dedent(
            """
            from flowtui import FlowSpec, step

            class Producer(FlowSpec):
                @step
                def start(self):
                    self.x = 41
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """
        )
    )
    consumer = tmp_path / "consumer.py"
    consumer.write_text(
        textwrap.dedent(
            """
            from flowtui import FlowSpec, step, Flow

            class Consumer(FlowSpec):
                @step
                def start(self):
                    run = Flow("Producer").latest_successful_run
                    self.y = run.data.x + 1
                    self.seen = run.pathspec
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """
        )
    )
    store = tmp_path / "elsewhere"
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "FLOWTUI_STORE"}
    for file in (producer, consumer):
        done = subprocess.run(
            [sys.executable, "-m", "flowtui", "run", str(file), "--store", str(store), "-q"],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    from flowtui.client import metadata

    metadata(str(store))
    try:
        data = Flow("Consumer").latest_run.data
        assert data is not None
        assert (data.y, data.seen) == (42, "Producer/1")
    finally:
        from flowtui.client import default_metadata

        default_metadata()
    assert not (elsewhere / ".flowtui").exists()


def test_a_running_run_is_readable_while_the_runner_writes(tmp_path, store):
    file = tmp_path / "slow.py"
    file.write_text(
        textwrap.dedent(
            """
            import time
            from pathlib import Path
            from flowtui import FlowSpec, step

            class SlowFlow(FlowSpec):
                @step
                def start(self):
                    self.x = 1
                    print("waiting", flush=True)
                    gate = Path(__file__).with_name("go")
                    while not gate.exists():
                        time.sleep(0.02)
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowtui", "run", str(file), "--store", str(store), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        start = _wait_for(lambda: _start_stdout(store) == "waiting\n")
        assert start
        run = Run("SlowFlow/1")
        assert run.status == "running" and not run.finished and not run.successful
        task = run["start"].task
        assert task.status == "running" and not task.finished
        with pytest.raises(StepNotFound, match="has not started yet"):
            run["end"]
        (tmp_path / "go").touch()
        assert proc.wait(timeout=60) == 0
        assert run.successful and run.finished and task.successful
        assert task.data.x == 1
    finally:
        proc.kill()
        proc.wait()


def _start_stdout(store: Path) -> str | None:
    try:
        return Run("SlowFlow/1")["start"].task.stdout
    except (KeyError, FlowNotFound):
        return None


def _wait_for(condition, limit: float = 60.0) -> bool:
    import time

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
