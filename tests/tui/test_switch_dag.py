"""A split-switch step in the TUI's DAG: drawn as a switch, its cases labelled on the edges."""

from __future__ import annotations

import textwrap
from pathlib import Path

from flowtui.graph import parse_flow
from flowtui.run.labels import StepState, step_states
from flowtui.run.state import RunState, TaskState
from flowtui.run.status import TaskStatus
from flowtui.tui.app import FlowtuiApp

SWITCH = textwrap.dedent(
    """
    from metaflow import FlowSpec, step

    class Routed(FlowSpec):
        @step
        def start(self):
            self.route = "high"
            self.next({"high": self.high, "low": self.low}, condition="route")

        @step
        def high(self):
            self.next(self.end)

        @step
        def low(self):
            self.next(self.end)

        @step
        def end(self):
            pass
    """
)


async def test_the_dag_draws_a_switch_with_its_condition_and_case_labels(tmp_path: Path) -> None:
    file = tmp_path / "routed.py"
    file.write_text(SWITCH)
    app = FlowtuiApp(file, store=tmp_path / "store", follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        dag = app.dag
        assert set(dag.boxes) == {"start", "high", "low", "end"}
        text = "\n".join(dag.lines)
        assert "⎇ start (route)" in text
        above = {name: dag.lines[box.y - 1] for name, box in dag.boxes.items() if box.y > 0}
        labels = above["high"]
        assert " high" in labels and " low" in labels  # the case labels, beside the arrows
        await pilot.press("down")
        assert dag.selected in ("high", "low")  # a case is selectable like any child


def test_the_case_a_switch_did_not_take_reads_not_taken() -> None:
    graph = parse_flow(SWITCH, "routed.py")
    run = RunState(flow="Routed", run_id="1")
    for number, step in ((1, "start"), (2, "high")):
        pathspec = f"Routed/1/{step}/{number}"
        run.tasks[pathspec] = TaskState(pathspec, step, str(number), TaskStatus.SUCCEEDED)

    states = step_states(graph, run)

    assert states["low"] == StepState("pending", "○ not taken")
    assert states["end"].label == "○ pending"  # still to run
