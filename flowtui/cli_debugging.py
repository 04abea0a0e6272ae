"""The CLI's debugging commands: `flowtui spin`, `flowtui debug`, `flowtui diff`, and the
resume plan with its reasons and code changes (`flowtui resume --plan`). `flowtui.cli`
registers the commands on its app, each in its place among the others."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.text import Text

from flowtui.cli import StoreOption, _import_failed, _reader_store, err_console, fail
from flowtui.cli_options import (
    DEBUG_TASK_HELP,
    ExecutorOption,
    FlowOption,
    RayAddressOption,
    RunIdFileOption,
)
from flowtui.errors import FlowtuiError

if TYPE_CHECKING:
    from flowtui.engine.prepare import RunConfig


def _plan_with_changes(config: RunConfig) -> tuple[Any, Any, Any]:
    """The graph, the resume plan (nothing recorded) and the code changes since its origin."""
    from flowtui.client.plans import plan_with_changes
    from flowtui.engine.prepare import checked_graph

    source, graph = checked_graph(config.file, config.flow)
    plan, changes = plan_with_changes(
        config.store, graph, source, config.origin_run_id, config.resume_step
    )
    return graph, plan, changes


def print_plan(config: object, json_out: bool) -> None:
    from flowtui.client.plans import changed_warning, plan_text
    from flowtui.engine.prepare import RunConfig

    assert isinstance(config, RunConfig)
    try:
        graph, plan, changes = _plan_with_changes(config)
    except FlowtuiError as e:
        raise fail(str(e), e.exit_code) from None
    if json_out:
        print(json.dumps(plan.to_json() | changes.to_json()))
        return
    out = Console(highlight=False)
    out.print(plan_text(graph.flow_name, plan, changes))
    warning = changed_warning(str(config.file), changes)
    if warning is not None:
        out.print(warning, soft_wrap=True)


def warn_before_resume(config: RunConfig) -> None:
    from flowtui.client.plans import changed_warning

    try:
        _, _, changes = _plan_with_changes(config)
    except FlowtuiError:
        return  # the run itself says what is wrong
    warning = changed_warning(str(config.file), changes)
    if warning is not None:
        err_console.print(warning, soft_wrap=True)


def spin_command(
    file: str = typer.Argument(..., metavar="FILE", help="The flow file (its current code runs)."),
    step: str = typer.Argument(..., metavar="STEP", help="The step to run once."),
    run_id: str | None = typer.Option(
        None, "--run-id", help="Take the inputs from this run (default: the latest that has some)."
    ),
    task_id: str | None = typer.Option(
        None, "--task-id", help="Take the inputs of this task of STEP (default: its first task)."
    ),
    persist: bool = typer.Option(
        False, "--persist", help="List the spin among the flow's runs (it is kept apart otherwise)."
    ),
    flow: FlowOption = None,
    tag: list[str] = typer.Option([], "--tag", help="Tag the spin (repeatable)."),
    store: StoreOption = None,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not show the task's output."),
    executor: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
    run_id_file: RunIdFileOption = None,
    artifacts: bool = typer.Option(
        True,
        "--artifacts/--no-artifacts",
        help="List the spun task's artifacts and what changed since the run (the TUI's own).",
    ),
) -> None:
    """Run one step once, with the inputs it had in a past run, and show its artifacts."""

    from flowtui.client.diff import compare, render
    from flowtui.client.objects import Task
    from flowtui.client.tables import artifacts_table
    from flowtui.engine.executor import check_executor
    from flowtui.engine.loader import FlowImportError
    from flowtui.engine.spin import SpinConfig, SpinConsoleReporter, spin
    from flowtui.graph import read_flow_file
    from flowtui.run.status import RunStatus
    from flowtui.store import Store

    config = SpinConfig(
        file=Path(file),
        step=step,
        flow=flow,
        run_id=run_id,
        task_id=task_id,
        persist=persist,
        store=store,
        tags=tuple(tag),
        executor=executor,
        ray_address=ray_address,
        run_id_file=run_id_file,
    )
    out = Console(highlight=False, force_terminal=None if sys.stdout.isatty() else False)
    try:
        read_flow_file(Path(file))
        check_executor(executor)
        result = spin(config, SpinConsoleReporter(console=out, quiet=quiet))
    except FlowImportError as e:
        raise _import_failed(e) from None
    except FlowtuiError as e:
        said = None
        if run_id is not None and not _has_run(store, run_id):  # Metaflow's run, maybe
            said = metaflow_run_said(run_id, "spin", step)
        raise fail(said or str(e), e.exit_code) from None
    if result.task_id is not None and artifacts and result.status is RunStatus.SUCCEEDED:
        st = Store.open(store, create=False)
        record = st.meta.task(result.task_id)
        if record is not None and st.meta.artifacts(result.task_id):
            out.print(Text(f"Artifacts of {record.pathspec}:", style="bold"))
            out.print(artifacts_table(Task._make(record, st), out.width))
            out.print(render(compare(st, result.source_pathspec, record.pathspec)))
    raise typer.Exit(result.exit_code)


def _has_run(store: str | None, run_id: str) -> bool:
    """Whether flowtui's store (`--store`, else the nearest) has a run of this id."""
    from flowtui.store import Store

    try:
        return Store.open(store, create=False).meta.run(run_id) is not None
    except (FlowtuiError, OSError):
        return False


