"""DagView: what the DAG shows and how the selection moves, driven through the real app."""

from __future__ import annotations

import textwrap
from itertools import pairwise
from pathlib import Path

import pytest
from rich.style import Style

from flowtui.graph import parse_flow
from flowtui.run.labels import StepState, plan_states, step_states
from flowtui.run.plan import ResumePlan, StepPlan
from flowtui.run.state import RunState, TaskState
from flowtui.run.status import RunStatus, TaskError, TaskStatus
from flowtui.tui.app import FlowtuiApp
from flowtui.tui.widgets.dag import DagView

BRANCHES = textwrap.dedent(
    """
    from flowtui import FlowSpec, step

    class Branches(FlowSpec):
        @step
        def start(self):
            self.next(self.left, self.middle, self.right)

        @step
        def left(self):
            self.next(self.join)

        @step
        def middle(self):
            self.next(self.join)

        @step
        def right(self):
            self.next(self.join)

        @step
        def join(self, inputs):
            self.next(self.end)

        @step
        def end(self):
            pass
    """
)


def linear_flow(count: int) -> str:
    names = ["start", *(f"step_{i}" for i in range(count)), "end"]
    lines = ["from flowtui import FlowSpec, step", "", "class Long(FlowSpec):"]
    for name, following in pairwise(names):
        lines += ["    @step", f"    def {name}(self):", f"        self.next(self.{following})", ""]
    lines += ["    @step", "    def end(self):", "        pass", ""]
    return "\n".join(lines)


def write(tmp_path: Path, source: str, name: str = "flow.py") -> Path:
    path = tmp_path / name
    path.write_text(source)
    return path


def box_style(dag: DagView, step: str) -> Style:
    """The style of the text on `step`'s name line, as drawn on screen."""
    box = dag.boxes[step]
    strip = dag.render_line(box.y + 1 - round(dag.scroll_y))
    x = 0
    for segment in strip:
        if x + len(segment.text) > box.x + 2 - round(dag.scroll_x):
            return segment.style or Style()
        x += len(segment.text)
    raise AssertionError(f"{step} is not on screen")


def screen_text(dag: DagView) -> str:
    return "\n".join(dag.lines)


async def test_every_step_is_drawn_in_a_box(tmp_path: Path) -> None:
    app = FlowtuiApp(write(tmp_path, BRANCHES), store=tmp_path / "store", follow=False)
    async with app.run_test(size=(120, 40)):
        dag = app.dag
        assert set(dag.boxes) == {"start", "left", "middle", "right", "join", "end"}
        text = screen_text(dag)
        for name in dag.boxes:
            assert name in text
        assert dag.selected == "start"


