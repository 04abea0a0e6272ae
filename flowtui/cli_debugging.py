"""The CLI's debugging commands: `flowtui debug`, `flowtui diff`, and the resume plan with its
reasons and code changes (`flowtui resume --plan`). Registered on `flowtui.cli.app`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from flowtui.cli import StoreOption, _import_failed, _reader_store, app, err_console, fail
from flowtui.cli_options import DEBUG_TASK_HELP
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


@app.command("debug")
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


@app.command("diff")
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
