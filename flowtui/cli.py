"""The command line: `flowtui FILE` opens the TUI; subcommands run and inspect flows headless."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.text import Text

from flowtui.errors import FlowtuiError

app = typer.Typer(
    name="flowtui",
    help="The local development loop for Metaflow-style flows.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

err_console = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one sentence for the user and return the Exit to raise."""
    err_console.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)
    return typer.Exit(code)


def main(argv: list[str] | None = None) -> None:
    """Console entry point. `flowtui FILE ...` is short for `flowtui open FILE ...`."""
    args = list(sys.argv[1:] if argv is None else argv)
    commands = {
        c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands
    }
    if args and not args[0].startswith("-") and args[0] not in commands:
        args.insert(0, "open")
    try:
        app(args=args, prog_name="flowtui")
    except FlowtuiError as e:  # raised outside a command's own handling
        err_console.print(Text.assemble(("error: ", "bold red"), str(e)), soft_wrap=True)
        sys.exit(e.exit_code)


@app.command("open")
def open_command(
    file: str = typer.Argument(..., help="The flow file to open (it is watched for changes)."),
    flow: str | None = typer.Option(
        None, "--flow", help="The flow class, when the file has several."
    ),
    store: str | None = typer.Option(
        None, "--store", help="The store directory (default: .flowtui/)."
    ),
) -> None:
    """Open the TUI on FILE: a live DAG on every save, runs, resume, artifacts."""
    from pathlib import Path

    from flowtui.graph import read_flow_file

    read_flow_file(Path(file))  # a missing or unreadable file is one sentence, before the TUI
    from flowtui.tui.app import FlowtuiApp

    FlowtuiApp(file, flow=flow, store=store).run()


_PARAMS_HELP = "Flow parameters go after FILE as --NAME VALUE (e.g. --alpha 0.5)."
_EXTRA_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True}


def _run_engine(config: object, events: bool, quiet: bool) -> None:
    """Run or resume through the engine; turn its errors into sentences and exit codes."""
    from flowtui.engine.loader import FlowImportError
    from flowtui.engine.report import default_reporter
    from flowtui.engine.runner import RunConfig, execute

    assert isinstance(config, RunConfig)
    try:
        result = execute(config, default_reporter(events, quiet))
    except FlowImportError as e:
        err_console.print(Text(e.details.rstrip(), style="dim"), soft_wrap=True)
        raise fail(str(e), 1) from None
    except FlowtuiError as e:
        raise fail(str(e), e.exit_code) from None
    raise typer.Exit(result.exit_code)


@app.command("run", context_settings=_EXTRA_ARGS, epilog=_PARAMS_HELP)
def run_command(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="The flow file to run."),
    flow: str | None = typer.Option(
        None, "--flow", help="The flow class, when the file has several."
    ),
    max_workers: int = typer.Option(0, "--max-workers", help="Tasks at once (default: CPU count)."),
    tag: list[str] = typer.Option([], "--tag", help="Tag the run (repeatable)."),
    store: str | None = typer.Option(
        None, "--store", help="The store directory (default: .flowtui/)."
    ),
    events: bool = typer.Option(False, "--events", help="Write JSON events to stdout (for tools)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not show the tasks' output."),
) -> None:
    """Run the flow in FILE: one process per task, artifacts and logs in the store."""
    from pathlib import Path

    from flowtui.engine.params import split_param_args
    from flowtui.engine.runner import RunConfig
    from flowtui.graph import read_flow_file

    try:
        read_flow_file(Path(file))
        params = split_param_args(ctx.args)
    except FlowtuiError as e:
        raise fail(str(e), e.exit_code) from None
    config = RunConfig(
        file=Path(file),
        flow=flow,
        params=params,
        max_workers=max_workers,
        tags=tuple(tag),
        store=store,
    )
    _run_engine(config, events, quiet)


@app.command("resume", context_settings=_EXTRA_ARGS)
def resume_command(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="The flow file (its current code runs)."),
    step: str | None = typer.Argument(
        None, help="Re-run from this step (default: the first step that did not succeed)."
    ),
    origin_run_id: str | None = typer.Option(
        None, "--origin-run-id", help="The run to resume (default: the flow's latest run)."
    ),
    flow: str | None = typer.Option(
        None, "--flow", help="The flow class, when the file has several."
    ),
    max_workers: int = typer.Option(0, "--max-workers", help="Tasks at once (default: CPU count)."),
    tag: list[str] = typer.Option([], "--tag", help="Tag the run (repeatable)."),
    store: str | None = typer.Option(
        None, "--store", help="The store directory (default: .flowtui/)."
    ),
    plan: bool = typer.Option(False, "--plan", help="Only print what would be reused and re-run."),
    json_out: bool = typer.Option(False, "--json", help="With --plan: print the plan as JSON."),
    events: bool = typer.Option(False, "--events", help="Write JSON events to stdout (for tools)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not show the tasks' output."),
) -> None:
    """Start a new run that reuses the tasks an earlier run finished, and runs the rest."""
    from pathlib import Path

    from flowtui.engine.params import split_param_args
    from flowtui.engine.runner import RunConfig
    from flowtui.graph import read_flow_file

    if step is not None and step.startswith("--"):  # a parameter, not a step
        ctx.args.insert(0, step)
        step = None
    try:
        read_flow_file(Path(file))
        params = split_param_args(ctx.args)
    except FlowtuiError as e:
        raise fail(str(e), e.exit_code) from None
    config = RunConfig(
        file=Path(file),
        flow=flow,
        params=params,
        max_workers=max_workers,
        tags=tuple(tag),
        store=store,
        origin_run_id=origin_run_id,
        resume_step=step,
        resume=True,
    )
    if plan:
        _print_plan(config, json_out)
        return
    _run_engine(config, events, quiet)


def _print_plan(config: object, json_out: bool) -> None:
    import json

    from flowtui.engine.resume import ResumeSource
    from flowtui.engine.runner import RunConfig, checked_graph
    from flowtui.store import Store

    assert isinstance(config, RunConfig)
    try:
        _, graph = checked_graph(config.file, config.flow)
        store = Store.open(config.store, create=False)
        source = ResumeSource.open(store, graph.flow_name, config.origin_run_id, config.resume_step)
        plan = source.bind(graph)
    except FlowtuiError as e:
        raise fail(str(e), e.exit_code) from None
    if json_out:
        print(json.dumps(plan.to_json()))
        return
    out = Console(highlight=False)
    out.print(
        Text.assemble(
            "Resuming ",
            (f"{graph.flow_name}/{plan.origin_run_id}", "bold"),
            " from step ",
            (plan.resume_step, "bold cyan"),
            ":",
        )
    )
    rows = [
        ("reuse", plan.clone, "green"),
        ("reuse some, re-run the rest", plan.partial, "yellow"),
        ("run", plan.rerun, "cyan"),
    ]
    for label, steps, style in rows:
        if steps:
            out.print(Text.assemble((f"  {label}: ", style), ", ".join(steps)))


def main_for_flow_file(cls: type, file: str, argv: list[str]) -> None:
    """`python myflow.py run ...` (a FlowSpec instantiated under __main__), as Metaflow does.

    The first word is the command (run, resume, show, check); the file is this file.
    """
    if not argv or argv[0] in ("-h", "--help"):
        print(f"Usage: python {file} [run|resume|show|check] [OPTIONS]")
        sys.exit(0)
    command, rest = argv[0], argv[1:]
    if "--flow" not in rest:
        rest = [*rest, "--flow", cls.__name__]
    main([command, file, *rest])
    sys.exit(0)
