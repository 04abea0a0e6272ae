"""The app's resume: `R` plans resuming the shown run from the selected step, draws the plan
on the DAG (≡ clone, ◐ partly, ↻ rerun, ✎ changed) and starts it once confirmed.

A mixin of `FlowtuiApp`, kept apart so the app module stays a composition. The plan is a pure
function of the graph and the stored run, worked out in process through the client.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import App
from textual.screen import ModalScreen

from flowtui.errors import FlowtuiError
from flowtui.graph import read_flow_file
from flowtui.run.labels import StepState, plan_states
from flowtui.run.splits import DEFAULT_MAX_NUM_SPLITS, splits_asked
from flowtui.tui.widgets.header import RunHeader
from flowtui.units import counted

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from flowtui.client.runs import RunReader
    from flowtui.graph.model import FlowGraph
    from flowtui.run.changes import CodeChanges
    from flowtui.run.plan import ResumePlan
    from flowtui.run.state import RunState
    from flowtui.tui.settings import Settings
    from flowtui.tui.widgets.dag import DagView


class ResumeActions(App[None]):
    """`R`, for an app that has these (FlowtuiApp):"""

    if TYPE_CHECKING:
        path: Path

        @property
        def reader(self) -> RunReader: ...  # the store, through the client

        settings: Settings
        graph: FlowGraph | None
        run_state: RunState | None

        @property
        def dag(self) -> DagView: ...

        def can_start(self) -> bool: ...
        def start_unless_declined(self, start: Callable[[], object]) -> Any: ...
        def runner_args(
            self, command: str, *own: str, after: tuple[str, ...] = ()
        ) -> list[str]: ...
        def start_runner(self, args: list[str], origin_run_id: str | None = None) -> None: ...
        def refresh_run_view(self) -> None: ...
        def save_settings(self) -> None: ...

    def action_resume(self) -> None:
        step = self.dag.selected
        if not self.can_start() or step is None:
            return
        run = self.run_state
        if run is None or not run.run_id:
            self.notify(
                "Run the flow first; resume starts from a run that has happened.",
                severity="warning",
            )
            return
        if run.source == "metaflow":  # read through Metaflow's client: not in flowtui's store
            self.notify(
                f"Run {run.run_id} is Metaflow's: resume it with Metaflow "
                f"(python {self.path.name} resume), or run the flow here first.",
                severity="warning",
                markup=False,
            )
            return
        self.start_unless_declined(partial(self.plan_resume, self.graph, run.run_id, step))

    @work(exclusive=True, group="plan", exit_on_error=False)
    async def plan_resume(self, graph: FlowGraph | None, origin_run_id: str, step: str) -> None:
        """Work out the plan in process (a pure function of the graph and the stored run),
        draw it on the DAG, and start the resume if the user confirms."""
        if graph is None:
            return
        try:
            source: str | None = await asyncio.to_thread(read_flow_file, self.path)
        except FlowtuiError:
            source = None  # the file went away meanwhile: the plan alone
        changes: CodeChanges | None = None
        try:
            if source is None:
                plan = await asyncio.to_thread(self.reader.resume_plan, graph, origin_run_id, step)
            else:
                plan, changes = await asyncio.to_thread(
                    self.reader.plan_with_changes, graph, source, origin_run_id, step
                )
        except FlowtuiError as error:
            self.notify(f"Cannot resume from {step}: {error}", severity="error", markup=False)
            return
        allow = self.splits_to_allow(graph.flow_name)
        answer = await self.push_screen_wait(self.draw_resume_plan(plan, changes, allow))
        self.query_one(RunHeader).set_note("")
        start = step if answer is True else answer if isinstance(answer, str) else None
        if start and allow is not None:
            self.settings.splits[graph.flow_name] = allow
            self.save_settings()
        if start:
            args = self.runner_args(
                "resume", "--origin-run-id", origin_run_id, "--events", after=(start,)
            )
            self.start_runner(args, origin_run_id=origin_run_id)
        else:
            self.refresh_run_view()

    def splits_to_allow(self, flow: str) -> int | None:
        """How many children the shown run's refused foreach asked for, when more than this
        flow's runs are allowed now (None: no foreach was refused)."""
        asked = splits_asked(self.run_state.notices) if self.run_state is not None else None
        allowed = self.settings.splits.get(flow, DEFAULT_MAX_NUM_SPLITS)
        return asked if asked is not None and asked > allowed else None

    def draw_resume_plan(
        self, plan: ResumePlan, changes: CodeChanges | None = None, allow: int | None = None
    ) -> ModalScreen[Any]:
        """Draw `plan` on the DAG (≡ clone, ◐ partly, ↻ rerun, ✎ changed); the dialog that
        asks (offering to start from the earliest changed step when the plan would reuse one)."""
        from flowtui.run.changes import CHANGED, CHANGED_LABEL

        states = plan_states(plan)
        changed = list(changes.cloned_changed) if changes is not None else []
        states.update({step: StepState(CHANGED, CHANGED_LABEL) for step in changed})
        self.dag.set_states(states)
        self.query_one(RunHeader).set_note(f"resume plan from {plan.resume_step}")
        if changes is not None and changes.earliest is not None:
            from flowtui.tui.screens.changed import ChangedCodeScreen

            return ChangedCodeScreen(
                plan.origin_run_id, plan.resume_step, changed, changes.earliest
            )
        steps = counted("step", len(plan.clone)), counted("step", len(plan.rerun + plan.partial))
        tasks = counted("task", plan.tasks_reused), counted("task", plan.tasks_rerun)
        question = Text.assemble(
            "Resume run ",
            (plan.origin_run_id, "bold"),
            " from ",
            (plan.resume_step, "bold"),
            f"?\n{steps[0]} reused (≡ clone), {steps[1]} run again (↻ rerun)."
            f"\nOf run {plan.origin_run_id}'s tasks, {tasks[0]} reused, {tasks[1]} run again.",
        )
        if allow is not None:
            question.append(
                f"\nA foreach asked for {allow} children: this resume allows them "
                "(and so do the flow's next runs)."
            )
        from flowtui.tui.screens.params import ConfirmScreen  # a screen opened later

        return ConfirmScreen(question, yes="Resume", no="Cancel")
