"""The app around a real example file: live DAG on save, broken edits, dialogs, runs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from textual.command import CommandList
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Input, TabbedContent

from flowtui.client import Flow, default_metadata, default_namespace, metadata, namespace
from flowtui.run.plan import ResumePlan, StepPlan
from flowtui.tui.app import FlowtuiApp
from flowtui.tui.screens.help import HelpScreen
from flowtui.tui.screens.history import RunHistoryScreen
from flowtui.tui.screens.params import ConfirmScreen, ParametersScreen
from flowtui.tui.screens.quit import QuitScreen
from flowtui.tui.styles import stylesheet_dir
from flowtui.tui.widgets.header import RunHeader
from flowtui.tui.widgets.problems import ProblemsPanel
from flowtui.tui.widgets.task_detail import TaskDetail, TaskHeader
from flowtui.tui.widgets.tasks import TaskList
from tests.tui.waiting import wait_until

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SIZE = (120, 40)


def copy_example(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copy(EXAMPLES / name, target)
    return target


async def run_command(pilot: Pilot[None], app: FlowtuiApp, words: str) -> None:
    """Open the command palette, type `words`, and choose the first hit once it is listed."""
    await pilot.press("ctrl+p")
    await pilot.press(*words)

    def listed() -> bool:
        hits = app.screen.query(CommandList)
        return bool(hits) and hits.first().option_count > 0

    await wait_until(pilot, listed)
    await pilot.press("enter")


def form_shown(app: FlowtuiApp) -> bool:
    """The parameters form is up and composed (its fields exist, so keys reach them)."""
    return isinstance(app.screen, ParametersScreen) and bool(app.screen.query(Input))


def dag_text(app: FlowtuiApp) -> str:
    return "\n".join(app.dag.lines)


def problems_text(app: FlowtuiApp) -> str:
    panel = app.query_one(ProblemsPanel)
    return str(panel.render()) if panel.display else ""


def header_text(app: FlowtuiApp) -> str:
    return app.query_one(RunHeader).render_header().plain


def with_extra_step(source: str) -> str:
    """`source` with a step `extra` inserted just before `end`."""
    head, sep, tail = source.rpartition("self.next(self.end)")
    assert sep, "the example should end a step with self.next(self.end)"
    source = head + "self.next(self.extra)" + tail
    marker = "    @step\n    def end("
    assert marker in source
    extra = "    @step\n    def extra(self):\n        self.next(self.end)\n\n"
    return source.replace(marker, extra + marker)


def break_line(source: str, needle: str) -> tuple[str, int]:
    """`source` with the colon removed from the line containing `needle`, and that line."""
    lines = source.splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if needle in line)
    lines[number] = lines[number].replace("):", ")", 1)
    return "".join(lines), number + 1


def save_by_rename(path: Path, text: str) -> None:
    """Save like editors that write a temporary file and rename it over the original."""
    temporary = path.with_name(f".{path.name}.swp")
    temporary.write_text(text)
    os.replace(temporary, path)


async def test_opens_with_the_dag_drawn_and_the_flow_named(tmp_path: Path) -> None:
    path = copy_example(tmp_path, "hello.py")
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE):
        assert "start" in dag_text(app) and "end" in dag_text(app)
        assert app.graph is not None
        assert header_text(app).startswith(app.graph.flow_name)
        assert "press r to run" in header_text(app)
        assert problems_text(app) == ""


async def test_saving_a_new_step_redraws_the_dag(tmp_path: Path) -> None:
    path = copy_example(tmp_path, "hello.py")
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        assert "extra" not in app.dag.boxes
        path.write_text(with_extra_step(path.read_text()))
        await wait_until(pilot, lambda: "extra" in app.dag.boxes)
        assert "extra" in dag_text(app)


async def test_an_editor_save_by_rename_is_followed(tmp_path: Path) -> None:
    path = copy_example(tmp_path, "hello.py")
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        save_by_rename(path, with_extra_step(path.read_text()))
        await wait_until(pilot, lambda: "extra" in app.dag.boxes)
        # and the file is still followed after its inode was replaced
        path.write_text(path.read_text().replace("extra", "polish"))
        await wait_until(pilot, lambda: "polish" in app.dag.boxes)


async def test_a_broken_save_shows_the_line_and_keeps_the_last_dag_dimmed(tmp_path: Path) -> None:
    path = copy_example(tmp_path, "hello.py")
    good = path.read_text()
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        steps_before = set(app.dag.boxes)
        broken, line = break_line(good, "def end(")
        path.write_text(broken)
        await wait_until(pilot, lambda: app.dag.has_class("-stale"))
        assert f"{path}:{line}" in problems_text(app)
        assert set(app.dag.boxes) == steps_before  # the last good DAG stays
        path.write_text(good)
        await wait_until(pilot, lambda: not app.dag.has_class("-stale"))
        assert problems_text(app) == ""


async def test_a_structural_error_is_shown_with_its_line(tmp_path: Path) -> None:
    path = copy_example(tmp_path, "hello.py")
    source = path.read_text()
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        head, _, tail = source.rpartition("self.next(self.end)")
        line = head.count("\n") + 1
        path.write_text(head + "self.next(self.missing)" + tail)
        await wait_until(pilot, lambda: app.dag.has_class("-stale"))
        assert f"{path}:{line}" in problems_text(app)
        assert "missing" in problems_text(app)


async def test_a_deleted_file_is_followed_when_it_comes_back(tmp_path: Path) -> None:
    path = copy_example(tmp_path, "hello.py")
    good = path.read_text()
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        path.unlink()
        await wait_until(pilot, lambda: "was deleted" in problems_text(app))
        assert app.dag.has_class("-stale")
        assert f"{path} was deleted; waiting for it to be saved again." in problems_text(app)
        await pilot.press("r")
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert said[-1] == "hello.py was deleted; save it again to run it."
        assert app.controller is None
        path.write_text(with_extra_step(good))
        await wait_until(pilot, lambda: "extra" in app.dag.boxes and problems_text(app) == "")


async def test_the_selection_is_kept_across_saves(tmp_path: Path) -> None:
    path = copy_example(tmp_path, "hello.py")
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down")
        chosen = app.dag.selected
        assert chosen not in (None, "start")
        path.write_text(with_extra_step(path.read_text()))
        await wait_until(pilot, lambda: "extra" in app.dag.boxes)
        assert app.dag.selected == chosen


async def test_a_file_broken_from_the_start_opens_with_its_problems(tmp_path: Path) -> None:
    path = copy_example(tmp_path, "hello.py")
    broken, line = break_line(path.read_text(), "def start(")
    path.write_text(broken)
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        assert f"{path}:{line}" in problems_text(app)
        await pilot.press("r")
        await pilot.pause()
        assert app.controller is None  # nothing runs while the file is broken


async def test_run_asks_for_parameters_prefilled_typed_and_validated(tmp_path: Path) -> None:
    path = copy_example(tmp_path, "metaflow_style.py")
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: form_shown(app))
        form = app.screen
        field = form.query_one(Input)
        assert field.value == "3"  # the default
        assert "(int)" in " ".join(str(label.render()) for label in form.query(".param-label"))
        field.value = "three"
        await pilot.click("#params-run")
        assert "shards must be an int" in str(form.query_one("#params-error").render())
        assert app.screen is form and app.controller is None
        field.value = "2"
        field.focus()
        await pilot.press("enter")
        await run_to_the_end(pilot, app)
        assert app.controller is not None and "--shards" in app.controller.args
        assert app.controller.args[app.controller.args.index("--shards") + 1] == "2"
        run = app.run_state
        assert run is not None and run.status.value == "succeeded"
        assert app.dag.states["process"].label == "✔ 2 done"  # a foreach shows its count


TYPED_DEFAULTS = """
from flowtui import FlowSpec, Parameter, step