def debug_command(
    pathspec: str = typer.Argument(..., metavar="RUN/STEP[/TASK]", help=DEBUG_TASK_HELP),
    file: str | None = typer.Option(
        None, "--file", help="The flow file (default: the one the run was started from)."
    ),
    break_at_start: bool = typer.Option(
        False, "--break", help="Stop at the step's first line, not post-mortem at the exception."
    ),
    store_result: bool = typer.Option(
        False, "--store-result", help="Record the attempt as a spin (nothing is kept otherwise)."
    ),
    store: StoreOption = None,
) -> None:
    """Run a task again here, with its inputs, under pdb: post-mortem in your code at the error."""
    try:
        _debug(pathspec, file, break_at_start, store_result, store)
    except KeyboardInterrupt:  # Ctrl-C while the flow imports or the inputs load (pdb has its own)
        err_console.print(f"Stopped (Ctrl-C) before {pathspec} reached the debugger.", markup=False)
        raise typer.Exit(130) from None


def _debug(
    pathspec: str, file: str | None, break_at_start: bool, store_result: bool, store: str | None
) -> None:
    from flowtui.client import Task
    from flowtui.client.lookup import resolve_step_or_task
    from flowtui.engine.debug import BREAK, POST_MORTEM, DebugConfig, debug, pick_task
    from flowtui.engine.loader import FlowImportError
    from flowtui.engine.spin import SpinConsoleReporter

    out = Console(highlight=False)
    try:
        st = _reader_store(store)
        found = resolve_step_or_task(st, pathspec)
        picked = found.id if isinstance(found, Task) else None
        task_id = picked or pick_task(st, found.parent.id, found.id).task_id
        mode = BREAK if break_at_start else POST_MORTEM
        config = DebugConfig(task_id, Path(file) if file else None, mode, store_result, store)
        result = debug(config, SpinConsoleReporter(console=out))
        if result is None:  # attached to a task waiting at breakpoint(); it has continued
            return
    except FlowImportError as e:
        raise _import_failed(e) from None
    except FlowtuiError as e:
        raise fail(metaflow_run_said(pathspec) or str(e), e.exit_code) from None
    out.print(result.summary())
    raise typer.Exit(0 if result.ok else 1)


def metaflow_run_said(pathspec: str, command: str = "debug", step: str = "") -> str | None:
    """The sentence for a pathspec that flowtui's store lacks and Metaflow's datastore has
    (`command` is the flowtui command that was given it; `step` the step, when the pathspec
    names only the run)."""
    from flowtui.client.metaflow_runs import metaflow_run_of

    run = metaflow_run_of(pathspec)
    if run is None:
        return None
    steps = "/".join(pathspec.strip("/").split("/")[1 if pathspec[:1].isdigit() else 2 :])
    steps = steps or step
    what = "re-runs" if command == "debug" else "takes its inputs from"
    return (
        f"Run {run} is Metaflow's: flowtui {command} {what} flowtui's own runs. Run the flow "
        f"with flowtui (flowtui run FILE) and {command} that run, or spin the step with "
        f"Metaflow (python FILE spin {run.split('/')[1]}{'/' + steps if steps else ''})."
    )


def diff_command(
    a: str = typer.Argument(..., metavar="A", help="A run (RUN or Flow/RUN), step or task."),
    b: str = typer.Argument(..., metavar="B", help="The run, step or task to compare A with."),
    store: StoreOption = None,
    json_out: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
) -> None:
    """Compare the artifacts of two tasks, steps or runs; exit 1 when they differ, as diff does."""
    from flowtui.client.diff import compare, render, resolve
    from flowtui.client.runs import import_beside_run

    try:
        readable = _reader_store(store)
        for text in (a, b):  # classes from a module beside each flow file import from there
            import_beside_run(readable, resolve(readable, text).pathspec)
        result = compare(readable, a, b)
    except FlowtuiError as e:
        raise fail(str(e), e.exit_code) from None
    if json_out:
        print(json.dumps(result.to_json()))
    else:
        Console(highlight=False).print(render(result))
    raise typer.Exit(0 if result.same else 1)
