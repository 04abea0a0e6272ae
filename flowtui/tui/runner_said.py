"""What our runner says on stderr: gathered into one notification (a traceback is not a
stream of toasts), and, when the runner refuses to start a run (the flow fails to import, a
bad option), shown in the problems panel: its one-sentence reason, the user's traceback below.
A run stopped by the runner rather than by a task (a foreach wider than allowed) says so there
too, with how to go on.

A mixin of `FlowtuiApp`, kept apart so the app module stays a composition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import App

from flowtui.run.splits import refusal
from flowtui.run.status import RunStatus
from flowtui.tui.controller import RunController
from flowtui.tui.widgets.problems import ProblemsPanel

if TYPE_CHECKING:
    from flowtui.graph.model import Problem
    from flowtui.run.state import RunState

#: The runner's stderr lines that arrive together are shown as one notification (s).
STDERR_GATHER = 0.25
#: At most this many of the runner's stderr lines are shown at once (the last ones).
STDERR_SHOWN = 12
#: Lines kept while waiting to be shown (a runner that floods stderr keeps its last ones).
KEPT = 200


class RunnerSaid(App[None]):
    """The runner's stderr, for an app that has these (FlowtuiApp):"""

    if TYPE_CHECKING:
        run_state: RunState | None
        problems: list[Problem]

    _runner_said: tuple[str, ...] = ()  # the runner's stderr lines not shown yet

    @on(RunController.Stderr)
    def on_runner_stderr(self, message: RunController.Stderr) -> None:
        self._runner_said = (*self._runner_said[-KEPT:], message.line)  # bounded
        if len(self._runner_said) == 1:  # a traceback is one notification, not one per line
            self.set_timer(STDERR_GATHER, self.tell_runner_said)

    def tell_runner_said(self) -> None:
        run = self.run_state
        if run is not None and not run.run_id:  # started, not yet told it began or ended:
            # these lines may be why it never will (`show_refusal` shows them then)
            self.set_timer(STDERR_GATHER, self.tell_runner_said)
            return
        said, self._runner_said = self._runner_said[-STDERR_SHOWN:], ()
        if said:
            text = "\n".join(said)
            self.notify(text, title="runner", severity="warning", timeout=8, markup=False)

    def show_refusal(self, returncode: int) -> None:
        """The runner exited before the run started (the flow failed to import, say): its
        one-sentence reason leads the problems panel, what it printed before (the user's
        traceback) below; no stream of notifications."""
        said, self._runner_said = self._runner_said, ()
        reasons = [line.removeprefix("error: ") for line in said if line.startswith("error: ")]
        reason = reasons[-1] if reasons else f"the runner exited with code {returncode}"
        detail = [line for line in said if not line.startswith("error: ")][-STDERR_SHOWN:]
        note = f"The run did not start: {reason}"
        self.query_one(ProblemsPanel).show(self.problems, note, "\n".join(detail))
        self.notify("The run did not start; the problems panel says why.", severity="error")

    def show_stop(self, run: RunState) -> None:
        """A run the runner stopped at a foreach wider than allowed (no task failed): the
        reason stays in the problems panel, with the key that goes on (resume allows them)."""
        reason = refusal(run.notices)
        if run.status is not RunStatus.FAILED or reason is None:
            return
        note = f"Run {run.run_id} stopped: {reason}"
        detail = "Press R to resume allowing them (the flow's next runs allow them too)."
        self.query_one(ProblemsPanel).show(self.problems, note, detail)
