"""The command line: `flowtui FILE` opens the TUI; subcommands run and inspect flows headless."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from flowtui.cli_fast import (
    RUNS_LIMIT,
    SOURCE,
    flow_name,
    list_runs,
    log_streams,
    print_logs,
    reader_store,
)
from flowtui.errors import FlowtuiError

if TYPE_CHECKING:
    from flowtui.engine.prepare import RunConfig

from flowtui.cli_options import (
    STEP_TASKS_HELP,
    TASK_HELP,
    BranchOption,
    EventsOption,
    ExecutorOption,
    FlowOption,
    NamespaceOption,
    NoDebugOption,
    ProductionOption,
    QuietOption,
    RayAddressOption,
    ResumeSplitsOption,
    RunIdFileOption,
    RunSplitsOption,
    SourceOption,
    StoreOption,
    TagOption,
    WithOption,
    WorkersOption,
    _import_failed,
    app,
    err_console,
    fail,
    help_words,
    whole_number,
)


def main(argv: list[str] | None = None) -> None:
    """Console entry point. `flowtui FILE ...` is short for `flowtui open FILE ...`."""
    args = list(sys.argv[1:] if argv is None else argv)
    commands = {
        c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands
    } | {g.name for g in app.registered_groups}
    if args and not args[0].startswith("-") and args[0] not in commands:
        from flowtui.cli_args import looks_like_a_file, no_such_command

        if not looks_like_a_file(args[0]):  # `flowtui rnu`: a mistyped command
            fail(no_such_command(args[0], sorted(c for c in commands if c)))
            sys.exit(2)
        args.insert(0, "open")
    group = typer.main.get_command(app)
    help_words(group)
    if args and args[0] in ("run", "resume"):  # the flow's parameters among the words
        from flowtui.cli_args import parameters_after_file, parameters_in_help

        command = group.commands[args[0]]  # type: ignore[attr-defined]
        after, taken = parameters_after_file(command, args[1:])
        if "--events" not in after:  # a person reads this (a tool passed each in its place)
            for option in dict.fromkeys(taken):
                err_console.print(
                    f"note: {option} after the file is the flow's parameter (flowtui's own "
                    f"{option} goes before the file: flowtui {args[0]} {option} ... FILE).",
                    style="dim",
                    markup=False,
                    soft_wrap=True,
                )
        args = [args[0], *after]
        command.epilog = parameters_in_help(command, args[1:]) or command.epilog
    try:
        group(args=args, prog_name="flowtui")
    except FlowtuiError as e:  # raised outside a command's own handling
        err_console.print(Text.assemble(("error: ", "bold red"), str(e)), soft_wrap=True)
        sys.exit(e.exit_code)


@app.command("open")
def open_command(
    file: str = typer.Argument(
        ..., metavar="FILE", help="The flow file to open (it is watched for changes)."
    ),
    flow: FlowOption = None,
    store: StoreOption = None,
    executor: Annotated[
        str | None,
        typer.Option("--executor", help="Where runs' tasks run: local or ray (default: as last)."),
    ] = None,
    ray_address: RayAddressOption = None,
) -> None:
    """Open the TUI on FILE: a live DAG on every save, runs, resume, artifacts."""

    from flowtui.tui.app import FlowtuiApp
    from flowtui.tui.executor_choice import EXECUTORS

    if executor is not None and executor not in EXECUTORS:
        raise fail(f"Unknown executor '{executor}'; use one of: {', '.join(EXECUTORS)}.", 2)
    tui = FlowtuiApp(
        file, flow=flow, store=store, executor=executor, ray_address=ray_address
    )  # reads the file, once
    if tui.read_error:  # a missing or unreadable file is one sentence, before the TUI
        raise fail(tui.read_error, 2)
    from flowtui.entry import without_terminal

    refusal = without_terminal()
    if refusal:
        raise fail(refusal, 2)
    tui.run()


_PARAMS_HELP = "Flow parameters go after FILE as --NAME VALUE (e.g. --alpha 0.5)."
_EXTRA_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True}


def _run_engine(config: object, events: bool, quiet: bool, no_debug: bool = False) -> None:
    """Run or resume through the engine; turn its errors into sentences and exit codes."""
    from flowtui.engine.breakpoints import breakpoint_mode
    from flowtui.engine.loader import FlowImportError
    from flowtui.engine.prepare import RunConfig
    from flowtui.engine.report import default_reporter
    from flowtui.engine.runner import execute

    assert isinstance(config, RunConfig)
    config.breakpoints = breakpoint_mode(events=events, no_debug=no_debug)
    try:
        result = execute(config, default_reporter(events, quiet))
    except FlowImportError as e:
        raise _import_failed(e) from None
    except FlowtuiError as e:
        raise fail(str(e), e.exit_code) from None
    raise typer.Exit(result.exit_code)


@app.command("run", context_settings=_EXTRA_ARGS, epilog=_PARAMS_HELP)
def run_command(
    ctx: typer.Context,
    file: str = typer.Argument(..., metavar="FILE", help="The flow file to run."),
    flow: FlowOption = None,
    max_workers: WorkersOption = 0,
    tag: TagOption = [],  # noqa: B006 - typer copies defaults
    store: StoreOption = None,
    events: EventsOption = False,
    quiet: QuietOption = False,
    with_: WithOption = [],  # noqa: B006 - typer copies defaults
    max_num_splits: RunSplitsOption = 100,
    run_id_file: RunIdFileOption = None,
    namespace: NamespaceOption = None,
    branch: BranchOption = None,
    production: ProductionOption = False,
    executor: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
    no_debug: NoDebugOption = False,
) -> None:
    """Run the flow in FILE: one process per task, artifacts and logs in the store."""
    config = _run_config(
        file,
        ctx.args,
        flow=flow,
        max_workers=max_workers,
        tags=tuple(tag),
        store=store,
        with_decorators=tuple(with_),
        max_num_splits=max_num_splits,
        run_id_file=run_id_file,
        namespace=namespace,
        branch=branch,
        production=production,
        executor=executor,
        ray_address=ray_address,
    )
    _run_engine(config, events, quiet, no_debug)


def _run_config(file: str, param_args: list[str], **options: Any) -> RunConfig:
    """A RunConfig for FILE with `--NAME VALUE` parameters, or a one-sentence exit."""
    from flowtui.cli_args import config_words
    from flowtui.engine.executor import check_executor
    from flowtui.engine.params import split_param_args
    from flowtui.engine.prepare import RunConfig
    from flowtui.graph import read_flow_file

    try:
        read_flow_file(Path(file))
        configs, param_args = config_words(param_args, file)  # its configs, then parameters
        params = split_param_args(param_args)
        check_executor(options.get("executor", "local"))
    except FlowtuiError as e:
        raise fail(str(e), e.exit_code) from None
    return RunConfig(file=Path(file), params=params, configs=configs, **options)


@app.command("resume", context_settings=_EXTRA_ARGS)
def resume_command(
    ctx: typer.Context,
    file: str = typer.Argument(..., metavar="FILE", help="The flow file (its current code runs)."),
    step: str | None = typer.Argument(
        None,
        metavar="STEP",
        help="Re-run from this step (default: the first step that did not succeed).",
    ),
    origin_run_id: str | None = typer.Option(
        None, "--origin-run-id", help="The run to resume (default: the flow's latest run)."
    ),
    flow: FlowOption = None,
    max_workers: WorkersOption = 0,
    tag: TagOption = [],  # noqa: B006 - typer copies defaults
    store: StoreOption = None,
    plan: bool = typer.Option(False, "--plan", help="Only print what would be reused and re-run."),
    json_out: bool = typer.Option(False, "--json", help="With --plan: print the plan as JSON."),
    events: EventsOption = False,
    quiet: QuietOption = False,
    with_: WithOption = [],  # noqa: B006 - typer copies defaults
    max_num_splits: ResumeSplitsOption = 100,
    run_id_file: RunIdFileOption = None,
    namespace: NamespaceOption = None,
    branch: BranchOption = None,
    production: ProductionOption = False,
    executor: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
    no_debug: NoDebugOption = False,
) -> None:
    """Start a new run that reuses the tasks an earlier run finished, and runs the rest."""
    if step is not None and step.startswith("--"):  # a parameter, not a step
        ctx.args.insert(0, step)
        step = None
    config = _run_config(
        file,
        ctx.args,
        flow=flow,
        max_workers=max_workers,
        tags=tuple(tag),
        store=store,
        origin_run_id=origin_run_id,
        resume_step=step,
        resume=True,
        with_decorators=tuple(with_),
        max_num_splits=max_num_splits,
        run_id_file=run_id_file,
        namespace=namespace,
        branch=branch,
        production=production,
        executor=executor,
        ray_address=ray_address,
    )
    if plan:
        from flowtui.cli_debugging import print_plan, warn_before_resume

        print_plan(config, json_out)
        return
    if not events:
        from flowtui.cli_debugging import warn_before_resume

        warn_before_resume(config)
    _run_engine(config, events, quiet, no_debug)


# -- show, check: the flow's graph from its text, never imported ------------------------------
class ShowFormat(str, Enum):
    TEXT = "text"
    JSON = "json"


def _show_format(given: str | ShowFormat) -> ShowFormat:
    """`--format`'s value, or one sentence (typer says pydantic's "Value error, ...")."""
    try:
        return ShowFormat(given)
    except ValueError:
        raise typer.BadParameter(
            f"{given!r} is not a format show writes; give text or json."
        ) from None


def read_flow_source(file: str) -> str:
    """The text of the flow file FILE, or exit 2 with one sentence saying what is wrong."""
    from flowtui.graph import read_flow_file

    try:
        return read_flow_file(file)
    except FlowtuiError as e:
        raise fail(str(e), e.exit_code) from None


def parse_flow_file(file: str, flow: str | None) -> Any:
    """The `FlowGraph` of FILE, or exit 2 with one sentence (a syntax error with its place)."""
    from flowtui.graph import FlowSourceError, FlowSyntaxError, parse_flow

    source = read_flow_source(file)
    try:
        return parse_flow(source, file, flow)
    except FlowSyntaxError as e:
        raise fail(e.problem.format(file), e.exit_code) from None
    except FlowSourceError as e:
        raise fail(str(e), e.exit_code) from None


@app.command("show")
def show_command(
    file: str = typer.Argument(
        ..., metavar="FILE", help="The flow file to draw (read, never run)."
    ),
    flow: FlowOption = None,
    output_format: ShowFormat = typer.Option(
        ShowFormat.TEXT,
        "--format",
        parser=_show_format,
        help="text: the DAG drawn; json: the graph as data.",
    ),
) -> None:
    """Draw the flow's DAG, then list any problems lint finds in it."""
    from flowtui.graph import lint_graph
    from flowtui.graph.export import graph_to_json, json_fallback
    from flowtui.graph.render import render_dag

    graph = parse_flow_file(file, flow)
    if output_format is ShowFormat.JSON:
        typer.echo(json.dumps(graph_to_json(graph, file), indent=2, default=json_fallback))
        return
    typer.echo(render_dag(graph, max_width=Console().width))
    problems = lint_graph(graph)
    if problems:
        typer.echo("")
        for problem in problems:
            typer.echo(problem.format(file))


