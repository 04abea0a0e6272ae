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
    commands = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
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
