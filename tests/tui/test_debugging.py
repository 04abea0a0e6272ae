"""The TUI's debugging keys that need no terminal of their own: `d` (diff), and where `e` goes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static
from typer.testing import CliRunner

from flowtui.cli import app as cli
from flowtui.graph import parse_flow
from flowtui.graph.model import Problem
from flowtui.run.changes import CodeChanges
from flowtui.run.plan import ResumePlan, StepPlan
from flowtui.run.state import TaskState
from flowtui.run.status import TaskError, TaskStatus
from flowtui.tui.app import FlowtuiApp
from flowtui.tui.handoff import editor_command, line_that_matters
from flowtui.tui.screens.changed import ChangedCodeScreen
from flowtui.tui.screens.diff import DiffScreen
from flowtui.tui.screens.history import RunHistoryScreen
from flowtui.tui.screens.spin import SpinScreen
from flowtui.tui.widgets.tasks import TaskList
from tests.tui.test_app import SIZE
from tests.tui.waiting import wait_until

FLOW = """
from flowtui import FlowSpec, Parameter, step

class TwiceFlow(FlowSpec):
    scale = Parameter("scale", default=1)

    @step
    def start(self):
        self.count = 10 * self.scale
        self.note = "same"
        self.next(self.end)

    @step
    def end(self):
        pass
