"""Finding things in a run: the keys that move the selection to what the user is after.

`FindingApp` is the main app's base: the selected step's detail (its tasks and the selected
task), `f`/`F` to the next/previous failed task across the run, `:` to a step by part of
its name, `/` and `&` into the selected task's log from anywhere, and `T` for the timeline.
It sits on `PanedApp` (the panes' arrangement) and leaves runs and the file to `FlowtuiApp`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on
from textual.command import SimpleCommand
from textual.widgets import Static

from flowtui.graph.model import FlowGraph
from flowtui.tui.panes import PanedApp
from flowtui.tui.widgets.dag import DagView, step_of
from flowtui.tui.widgets.task_detail import TaskDetail
from flowtui.tui.widgets.tasks import TaskList, failed_tasks, tally

if TYPE_CHECKING:
    from flowtui.run.state import RunState, TaskState
    from flowtui.tui.widgets.timeline import TimelineView


def show_text(static: Static, text: Text) -> None:
    """Show `text` in `static`: nothing when it is already shown, and a layout of the screen
    only when its height changes (a run's counts change every batch; their height seldom)."""
    if text == getattr(static, "_flowtui_text", None):
        return
    static._flowtui_text = text  # type: ignore[attr-defined]
    width = static.content_size.width
    static.update(text, layout=not width)
    height = static.get_content_height(static.size, static.size, width) if width else 0
    if width and height != static.content_size.height:
        static.refresh(layout=True)


class FindingApp(PanedApp):
    """The selection and the keys that move it (see the module docstring)."""

    graph: FlowGraph | None = None
    """The last good graph of the flow file."""
    run_state: RunState | None = None
    """The run shown."""
    if TYPE_CHECKING:
        clock: Callable[[], float]

    @property
    def dag(self) -> DagView:
        return self.query_one(DagView)

    def action_search(self) -> None:
        """`/` from anywhere: search the log shown for the selected task."""
        detail = self.query_one(TaskDetail)
        if detail.shown is None:
            self.notify("Select a task that has run to search its logs.", timeout=4)
            return
        detail.shown_log.action_search()

    @property
    def timeline(self) -> TimelineView | None:
        """The timeline, once `T` has made it (the first frame has none)."""
        found = self.query("#timeline")
        return cast("TimelineView", found.first()) if found else None

    async def action_toggle_timeline(self) -> None:
        """`T`: the run's timeline (a Gantt chart of its tasks) in place of the DAG, or back."""
        left = self.query_one("#left")
        timeline = self.timeline
        if timeline is None:  # the first `T`: made and mounted now, beside the DAG
            from flowtui.tui.widgets.timeline import TimelineView

            timeline = TimelineView(id="timeline", clock=self.clock)
            timeline.run, timeline.graph = self.run_state, self.dag.graph
            await left.mount(timeline, after=self.dag)
        left.toggle_class("-timeline")
        shown = left.has_class("-timeline")
        if shown:
            timeline.recompute()  # not kept up to date while hidden
        (timeline if shown else self.dag).focus()

    def action_goto_step(self) -> None:
        """`:` (and the palette): pick a step by typing part of its name."""
        if self.graph is None:
            self.notify("Fix the file first: there is no DAG to go through.", severity="warning")
            return
        states = self.dag.states
        self.search_commands(
            [
                SimpleCommand(
                    node.name,
                    partial(self.dag.select, node.name),
                    f"{states[node.name].label}  ·  line {node.line}"
                    if node.name in states
                    else f"line {node.line}",
                )
                for node in self.graph
            ],
            placeholder="Go to step…",
        )

    def action_filter_log(self) -> None:
        """`&` from anywhere: show only the log lines holding a term."""
        detail = self.query_one(TaskDetail)
        if detail.shown is None:
            self.notify("Select a task that has run to filter its logs.", timeout=4)
            return
        detail.shown_log.action_filter()

    def selected_tasks(self) -> list[TaskState]:
        step = self.dag.selected
        if self.run_state is None or step is None:
            return []
        return self.run_state.step_tasks(step)

    def show_step_detail(self) -> None:
        """The selected step: its name and kind, its tasks, and the selected task's detail."""
        if not self.query(DagView):
            return  # the main screen is not up (the app is starting or closing)
        step = self.dag.selected
        info = self.query_one("#step-info", Static)
        task_list = self.query_one(TaskList)
        if self.graph is None or step is None or step not in self.graph:
            show_text(info, Text("No step selected.", style="dim"))
            task_list.set_tasks([])
            self.query_one(TaskDetail).show(None)
            return
        node = self.graph[step]
        text = Text(node.name, style="bold")
        kind = "@parallel" if node.decorator("parallel") else node.kind.value  # a gang's nodes
        text.append(f"  {kind} step, line {node.line}", style="dim")
        run = self.run_state
        known = run.step_tally(step) if run is not None else None  # no run: no tasks
        expected = run.expected.get(step) if run is not None else None
        count = len(known) if known is not None else 0
        if count > 1 or (expected or 0) > 1 or task_list.arrangement:
            text.append("\n").append_text(tally(known if known is not None else [], expected))
            if task_list.arrangement:
                text.append(f"  ({task_list.arrangement})", style="italic")
        if node.doc:
            text.append("\n" + node.doc)
        show_text(info, text)
        task_list.set_tasks(list(known.tasks.values()) if known is not None else [])
        self.query_one(TaskDetail).show(task_list.selected)

    @on(TaskList.Rearranged)
    def on_tasks_rearranged(self, message: TaskList.Rearranged) -> None:
        self.show_step_detail()

    def action_next_failure(self, direction: int) -> None:
        """`f`/`F`: select the next (previous) failed task of the run, in whatever step."""
        failures = failed_tasks(self.run_state, self.graph)
        if not failures:
            self.notify("No task of this run has failed.", timeout=3)
            return
        current = self.query_one(TaskList).selected
        if current is not None and current.pathspec in failures:
            position = (failures.index(current.pathspec) + direction) % len(failures)
        else:
            position = 0 if direction > 0 else len(failures) - 1
        target = failures[position]
        step = step_of(target)
        if step is not None:
            self.dag.select(step)
            self.show_step_detail()
            self.query_one(TaskList).select(target)
