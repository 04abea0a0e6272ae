"""A run's vocabulary is defined once: the form and the runner read a boolean alike, every
screen draws a state with the same glyph, and the TUI's resume plan is the CLI's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flowtui.client.runs import RunReader
from flowtui.graph import check_flow
from flowtui.graph.layout import KIND_MARKERS
from flowtui.graph.model import ParameterSpec
from flowtui.run.events import (
    RunFinished,
    RunStarted,
    TaskFailed,
    TaskStarted,
    decode_event,
    encode_event,
)
from flowtui.run.labels import RUN_GLYPHS, TASK_GLYPHS, run_label, step_state, task_label
from flowtui.run.state import RunState, TaskState
from flowtui.run.status import RunStatus, TaskError, TaskStatus
from flowtui.tui.screens.params import value_validators

FLAG_FLOW = """
    from flowtui import FlowSpec, Parameter, step

    class FlagFlow(FlowSpec):
        verbose = Parameter("verbose", type=bool, default=False)

        @step
        def start(self):
            print("verbose is", self.verbose)
            self.next(self.end)

        @step
        def end(self):
            pass
"""

WORDS = ["true", "True", "t", "1", "yes", "Y", "false", "F", "0", "no", "n", "on", "off", "x"]


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowtui", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FLOWTUI_STORE": str(root / "store")},
    )


def form_accepts(spec: ParameterSpec, text: str) -> bool:
    return all(v.validate(text).is_valid for v in value_validators(spec))


def test_the_form_accepts_a_boolean_exactly_when_the_runner_does(tmp_path: Path) -> None:
    flow = tmp_path / "flag.py"
    flow.write_text(textwrap.dedent(FLAG_FLOW))
    graph = check_flow(flow.read_text(), str(flow)).graph
    assert graph is not None
    spec = next(p for p in graph.parameters if p.name == "verbose")
    accepted = {word for word in WORDS if form_accepts(spec, word)}
    assert "on" not in accepted and "t" in accepted  # the words Metaflow's command line takes

    for word in ("on", "t", "x"):  # through the real runner, as the TUI starts it
        ran = cli(tmp_path, "run", str(flow), "--verbose", word, "-q")
        assert (ran.returncode == 0) == (word in accepted), (word, ran.stdout, ran.stderr)
        if ran.returncode != 0:
            assert "Parameter 'verbose' takes true or false" in ran.stderr
            assert "Traceback" not in ran.stderr


def test_every_state_has_one_glyph_and_no_step_kind_looks_like_a_state() -> None:
    assert len(set(TASK_GLYPHS.values())) == len(TaskStatus)
    assert len(set(RUN_GLYPHS.values())) == len(RunStatus)
    assert not set(KIND_MARKERS.values()) & (set(TASK_GLYPHS.values()) | set(RUN_GLYPHS.values()))
    # a run and a task in the same state read the same
    for status in (RunStatus.RUNNING, RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED):
        assert run_label(status) == task_label(TaskStatus(status.value))


def one_task(status: TaskStatus, **fields: object) -> TaskState:
    return TaskState("F/1/s/1", "s", "1", status, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "status", [TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.CLONED]
)
def test_the_dag_and_the_task_list_draw_a_finished_state_with_the_same_glyph(
    status: TaskStatus,
) -> None:
    on_dag = step_state([one_task(status)], None, active=False).label
    in_list = task_label(status)
    assert on_dag.split()[0] == in_list.split()[0] == TASK_GLYPHS[status]


def test_a_cancelled_task_is_its_own_status_live_and_from_the_store() -> None:
    cancel = TaskError("Cancelled", "the run was cancelled", reason="cancel")
    run = RunState()
    run.apply(RunStarted("F", "1", "/store", ts=1.0))
    run.apply(TaskStarted("F/1/s/1", "s", "1", 0, None, "o", "e", ts=2.0))
    run.apply(TaskFailed("F/1/s/1", "s", "1", 0, False, cancel, ts=3.0))
    run.apply(RunFinished("F", "1", RunStatus.CANCELLED, 2.0, ts=4.0))
    assert run.tasks["F/1/s/1"].status is TaskStatus.CANCELLED
    assert run.failed is None  # a cancel is not a failure
    assert TaskStatus.of("failed", "cancel") is TaskStatus.CANCELLED  # as the store keeps it


def test_events_round_trip_through_the_documented_json() -> None:
    error = TaskError("ValueError", "bad [red]input[/red]", "Traceback…", reason="exception")
    failed = TaskFailed("F/1/s/2", "s", "2", 1, True, error, ts=5.0)
    line = encode_event(failed)
    data = json.loads(line)
    assert data["event"] == "task_failed" and data["reason"] == "exception"
    assert data["error"] == {"type": "ValueError", "message": "bad [red]input[/red]",
                             "traceback": "Traceback…"}  # fmt: skip
    assert decode_event(line) == failed
    finished = RunFinished("F", "1", RunStatus.FAILED, 3.5, failed="F/1/s/2", ts=9.0)
    assert json.loads(encode_event(finished))["pathspec"] == "F/1"
    assert decode_event(encode_event(finished)) == finished
    assert decode_event("print output, not an event") is None
    assert decode_event('{"event": "task_started"}') is None  # fields missing


FOREACH_FLOW = """
    import os
    from flowtui import FlowSpec, step

    class PlanFlow(FlowSpec):
        @step
        def start(self):
            self.items = list(range(4))
            self.next(self.body, foreach="items")

        @step
        def body(self):
            if self.input == 3 and not os.path.exists("fixed"):  # the last item: all others ran
                raise ValueError("item 3 is broken")
            self.out = self.input * 10
            self.next(self.join)

        @step
        def join(self, inputs):
            self.total = sum(i.out for i in inputs)
            self.next(self.end)

        @step
        def end(self):
            pass
"""


def test_the_tui_plans_a_resume_in_process_exactly_as_the_cli_does(tmp_path: Path) -> None:
    flow = tmp_path / "plan.py"
    flow.write_text(textwrap.dedent(FOREACH_FLOW))
    assert cli(tmp_path, "run", str(flow), "-q").returncode == 1
    from_cli = cli(tmp_path, "resume", str(flow), "--plan", "--json")
    assert from_cli.returncode == 0, from_cli.stderr

    graph = check_flow(flow.read_text(), str(flow)).graph
    assert graph is not None
    reader = RunReader(tmp_path / "store")
    try:
        # what the TUI's R computes, and what it warns of
        plan, changes = reader.plan_with_changes(graph, flow.read_text(), None, None)
    finally:
        reader.close()
    assert plan.to_json() | changes.to_json() == json.loads(from_cli.stdout)
    assert plan.resume_step == "body"
    assert plan.partial == ("body",) and plan.clone == ("start",)
    assert (plan.tasks_reused, plan.tasks_rerun) == (4, 1)  # start and 3 items; item 3 again
