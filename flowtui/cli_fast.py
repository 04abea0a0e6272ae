"""`flowtui runs` and `flowtui logs` without the CLI framework.

The typer app parses every option through pydantic, and importing typer, pydantic and their
rich help costs more than answering the question (~100 ms of a 10,000-task run's `runs`,
against 0.1 ms to read it). So the two read commands' bodies live here, free of typer: the
typer commands (`cli.py`) call them, and `flowtui.entry` calls them straight for a plain
command line (`READ_COMMANDS`: one positional, the documented options, each at most once).
Anything else — `--help`, an unknown or repeated option, a bad number — goes to the typer
app, so its help and its messages stay the only ones. A test holds the option tables here to
the typer commands'.

A plain command line is first answered from SQLite alone (`glance_runs`, `glance_logs`, on
`store.glance`), without the store's records, the client's objects or Rich, whose imports cost
more than 50 ms; whatever those cannot answer the same way (an error, a Metaflow run, `--follow`,
forced colours, a table Rich must fit) goes on to the full bodies, so every message has one
home. Importing little is the point of this module: keep its imports inside the functions.

Errors are `FlowtuiError`s: both callers print their sentence and exit with their code.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flowtui.errors import FlowtuiError, UsageError

TYPE_CHECKING = False  # typing's, without importing typing (docs/architecture.md)

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

RUNS_LIMIT = 50  # `flowtui runs --limit`'s default
SOURCE = "auto"  # `--source`'s default


class ReadCommand:
    """A read command's plain form: its positional, its options taking a value and its flags
    (each as the keyword of the function that runs it), and which options are numbers."""

    __slots__ = ("flags", "numbers", "options", "positional")

    def __init__(
        self,
        positional: str,
        options: dict[str, str],
        flags: dict[str, str],
        numbers: frozenset[str] = frozenset(),
    ) -> None:
        self.positional = positional
        self.options = options
        self.flags = flags
        self.numbers = numbers


READ_COMMANDS = {
    "runs": ReadCommand(
        "file_or_flow",
        {"--flow": "flow", "--store": "store", "--source": "source"}
        | {"--limit": "limit", "-n": "limit"},
        {"--all": "all_runs"},
        frozenset({"limit"}),
    ),
    "logs": ReadCommand(
        "pathspec",
        {"--store": "store", "--source": "source", "--attempt": "attempt"},
        {"--stdout": "stdout_only", "--stderr": "stderr_only"}
        | {"--follow": "follow", "-f": "follow"},
        frozenset({"attempt"}),
    ),
}


def parse_read_command(args: list[str]) -> tuple[str, dict[str, Any]] | None:
    """`(command, keywords)` when `args` is a plain `runs`/`logs` command line, else None."""
    if not args or args[0] not in READ_COMMANDS:
        return None
    spec = READ_COMMANDS[args[0]]
    found: dict[str, Any] = {}
    rest = args[1:]
    while rest:
        word, rest = rest[0], rest[1:]
        name, equals, value = word.partition("=")
        if not word.startswith("-"):
            if spec.positional in found:
                return None
            found[spec.positional] = word
        elif word in spec.flags:
            key = spec.flags[word]
            if key in found:
                return None
            found[key] = True
        elif name in spec.options:
            key = spec.options[name]
            if key in found:
                return None
            if not equals:
                if not rest or rest[0].startswith("-"):
                    return None
                value, rest = rest[0], rest[1:]
            if key in spec.numbers:
                if not value.isdigit():
                    return None
                found[key] = int(value)
            else:
                found[key] = value
        else:
            return None  # --help, --, an unknown option: the typer app answers
    if spec.positional not in found:
        return None
    return args[0], found


def run_read_command(command: str, keywords: dict[str, Any]) -> None:
    """Run a parsed read command; an error is one sentence on stderr and its exit code."""
    try:
        if command == "runs":
            if not glance_runs(**keywords):
                list_runs(**keywords)
        else:
            stdout_only = keywords.pop("stdout_only", False)
            stderr_only = keywords.pop("stderr_only", False)
            streams = log_streams(stdout_only, stderr_only)
            if not glance_logs(streams=streams, **keywords):
                print_logs(streams=streams, **keywords)
    except FlowtuiError as e:
        from rich.console import Console
        from rich.text import Text

        Console(stderr=True, highlight=False).print(
            Text.assemble(("error: ", "bold red"), str(e)), soft_wrap=True
        )
        sys.exit(e.exit_code)
    except KeyboardInterrupt:  # Ctrl-C (`logs -f`): quiet, as the typer app exits
        sys.exit(130)
    except BrokenPipeError:  # `flowtui logs ... | head`: quiet, as the typer app exits
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # nothing more to flush at exit
        sys.exit(1)


def reader_store(store: str | None) -> Any:
    """The store to read, seen without a namespace filter (the CLI shows every user's runs)."""
    from flowtui.client import namespace
    from flowtui.store import Store

    namespace(None)
    return Store.open(store, create=False)


def flow_name(file_or_flow: str, flow: str | None = None) -> str:
    """The flow named by FILE (parsed, not imported; `flow` picks one of several) or by name."""
    if file_or_flow.endswith(".py") or Path(file_or_flow).is_file():
        from flowtui.graph import FlowSyntaxError, parse_flow, read_flow_file

        path = Path(file_or_flow)
        try:
            return parse_flow(read_flow_file(path), str(path), flow).flow_name
        except FlowSyntaxError as e:  # its sentence says "this line": name the line
            raise UsageError(e.problem.format(str(path))) from None
    return file_or_flow


def list_runs(
    file_or_flow: str,
    flow: str | None = None,
    store: str | None = None,
    all_runs: bool = False,
    limit: int = RUNS_LIMIT,
    source: str = SOURCE,
) -> None:
    """`flowtui runs`: a flow's runs, newest first, as a table on stdout."""
    check_limit(limit)
    from flowtui.client.metaflow_runs import metaflow_runs, reads_metaflow

    near = Path(file_or_flow).resolve().parent if Path(file_or_flow).is_file() else None
    name = flow_name(file_or_flow, flow)
    if reads_metaflow(source, store, name, near=near):
        runs = metaflow_runs(name, near)
        if not runs:
            raise UsageError(f"Metaflow has no runs of {name}.")
    else:
        from flowtui.store import Store

        meta = Store.open(store, create=False).meta  # no client objects: no namespace needed
        runs = [r for r in meta.runs(name) if all_runs or r.listed]
        if not runs:
            flows = ", ".join(meta.flows()) or "none"
            raise UsageError(f"The store has no runs of {name}; flows with runs: {flows}.")
    from rich.console import Console
    from rich.text import Text

    from flowtui.client.tables import runs_table

    out = Console(highlight=False)
    out.print(runs_table(runs[:limit]))
    if len(runs) > limit:
        out.print(Text(older_runs(len(runs) - limit), style="dim"))


def check_limit(limit: int) -> None:
    """`--limit` is how many runs to show: 1 or more (0 or less would show none, yet count
    the runs it hid from the wrong end)."""
    if limit < 1:
        raise UsageError(f"--limit must be 1 or more (got {limit}); it is how many runs to show.")


def older_runs(count: int) -> str:
    return f"({count} older runs not shown; use --limit)"


def console_layout() -> tuple[int, bool] | None:
    """How wide Rich's console would lay stdout out, and whether it is a terminal (where Rich
    writes styles), when that is certain; None when Rich should write it (colours forced or
    refused, a dumb terminal, Windows)."""
    env = os.environ
    if os.name == "nt" or {"TTY_COMPATIBLE", "FORCE_COLOR"} & env.keys():
        return None
    terminal = sys.stdout.isatty()
    if terminal and ("NO_COLOR" in env or env.get("TERM", "").lower() in ("dumb", "unknown")):
        return None
    columns = env.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return (int(columns), terminal) if int(columns) else None
    for fd in (0, 1, 2):  # as Rich asks: the first standard stream that is a terminal
        try:
            return os.get_terminal_size(fd).columns or 80, terminal
        except (AttributeError, ValueError, OSError):
            pass
    return 80, terminal


def glance_runs(
    file_or_flow: str,
    flow: str | None = None,
    store: str | None = None,
    all_runs: bool = False,
    limit: int = RUNS_LIMIT,
    source: str = SOURCE,
) -> bool:
    """`flowtui runs NAME|FILE` from SQLite alone, written as `list_runs` writes it; False
    (nothing written) when that cannot be done the same way: `list_runs` answers."""
    check_limit(limit)
    layout = console_layout()
    if source not in ("auto", "flowtui") or layout is None:
        return False
    name = flow_name(file_or_flow, flow)  # a FILE is parsed (the graph's imports: ~35 ms)
    from flowtui.client.tables import runs_table_text, styled
    from flowtui.store import find_store_root
    from flowtui.store.glance import connect, flow_runs

    conn = connect(find_store_root(store))
    if conn is None:
        return False
    try:
        runs = flow_runs(conn, name)
    finally:
        conn.close()
    if runs is None or any(r.kind == "spin" for r in runs):  # whether a spin is listed: records
        return False
    width, terminal = layout
    table = runs_table_text(runs[:limit], width, terminal=terminal)
    note = older_runs(len(runs) - limit) if len(runs) > limit else ""
    if table is None or len(note) > width:  # a longer note Rich would wrap
        return False
    if note:
        table += ((terminal and styled(note, "dim")) or note) + "\n"
    sys.stdout.write(table)
    return True


def log_streams(stdout_only: bool, stderr_only: bool) -> tuple[str, ...]:
    """The streams asked for: one of them, or both (neither flag, or both flags)."""
    if stdout_only != stderr_only:
        return ("stdout",) if stdout_only else ("stderr",)
    return ("stdout", "stderr")


def print_logs(
    pathspec: str,
    streams: tuple[str, ...] = ("stdout", "stderr"),
    follow: bool = False,
    store: str | None = None,
    source: str = SOURCE,
    attempt: int | None = None,
) -> None:
    """`flowtui logs`: a task's stdout to stdout and its stderr to stderr (a step's tasks one
    after the other); `follow`: until the task finishes; `attempt`: that attempt's (1 is the
    first, as a run's output counts them), else the latest."""
    if attempt is not None:
        print_attempt_logs(pathspec, streams, follow, store, source, attempt)
        return
    from flowtui.client.metaflow_runs import metaflow_log, metaflow_task_if_asked

    mf_task = metaflow_task_if_asked(source, store, pathspec)
    if mf_task is not None:
        sinks = log_sinks()
        for stream in streams:
            sinks[stream](metaflow_log(mf_task, stream))
        return
    from functools import partial

    from flowtui.client import Task
    from flowtui.client.logs import follow_log, read_log
    from flowtui.client.lookup import check_ran, resolve_step_or_task, resolve_task

    st = reader_store(store)
    found = resolve_task(st, pathspec) if follow else resolve_step_or_task(st, pathspec)
    if isinstance(found, Task) and follow:
        sinks = log_sinks()
        for stream, chunk in follow_log(found, streams):
            sinks[stream](chunk)
        return
    tasks = [found] if isinstance(found, Task) else sorted(found, key=lambda t: int(t.id))
    if len(tasks) == 1:  # one task asked for: one that never ran is said, not shown empty
        check_ran(tasks[0])
    write_logs([(t.pathspec, t.index, partial(read_log, t)) for t in tasks], streams)


def print_attempt_logs(
    pathspec: str,
    streams: tuple[str, ...],
    follow: bool,
    store: str | None,
    source: str,
    attempt: int,
) -> None:
    """`flowtui logs PATHSPEC --attempt N`: one task's logs of its Nth attempt (1: the first)."""
    if follow:
        raise UsageError("--follow follows a task's latest attempt; drop --attempt or --follow.")
    if source == "metaflow":
        raise UsageError("--attempt reads flowtui's runs; drop --source metaflow.")
    from flowtui.client import Task
    from flowtui.client.logs import read_log
    from flowtui.client.lookup import check_ran, resolve_task

    task = check_ran(resolve_task(reader_store(store), pathspec))
    count = len(task._store.meta.attempts(task.id))
    if not 1 <= attempt <= count:
        tried = "one attempt" if count == 1 else f"{count} attempts"
        raise UsageError(
            f"{task.pathspec} has {tried}; --attempt takes 1 to {count} (1 is the first)."
        )
    one = Task(task.pathspec, attempt=attempt - 1, _store=task._store)
    write_logs([(one.pathspec, None, lambda stream: read_log(one, stream))], streams)


def glance_logs(
    pathspec: str,
    streams: tuple[str, ...] = ("stdout", "stderr"),
    follow: bool = False,
    store: str | None = None,
    source: str = SOURCE,
    attempt: int | None = None,
) -> bool:
    """`flowtui logs PATHSPEC` from SQLite alone; False (nothing written) when the run, step
    or task is not there, or the logs are followed, of an older attempt or Metaflow's:
    `print_logs` answers."""
    if follow or attempt is not None or source not in ("auto", "flowtui"):
        return False
    from flowtui.store import find_store_root
    from flowtui.store.glance import connect, task_logs

    conn = connect(find_store_root(store))
    if conn is None:
        return False
    try:
        tasks = task_logs(conn, pathspec)
    finally:
        conn.close()
    if tasks is None:  # a Flow/RUN/... pathspec found here is this store's, not Metaflow's
        return False
    if len(tasks) == 1 and tasks[0].stdout is None and not tasks[0].running:
        return False  # never started: `print_logs` says whether its run ended first
    from flowtui.client.logs import log_bytes

    def reader(task: Any) -> Callable[[str], bytes]:
        return lambda stream: log_bytes(
            getattr(task, stream), stream, task.pathspec, running=task.running
        )

    write_logs([(t.pathspec, t.index, reader(t)) for t in tasks], streams)
    return True


def write_logs(
    tasks: list[tuple[str, int | None, Callable[[str], bytes]]], streams: tuple[str, ...]
) -> None:
    """Each task's streams (stdout to stdout, stderr to stderr); a line naming each task first
    when there are several (`tasks`: pathspec, foreach index, a reader of one stream)."""
    sinks = log_sinks()
    for pathspec, index, read in tasks:
        if len(tasks) > 1:
            shown = f" [{index}]" if index is not None else ""
            sys.stdout.write(f"── {pathspec}{shown} ──\n")
            sys.stdout.flush()
        for stream in streams:
            sinks[stream](read(stream))  # a missing log: one sentence


def log_sinks() -> dict[str, Callable[[bytes], None]]:
    """Where each stream's log goes: stdout's to stdout, stderr's to stderr, byte for byte,
    but made inert (`terminal_safe`) where the stream is a terminal."""

    def sink(out: Any) -> Callable[[bytes], None]:
        terminal = out.isatty()

        def write(data: bytes) -> None:
            if terminal:
                from flowtui.client.logs import terminal_safe

                data = terminal_safe(data)
            out.write(data)
            out.flush()

        return write

    return {"stdout": sink(sys.stdout.buffer), "stderr": sink(sys.stderr.buffer)}
