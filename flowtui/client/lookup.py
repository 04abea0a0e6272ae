"""Pathspecs as people type them on the command line, resolved to client objects.

`RUN/STEP[/TASK]` (run ids are unique in a store, so the flow is implied) or the full
`Flow/RUN/STEP[/TASK]`. Whatever part does not exist raises the client's not-found error, whose
message names that part and lists what exists next to it.
"""

from __future__ import annotations

from flowtui.client.errors import (
    MetaflowInvalidPathspec,
    RunNotFound,
    TaskNeverRanError,
    TaskNotFound,
)
from flowtui.client.objects import Run, Step, Task
from flowtui.store import Store
from flowtui.store.records import NOT_RUN


def resolve_step_or_task(store: Store, text: str) -> Step | Task:
    """`RUN/STEP`, `RUN/STEP/TASK`, `Flow/RUN/STEP` or `Flow/RUN/STEP/TASK`."""
    parts = [p for p in text.strip().strip("/").split("/") if p]
    if not parts or len(parts) > 4:
        raise _invalid(text)
    if parts[0].isdigit():
        if len(parts) not in (2, 3):
            raise _invalid(text)
        run = run_by_id(store, parts[0])
        rest = parts[1:]
    else:
        if len(parts) not in (3, 4):
            raise _invalid(text)
        run = Run(f"{parts[0]}/{parts[1]}", _store=store, _namespace_check=False)
        rest = parts[2:]
    step = run[rest[0]]
    return step[rest[1]] if len(rest) == 2 else step


def resolve_task(store: Store, text: str) -> Task:
    """Like `resolve_step_or_task`, but a step must have exactly one task (or name one)."""
    found = resolve_step_or_task(store, text)
    if isinstance(found, Task):
        return found
    tasks = sorted(found, key=lambda t: int(t.id))  # in the order they ran
    if len(tasks) == 1:
        return tasks[0]
    choices = ", ".join(
        f"{t.id}" + (f" [{t.index}]" if t.index is not None else "") for t in tasks[:10]
    )
    more = f" (and {len(tasks) - 10} more)" if len(tasks) > 10 else ""
    raise TaskNotFound(
        f"Step {found.pathspec} has {len(tasks)} tasks; name one as "
        f"{found.pathspec}/TASK, from: {choices}{more}."
    )


def check_ran(task: Task) -> Task:
    """`task`, unless its run ended before starting it: then that is said, where its logs or
    artifacts were asked for (nothing shown would read as a task that ran silently)."""
    if task.status != NOT_RUN:
        return task
    run = task._store.meta.run(task._record.run_id)
    ended = f" ({run.status})" if run is not None else ""
    raise TaskNeverRanError(
        f"{task.pathspec} never ran: its run ended{ended} before starting it; "
        "`flowtui resume` runs it."
    )


def run_by_id(store: Store, run_id: str) -> Run:
    record = store.meta.run(run_id)
    if record is None:
        latest = ", ".join(f"{r.run_id} ({r.flow})" for r in store.meta.runs()[:8]) or "none"
        raise RunNotFound(f"The store at {store.root} has no run {run_id}; latest runs: {latest}.")
    return Run._from_record(record, store)


def _invalid(text: str) -> MetaflowInvalidPathspec:
    return MetaflowInvalidPathspec(
        f"{text!r} is not a task pathspec; write RUN/STEP[/TASK] (e.g. 12/train/34) or "
        "Flow/RUN/STEP[/TASK]."
    )