@app.command("check")
def check_command(
    file: str = typer.Argument(
        ..., metavar="FILE", help="The flow file to check (read, never run)."
    ),
    flow: FlowOption = None,
) -> None:
    """Lint the flow with Metaflow's checks, and find the metaflow names flowtui lacks.

    Each problem is printed as FILE:LINE: message; the exit code is 1 if any is an error.
    """
    from flowtui.compat.scan import unoffered_uses
    from flowtui.graph import FlowSyntaxError, lint_graph, parse_flow

    source = read_flow_source(file)
    try:
        graph = parse_flow(source, file, flow)
    except FlowSyntaxError as e:
        typer.echo(e.problem.format(file))
        raise typer.Exit(1) from None
    except FlowtuiError as e:
        raise fail(str(e), e.exit_code) from None
    problems = sorted([*lint_graph(graph), *unoffered_uses(source)], key=lambda p: p.line)
    for problem in problems:
        typer.echo(problem.format(file))
    errors = sum(p.severity == "error" for p in problems)
    if errors:
        typer.echo(f"{graph.flow_name}: {errors} error{'s' if errors > 1 else ''} in {file}.")
        raise typer.Exit(1)
    typer.echo(f"ok: {graph.flow_name} in {file}, {len(graph)} steps.")


# -- readers: runs, logs, artifacts (they read the store through flowtui.client) --------------