"""


async def test_d_compares_the_selected_task_with_the_previous_run(tmp_path: Path) -> None:
    file = tmp_path / "twice.py"
    file.write_text(textwrap.dedent(FLOW))
    store = tmp_path / "store"
    for args in ([], ["--scale", "2"]):
        ran = CliRunner().invoke(cli, ["run", str(file), "--store", str(store), "-q", *args])
        assert ran.exit_code == 0, ran.output
    app = FlowtuiApp(file, store=store, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.run_state is not None and app.run_state.run_id == "2")
        app.dag.select("start")
        await wait_until(pilot, lambda: app.query_one(TaskList).selected is not None)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, RunHistoryScreen))
        await pilot.press("enter")  # the previous run is the one highlighted
        await wait_until(pilot, lambda: isinstance(app.screen, DiffScreen))
        body = app.screen.query_one("#diff-body", Static)
        await wait_until(pilot, lambda: "→" in str(body.render()))
        text = str(body.render())
        assert "TwiceFlow/2/start/" in text and "TwiceFlow/1/start/" in text
        assert "count (int)" in text and "10 → 20 (+10, +100.00%)" in text
        assert "note" not in text.replace("unchanged", "")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, DiffScreen))


def test_e_goes_to_the_first_problem_then_the_failing_frame_then_the_step() -> None:
    file = Path("/work/flow.py")
    graph = parse_flow(textwrap.dedent(FLOW), str(file))
    failed = TaskState(
        pathspec="TwiceFlow/1/start/1",
        step="start",
        task_id="1",
        status=TaskStatus.FAILED,
        error=TaskError(
            "KeyError",
            "'x'",
            'Traceback (most recent call last):\n  File "/work/flow.py", line 9, in start\n'
            '    helper()\n  File "/work/lib.py", line 3, in helper\n'
            '  File "/work/flow.py", line 20, in helper2\n',
        ),
    )
    problems = [Problem("w", 4, severity="warning"), Problem("e", 7)]
    assert line_that_matters(file, graph, problems, "start", failed) == 7
    assert line_that_matters(file, graph, [], "start", failed) == 20  # the deepest in the file
    assert line_that_matters(file, graph, [], "end", None) == graph["end"].line
    env = {"VISUAL": "emacs -nw", "EDITOR": "vi"}
    assert editor_command(file, 20, env) == ["emacs", "-nw", "+20", "/work/flow.py"]
    assert editor_command(file, None, {"EDITOR": "nano"}) == ["nano", "/work/flow.py"]
    assert editor_command(file, 20, {"VISUAL": "", "EDITOR": "nano"})[0] == "nano"


def test_e_tells_vs_code_and_sublime_the_line_their_own_way() -> None:
    """`code -w +20 flow.py` made VS Code open a new, empty file named "+20" beside the flow."""
    file = Path("/work/flow.py")
    code = editor_command(file, 20, {"EDITOR": "/usr/bin/code -w"})
    assert code == ["/usr/bin/code", "-w", "-g", "/work/flow.py:20"]
    assert editor_command(file, 20, {"VISUAL": "subl -w"}) == ["subl", "-w", "/work/flow.py:20"]
    assert editor_command(file, None, {"EDITOR": "code -w"}) == ["code", "-w", "/work/flow.py"]


async def test_e_with_an_editor_that_cannot_be_found_says_so_in_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mistyped $EDITOR: the app was suspended, "cannot run" printed, and the app came
    back over it at once: nothing the user could read."""
    monkeypatch.setenv("EDITOR", "no-such-editor-here --wait")
    monkeypatch.delenv("VISUAL", raising=False)
    file = tmp_path / "flow.py"
    file.write_text(textwrap.dedent(FLOW))
    app = FlowtuiApp(file, store=tmp_path / "store", follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert any(
            "Cannot find the editor 'no-such-editor-here --wait' ($EDITOR)" in m for m in said
        ), said


async def test_a_changed_step_the_plan_would_clone_is_drawn_and_resumed_from_by_default(
    tmp_path: Path,
) -> None:
    path = tmp_path / "twice.py"
    path.write_text(textwrap.dedent(FLOW))
    app = FlowtuiApp(path, store=tmp_path / "store", follow=False)
    async with app.run_test(size=SIZE) as pilot:
        plan = ResumePlan(
            "1", "end", (StepPlan("start", "clone", 1, 1), StepPlan("end", "rerun", 0, 1))
        )
        changes = CodeChanges(("start",), True, ("start",), "start", ())
        dialog = app.draw_resume_plan(plan, changes)
        assert isinstance(dialog, ChangedCodeScreen)
        assert app.dag.states["start"].state == "changed"
        assert app.dag.states["start"].label == "✎ changed"
        answers: list[str | None] = []
        app.push_screen(dialog, answers.append)
        await pilot.pause()
        question = str(dialog.query_one("#confirm-question", Static).render())
        assert "start has new code since run 1" in question
        await pilot.press("enter")  # the default: resume from the changed step
        await wait_until(pilot, lambda: bool(answers))
        assert answers == ["start"]


PAUSE_FLOW = """
from flowtui import FlowSpec, step

class PauseFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        if self.input == 2:
            breakpoint()
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


async def test_a_task_at_a_breakpoint_shows_waiting_and_the_run_can_be_cancelled(
    tmp_path: Path,
) -> None:
    from tests.tui.test_app import run_to_the_end

    path = tmp_path / "pause.py"
    path.write_text(textwrap.dedent(PAUSE_FLOW))
    app = FlowtuiApp(path, store=tmp_path / "store", follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        try:
            await _waiting_is_shown(pilot, app)
        finally:  # a failed assertion left the run waiting at its breakpoint for ever
            if app.run_state is not None and not app.run_state.status.done:
                await pilot.press("x")
                await run_to_the_end(pilot, app)
        assert app.run_state is not None and app.run_state.status.value == "cancelled"


async def _waiting_is_shown(pilot: Pilot[None], app: FlowtuiApp) -> None:
    """The task at breakpoint() reads waiting in the task list, on the DAG, in the header."""
    from tests.tui.test_app import dag_text, header_text

    await wait_until(
        pilot,
        lambda: app.run_state is not None and any(t.waiting for t in app.run_state.tasks.values()),
    )
    app.dag.select("body")
    await pilot.pause()
    table = app.query_one(TaskList)
    cells = [str(cell) for row in range(table.row_count) for cell in table.get_row_at(row)]
    assert "⏸ waiting in debugger" in cells
    # the DAG says it too: its box read "● 0/3" like any running step
    await wait_until(pilot, lambda: "⏸ waiting 1/2" in dag_text(app), "the DAG says ⏸")
    # and the header: it counted the waiting task among the running ones
    await wait_until(pilot, lambda: "⏸ 1 waiting" in header_text(app), "the header says ⏸")
    assert any("waiting in debugger" in str(n.message) for n in app._notifications)
    # nobody attached: cancelling (x, in the caller) still stops the run


def spin_rows(screen: SpinScreen) -> list[tuple[str, ...]]:
    """The side-by-side table as the user reads it: (mark, name, run's value, spin's value)."""
    table = screen.query_one("#spin-artifacts", DataTable)
    return [tuple(str(cell) for cell in table.get_row_at(row)) for row in range(table.row_count)]


async def spin_selected_start(pilot: Pilot[None], app: FlowtuiApp) -> SpinScreen:
    """Select run 1's start task, press `s`, and wait until the spin's results are shown."""
    await wait_until(pilot, lambda: app.run_state is not None and app.run_state.run_id == "1")
    app.dag.select("start")
    await wait_until(pilot, lambda: app.query_one(TaskList).selected is not None)
    await pilot.press("s")
    await wait_until(pilot, lambda: isinstance(app.screen, SpinScreen))
    screen = app.screen
    assert isinstance(screen, SpinScreen)
    await wait_until(pilot, lambda: screen.phase in ("compared", "failed"))
    return screen


def ran_then_edited(tmp_path: Path, start_line: str) -> tuple[Path, Path]:
    """FLOW run once into a store, then its start step's first line edited to `start_line`."""
    file = tmp_path / "twice.py"
    file.write_text(textwrap.dedent(FLOW))
    store = tmp_path / "store"
    ran = CliRunner().invoke(cli, ["run", str(file), "--store", str(store), "-q"])
    assert ran.exit_code == 0, ran.output
    file.write_text(textwrap.dedent(FLOW).replace("self.count = 10 * self.scale", start_line))
    return file, store


def text_of(screen: SpinScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_s_spins_the_step_and_lists_its_artifacts_beside_the_runs_changed_first(
    tmp_path: Path,
) -> None:
    file, store = ran_then_edited(
        tmp_path, "self.count = 7 * self.scale; self.extra = 'new'; print('new code ran')"
    )
    app = FlowtuiApp(file, store=store, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await spin_selected_start(pilot, app)
        assert screen.phase == "compared", text_of(screen, "#spin-error-text")
        assert screen.exit_code == 0, screen.output
        assert "new code ran" in screen.output  # its log, streamed
        rows = spin_rows(screen)
        assert rows[0] == ("~ changed", "count", "10", "7")  # changed first, both values
        assert ("+ added", "extra", "", "'new'") in rows
        assert ("= same", "note", "'same'", "'same'") in rows
        assert rows.index(("+ added", "extra", "", "'new'")) < rows.index(
            ("= same", "note", "'same'", "'same'")
        )
        changed = "#spin-difference-text"  # what changed, as `flowtui diff` says it
        await wait_until(pilot, lambda: "10 → 7 (-3, -30.00%)" in text_of(screen, changed))
        before, after = "#spin-preview-before-text", "#spin-preview-after-text"
        await wait_until(pilot, lambda: text_of(screen, before).strip() == "10")
        await wait_until(pilot, lambda: text_of(screen, after).strip() == "7")
        assert "1 changed, 1 added" in text_of(screen, "#spin-status")

        await pilot.press("j")  # the added one: nothing on the run's side
        await wait_until(pilot, lambda: "has no extra" in text_of(screen, before))
        await wait_until(pilot, lambda: text_of(screen, after).strip() == "new")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, SpinScreen))


async def test_a_spin_whose_step_raises_shows_the_error_and_compares_nothing(
    tmp_path: Path,
) -> None:
    file, store = ran_then_edited(tmp_path, "self.count = 1 / 0")
    app = FlowtuiApp(file, store=store, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await spin_selected_start(pilot, app)
        assert screen.phase == "failed"
        assert screen.exit_code == 1
        error = text_of(screen, "#spin-error-text")
        assert "failed: ZeroDivisionError: division by zero" in error
        assert "self.count = 1 / 0" in error  # the traceback, at the user's line
        table = screen.query_one("#spin-artifacts", DataTable)
        assert table.row_count == 0 and not table.display  # no comparison with a failed task
        assert not screen.query_one("#spin-previews").display
        assert "spin failed" in text_of(screen, "#spin-status")


async def test_a_spin_whose_input_was_lost_says_the_store_not_the_code(tmp_path: Path) -> None:
    """A value gone from the store failed the spin with "Fix the code, save, and press s":
    no edit could help."""
    file, store = ran_then_edited(tmp_path, "self.count = 10 * self.scale")
    from flowtui.client import Run, default_metadata, metadata

    metadata(str(store))
    try:
        sha = Run("TwiceFlow/1")["start"].task["scale"].sha
    finally:
        default_metadata()
    (store / "blobs" / sha[:2] / sha[2:]).unlink()
    app = FlowtuiApp(file, store=store, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await spin_selected_start(pilot, app)
        assert screen.phase == "failed"
        error = text_of(screen, "#spin-error-text")
        assert "BlobMissingError" in error
        assert "missing or damaged in the store, not in the code" in error
        assert "Fix the code" not in error


async def test_escape_codes_in_a_spins_error_and_output_never_reach_the_terminal(
    tmp_path: Path,
) -> None:
    """A spin whose step raised ValueError("\\x1b[2J…") cleared the whole screen: its
    message went to the terminal as it was, from the error panel and the output pane."""
    file, store = ran_then_edited(tmp_path, 'raise ValueError("bad \\x1b[2J\\x1b[31mRED\\x1b[0m")')
    app = FlowtuiApp(file, store=store, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await spin_selected_start(pilot, app)
        assert screen.phase == "failed"
        await pilot.pause()
        drawn = "\n".join(strip.text for strip in screen._compositor.render_strips())
        assert "\x1b" not in drawn
        assert r"ValueError: bad \x1b[2J\x1b[31mRED\x1b[0m" in text_of(screen, "#spin-error-text")


LOADS_TELL = """
import os
from flowtui import FlowSpec, Parameter, step

def _loaded(scale):
    with open(os.environ["LOADED_BY"], "a") as f:  # who unpickled a value
        f.write(f"{os.getpid()}\\n")
    return Marked(scale)

class Marked:
    def __init__(self, scale):
        self.scale = scale
    def __reduce__(self):
        return (_loaded, (self.scale,))
    def __repr__(self):
        return f"Marked({self.scale})"

class TellFlow(FlowSpec):
    scale = Parameter("scale", default=1)

    @step
    def start(self):
        self.thing = Marked(self.scale)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


async def test_d_never_loads_a_value_in_the_apps_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded_by = tmp_path / "loaded_by"
    monkeypatch.setenv("LOADED_BY", str(loaded_by))
    file = tmp_path / "tell.py"
    file.write_text(textwrap.dedent(LOADS_TELL))
    store = tmp_path / "store"
    for args in ([], ["--scale", "2"]):
        ran = subprocess.run(
            [sys.executable, "-m", "flowtui", "run", str(file), "--store", str(store), "-q", *args],
            capture_output=True,
            text=True,
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
    loaded_by.unlink(missing_ok=True)
    app = FlowtuiApp(file, store=store, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.run_state is not None and app.run_state.run_id == "2")
        app.dag.select("start")
        await wait_until(pilot, lambda: app.query_one(TaskList).selected is not None)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, RunHistoryScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DiffScreen))
        body = app.screen.query_one("#diff-body", Static)
        await wait_until(pilot, lambda: "Marked(2)" in str(body.render()))
        assert "Marked(1)" in str(body.render())
    loaders = set(loaded_by.read_text().split())
    assert loaders and str(os.getpid()) not in loaders  # loaded, but in another process


WAITS_FOR_GO = """
import os
import time

from flowtui import FlowSpec, step

class SlowFlow(FlowSpec):
    @step
    def start(self):
        while not os.path.exists(os.path.join(os.path.dirname(__file__), "go")):
            time.sleep(0.02)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


async def test_d_on_a_task_that_runs_on_says_so_without_taking_the_terminal(
    tmp_path: Path,
) -> None:
    """D on a task of our run that is running (not stopped at breakpoint()) took the
    terminal from the app only for `flowtui debug` to refuse it and wait for Enter. The app
    knows the task is not waiting: it says so where the user is."""
    file = tmp_path / "slow.py"
    file.write_text(textwrap.dedent(WAITS_FOR_GO))
    app = FlowtuiApp(file, store=tmp_path / "store", follow=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("r")
            tasks = app.query_one(TaskList)
            await wait_until(
                pilot,
                lambda: tasks.selected is not None and tasks.selected.status is TaskStatus.RUNNING,
                "the running task",
            )
            await pilot.press("D")
            await pilot.pause()
            said = [n.message for n in app._notifications]
            assert any("is running" in message for message in said), said
            assert not any("cannot be handed" in message for message in said), said
            (tmp_path / "go").touch()
            await wait_until(pilot, lambda: app.controller is not None and not app.run_active)
    finally:
        (tmp_path / "go").touch()


async def test_ctrl_c_stops_a_running_spin_and_keeps_its_output(tmp_path: Path) -> None:
    """Ctrl+c in the spin screen stops the spin, as ctrl+c stops a run on the main screen:
    the footer offers it while the spin runs (and only then), the spin's process ends, its
    output stays on screen and `s` can spin again. It did nothing (the app's ctrl+c, which
    cancels a run, took the key), so a step stuck in a loop spun on until esc."""
    file, store = ran_then_edited(
        tmp_path, "print('spun and waiting', flush=True); __import__('time').sleep(600)"
    )
    app = FlowtuiApp(file, store=store, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.run_state is not None and app.run_state.run_id == "1")
        app.dag.select("start")
        await wait_until(pilot, lambda: app.query_one(TaskList).selected is not None)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SpinScreen))
        screen = app.screen
        assert isinstance(screen, SpinScreen)
        await wait_until(pilot, lambda: "spun and waiting" in screen.output, "the step to print")
        offered = screen.active_bindings.get("ctrl+c")
        assert offered is not None and offered.binding.action == "stop_spin" and offered.enabled
        assert "ctrl+c stops" in text_of(screen, "#spin-status")
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: screen.phase == "stopped", "the spin to stop")
        assert app.screen is screen  # still up, its output kept
        assert "spun and waiting" in screen.output
        assert screen.process is not None and screen.process.returncode is not None
        assert "spin stopped" in text_of(screen, "#spin-status")
        gone = screen.active_bindings.get("ctrl+c")
        assert gone is None or gone.binding.action != "stop_spin" or not gone.enabled
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, SpinScreen))


async def test_the_main_screens_keys_do_nothing_under_a_spin_and_are_not_offered(
    tmp_path: Path,
) -> None:
    """Over the spin screen the footer offered the main screen's r, R, a, f, T, z and /:
    `r` started a run out of sight (a new run in the store, the spin still on screen), `a`
    opened the artifacts of a task the screen hides. They are neither offered nor done."""
    file, store = ran_then_edited(tmp_path, "self.count = 7")
    app = FlowtuiApp(file, store=store, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await spin_selected_start(pilot, app)
        offered = {key for key, active in screen.active_bindings.items() if active.enabled}
        for key in ("r", "R", "a", "f", "T", "z", "slash", "D", "e", "d"):
            assert key not in offered or screen.active_bindings[key].node is screen, key
        await pilot.press("r", "a", "T")
        await pilot.pause()
        assert app.screen is screen and app.controller is None  # no run started
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, SpinScreen))
        assert app.timeline is None  # T did not switch the main screen to the timeline
