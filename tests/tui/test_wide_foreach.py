"""A foreach wider than Metaflow's default of 100 children, run from the TUI: the run stops at
the foreach and says why in the problems panel; `R` offers to resume allowing the width asked
for; once allowed, the flow's next runs (`r`) allow it too."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Static

from flowtui.run.status import RunStatus
from flowtui.tui.app import FlowtuiApp
from flowtui.tui.screens.params import ConfirmScreen
from flowtui.tui.widgets.problems import ProblemsPanel
from tests.tui.waiting import wait_until

WIDE = """\
from metaflow import FlowSpec, step


class WideFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(105))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.x = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.x for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    WideFlow()
"""


def panel_text(app: FlowtuiApp) -> str:
    panel = app.query_one(ProblemsPanel)
    return str(panel.render()) if panel.display else ""


def ended(app: FlowtuiApp, run_id: str) -> bool:
    run = app.run_state
    return run is not None and run.run_id == run_id and run.status.done and not app.run_active


async def test_a_refused_foreach_is_explained_and_resumed_allowing_it(
    tmp_path: Path, own_settings: Path
) -> None:
    flow = tmp_path / "wide.py"
    flow.write_text(WIDE)
    app = FlowtuiApp(flow, store=tmp_path / "store", follow=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: "stopped" in panel_text(app))
        assert app.run_state is not None and app.run_state.status is RunStatus.FAILED
        said = panel_text(app)
        assert "Run 1 stopped: Foreach in step start yielded 105 child steps" in said
        assert "Press R to resume allowing them" in said

        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = str(app.screen.query_one("#confirm-question", Static).render())
        assert "A foreach asked for 105 children: this resume allows them" in question
        await pilot.press("y")
        await wait_until(pilot, lambda: ended(app, "2"))
        run = app.run_state
        assert run is not None and run.status is RunStatus.SUCCEEDED
        assert len(run.step_tasks("body")) == 105
        assert "stopped" not in panel_text(app)  # the old news went with the new run

        await pilot.press("r")  # a new run of the flow allows the width too
        await wait_until(pilot, lambda: ended(app, "3"))
        assert app.run_state is not None and app.run_state.status is RunStatus.SUCCEEDED
    assert json.loads(own_settings.read_text())["splits"] == {"WideFlow": 105}