_reader_store = reader_store  # the store to read, without a namespace filter
_flow_name = flow_name  # the flow named by FILE or by name


@app.command("runs")
def runs_command(
    file_or_flow: str = typer.Argument(..., metavar="FILE|FLOW", help="A flow file or name."),
    flow: FlowOption = None,
    store: StoreOption = None,
    all_runs: bool = typer.Option(
        False, "--all", help="Also list spins (flowtui spin), which are kept apart by default."
    ),
    limit: int = typer.Option(
        RUNS_LIMIT,
        "--limit",
        "-n",
        parser=whole_number("how many runs to show", "-n 5"),  # under 1: the body says
        help="Show at most this many runs.",
    ),
    source: SourceOption = SOURCE,
) -> None:
    """List a flow's runs, newest first: id, status, start, duration, origin, tags."""
    try:
        list_runs(file_or_flow, flow, store, all_runs, limit, source)
    except FlowtuiError as e:
        raise fail(str(e), e.exit_code) from None


@app.command("logs")
def logs_command(
    pathspec: str = typer.Argument(..., metavar="RUN/STEP[/TASK]", help=STEP_TASKS_HELP),
    stdout_only: bool = typer.Option(False, "--stdout", help="Only the task's stdout."),
    stderr_only: bool = typer.Option(False, "--stderr", help="Only the task's stderr."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing until it finishes."),
    store: StoreOption = None,
    source: SourceOption = SOURCE,
    attempt: int | None = typer.Option(
        None,
        "--attempt",
        parser=whole_number("which attempt (1 is the first)", "--attempt 2", least=1),
        help="The task's Nth attempt (1 is the first, as the run counts them; default: its last).",
    ),
) -> None:
    """Print a task's output (its stdout to stdout, its stderr to stderr)."""
    from flowtui.client.errors import LogMissingError

    streams = log_streams(stdout_only, stderr_only)
    try:
        print_logs(pathspec, streams, follow, store, source, attempt)
    except LogMissingError:
        raise  # main() says so
    except FlowtuiError as e:
        raise fail(str(e), e.exit_code) from None


@app.command("artifacts")
def artifacts_command(
    pathspec: str = typer.Argument(..., metavar="RUN/STEP[/TASK]", help=TASK_HELP),
    name: str | None = typer.Argument(None, metavar="NAME", help="Print this artifact's value."),
    store: StoreOption = None,
    source: SourceOption = "auto",
) -> None:
    """List a task's artifacts (name, type, size, short repr), or print one value."""
    from flowtui.client.lookup import check_ran, resolve_task
    from flowtui.client.metaflow_runs import metaflow_artifacts_view, metaflow_task_if_asked
    from flowtui.client.render import render_value
    from flowtui.client.tables import artifacts_table

    out = Console(highlight=False)
    try:
        mf_task = metaflow_task_if_asked(source, store, pathspec)
        if mf_task is not None:
            out.print(metaflow_artifacts_view(mf_task, name, out.width))
            return
    except FlowtuiError as e:
        raise fail(str(e), e.exit_code) from None
    try:
        readable = _reader_store(store)
        task = check_ran(resolve_task(readable, pathspec))
        art = task[name] if name is not None else None
    except FlowtuiError as e:
        raise fail(str(e), e.exit_code) from None
    if art is None:
        if not list(task):
            out.print(Text(f"{task.pathspec} has no artifacts.", style="dim"))
            return
        out.print(artifacts_table(task, out.width))
        return
    from flowtui.client.runs import import_beside_run

    import_beside_run(readable, task.pathspec)  # a class from a module beside the flow file
    try:
        value = art.data
    except Exception as e:  # unpickling runs arbitrary code: any error is the value's
        raise fail(
            f"The value of {art.pathspec} ({art.type}) cannot be loaded here: "
            f"{type(e).__name__}: {e}; its stored repr is {art.repr}"
        ) from None
    hint = f'Task("{task.pathspec}").data.{art.id}'
    out.print(render_value(value, hint=hint))


card_app = typer.Typer(help="A task's cards (@card): view them in the terminal or as HTML.")
app.add_typer(card_app, name="card")


@card_app.command("view")
def card_view_command(
    pathspec: str = typer.Argument(..., metavar="RUN/STEP[/TASK]", help=TASK_HELP),
    card_id: str | None = typer.Option(None, "--id", help="The card with this @card(id=...)."),
    card_type: str | None = typer.Option(None, "--type", help="The card of this type."),
    html: Path | None = typer.Option(None, "--html", help="Write a standalone HTML page here."),
    store: StoreOption = None,
    source: SourceOption = "auto",
) -> None:
    """Print a task's card in the terminal (its first card unless --id/--type picks one)."""
    from flowtui.client.card_render import card_html, card_renderables
    from flowtui.client.cards import card_document

    try:
        document = card_document(source, store, pathspec, card_id, card_type)
    except FlowtuiError as e:
        raise fail(str(e), e.exit_code) from None
    if html is not None:
        try:
            html.write_text(card_html(document), encoding="utf-8")
        except OSError as e:
            raise fail(f"Cannot write {html}: {e.strerror}; pick another --html path.") from None
        typer.echo(f"Wrote {html}")
        return
    console = Console(highlight=False)
    for renderable in card_renderables(document, console.width):
        console.print(renderable)


FILE_COMMANDS = ("run", "resume", "spin", "show", "check")  # `python myflow.py COMMAND`


def main_for_flow_file(cls: type, file: str, argv: list[str]) -> None:
    """`python myflow.py run ...` (a FlowSpec instantiated under __main__), as Metaflow does.

    The first word is the command (`FILE_COMMANDS`); the file is this file. Metaflow's
    options that go before the command (`--branch X`, `--production`, `--with D`, `--quiet`)
    are passed to it.
    """
    from flowtui.cli_args import config_option_words
    from flowtui.engine.run_options import split_leading_options

    before, argv = split_leading_options(argv)
    before, configs = config_option_words(before)  # they go after the file, as a flow's
    commands = "|".join(FILE_COMMANDS)
    if not argv or argv[0] in ("-h", "--help"):
        name = Path(file).name
        print(f"Usage: python {name} {{{commands}}} [OPTIONS]")
        print(f"The same as flowtui COMMAND {name} [OPTIONS]; flowtui COMMAND -h tells more.")
        sys.exit(0)
    if argv[0] not in FILE_COMMANDS:  # `logs`, `runs`, a typo: say which commands this has
        err_console.print(
            Text.assemble(
                ("error: ", "bold red"),
                f"python {Path(file).name} has no command '{argv[0]}'; use one of: "
                f"{', '.join(FILE_COMMANDS)} (runs, logs and artifacts are `flowtui` commands, "
                "e.g. flowtui logs RUN/STEP).",
            ),
            soft_wrap=True,
        )
        sys.exit(2)
    command, rest = argv[0], argv[1:]
    if "--flow" not in before:  # before the file: after it, --flow may be the flow's parameter
        before = [*before, "--flow", cls.__name__]
    main([command, *before, file, *configs, *rest])
    sys.exit(0)


from flowtui.cli_debugging import (  # noqa: E402 - they use this module's options
    debug_command,
    diff_command,
    spin_command,
)
from flowtui.cli_doctor import doctor_command  # noqa: E402 - it uses this module's options

app.command("spin")(spin_command)

app.command("doctor")(doctor_command)

from flowtui.cli_control import cancel_command  # noqa: E402 - it uses this module's options

app.command("cancel")(cancel_command)

app.command("debug")(debug_command)
app.command("diff")(diff_command)