class TypedFlow(FlowSpec):
    off = Parameter("off", type=bool, default="false")
    rounded = Parameter("rounded", type=int, default=2.0)
    whole = Parameter("whole", type=int, default="5")

    @step
    def start(self):
        self.seen = (self.off, self.rounded, self.whole)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


async def test_the_form_shows_defaults_of_another_type_as_the_run_reads_them(
    tmp_path: Path,
) -> None:
    """`type=bool, default="false"` read "true" in the form, and `type=int, default=2.0` read
    "2.0", which the form's own check refused, so Run did nothing until it was retyped."""
    path = tmp_path / "typed.py"
    path.write_text(TYPED_DEFAULTS)
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: form_shown(app), "the parameters form")
        form = app.screen
        assert [field.value for field in form.query(Input)] == ["false", "2", "5"]
        await pilot.click("#params-run")
        await run_to_the_end(pilot, app)
        run = app.run_state
        assert run is not None and run.status.value == "succeeded"
    metadata(str(tmp_path / "store"))
    namespace(None)
    try:
        assert Flow("TypedFlow").latest_run["start"].task.data.seen == (False, 2, 5)
    finally:
        default_metadata()
        default_namespace()


async def test_cancelling_the_parameters_form_runs_nothing(tmp_path: Path) -> None:
    path = copy_example(tmp_path, "hello.py")
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: form_shown(app))
        assert app.screen.query_one(Input).value == "world"
        await pilot.press("escape")
        assert not isinstance(app.screen, ParametersScreen)
        assert app.controller is None


