"""`FlowtuiApp`: the flow's DAG, redrawn on every save, lit up live by runs.

The app composes; the widgets work. It checks the file (with `ast`, never importing it) before
the first frame, follows it with the watcher, and runs `flowtui run --events` as a process.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static

from flowtui.errors import FlowtuiError
from flowtui.graph import check_flow, read_flow_file
from flowtui.graph.model import FlowGraph, Problem
from flowtui.graph.parse import file_signature
from flowtui.run.labels import step_states
from flowtui.run.splits import splits_asked
from flowtui.run.status import RunStatus
from flowtui.tui.commands import FlowtuiCommands
from flowtui.tui.controller import RunController
from flowtui.tui.debugging import DebuggingActions
from flowtui.tui.executor_choice import next_executor, remember, remembered
from flowtui.tui.finding import FindingApp
from flowtui.tui.resuming import ResumeActions
from flowtui.tui.run_control import RunControl
from flowtui.tui.runner_said import RunnerSaid
from flowtui.tui.settings import load_settings, save_settings
from flowtui.tui.stored_runs import StoredRuns
from flowtui.tui.styles import stylesheets
from flowtui.tui.widgets.dag import DagView, step_of
from flowtui.tui.widgets.header import RunHeader
from flowtui.tui.widgets.problems import ProblemsPanel
from flowtui.tui.widgets.task_detail import TaskDetail
from flowtui.tui.widgets.tasks import TaskList

if TYPE_CHECKING:
    from flowtui.client.metaflow_state import MetaflowReader
    from flowtui.client.runs import RunReader
    from flowtui.run.state import RunState

#: How often the store is checked for runs started elsewhere (a shell) and their progress (s).
STORE_POLL_INTERVAL = 1.0
#: A redraw of the run waits this many times its own cost after the last one.
REDRAW_PACE = 3.0


#: What the app's keys do to the main screen (its DAG, task, logs, run): not offered, and
#: nothing done, while a full screen is over it (a spin, artifacts, cards), where `r` started
#: a run out of sight and `a`, `T`, `/` acted on panes hidden under it. Help, quit, the
#: theme, the palette and cancelling the live run (ctrl+c, `x`) stay offered everywhere.
MAIN_SCREEN_ONLY = frozenset(
    {
        "run",
        "resume",
        "artifacts",
        "cards",
        "switch_executor",
        "goto_step",
        "next_failure",
        "toggle_timeline",
        "zoom",
        "unzoom",
        "split",
        "search",
        "filter_log",
        "debug",
        "spin",
        "diff",
        "edit",
    }
)


class FlowtuiApp(StoredRuns, RunControl, RunnerSaid, ResumeActions, DebuggingActions, FindingApp):
    """`flowtui FILE`: watch a flow file, draw its DAG, run it, resume it."""

    TITLE = "flowtui"
    CSS_PATH = stylesheets()
    COMMANDS = App.COMMANDS | {FlowtuiCommands}
    # Help and Quit come first, so a narrow footer never cuts off how to get help or leave.
    BINDINGS = [
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("r", "run", "Run"),
        Binding("R", "resume", "Resume"),
        Binding("x", "cancel_run", "Cancel"),
        Binding("ctrl+c", "cancel_run", "Cancel", show=False, priority=True),
        Binding("a", "artifacts", "Artifacts"),
        Binding("enter", "artifacts", "Artifacts", show=False),
        Binding("c", "cards", "Cards", show=False),  # in help and the palette; the footer is full
        Binding("w", "switch_executor", "Executor", show=False),  # listed in the help
        Binding("colon", "goto_step", "Go to step", show=False),
        Binding("f", "next_failure(1)", "Next failed"),
        Binding("F", "next_failure(-1)", "Previous failed", show=False),
        Binding("T", "toggle_timeline", "Timeline"),
        Binding("z", "zoom", "Zoom"),
        Binding("escape", "unzoom", "Unzoom", show=False),
        Binding("less_than_sign", "split(-1)", "Narrow the DAG", show=False),
        Binding("greater_than_sign", "split(1)", "Widen the DAG", show=False),
        Binding("slash", "search", "Search"),
        Binding("ampersand", "filter_log", "Filter log", show=False),
        Binding("t", "toggle_theme", "Theme", show=False),
        Binding("D", "debug", "Debug", show=False),
        Binding("s", "spin", "Spin", show=False),
        Binding("d", "diff", "Diff", show=False),
        Binding("e", "edit", "Edit", show=False),
    ]

    def __init__(
        self,
        path: str | Path,
        flow: str | None = None,
        store: str | Path | None = None,
        *,
        follow: bool = True,
        clock: Callable[[], float] = time.time,
        executor: str | None = None,
        ray_address: str | None = None,
        after_first_frame: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.after_first_frame = after_first_frame  # called once the first frame is drawn
        self.clock = clock  # what "now" is for elapsed times (tests fix it)
        self.path = Path(path)
        self.flow = flow
        self.store = Path(store) if store is not None else None
        self._readers_lock = threading.Lock()
        self._reader: RunReader | None = None
        self._metaflow: MetaflowReader | None = None
        self.settings = load_settings()  # theme, parameters and executor kept between sessions
        # where the next run's tasks run
        self.executor = executor or remembered(self.settings, self.path, flow)
        self.ray_address = ray_address
        self.follow = follow  # watch the file for changes
        self.graph: FlowGraph | None = None  # the last good graph
        self.problems: list[Problem] = []
        self.run_state: RunState | None = None
        self.controller: RunController | None = None
        self._stop_watching = asyncio.Event()
        self._newest_run_seen = 0  # the highest run id of this flow seen in the store
        self._shown_before_run: RunState | None = None
        self.file_deleted = False  # the watcher saw the file go (and not come back yet)
        self.read_error: str | None = None  # why the file could not be read, last time
        self._view_due = False  # a paced redraw of the run is waiting on its timer
        self._next_view = 0.0  # the monotonic time the next paced redraw may start
        self.run_graph: FlowGraph | None = None
        """The graph our last run started with (the file may have changed since)."""
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        self._initial = self.check_file()  # the file is read once before the first frame
        self._initial_stat = file_signature(self.path)

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield RunHeader(
            self._initial[0].flow_name if self._initial[0] else "",
            str(self.path),
            clock=self.clock,
            executor=self.executor,
            id="header",
        )
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield DagView(id="dag")  # and the timeline, once `T` asks for it
                yield ProblemsPanel(str(self.path), id="problems")
            with Vertical(id="detail"):
                yield Static(id="step-info")
                yield TaskList(clock=self.clock, id="tasks")
                yield TaskDetail(clock=self.clock, id="task-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.set_panes(self.panes.resized(self.size.width))
        self.show_check(*self._initial)
        self.query_one(DagView).focus()
        if self.after_first_frame is not None:
            self.call_after_refresh(self.after_first_frame)
        # What the first frame does not draw waits for it: the watcher (watchfiles brings in
        # anyio's event-loop backend) and the first look at the store (a worker thread that
        # loads sqlite3 and the blob store, and would take the GIL from the frame).
        if self.follow:
            self.call_after_refresh(self.follow_file)
            self.set_interval(STORE_POLL_INTERVAL, self.poll_store)
        self.call_after_refresh(self.poll_store)
        self.set_interval(1.0, self.tick_dag)
        if not self.is_headless and hasattr(signal, "SIGHUP"):
            # The terminal closed: stop the run at once rather than when its next event
            # finds nobody reading.
            # A plain handler, not the event loop's: it must run even when the loop is
            # blocked (a TUI waiting on a lock outlived its closed terminal for an hour).
            signal.signal(signal.SIGHUP, lambda signum, frame: self.hang_up())

    # -- the file -----------------------------------------------------------------------

    def check_file(self) -> tuple[FlowGraph | None, list[Problem], str]:
        """Read and check the file: (graph when good, problems, a note when unreadable)."""
        try:
            source = read_flow_file(self.path)
        except FlowtuiError as error:
            self.read_error = str(error)
            return None, [], str(error)
        self.read_error = None
        try:
            result = check_flow(source, str(self.path), self.flow)
        except FlowtuiError as error:
            return None, [], str(error)
        graph = result.graph if result.ok else None
        return graph, list(result.problems), ""

    def show_check(self, graph: FlowGraph | None, problems: list[Problem], note: str) -> None:
        """Show a check's outcome: a good graph replaces the DAG, else the last one dims."""
        self.problems = problems
        panel = self.query_one(ProblemsPanel)
        dag = self.dag
        if graph is not None:
            if self.graph is not None and graph.flow_name != self.graph.flow_name:
                self.forget_shown_run()  # the flow was renamed: another flow, its own runs
            self.graph = graph
            if not self.run_active or self.run_graph is None:
                dag.set_graph(graph)  # an active run stays drawn on the graph it runs
            self.query_one(RunHeader).show(graph.flow_name, self.run_state)
            self.refresh_run_view()
        elif self.graph is None and note:
            note += " The DAG appears once the file can be read."
        dag.set_class(graph is None, "-stale")
        panel.show(problems, note)

    def forget_shown_run(self) -> None:
        """Show no run (a renamed flow's runs are not the old name's); the store's poll then
        shows the new flow's latest run, if it has one. A run of ours goes on as it is."""
        if self.run_active:
            return
        self.run_state = None
        self.run_graph = None
        self._shown_before_run = None
        self._newest_run_seen = 0
        self.dag.set_states({})

    def reload(self) -> None:
        """Re-read and re-check the file now (the watcher does this on every save)."""
        self.show_check(*self.check_file())

    @work(exclusive=True, group="watch", exit_on_error=False)
    async def follow_file(self) -> None:
        from flowtui.tui.watcher import watch_file

        saved = file_signature(self.path)
        if saved != self._initial_stat:  # saved (or deleted) before the watch began
            await self.file_changed(exists=saved is not None)
        async for exists in watch_file(self.path, self._stop_watching):
            await self.file_changed(exists)

    async def file_changed(self, exists: bool) -> None:
        """The watcher saw the file saved (`exists`) or deleted."""
        self.file_deleted = not exists
        if exists:
            self.show_check(*await asyncio.to_thread(self.check_file))
        else:
            missing = f"{self.path} was deleted; waiting for it to be saved again."
            self.show_check(None, [], missing)

    # -- runs ---------------------------------------------------------------------------

    def runner_args(self, command: str, *own: str, after: tuple[str, ...] = ()) -> list[str]:
        """`flowtui COMMAND` with flowtui's options (`own`, then this app's) before the file
        and `after` it (resume's step, the flow's parameters): a parameter may be named like
        one of flowtui's options, and after the file the name is the parameter's."""
        extra: list[str] = []
        if self.flow:
            extra += ["--flow", self.flow]
        if self.store is not None:
            extra += ["--store", str(self.store)]
        if self.executor != "local":
            extra += ["--executor", self.executor]
        if self.ray_address and self.executor == "ray":
            extra += ["--ray-address", self.ray_address]
        splits = self.settings.splits.get(self.graph.flow_name) if self.graph else None
        if splits and command in ("run", "resume"):  # a wider foreach was allowed (resume's R)
            extra += ["--max-num-splits", str(splits)]
        return [command, *own, *extra, str(self.path), *after]

    def action_switch_executor(self) -> None:
        """Choose where the next run's tasks run (local processes or Ray); kept per flow."""
        self.executor = next_executor(self.executor)
        remember(self.settings, self.path, self.flow, self.executor)
        self.save_settings()
        self.query_one(RunHeader).set_executor(self.executor)
        self.notify(f"The next run's tasks run on: {self.executor}.", markup=False)

    def action_run(self) -> None:
        if self.can_start():
            self.start_unless_declined(self.open_run_form)

    def open_run_form(self) -> None:
        """Ask for the parameters (when the flow has any), then start the run."""
        if self.graph is None:
            return
        if self.graph.parameters:
            from flowtui.tui.screens.params import ParametersScreen

            flow = self.graph.flow_name
            form = ParametersScreen(flow, self.graph.parameters, self.settings.params.get(flow))

            def submitted(args: list[str] | None) -> None:
                if args is not None:
                    self.settings.params[flow] = form.values
                    self.save_settings()
                    self.start_runner(self.runner_args("run", "--events", after=tuple(args)))

            self.push_screen(form, submitted)
        else:
            self.start_runner(self.runner_args("run", "--events"))

    def start_runner(self, args: list[str], origin_run_id: str | None = None) -> None:
        from flowtui.run.state import RunState  # (a run's vocabulary: with the first run)

        self._shown_before_run = self.run_state
        self.query_one(ProblemsPanel).show(self.problems)  # the last refusal is old news
        self.run_graph = self.graph
        if self.graph is not None and self.dag.graph != self.graph:
            self.dag.set_graph(self.graph)  # an earlier run's graph was drawn
        self.run_state = RunState(
            flow=self.graph.flow_name if self.graph else "", origin_run_id=origin_run_id
        )
        self.controller = RunController(self, args)
        self.run_worker(self.controller.run(), group="runner", exit_on_error=False)
        self.refresh_run_view()

    @on(RunController.Events)
    def on_run_events(self, message: RunController.Events) -> None:
        from flowtui.run.events import Notice, RunFinished, RunStarted, TaskWaiting

        if self.run_state is None:
            return
        for event in message.events:
            self.run_state.apply(event)
            if isinstance(event, RunStarted) and event.run_id.isdigit():
                self._newest_run_seen = max(self._newest_run_seen, int(event.run_id))
            elif isinstance(event, Notice):
                allow = " Press R to resume allowing them." if splits_asked([event.message]) else ""
                self.notify(event.message + allow, title="notice", timeout=6, markup=False)
            elif isinstance(event, TaskWaiting) and event.waiting:
                self.notify(
                    f"⏸ {event.pathspec} waiting in debugger: select it and press D.",
                    timeout=10,
                    markup=False,
                )
        if any(isinstance(event, RunFinished) for event in message.events):
            self._paced_view()  # the run's end is drawn at once: header and DAG agree
        else:
            self.pace_run_view()

    def pace_run_view(self) -> None:
        """Redraw the run soon: at once, unless the last redraw was recent for what it cost
        (redraws take at most 1/(1+REDRAW_PACE) of the app's time, so keys keep their turn
        while a run of thousands of tasks streams in)."""
        if self._view_due:
            return
        wait = self._next_view - time.monotonic()
        if wait <= 0:
            self._paced_view()
        else:
            self._view_due = True
            self.set_timer(wait, self._paced_view)

    def _paced_view(self) -> None:
        self._view_due = False
        started = time.monotonic()
        self.refresh_run_view()
        finished = time.monotonic()
        self._next_view = finished + REDRAW_PACE * (finished - started)

    @on(RunController.Exited)
    def on_runner_exited(self, message: RunController.Exited) -> None:
        if not self.is_running:  # the app is closing (its widgets are gone)
            return
        run = self.run_state
        if run is not None and not run.run_id:  # the runner refused to start: say why, whole
            self.run_state = self._shown_before_run
            self.show_refusal(message.returncode)
            self.refresh_run_view()
            return
        if run is not None and not run.status.done:
            run.status = RunStatus.CANCELLED if message.cancelled else RunStatus.CRASHED
            if run.finished is None:
                run.finished = self.clock()
            # The runner ended without saying how its run ended (killed, crashed): its tasks
            # died with it, and only the store knows how each ended. Read it, as for a run
            # started elsewhere, rather than leave them drawn as running.
            self.check_store(run.flow, self._newest_run_seen, run.run_id)
        if run is not None and run.status is RunStatus.FAILED and run.failed:
            failed_step = step_of(run.failed)
            if failed_step:
                self.dag.select(failed_step)
        if run is not None:
            self.show_stop(run)
        self.refresh_run_view()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out in the footer what cannot be done now (run while running, and so on)."""
        active = self.run_active
        if action in MAIN_SCREEN_ONLY and self.screen is not self.screen_stack[0]:
            return False  # a full screen over the main one (spin, artifacts, cards)
        if action == "cancel_run" and getattr(self.screen, "OWNS_CTRL_C", False):
            return False  # a screen whose ctrl+c stops its own work (a spin), not the run
        if action == "run":
            return None if active else True
        if action == "cancel_run":
            return True if active or self.live_shown is not None else None
        if action == "resume":
            has_run = self.run_state is not None and bool(self.run_state.run_id)
            return True if has_run and not active else None
        if action == "next_failure":  # f, F: only when the run shown has a failed task
            return True if self.run_state is not None and self.run_state.failed else None
        if action == "artifacts":
            return not self.artifacts_shown
        if action == "unzoom":
            return self.panes.zoom is not None  # else Escape goes on to whoever wants it
        return True

    def refresh_run_view(self) -> None:
        """Redraw everything that shows the run: DAG states, header, detail pane."""
        if not self.is_running:  # closing: a late event or timer finds the widgets gone
            return
        self.refresh_footer()
        run = self.run_state
        header = self.query_one(RunHeader)
        drawn = self.dag.graph
        ran_on = drawn if self.run_graph is None or drawn is None else self.run_graph
        header.show(self.graph.flow_name if self.graph else None, run, ran_on)
        changed = self.run_graph is not None and self.graph != self.run_graph
        header.set_file_changed(run is not None and changed)
        if drawn is not None and run is not None:
            self.show_run_states(drawn, run)
        if (timeline := self.timeline) is not None:
            timeline.set_run(run, drawn)
        self.show_step_detail()

    def refresh_footer(self) -> None:
        """Grey or light the footer's keys again, when what `check_action` reads changed:
        a refresh recomposes the whole Footer (tens of ms), and a 10,000-task run sends a
        batch of events every 60 ms."""
        run = self.run_state
        state = (
            self.run_active,
            self.live_shown is not None,
            run is not None and bool(run.run_id),
            run is not None and run.failed is not None,
            self.panes.zoom,  # (a pushed or popped screen refreshes them itself)
        )
        if state != getattr(self, "_footer_state", None):
            self._footer_state = state
            self.refresh_bindings()

    def show_run_states(self, drawn: FlowGraph, run: RunState) -> None:
        """The run's states (and steps' times) on the drawn graph, when it is the run's shape."""
        if self.run_graph is None or drawn.shape == self.run_graph.shape:
            self.dag.set_states(step_states(drawn, run, self.clock()), step_of(run.failed))
        else:  # the file's new shape is drawn: the run's states belong to another graph
            self.dag.set_states({})

    def tick_dag(self) -> None:
        """Once a second while the run goes on: the running steps' times on the DAG (not while
        a dialog is up: a resume plan may be drawn there)."""
        run = self.run_state
        if run is None or run.status.done or len(self.screen_stack) > 1 or not self.query(DagView):
            return  # no run going, a dialog up, or the main screen not up (starting, closing)
        drawn = self.dag.graph
        if drawn is not None:
            self.show_run_states(drawn, run)

    # -- detail pane --------------------------------------------------------------------

    @on(DagView.StepSelected)
    def on_step_selected(self, message: DagView.StepSelected) -> None:
        self.show_step_detail()

    @on(TaskList.TaskSelected)
    def on_task_selected(self, message: TaskList.TaskSelected) -> None:
        if self.run_state is None:
            return
        # A selection may still arrive while the app closes and the pane is gone.
        for detail in self.query(TaskDetail):
            detail.show(self.run_state.tasks.get(message.pathspec))

    @on(TaskList.TaskActivated)
    def on_task_activated(self, message: TaskList.TaskActivated) -> None:
        self.open_artifacts(message.pathspec)

    @property
    def artifacts_shown(self) -> bool:
        """The artifacts screen is the one on top (`a` must not stack another).

        The footer asks on every refresh: the screen's module (and the client it brings) is
        not imported for that, since none can be shown before it is imported."""
        screens = sys.modules.get("flowtui.tui.screens.artifacts")
        return screens is not None and isinstance(self.screen, screens.ArtifactsScreen)

    def action_artifacts(self) -> None:
        if self.artifacts_shown:
            return
        task = self.query_one(TaskList).selected
        if task is None:
            self.notify("Select a step that has run to see its artifacts.", timeout=4)
            return
        self.open_artifacts(task.pathspec)

    def open_artifacts(self, pathspec: str) -> None:
        from flowtui.tui.screens.artifacts import ArtifactsScreen

        if self.artifacts_shown:
            return
        run = self.run_state
        store = (run.store if run else "") or (str(self.store) if self.store else "")
        self.push_screen(ArtifactsScreen(store, pathspec, source=run.source if run else "flowtui"))

    def action_cards(self) -> None:
        from flowtui.tui.screens.cards import CardsScreen

        task = self.query_one(TaskList).selected
        if isinstance(self.screen, CardsScreen):
            return
        if task is None:
            self.notify("Select a step that has run to see its cards.", timeout=4)
            return
        run = self.run_state
        store = (run.store if run else "") or (str(self.store) if self.store else "")
        self.push_screen(CardsScreen(store, task.pathspec, source=run.source if run else "flowtui"))

    # -- app ----------------------------------------------------------------------------

    def on_unmount(self) -> None:
        self._stop_watching.set()
        self.close_readers()

    def action_help(self) -> None:
        from flowtui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def deliver_screenshot(
        self,
        filename: str | None = None,
        path: str | None = None,
        time_format: str | None = None,
    ) -> str | None:
        """Save a screenshot (the palette's "Screenshot") into the Downloads folder when there
        is one, else into the current directory; the notification says where."""
        if path is None:
            downloads = Path.home() / "Downloads"
            path = str(downloads if downloads.is_dir() else Path.cwd())
        return super().deliver_screenshot(filename, path, time_format)

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"
        self.settings.theme = self.theme
        self.save_settings()

    def save_settings(self) -> None:
        """Remember the settings, from a thread (a slow disk never holds the screen)."""
        self.run_worker(partial(save_settings, self.settings), thread=True, group="settings")