async def test_keys_move_the_selection_along_the_edges(tmp_path: Path) -> None:
    app = FlowtuiApp(write(tmp_path, BRANCHES), store=tmp_path / "store", follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        dag = app.dag
        await pilot.press("down")
        assert dag.selected == "middle"  # the child under start
        await pilot.press("left")
        assert dag.selected == "left"
        await pilot.press("left")
        assert dag.selected == "left"  # nothing further left
        await pilot.press("l", "l")
        assert dag.selected == "right"
        await pilot.press("j")
        assert dag.selected == "join"
        await pilot.press("j")
        assert dag.selected == "end"
        await pilot.press("k", "k", "up")
        assert dag.selected == "start"


async def test_a_click_selects_the_step_under_the_mouse(tmp_path: Path) -> None:
    app = FlowtuiApp(write(tmp_path, BRANCHES), store=tmp_path / "store", follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        dag = app.dag
        box = dag.boxes["right"]
        padding = dag.styles.padding
        await pilot.click(DagView, offset=(box.x + padding.left + 3, box.y + padding.top + 1))
        assert dag.selected == "right"


async def test_selecting_far_down_scrolls_the_step_into_view(tmp_path: Path) -> None:
    app = FlowtuiApp(write(tmp_path, linear_flow(20)), store=tmp_path / "store", follow=False)
    async with app.run_test(size=(120, 24)) as pilot:
        dag = app.dag
        for _ in range(21):
            await pilot.press("down")
        assert dag.selected == "end"
        box = dag.boxes["end"]
        top = round(dag.scroll_y)
        assert dag.scroll_y > 0
        assert top <= box.y and box.bottom <= top + dag.scrollable_content_region.height


async def test_a_narrow_terminal_gets_one_row_per_step(tmp_path: Path) -> None:
    app = FlowtuiApp(write(tmp_path, BRANCHES), store=tmp_path / "store", follow=False)
    async with app.run_test(size=(60, 30)) as pilot:
        dag = app.dag
        assert dag.has_class("-rows")
        assert len(dag.lines) == 6
        assert [dag.boxes[name].y for name in ("start", "end")] == [0, 5]
        await pilot.press("down", "down")
        assert dag.selected in ("left", "middle", "right")


async def test_step_states_colour_the_boxes_and_fill_their_status_line(tmp_path: Path) -> None:
    app = FlowtuiApp(write(tmp_path, BRANCHES), store=tmp_path / "store", follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        dag = app.dag
        await pilot.press("down", "down")  # move the selection off the boxes we compare
        dag.set_states(
            {
                "start": StepState("succeeded", "✔ done"),
                "left": StepState("failed", "✖ failed"),
                "middle": StepState("running", "● running"),
            },
            first_failed="left",
        )
        await pilot.pause()
        text = screen_text(dag)
        assert "✔ done" in text and "✖ failed" in text and "● running" in text
        colours = {step: box_style(dag, step) for step in ("start", "left", "middle", "right")}
        assert len({style.color for style in colours.values()}) == 4
        assert colours["left"].bgcolor != colours["right"].bgcolor  # the first failure stands out


def task(step: str, number: int, status: TaskStatus, **fields: object) -> TaskState:
    return TaskState(
        pathspec=f"F/1/{step}/{number}",
        step=step,
        task_id=str(number),
        status=status,
        **fields,  # type: ignore[arg-type]
    )


def test_step_states_summarise_the_tasks_of_each_step() -> None:
    graph = parse_flow(BRANCHES, "flow.py")
    run = RunState(flow="Branches", run_id="1")
    for t in (
        task("start", 1, TaskStatus.SUCCEEDED),
        task("left", 2, TaskStatus.RUNNING),
        task("middle", 3, TaskStatus.FAILED, error=TaskError("ValueError", "bad")),
        task("right", 4, TaskStatus.RUNNING, attempt=2),
    ):
        run.tasks[t.pathspec] = t
    states = step_states(graph, run)
    assert states["start"] == StepState("succeeded", "✔ done")
    assert states["left"] == StepState("running", "● running")
    assert states["middle"] == StepState("failed", "✖ failed")
    assert states["right"] == StepState("retrying", "⟳ retry 2")
    assert states["join"] == StepState("pending", "○ pending")
    run.status = RunStatus.FAILED
    assert step_states(graph, run)["end"].label == "○ not run"


def test_a_foreach_step_counts_its_tasks() -> None:
    graph = parse_flow(BRANCHES, "flow.py")
    run = RunState(flow="Branches", run_id="1", expected={"left": 3})
    run.tasks["F/1/left/2"] = task("left", 2, TaskStatus.SUCCEEDED, index=0)
    run.tasks["F/1/left/3"] = task("left", 3, TaskStatus.RUNNING, index=1)
    assert step_states(graph, run)["left"] == StepState("running", "● 1/3")
    run.tasks["F/1/left/3"] = task("left", 3, TaskStatus.SUCCEEDED, index=1)
    run.tasks["F/1/left/4"] = task("left", 4, TaskStatus.SUCCEEDED, index=2)
    assert step_states(graph, run)["left"] == StepState("succeeded", "✔ 3 done")


def test_cloned_steps_and_resume_plans_are_distinct() -> None:
    graph = parse_flow(BRANCHES, "flow.py")
    run = RunState(flow="Branches", run_id="2", origin_run_id="1")
    run.tasks["F/2/start/1"] = task("start", 1, TaskStatus.CLONED)
    assert step_states(graph, run)["start"] == StepState("cloned", "≡ cloned")
    steps = [StepPlan("start", "clone", 1, 1), StepPlan("left", "clone", 1, 1)]
    steps += [StepPlan(name, "rerun", 0, 0) for name in ("middle", "join", "end")]
    plan = plan_states(ResumePlan("1", "middle", tuple(steps)))
    assert plan["left"].label == "≡ clone"
    assert plan["join"].label == "↻ rerun"


@pytest.mark.parametrize("size", [(120, 40), (60, 30)])
async def test_the_selection_survives_a_redraw(tmp_path: Path, size: tuple[int, int]) -> None:
    app = FlowtuiApp(write(tmp_path, BRANCHES), store=tmp_path / "store", follow=False)
    async with app.run_test(size=size) as pilot:
        await pilot.press("down", "right")
        chosen = app.dag.selected
        assert chosen not in (None, "start")
        app.reload()
        await pilot.pause()
        assert app.dag.selected == chosen