async def test_help_theme_and_palette(tmp_path: Path) -> None:
    path = copy_example(tmp_path, "hello.py")
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        dark = app.current_theme.dark
        await pilot.press("t")
        assert app.current_theme.dark is not dark
        await run_command(pilot, app, "run history")
        await wait_until(pilot, lambda: isinstance(app.screen, RunHistoryScreen))
        assert not app.screen.runs  # nothing has run yet
        await pilot.press("escape")
        await pilot.press("R", "x")  # greyed out: no run to resume or cancel
        assert app.controller is None and not isinstance(app.screen, ConfirmScreen)


async def test_quitting_while_idle_exits_at_once(tmp_path: Path) -> None:
    path = copy_example(tmp_path, "hello.py")
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
    assert app.return_code == 0


async def test_the_resume_question_counts_steps_in_words(tmp_path: Path) -> None:
    path = copy_example(tmp_path, "hello.py")
    app = FlowtuiApp(path, store=tmp_path / "store", follow=False)
    async with app.run_test(size=SIZE):
        steps = (StepPlan("start", "clone", 1, 1), StepPlan("shout", "rerun", 0, 1))
        plan = ResumePlan("1", "shout", (*steps, StepPlan("end", "rerun", 0, 0)))
        dialog = app.draw_resume_plan(plan)
        assert "1 step reused (≡ clone), 2 steps run again (↻ rerun)." in dialog.question.plain


async def test_a_narrow_terminal_keeps_help_and_quit_in_the_footer(tmp_path: Path) -> None:
    path = copy_example(tmp_path, "hello.py")
    app = FlowtuiApp(path, store=tmp_path / "store", follow=False)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        footer = app.query_one(Footer)

        def shown(label: str) -> list[Widget]:
            return [k for k in footer.children if label in str(k.render()) and k.region.width]

        await wait_until(pilot, lambda: bool(shown("Help") and shown("Quit")))
        for label in ("Help", "Quit"):
            assert shown(label)[0].region.right <= 60, f"{label} is cut off the footer"
        await pilot.press("question_mark")  # and the keys work
        assert isinstance(app.screen, HelpScreen)


