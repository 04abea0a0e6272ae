"""A run stays drawn on the graph it runs with while the file changes under it, and the
header says the file has changed since."""

from __future__ import annotations

import textwrap
from pathlib import Path

from flowtui.tui.app import FlowtuiApp
from flowtui.tui.screens.history import RunHistoryScreen
from flowtui.tui.widgets.header import RunHeader
from tests.tui.test_app import run_command
from tests.tui.waiting import wait_until

GATED = textwrap.dedent(
    """
    import os, time
    from flowtui import FlowSpec, step

    class Gated(FlowSpec):
        @step
        def start(self):
            self.next(self.train)

        @step
        def train(self):
            while not os.path.exists("go"):  # the test says when
                time.sleep(0.05)
            self.next(self.end)

        @step
        def end(self):
            pass
    """
)


async def test_editing_the_file_mid_run_keeps_the_run_on_its_graph(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    flow = tmp_path / "gated.py"
    flow.write_text(GATED)
    app = FlowtuiApp(flow, store=tmp_path / "store")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(
            pilot,
            lambda: (
                app.dag.states.get("train") is not None
                and app.dag.states["train"].state == "running"
            ),
        )
        evaluate = "    @step\n    def evaluate(self):\n        self.next(self.end)\n\n"
        edited = GATED.replace("self.next(self.end)", "self.next(self.evaluate)").replace(
            "    @step\n    def end", evaluate + "    @step\n    def end"
        )
        flow.write_text(edited)
        app.reload()
        await pilot.pause()
        assert app.graph is not None and "evaluate" in app.graph  # the file's new graph
        assert app.dag.graph is not None and "evaluate" not in app.dag.graph  # the run's
        header = app.query_one(RunHeader).render_header().plain
        assert "file changed since this run" in header
        (tmp_path / "go").write_text("")
        await wait_until(pilot, lambda: app.run_state is not None and app.run_state.status.done)
        await pilot.pause()
        assert app.dag.graph is not None and "evaluate" not in app.dag.graph  # over: still its
        assert app.dag.states["end"].state == "succeeded"  # never `○ not run` between done steps
        assert "file changed since this run" in app.query_one(RunHeader).render_header().plain

        app.reload()  # the next save draws the file, without the run's states: not its shape
        await pilot.pause()
        assert app.dag.graph is not None and "evaluate" in app.dag.graph
        assert app.dag.states == {}
        assert "file changed since this run" in app.query_one(RunHeader).render_header().plain


async def test_a_run_opened_from_history_is_drawn_on_the_graph_it_ran_with(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "go").write_text("")  # no waiting
    flow = tmp_path / "gated.py"
    flow.write_text(GATED)
    app = FlowtuiApp(flow, store=tmp_path / "store")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: app.run_state is not None and app.run_state.status.done)
        first = app.run_state.run_id
        flow.write_text(GATED.replace("def train", "def fit").replace("self.train", "self.fit"))
        app.reload()
        await wait_until(pilot, lambda: app.dag.graph is not None and "fit" in app.dag.graph)
        await wait_until(pilot, lambda: app.can_start())
        await pilot.press("r")
        await wait_until(
            pilot,
            lambda: (
                app.run_state is not None
                and app.run_state.run_id != first
                and app.run_state.status.done
            ),
        )
        await run_command(pilot, app, "run history")
        await wait_until(pilot, lambda: isinstance(app.screen, RunHistoryScreen))
        await pilot.press("down", "enter")  # the older run, made with `train`
        await wait_until(pilot, lambda: app.run_state is not None and app.run_state.run_id == first)
        assert app.dag.graph is not None and "train" in app.dag.graph and "fit" not in app.dag.graph
        assert app.dag.states["train"].state == "succeeded"
        assert "file changed since this run" in app.query_one(RunHeader).render_header().plain
