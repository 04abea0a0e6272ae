"""The Typer app itself and what its commands share: the options several commands take
(declared once), and how a command fails with one sentence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.text import Text

app = typer.Typer(
    name="flowtui",
    help=(
        "The local development loop for Metaflow-style flows.\n\n"
        "flowtui FILE opens the TUI on a flow file (short for flowtui open FILE); "
        "the commands below run and read flows headless. Runs are kept in .flowtui/ "
        "(--store PATH or $FLOWTUI_STORE for another)."
    ),
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

err_console = Console(stderr=True, highlight=False)


def _print_version(asked: bool) -> None:
    if asked:
        from flowtui import __version__

        print(f"flowtui {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print the version."
    ),
) -> None:
    """The app's own options (the commands follow)."""


def whole_number(what: str, example: str, least: int | None = None) -> Callable[[str], int]:
    """A parser for an option that takes a whole number: one sentence for anything else (typer
    says pydantic's "Input should be a valid integer"). `-n=5` reads as 5, as the plain command
    line reads it (`cli_fast`), where click takes "=5" for the value."""
    return _number(int, "a whole number", what, example, least)


def seconds(what: str, example: str) -> Callable[[str], float]:
    """A parser for an option that takes a number of seconds (0 or more), as `whole_number`."""
    return _number(float, "a number of seconds", what, example, 0)


N = TypeVar("N", int, float)


def _number(
    convert: Callable[[str], N], noun: str, what: str, example: str, least: N | None
) -> Callable[[str], N]:
    def parse(given: str) -> N:
        text = str(given).removeprefix("=").strip()
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or value != value:  # not a number, or NaN
            raise typer.BadParameter(f"{text!r} is not {noun}; give {what}, e.g. {example}.")
        if least is not None and value < least:
            raise typer.BadParameter(f"{text} is too few; give {what}, e.g. {example}.")
        return value

    return parse


# How `--help` writes what an option takes (typer writes its type: `--store <str>`, and
# `<bool>` beside a flag, which takes nothing).
_VALUE_WORDS = {
    "store": "PATH",
    "run_id_file": "PATH",
    "html": "PATH",
    "file": "FILE",
    "flow": "FLOW",
    "tag": "TAG",
    "with_": "DECORATOR",
    "branch": "BRANCH",
    "namespace": "NAMESPACE",
    "executor": "local|ray",
    "source": "flowtui|metaflow|auto",
    "ray_address": "ADDRESS",
    "origin_run_id": "RUN",
    "run_id": "RUN",
    "task_id": "TASK",
    "card_id": "ID",
    "card_type": "TYPE",
    "wait": "SECONDS",
    "output_format": "text|json",
    "max_workers": "N",
    "max_num_splits": "N",
    "limit": "N",
    "attempt": "N",
}


def help_words(group: Any) -> None:
    """Name what each option of `group`'s commands takes, as `--help` shows it: a word
    (`--store PATH`, `--max-workers N`), nothing for a flag. `group` is the click group typer
    builds from `app` (`typer.main.get_command`), the one then run."""
    commands = [group, *getattr(group, "commands", {}).values()]
    for command in commands:
        if command is not group and hasattr(command, "commands"):  # `card`: its own commands
            commands.extend(command.commands.values())
        ctx = typer.Context(command, help_option_names=["-h", "--help"])
        helper = command.get_help_option(ctx)  # made once per command, then shown
        for param in [*command.params, *([helper] if helper is not None else [])]:
            if param.param_type_name != "option" or param.metavar is not None:
                continue
            param.metavar = "" if param.is_flag else _VALUE_WORDS.get(param.name or "")


# Options that several commands share, declared once.
FlowOption = Annotated[
    str | None, typer.Option("--flow", help="The flow class, when the file has several.")
]
StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="The store directory (default: $FLOWTUI_STORE, else the nearest .flowtui/ here "
        "or above).",
    ),
]
WorkersOption = Annotated[
    int,
    typer.Option(
        "--max-workers",
        parser=whole_number("how many tasks may run at once", "--max-workers 4", least=0),
        show_default=False,
        help="Tasks at once (default: CPU count).",
    ),
]
TagOption = Annotated[list[str], typer.Option("--tag", help="Tag the run (repeatable).")]
EventsOption = Annotated[
    bool, typer.Option("--events", help="Write JSON events to stdout (for tools).")
]
ExecutorOption = Annotated[
    str,
    typer.Option(
        "--executor",
        help="Where tasks run: local (processes on this machine) or ray (a Ray cluster).",
    ),
]
RayAddressOption = Annotated[
    str | None,
    typer.Option(
        "--ray-address",
        help="With --executor ray: the cluster (default: RAY_ADDRESS, else a local Ray).",
    ),
]
_SOURCE_HELP = "flowtui, metaflow (Metaflow's runs) or auto (Metaflow's if only it has them)."
SourceOption = Annotated[str, typer.Option("--source", help=_SOURCE_HELP)]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Do not show the tasks' output.")]
# Metaflow's run options, with Metaflow's meaning (flowtui.engine.run_options).
WithOption = Annotated[
    list[str],
    typer.Option("--with", help="Add a decorator to every step: NAME[:ARG=VALUE,...]."),
]
# Metaflow reads these from METAFLOW_RUN_MAX_NUM_SPLITS / METAFLOW_RESUME_MAX_NUM_SPLITS too.
_SPLITS_HELP = "Most children a foreach may have."
_SPLITS = whole_number("the most children a foreach may have", "--max-num-splits 1000", least=1)
RunSplitsOption = Annotated[
    int,
    typer.Option(
        "--max-num-splits",
        parser=_SPLITS,
        envvar="METAFLOW_RUN_MAX_NUM_SPLITS",
        help=_SPLITS_HELP,
    ),
]
ResumeSplitsOption = Annotated[
    int,
    typer.Option(
        "--max-num-splits",
        parser=_SPLITS,
        envvar="METAFLOW_RESUME_MAX_NUM_SPLITS",
        help=_SPLITS_HELP,
    ),
]
RunIdFileOption = Annotated[
    str | None, typer.Option("--run-id-file", help="Write the run's id to this file.")
]
BranchOption = Annotated[
    str | None, typer.Option("--branch", help="@project: run on branch test.BRANCH.")
]
ProductionOption = Annotated[
    bool, typer.Option("--production", help="@project: run on the production branch.")
]
NamespaceOption = Annotated[
    str | None,
    typer.Option("--namespace", help="The client namespace inside the tasks (empty: all runs)."),
]
NoDebugOption = Annotated[
    bool, typer.Option("--no-debug", help="breakpoint() in a step does nothing (never waits).")
]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one sentence for the user and return the Exit to raise."""
    err_console.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)
    return typer.Exit(code)


def _import_failed(error: Any) -> typer.Exit:  # its traceback (dim), then one sentence
    err_console.print(Text(error.details.rstrip(), style="dim"), soft_wrap=True)
    return fail(str(error), 1)


# What a task argument may be, as every reader command says it.
TASK_HELP = (
    "A task, 12/train/34, or a step with one task, 12/train (the flow's name may go in front: "
    "TrainFlow/12/train)."
)
STEP_TASKS_HELP = (
    "A task, 12/train/34, or a step, 12/train: each of its tasks (the flow's name may go in "
    "front: TrainFlow/12/train)."
)
DEBUG_TASK_HELP = (
    "A task, 12/train/34, or a step, 12/train: its only task, or its only failed one (the "
    "flow's name may go in front: TrainFlow/12/train)."
)