async def test_the_palette_screenshot_is_saved_where_a_folder_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"  # a home without a Downloads folder
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.chdir(work)
    path = copy_example(tmp_path, "hello.py")
    app = FlowtuiApp(path, store=tmp_path / "store", follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await run_command(pilot, app, "screenshot")
        await wait_until(pilot, lambda: any(work.glob("*.svg")))
        saved = next(work.glob("*.svg"))
        await wait_until(pilot, lambda: any(str(saved) in n.message for n in app._notifications))
        assert not any("Failed" in n.message for n in app._notifications)


def test_stylesheets_are_found() -> None:
    assert (stylesheet_dir() / "app.tcss").is_file()


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.py")))
async def test_every_example_opens(tmp_path: Path, name: str) -> None:
    path = copy_example(tmp_path, name)
    app = FlowtuiApp(path, store=tmp_path / "store", follow=False)
    async with app.run_test(size=SIZE):
        assert app.graph is not None
        assert set(app.dag.boxes) == {step.name for step in app.graph}


# -- runs: the real `flowtui run --events` subprocess -------------------------------------


async def run_to_the_end(pilot: Pilot[None], app: FlowtuiApp) -> None:
    await wait_until(pilot, lambda: app.controller is not None)
    await wait_until(
        pilot,
        lambda: (
            app.run_state is not None
            and app.run_state.status.done
            and app.controller is not None
            and not app.controller.running
        ),
    )
    await pilot.pause(0.1)


def stored_statuses(store: Path, run_id: str) -> dict[str, set[str]]:
    from flowtui.store import Store

    db = Store.open(store, create=False)
    try:
        statuses: dict[str, set[str]] = {}
        for record in db.meta.tasks(run_id):
            statuses.setdefault(record.step, set()).add(record.status)
        return statuses
    finally:
        db.close()


async def test_a_run_lights_up_the_dag_as_the_store_records_it(tmp_path: Path) -> None:
    path = copy_example(tmp_path, "hello.py")
    store = tmp_path / "store"
    app = FlowtuiApp(path, store=store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: form_shown(app))
        await pilot.press("enter")
        await run_to_the_end(pilot, app)
        run = app.run_state
        assert run is not None and run.status.value == "succeeded"
        assert "succeeded" in header_text(app) and f"run {run.run_id}" in header_text(app)
        stored = stored_statuses(store, run.run_id)
        assert set(stored) == set(app.dag.boxes)
        for step, state in app.dag.states.items():
            assert state.state == "succeeded" and stored[step] == {"succeeded"}
        assert "✔ done" in dag_text(app)


async def test_a_failure_is_shown_then_resumed_from_the_failed_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLOWTUI_FIX", raising=False)
    path = copy_example(tmp_path, "flaky.py")
    store = tmp_path / "store"
    app = FlowtuiApp(path, store=store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await run_to_the_end(pilot, app)
        run = app.run_state
        assert run is not None and run.status.value == "failed"
        failed_step = run.failed.split("/")[2] if run.failed else None
        assert failed_step is not None
        assert app.dag.first_failed == failed_step
        assert app.dag.selected == failed_step  # the failure is where the eye goes
        assert app.dag.states[failed_step].state == "failed"
        failed_task = next(t for t in run.tasks.values() if t.step == failed_step)
        assert failed_task.error is not None
        assert failed_task.error.type in detail_text(app)
        stored = stored_statuses(store, run.run_id)
        assert stored[failed_step] == {"failed"}

        # the fix lands, then R: the plan is drawn, confirmed, and the resume succeeds
        monkeypatch.setenv("FLOWTUI_FIX", "1")
        first_run = run.run_id
        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        plan = {step: state.label for step, state in app.dag.states.items()}
        assert plan[failed_step] == "↻ rerun"
        assert plan["start"] == "≡ clone"
        await pilot.press("y")
        await run_to_the_end(pilot, app)
        resumed = app.run_state
        assert resumed is not None and resumed.run_id != first_run
        assert resumed.status.value == "succeeded"
        assert resumed.origin_run_id == first_run
        assert app.dag.states["start"].state == "cloned"
        assert app.dag.states[failed_step].state == "succeeded"
        stored = stored_statuses(store, resumed.run_id)
        assert stored["start"] == {"cloned"}
        assert stored[failed_step] == {"succeeded"}


def detail_text(app: FlowtuiApp) -> str:

    return " ".join(str(widget.render()) for widget in app.query("#detail Static"))


SLOW_FLOW = """
import time

from flowtui import FlowSpec, step


class SlowFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.wait)

    @step
    def wait(self):
        print("waiting", flush=True)
        time.sleep(120)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


async def start_slow_run(tmp_path: Path, pilot: Pilot[None], app: FlowtuiApp) -> None:
    await pilot.press("r")
    await wait_until(
        pilot,
        lambda: "wait" in app.dag.states and app.dag.states["wait"].state == "running",
    )


@pytest.mark.parametrize("key", ["x", "ctrl+c"])
async def test_cancel_stops_the_runner_and_shows_the_run_cancelled(
    tmp_path: Path, key: str
) -> None:
    path = tmp_path / "slow.py"
    path.write_text(SLOW_FLOW)
    store = tmp_path / "store"
    app = FlowtuiApp(path, store=store)
    async with app.run_test(size=SIZE) as pilot:
        await start_slow_run(tmp_path, pilot, app)
        await pilot.press(key)
        await run_to_the_end(pilot, app)
        assert app.run_state is not None
        assert app.run_state.status.value == "cancelled"
        assert "cancelled" in header_text(app)
        assert app.controller is not None and app.controller.process is not None
        assert app.controller.process.returncode is not None
        # the step the cancel stopped shows as cancelled everywhere, not as failed
        assert app.dag.states["wait"].state == "cancelled"
        assert app.dag.states["wait"].label == "■ cancelled"
        assert app.dag.first_failed is None
        app.dag.select("wait")
        await pilot.pause()
        tasks = app.query_one(TaskList)
        assert tasks.get_row_at(0)[2].plain == "■ cancelled"
        assert "■ cancelled" in str(app.query_one(TaskHeader).render())
        # its stdout has a line: that tab is in front, and shows it
        detail = app.query_one(TaskDetail)
        assert app.query_one("#task-logs", TabbedContent).active == "stdout-tab"
        await wait_until(pilot, lambda: detail.stdout.line_count == 1)
        assert detail.stdout.lines.render_line(0).text.startswith("waiting")


async def test_quitting_during_a_run_asks_then_stops_it(tmp_path: Path) -> None:
    path = tmp_path / "slow.py"
    path.write_text(SLOW_FLOW)
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        await start_slow_run(tmp_path, pilot, app)
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, QuitScreen))
        assert app.run_active
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, QuitScreen))
        process = app.controller.process if app.controller else None
        await pilot.press("y")
        await wait_until(pilot, lambda: process is not None and process.returncode is not None)


async def test_a_run_started_from_a_shell_is_picked_up(tmp_path: Path) -> None:
    import asyncio
    import sys

    path = copy_example(tmp_path, "hello.py")
    store = tmp_path / "store"
    app = FlowtuiApp(path, store=store)
    async with app.run_test(size=SIZE) as pilot:
        shell = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "flowtui", "run", str(path), "--store", str(store), "-q"
        )
        assert await shell.wait() == 0
        await wait_until(
            pilot,
            lambda: app.run_state is not None and app.run_state.status.value == "succeeded",
        )
        assert app.controller is None  # not started here: read from the store
        assert all(state.state == "succeeded" for state in app.dag.states.values())


async def test_renaming_the_flow_class_stops_showing_the_old_flows_run(tmp_path: Path) -> None:
    """The file's flow renamed (HelloFlow -> GreetFlow) is another flow: its runs are its own,
    so the old flow's run is no longer shown under the new name (nor resumed as its), and a
    run of the new flow is picked up as usual."""
    import subprocess
    import sys

    path = copy_example(tmp_path, "hello.py")
    store = tmp_path / "store"
    ran = subprocess.run(
        [sys.executable, "-m", "flowtui", "run", str(path), "--store", str(store), "-q"],
        capture_output=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    app = FlowtuiApp(path, store=store)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.run_state is not None)
        assert "run 1" in header_text(app)
        path.write_text(path.read_text().replace("HelloFlow", "GreetFlow"))
        renamed = "GreetFlow"
        await wait_until(pilot, lambda: app.graph is not None and app.graph.flow_name == renamed)
        await pilot.pause()
        assert app.run_state is None
        assert header_text(app).startswith("GreetFlow") and "run 1" not in header_text(app)
        assert all(state.state != "succeeded" for state in app.dag.states.values())
        again = subprocess.run(
            [sys.executable, "-m", "flowtui", "run", str(path), "--store", str(store), "-q"],
            capture_output=True,
            timeout=120,
        )
        assert again.returncode == 0, again.stderr
        await wait_until(pilot, lambda: app.run_state is not None)
        assert app.run_state.flow == "GreetFlow" and "run 2" in header_text(app)


async def test_history_lists_runs_and_opens_an_older_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowtui.tui.screens.history import RunHistoryScreen

    monkeypatch.delenv("FLOWTUI_FIX", raising=False)
    path = copy_example(tmp_path, "flaky.py")
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await run_to_the_end(pilot, app)
        assert app.run_state is not None
        failed_run = app.run_state.run_id
        monkeypatch.setenv("FLOWTUI_FIX", "1")
        await pilot.press("r")
        await wait_until(
            pilot, lambda: app.run_state is not None and app.run_state.run_id != failed_run
        )
        await run_to_the_end(pilot, app)
        assert app.run_state is not None and app.run_state.status.value == "succeeded"

        app.dag.select("start")
        await run_command(pilot, app, "run history")
        await wait_until(pilot, lambda: isinstance(app.screen, RunHistoryScreen))
        assert [run.run_id for run in app.screen.runs][-1] == failed_run
        table = app.screen.query_one(DataTable)
        failed_row = [cell.plain for cell in table.get_row(failed_run)]
        assert failed_row[1] == "✖ failed in train"  # the step that failed it, in the list
        await pilot.press("down", "enter")  # the older, failed run
        await wait_until(
            pilot, lambda: app.run_state is not None and app.run_state.run_id == failed_run
        )
        assert app.run_state.status.value == "failed"
        assert app.dag.states["train"].state == "failed"
        await wait_until(pilot, lambda: app.dag.selected == "train")  # opened on its failure
        await pilot.pause(0.2)
        assert "RuntimeError" in detail_text(app)  # the failure, as the store recorded it


async def test_a_opens_the_artifacts_of_the_selected_task(tmp_path: Path) -> None:
    from flowtui.tui.screens.artifacts import ArtifactsScreen

    path = copy_example(tmp_path, "hello.py")
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: form_shown(app))
        await pilot.press("enter")
        await run_to_the_end(pilot, app)
        app.dag.focus()
        await pilot.press("down")
        step = app.dag.selected
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ArtifactsScreen))
        assert isinstance(app.screen, ArtifactsScreen)
        assert app.screen.pathspec.split("/")[2] == step
        depth = len(app.screen_stack)
        await pilot.press("a")  # already shown: not a second copy
        await pilot.pause()
        assert len(app.screen_stack) == depth
        await pilot.press("escape")  # one escape is back on the DAG
        await wait_until(pilot, lambda: not isinstance(app.screen, ArtifactsScreen))
        assert len(app.screen_stack) == depth - 1


CHATTY_FLOW = """
from flowtui import FlowSpec, step


class ChattyFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.chatty)

    @step
    def chatty(self):
        for i in range(200_000):
            print(f"line {i} [red]not markup[/red]")
        self.next(self.end)

    @step
    def end(self):
        pass
"""


async def test_a_chatty_task_streams_its_logs_and_the_app_keeps_answering(tmp_path: Path) -> None:
    from flowtui.tui.widgets.task_detail import TaskDetail

    path = tmp_path / "chatty.py"
    path.write_text(CHATTY_FLOW)
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down")
        assert app.dag.selected == "chatty"
        await pilot.press("r")
        await wait_until(pilot, lambda: "chatty" in app.dag.states)
        await pilot.press("up")  # keys still work while the log grows
        assert app.dag.selected == "start"
        await pilot.press("down")
        assert app.dag.selected == "chatty"
        await run_to_the_end(pilot, app)
        logs = app.query_one(TaskDetail).stdout
        await wait_until(pilot, lambda: logs.line_count >= 200_000)
        assert logs.line_count == 200_000
        assert app.run_state is not None and app.run_state.status.value == "succeeded"


async def test_a_run_the_runner_refuses_says_why(tmp_path: Path) -> None:
    path = copy_example(tmp_path, "metaflow_style.py")
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        app.start_runner(app.runner_args("run", "--events", after=("--no-such-parameter", "1")))
        await wait_until(pilot, lambda: app.controller is not None and not app.controller.running)
        await wait_until(pilot, lambda: "did not start" in problems_text(app))
        assert "no-such-parameter" in problems_text(app)  # the runner's own sentence
        assert app.run_state is None
        assert "no run yet" in header_text(app)


FAILS_TO_IMPORT_LOUDLY = r"""
import sys

from flowtui import FlowSpec, step

print("noise \x1b[2J\x1b[41mBG", file=sys.stderr)
raise RuntimeError("boom \x1b[2J\x1b[31mRED")


class Loud(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


async def test_escape_codes_the_runner_prints_are_written_out_never_sent(tmp_path: Path) -> None:
    """A flow whose import printed ESC[2J to stderr, or raised with it in its message,
    cleared the whole screen: the runner's lines went to the problems panel as they were."""
    path = tmp_path / "loud.py"
    path.write_text(FAILS_TO_IMPORT_LOUDLY)
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        app.start_runner(app.runner_args("run", "--events"))
        await wait_until(pilot, lambda: "did not start" in problems_text(app))
        await pilot.pause()
        drawn = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "\x1b" not in drawn
        assert r"boom \x1b[2J\x1b[31mRED" in problems_text(app)


SIDE_EFFECT_FLOW = '''
from pathlib import Path

Path(__file__).with_name("imported.marker").write_text("the flow module was imported")

from flowtui import FlowSpec, step


class Careful(FlowSpec):
    @step
    def start(self):
        """[bold red]not markup[/bold red]"""
        self.next(self.end)

    @step
    def end(self):
        pass
'''


async def test_user_code_never_runs_in_the_tui_and_its_text_is_not_markup(tmp_path: Path) -> None:
    path = tmp_path / "careful.py"
    path.write_text(SIDE_EFFECT_FLOW)
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        path.write_text(SIDE_EFFECT_FLOW.replace("Careful", "StillCareful"))
        await wait_until(
            pilot, lambda: app.graph is not None and app.graph.flow_name == "StillCareful"
        )
        info = str(app.query_one("#step-info").render())
        assert "[bold red]not markup[/bold red]" in info
    assert not (tmp_path / "imported.marker").exists()


def test_opening_a_missing_file_is_one_sentence(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "flowtui", str(tmp_path / "nope.py")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "nope.py does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


async def test_w_switches_the_next_runs_executor_and_it_is_remembered_for_the_flow(
    examples_dir: Path, tmp_path: Path, own_settings: Path
) -> None:
    hello = examples_dir / "hello.py"
    app = FlowtuiApp(hello, store=tmp_path / "store", follow=False)
    async with app.run_test() as pilot:
        assert "--executor" not in app.runner_args("run", "--events")
        await pilot.press("w")
        args = app.runner_args("run", "--events")
        at = args.index("--executor")  # before the file: after it the name may be a parameter's
        assert args[at : at + 2] == ["--executor", "ray"] and at < args.index(str(hello))
        assert "ray (next run)" in str(app.query_one(RunHeader).render_header())
        await wait_until(
            pilot, lambda: own_settings.is_file() and "ray" in own_settings.read_text()
        )
    again = FlowtuiApp(hello, store=tmp_path / "store", follow=False)
    assert again.executor == "ray"  # remembered for this flow
    other = FlowtuiApp(examples_dir / "foreach.py", store=tmp_path / "store", follow=False)
    assert other.executor == "local"


async def test_the_task_list_shows_the_node_once_a_task_ran_on_a_cluster(
    examples_dir: Path, tmp_path: Path
) -> None:
    from flowtui.run.state import TaskState
    from flowtui.run.status import TaskStatus

    app = FlowtuiApp(examples_dir / "hello.py", store=tmp_path / "store", follow=False)
    async with app.run_test() as pilot:
        tasks = app.query_one(TaskList)
        local = TaskState("HelloFlow/1/start/1", "start", "1", TaskStatus.SUCCEEDED)
        tasks.set_tasks([local])
        await pilot.pause()
        assert "node" not in [str(c.label) for c in tasks.columns.values()]
        remote = TaskState("HelloFlow/1/hello/2", "hello", "2", TaskStatus.RUNNING, node="1f2e3d4c")
        tasks.set_tasks([local, remote])
        await pilot.pause()
        assert [str(c.label) for c in tasks.columns.values()][-1] == "node"
        assert str(tasks.get_cell("HelloFlow/1/hello/2", "node")) == "1f2e3d4c"


# The compat tests' @parallel flow (start -> train, a gang of 3 -> join -> end).
GANG_FLOW = Path(__file__).resolve().parents[1] / "compat" / "flows" / "gang_parallel.py"


async def test_a_parallel_gang_is_drawn_as_one(tmp_path: Path) -> None:
    """`num_parallel=` was a problem in the panel ("not a self.next() argument flowtui
    supports"); the DAG now draws the gang's start and the step says it is @parallel."""
    path = tmp_path / "gang.py"
    shutil.copy(GANG_FLOW, path)
    app = FlowtuiApp(path, store=tmp_path / "store")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.graph is not None)
        assert not app.query_one(ProblemsPanel).display
        app.dag.select("train")
        await wait_until(
            pilot, lambda: "@parallel step" in str(app.query_one("#step-info").render())
        )
        assert "∀ start (num_parallel)" in dag_text(app)
