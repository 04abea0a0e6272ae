"""`r` on a flow with `Config`s: the form asks for its parameters only, and the run reads the
configs (the runner does: the TUI never imports the flow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input

from flowtui.client import Flow, default_metadata, default_namespace, metadata, namespace
from flowtui.tui.app import FlowtuiApp
from tests.tui.test_app import SIZE, form_shown, run_to_the_end
from tests.tui.waiting import wait_until

FLOW = """
from metaflow import Config, FlowSpec, Parameter, resources, step

class ConfiguredFlow(FlowSpec):
    config = Config("config", default="config.json")
    extra = Config("extra", default_value={"tag": "from default_value"})
    alpha = Parameter("alpha", default=config.alpha)

    @resources(cpu=config.cpu)
    @step
    def start(self):
        self.seen = (self.alpha, self.config.alpha, self.extra.tag)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


async def test_r_asks_for_the_parameters_only_and_runs_with_the_configs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the runner reads config.json from where it was started
    path = tmp_path / "configured.py"
    path.write_text(FLOW)
    (tmp_path / "config.json").write_text('{"alpha": 3, "cpu": 1}')
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: form_shown(app), "the parameters form")
        form = app.screen
        labels = " ".join(str(label.render()) for label in form.query(".param-label"))
        assert "alpha" in labels and "config" not in labels and "extra" not in labels
        field = form.query_one(Input)
        # the default is worked out by the runner: an empty box saying from what
        assert field.value == ""
        assert field.placeholder == "config.alpha (as the run starts)"
        await pilot.click("#params-run")
        await run_to_the_end(pilot, app)
        run = app.run_state
        assert run is not None and run.status.value == "succeeded"
        assert app.controller is not None and "--alpha" not in app.controller.args
    metadata(str(tmp_path / "store"))
    namespace(None)
    try:
        seen = Flow("ConfiguredFlow").latest_run["start"].task.data.seen
        assert seen == (3, 3, "from default_value")
    finally:
        default_metadata()
        default_namespace()


async def test_a_remembered_expression_is_not_offered_as_a_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_settings: Path
) -> None:
    """The form once filled a default worked out by the runner with its text
    (`config.alpha`), and remembered it as the value last run with."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "configured.py"
    path.write_text(FLOW)
    own_settings.parent.mkdir(parents=True, exist_ok=True)
    own_settings.write_text(json.dumps({"params": {"ConfiguredFlow": {"alpha": "config.alpha"}}}))
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: form_shown(app), "the parameters form")
        assert app.screen.query_one(Input).value == ""
        assert app.screen.cli_arguments() == []  # the runner works the default out
