"""Spin: run one step once, with its inputs taken from a past run, using the file's current code.

The inputs are those of one task of that step in the past run: the artifacts of its parent
tasks (all of them, for a join), and for a foreach body the same item (`--task-id` picks which
task, so which item; the default is the step's first task). The spin is recorded as a run of kind
`spin` whose origin is the past run, so its logs and artifacts can be read like any task's; it is
not listed among the flow's runs (nor used as a resume origin) unless `persist` asks for that.

The runner's machinery does the work (`SpinRunner` is a `Runner` whose single task leads
nowhere), so a spun step behaves exactly as it would in a run: same process isolation, logs,
retries, @catch, @timeout and artifact handling.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowtui.engine.prepare import RunConfig, checked_graph, prepare
from flowtui.engine.report import ConsoleReporter, Reporter
from flowtui.engine.run_options import write_run_id
from flowtui.engine.runner import Runner
from flowtui.engine.scheduler import Frame, PendingTask
from flowtui.errors import UsageError
from flowtui.graph.model import FlowGraph
from flowtui.run.artifacts import artifact_map
from flowtui.run.events import Event, RunFinished, RunStarted
from flowtui.run.labels import RUN_GLYPHS
from flowtui.run.status import OK_STORED, RunStatus
from flowtui.store import Store, TaskRecord, find_store_root
from flowtui.store.records import SPIN_PERSISTED_TAG
from flowtui.units import human_duration


@dataclass
class SpinConfig:
    file: Path
    step: str
    flow: str | None = None
    run_id: str | None = None  # the past run whose inputs to use (default: the latest that has any)
    task_id: str | None = None  # the task of STEP whose inputs to use (default: the first)
    persist: bool = False
    store: str | None = None
    tags: tuple[str, ...] = ()
    executor: str = "local"
    ray_address: str | None = None
    run_id_file: str | None = None  # the spin's run id is written here as soon as it exists


@dataclass(frozen=True)
class SpinResult:
    flow: str
    run_id: str
    task_id: str | None  # the spun task (None if it was never created)
    source_pathspec: str  # the past task whose inputs were used
    status: RunStatus
    duration: float

    @property
    def pathspec(self) -> str:
        return f"{self.flow}/{self.run_id}"

    @property
    def exit_code(self) -> int:
        return {RunStatus.SUCCEEDED: 0, RunStatus.CANCELLED: 130}.get(self.status, 1)


def find_source_task(
    store: Store, graph: FlowGraph, step: str, run_id: str | None, task_id: str | None
) -> TaskRecord:
    """The past task of `step` whose inputs a spin reuses; a UsageError says what exists."""
    meta = store.meta
    flow = graph.flow_name
    _check_step(graph, step)
    if task_id is not None:
        task = meta.task(task_id)
        if task is None or task.flow != flow or task.step != step:
            raise UsageError(
                f"{flow} has no task {task_id} of step '{step}'; "
                + _tasks_hint(store, flow, step, run_id)
            )
        if run_id is not None and task.run_id != str(run_id):
            raise UsageError(
                f"Task {task_id} belongs to run {task.run_id}, not run {run_id}; "
                "drop --run-id or pass the matching one."
            )
        return task
    if run_id is not None:
        run = meta.run(run_id)
        if run is None or run.flow != flow:
            ids = ", ".join(r.run_id for r in meta.runs(flow)[:10]) or "none yet"
            raise UsageError(f"{flow} has no run {run_id}; its latest runs are: {ids}.")
        first = meta.first_task(run.run_id, step)
        if first is None:
            raise UsageError(
                f"Run {run.pathspec} never reached step '{step}', so it has no inputs for it; "
                f"{_tasks_hint(store, flow, step, None)}"
            )
        return first
    for run in meta.runs(flow):
        if run.kind == "spin":
            continue
        first = meta.first_task(run.run_id, step)
        if first is not None and _parents_ok(store, first):
            return first
    raise _never_reached(flow, step)


def _check_step(graph: FlowGraph, step: str) -> None:
    if step not in graph:
        names = ", ".join(s.name for s in graph)
        raise UsageError(f"{graph.flow_name} has no step '{step}'; its steps are: {names}.")


def _never_reached(flow: str, step: str) -> UsageError:
    return UsageError(
        f"No run of {flow} has reached step '{step}' yet, so there are no inputs to spin it "
        "with; run the flow first (flowtui run FILE)."
    )


def _parents_ok(store: Store, task: TaskRecord) -> bool:
    for parent in task.parents:
        record = store.meta.task(parent)
        if record is None or record.status not in OK_STORED:
            return False
    return True


def _tasks_hint(store: Store, flow: str, step: str, run_id: str | None) -> str:
    runs = [r for r in store.meta.runs(flow) if r.kind != "spin"]
    if run_id is not None:
        runs = [r for r in runs if r.run_id == str(run_id)]
    for run in runs:
        tasks = store.meta.tasks(run.run_id, step)
        if tasks:
            listed = ", ".join(
                t.task_id + (f" [{t.foreach_index}]" if t.foreach_index is not None else "")
                for t in tasks[:10]
            )
            return f"tasks of '{step}' in run {run.run_id}: {listed}."
    return f"no run of {flow} has reached step '{step}' yet."


class SpinRunner(Runner):
    """A runner that runs one prepared task and stops: the task's successors never start."""

    def __init__(self, config: SpinConfig, store: Store, reporter: Reporter) -> None:
        from flowtui.engine.breakpoints import breakpoint_mode

        run_config = RunConfig(
            file=config.file,
            flow=config.flow,
            store=config.store,
            max_workers=1,
            executor=config.executor,
            ray_address=config.ray_address,
        )
        run_config.breakpoints = breakpoint_mode(events=False, no_debug=False)
        super().__init__(run_config, store, reporter)
        self.spin = config
        self.spun_task: str | None = None

    def spin_step(self) -> SpinResult:
        meta = self.store.meta
        _, graph = checked_graph(self.spin.file, self.spin.flow)
        source = find_source_task(
            self.store, graph, self.spin.step, self.spin.run_id, self.spin.task_id
        )
        if not _parents_ok(self.store, source):
            raise UsageError(
                f"The inputs of {source.pathspec} are incomplete (a parent task did not succeed); "
                f"spin a task whose parents succeeded, or resume run {source.run_id} instead."
            )
        origin = meta.run(source.run_id)
        assert origin is not None
        flow = prepare(self.config, origin.params, self.store.blobs.get_value)
        self._adopt(flow, origin.params)
        self.resume = None
        pending = self._pending(source)
        tags = (*self.spin.tags, SPIN_PERSISTED_TAG) if self.spin.persist else self.spin.tags
        self.run_id = meta.create_run(
            self.flow_name,
            file=str(flow.file),
            source=flow.source,
            params=self.params,
            user=self.user,
            tags=tags,
            kind="spin",
            origin_run_id=origin.run_id,
            resume_step=self.spin.step,
        )
        write_run_id(self.spin.run_id_file, self.run_id)
        started = time.time()
        self.reporter.prepare(None, str(self.spin.file))
        self.reporter.report(
            RunStarted(
                flow=self.flow_name,
                run_id=self.run_id,
                store=str(self.store.root),
                params={k: v["repr"] for k, v in self.params.items()},
                file=str(self.file),
                spin_of=source.pathspec,
            )
        )
        self._report_notices()
        status = self._drive([pending])
        task_ids = [t.task_id for t in meta.tasks(self.run_id)]
        duration = self._report_finished(status, started)
        return SpinResult(
            self.flow_name,
            self.run_id,
            task_ids[0] if task_ids else None,
            source.pathspec,
            status,
            duration,
        )

    def _pending(self, source: TaskRecord) -> PendingTask:
        """The source task again, as a task ready to run, with its inputs loaded."""
        meta = self.store.meta
        frames = tuple(Frame.from_json(f) for f in source.frames)
        parent_steps = []
        for parent in source.parents:
            record = meta.task(parent)
            assert record is not None
            parent_steps.append(record.step)
            self.outputs[parent] = artifact_map(meta.artifacts(parent))
        node = self.graph[self.spin.step]
        for parent_step in parent_steps:
            if parent_step not in self.graph or node.name not in self.graph[parent_step].next:
                raise UsageError(
                    f"In run {source.run_id}, step '{node.name}' started from '{parent_step}', "
                    f"which no longer leads to it in {self.file.name}; run the flow again "
                    "(flowtui run) to get inputs that match the file."
                )
        for frame in frames:
            if not frame.foreach:
                continue
            outputs = self.outputs.setdefault(
                frame.split_task, artifact_map(meta.artifacts(frame.split_task))
            )
            var = self.graph[frame.step].foreach if frame.step in self.graph else None
            if not var or var not in outputs:
                raise UsageError(
                    f"Step '{frame.step}' no longer iterates over what it did in run "
                    f"{source.run_id}; run the flow again (flowtui run) to spin '{node.name}'."
                )
        return PendingTask(self.spin.step, frames, tuple(source.parents), tuple(parent_steps))

    def _finished(
        self,
        pending: PendingTask,
        task_id: str,
        foreach_count: int | None,
        chosen: str | None = None,
    ) -> None:
        self.spun_task = task_id  # a spin runs one task: nothing follows it


