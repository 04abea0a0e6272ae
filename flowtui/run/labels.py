"""How states read on screen: one glyph and one word per state, for the CLI and every widget.

A task's state, a run's, a step's summary on the DAG and a resume plan's verdict are all
written here, so the DAG, the task list, the header, run history and the CLI's summary agree.
Each `StepState.state` is also the name of the style (`dag--<state>`) the TUI colours it with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from flowtui.graph.model import FlowGraph, StepKind
from flowtui.run.status import RunStatus, TaskStatus
from flowtui.units import human_duration

if TYPE_CHECKING:  # a run's state is imported with the first run (not by the TUI's first frame)
    from flowtui.run.plan import ResumePlan
    from flowtui.run.state import RunState, StepTally, TaskState

TASK_GLYPHS: dict[TaskStatus, str] = {
    TaskStatus.PENDING: "○",
    TaskStatus.RUNNING: "●",
    TaskStatus.RETRYING: "⟳",
    TaskStatus.SUCCEEDED: "✔",
    TaskStatus.FAILED: "✖",
    TaskStatus.CANCELLED: "■",
    TaskStatus.CLONED: "≡",
}
RUN_GLYPHS: dict[RunStatus, str] = {
    RunStatus.RUNNING: TASK_GLYPHS[TaskStatus.RUNNING],
    RunStatus.SUCCEEDED: TASK_GLYPHS[TaskStatus.SUCCEEDED],
    RunStatus.FAILED: TASK_GLYPHS[TaskStatus.FAILED],
    RunStatus.CANCELLED: TASK_GLYPHS[TaskStatus.CANCELLED],
    RunStatus.CRASHED: "☠",
}
#: A resume plan's verdicts on a step.
PLAN_GLYPHS = {"clone": "≡", "partial": "◐", "rerun": "↻"}
#: Every state a step can show on the DAG (a task status, or a plan's verdict).
STEP_STATES = (*(s.value for s in TaskStatus), "clone", "partial", "rerun", "changed")


#: A task its run never started, once the run has ended (it never will), and a step none of
#: whose tasks started: what the DAG, the task list and the task's header say.
NOT_RUN_LABEL = f"{TASK_GLYPHS[TaskStatus.PENDING]} not run"


def task_label(status: TaskStatus, *, not_run: bool = False) -> str:
    """`✔ succeeded`, `✖ failed`, `■ cancelled`, …; `○ not run` for a pending task whose run
    has ended (`not_run`: `TaskState.not_run`)."""
    if not_run and status is TaskStatus.PENDING:
        return NOT_RUN_LABEL
    return f"{TASK_GLYPHS[status]} {status.value}"


#: A running task stopped at breakpoint(), waiting for a debugger to attach.
WAITING_GLYPH = "⏸"
WAITING_LABEL = f"{WAITING_GLYPH} waiting in debugger"


def task_state_label(task: TaskState) -> str:
    """`task_label` of the task's status (`○ not run` once its run ended without starting
    it), or `⏸ waiting in debugger` while it waits."""
    if task.waiting and task.status is TaskStatus.RUNNING:
        return WAITING_LABEL
    return task_label(task.status, not_run=task.not_run)


def run_label(status: RunStatus) -> str:
    return f"{RUN_GLYPHS[status]} {status.value}"


def task_count(status: TaskStatus, count: int) -> str:
    """`✔ 3`: a count of tasks in one status, as the header shows it."""
    return f"{TASK_GLYPHS[status]} {count}"


@dataclass(frozen=True)
class StepState:
    """How one step shows on the DAG: a state (one of STEP_STATES), its status line, and how
    long it has taken (first task's start to last task's end, or now while it runs)."""

    state: str
    label: str
    elapsed: float | None = None

    def line(self, width: int | None = None) -> str:
        """The status line with the elapsed time: right-aligned in `width` cells when both fit
        (`✔ done      1.8s`), the label alone when they do not; `None`: after two spaces."""
        if self.elapsed is None:
            return self.label
        took = human_duration(self.elapsed)
        if width is None:
            return f"{self.label}  {took}"
        gap = width - len(self.label) - len(took)
        return self.label + " " * gap + took if gap >= 2 else self.label


def step_elapsed(tasks: list[TaskState] | StepTally, now: float | None) -> float | None:
    """Seconds from the first of `tasks` to start to the last to end (to `now` while one is
    running; `now` None: not running any more). Reused (cloned) tasks did not run: None."""
    from flowtui.run.state import StepTally

    tally = tasks if isinstance(tasks, StepTally) else StepTally.of(tasks)
    first, last = tally.span
    if first is None:
        return None
    end = now if now is not None and tally.active else last
    return None if end is None else max(0.0, end - first)


def step_state(tasks: list[TaskState] | StepTally, expected: int | None, active: bool) -> StepState:
    """A step's summary from its tasks, or their tally (`expected`: a foreach's announced
    task count)."""
    from flowtui.run.state import StepTally

    tally = tasks if isinstance(tasks, StepTally) else StepTally.of(tasks)
    counts = tally.counts
    total = max(expected or 0, len(tally))
    done = counts[TaskStatus.SUCCEEDED] + counts[TaskStatus.CLONED]
    shown = f" {done}/{total}" if total > 1 else ""
    glyph = TASK_GLYPHS
    if counts[TaskStatus.FAILED]:
        return StepState("failed", f"{glyph[TaskStatus.FAILED]} failed{shown}")
    if counts[TaskStatus.CANCELLED]:
        return StepState("cancelled", f"{glyph[TaskStatus.CANCELLED]} cancelled{shown}")
    if tally.retries:
        retry = max(tally.retries.values())
        return StepState("retrying", f"{glyph[TaskStatus.RETRYING]} retry {retry}{shown}")
    running = counts[TaskStatus.RUNNING]
    if running or done < total:
        if not active and not running:
            if counts[TaskStatus.PENDING] == len(tally):  # none of its tasks started
                return StepState("pending", NOT_RUN_LABEL)
            return StepState("pending", f"{glyph[TaskStatus.PENDING]} stopped{shown}")
        if tally.waiting:  # a task stopped at breakpoint(): the step waits for the user
            return StepState("running", f"{WAITING_GLYPH} waiting{shown}")
        dot = f"{glyph[TaskStatus.RUNNING]} "
        return StepState("running", dot + (f"{done}/{total}" if total > 1 else "running"))
    if len(tally) and counts[TaskStatus.CLONED] == len(tally):
        return StepState("cloned", f"{glyph[TaskStatus.CLONED]} cloned{shown}")
    ok = glyph[TaskStatus.SUCCEEDED]
    return StepState("succeeded", f"{ok} {total} done" if total > 1 else f"{ok} done")


def step_states(graph: FlowGraph, run: RunState, now: float | None = None) -> dict[str, StepState]:
    """Each step's state in `run`, for the steps of `graph`; with `now`, how long each step
    that ran has taken (a running one: until `now`). Read from the run's per-step tallies:
    the cost is per step, not per task."""
    by_step = {name: tally for name, tally in run.tasks.steps.items() if len(tally)}
    active = not run.status.done
    pending = TASK_GLYPHS[TaskStatus.PENDING]
    states: dict[str, StepState] = {}
    for node in graph:
        tally = by_step.get(node.name)
        if tally is not None:
            state = step_state(tally, run.expected.get(node.name), active)
            if now is not None:
                state = replace(state, elapsed=step_elapsed(tally, now if active else None))
            states[node.name] = state
        elif _case_not_taken(graph, node.name, by_step):
            states[node.name] = StepState("pending", f"{pending} not taken")
        else:
            states[node.name] = StepState(
                "pending", f"{pending} pending" if active else NOT_RUN_LABEL
            )
    return states


def not_run_count(graph: FlowGraph | None, run: RunState) -> int:
    """How many tasks an ended run never started: its tasks still pending, a foreach's tasks
    announced but never started, and one for each step of `graph` it never reached (what the
    DAG draws `○ not run`; a switch's case not taken is not counted). Counted alike whether
    the run was followed live or read back from the store (which holds the tasks the runner
    created but never started, where the event stream announced only a foreach's count)."""
    if not run.status.done:
        return 0
    steps = run.tasks.steps
    count = sum(tally.counts[TaskStatus.PENDING] for tally in steps.values())
    for name, expected in run.expected.items():
        count += max(0, expected - len(run.tasks.step(name)))
    if graph is not None:
        reached = {name: True for name, tally in steps.items() if len(tally)}
        for node in graph:
            if node.name in reached or node.name in run.expected:
                continue
            if not _case_not_taken(graph, node.name, reached):
                count += 1
    return count


def _case_not_taken(graph: FlowGraph, step: str, by_step: Mapping[str, object]) -> bool:
    """A switch's case that will not run: each switch before it took another case."""
    parents = [graph[p] for p in graph.parents(step)]
    return bool(parents) and all(
        p.kind is StepKind.SWITCH and any(c in by_step for c in p.next if c != step)
        for p in parents
    )


def plan_states(plan: ResumePlan) -> dict[str, StepState]:
    """A resume plan as step states: `≡ clone` for reused steps, `↻ rerun` for the rest, and
    `◐ 3/5 reused` for a foreach whose finished tasks are reused and the others re-run."""
    states = {}
    for step in plan.steps:
        glyph = PLAN_GLYPHS[step.action]
        if step.action == "partial":
            label = f"{glyph} {step.reused}/{step.total} reused"
        else:
            label = f"{glyph} {step.action}"
        states[step.step] = StepState(step.action, label)
    return states