@dataclass
class SpinConsoleReporter(ConsoleReporter):
    """The console reporter, with a spin's own first and last lines."""

    spin_of: str = ""

    def report(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._flow, self._run_id = event.flow, event.run_id
            self._started = time.time()
            self.spin_of = event.spin_of or ""
            self._print(
                _text(
                    ("Spinning ", "bold"),
                    (self.spin_of, "bold cyan"),
                    (f" as {event.pathspec}", "bold"),
                    (f"  (store {event.store})", "dim"),
                )
            )
        elif isinstance(event, RunFinished):
            self.spin_finished(event)
        else:
            super().report(event)

    def spin_finished(self, event: RunFinished) -> None:
        for pathspec in list(self._tails):
            self._drain(pathspec, final=True)
        status, pathspec = event.status, event.pathspec
        glyph = RUN_GLYPHS[status]
        if status is RunStatus.SUCCEEDED:
            self._print(
                _text(
                    (f"{glyph} ", "bold green"),
                    (pathspec, "bold"),
                    f" done in {human_duration(event.duration)}.",
                )
            )
            return
        word = "was cancelled" if status is RunStatus.CANCELLED else "failed"
        self._print(_text((f"{glyph} ", "bold red"), (pathspec, "bold"), f" {word}."))
        for failed_pathspec, error in self.failures:
            self._print(
                _text(("  ", ""), (failed_pathspec, "bold"), ": ", (error.summary(), "red"))
            )
            if error.traceback:
                indented = "\n".join(
                    "    " + line for line in error.traceback.rstrip().splitlines()
                )
                self._print(_text((indented, "dim")))
        lost = any(error.value_lost for _, error in self.failures)
        self._print(_text((LOST_INPUT if lost else "Fix the code and spin again.", "cyan")))


LOST_INPUT = (
    "A value the step reads is missing or damaged in the store, not in the code: run the "
    "flow again to make it anew, then spin."
)


def _text(*parts: str | tuple[str, str]) -> Any:
    from rich.text import Text

    return Text.assemble(*parts)


def spin(config: SpinConfig, reporter: Reporter) -> SpinResult:
    root = find_store_root(config.store)
    if not root.exists():  # no run, so no inputs: say so, and leave no empty store behind
        _, graph = checked_graph(config.file, config.flow)
        _check_step(graph, config.step)
        raise _never_reached(graph.flow_name, config.step)
    store = Store(root)
    try:
        runner = SpinRunner(config, store, reporter)
        try:
            return runner.spin_step()
        finally:
            runner.executor.close()
    finally:
        store.close()
