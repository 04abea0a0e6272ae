"""The console entry point. `flowtui FILE.py [--flow NAME] [--store DIR]` opens the TUI straight
away, without the CLI framework: typer (and the pydantic it pulls in) cost 50-70 ms before the
first frame, for a path the app takes as it is. So do the plain forms of the read commands
`flowtui runs` and `flowtui logs` (`flowtui.cli_fast`). Every other command line, help and
`flowtui open ...` included, goes to `flowtui.cli` unchanged.
"""

from __future__ import annotations

import sys

_OPEN_OPTIONS = ("--flow", "--store")


def open_args(args: list[str]) -> dict[str, str] | None:
    """`{"file", "flow"?, "store"?}` when `args` is the plain `FILE.py [--flow X] [--store Y]`
    form, else None (the CLI then parses it, with its help and its error messages)."""
    if not args or not args[0].endswith(".py") or args[0].startswith("-"):
        return None
    found = {"file": args[0]}
    rest = args[1:]
    while rest:
        name, _, value = rest[0].partition("=")
        if name not in _OPEN_OPTIONS or name[2:] in found:
            return None
        if not value:
            if len(rest) < 2 or rest[1].startswith("-"):
                return None
            value, rest = rest[1], rest[1:]
        found[name[2:]] = value
        rest = rest[1:]
    return found


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("runs", "logs"):  # the read commands' plain forms: no typer either
        from flowtui.cli_fast import parse_read_command, run_read_command

        parsed = parse_read_command(args)
        if parsed is not None:
            run_read_command(*parsed)
            return
    opened = open_args(args)
    if opened is None:
        try:  # Ctrl-C while the CLI (typer, pydantic) is still importing: no traceback
            from flowtui.cli import main as cli_main

            cli_main(args)
        except KeyboardInterrupt:
            sys.stderr.write("\nflowtui: stopped (Ctrl-C).\n")
            sys.exit(130)
        return
    import gc

    # The start builds some 400,000 objects that live as long as the app (modules, classes,
    # styles); the collector would walk them again and again while they are made (~60 ms of
    # CPU before the first frame, docs/benchmarks.md). It is off until the first frame is
    # drawn; then they are set aside (`gc.freeze`: never scanned again) and it runs as usual.
    gc.disable()
    from pathlib import Path

    from flowtui.errors import FlowtuiError
    from flowtui.graph import read_flow_file

    try:
        read_flow_file(Path(opened["file"]))  # a bad path is one sentence, before the TUI
    except FlowtuiError as e:
        from rich.console import Console
        from rich.text import Text

        Console(stderr=True, highlight=False).print(
            Text.assemble(("error: ", "bold red"), str(e)), soft_wrap=True
        )
        sys.exit(e.exit_code)
    refusal = without_terminal()
    if refusal:
        sys.stderr.write(f"error: {refusal}\n")
        sys.exit(2)
    from flowtui.tui.app import FlowtuiApp

    app = FlowtuiApp(
        opened["file"],
        flow=opened.get("flow"),
        store=opened.get("store"),
        after_first_frame=collect_from_now_on,
    )
    app.run()


def without_terminal() -> str | None:
    """Why the TUI cannot run here (its keys come from stdin and it draws on stderr, so both
    must be a terminal), else None. Read from a pipe or /dev/null, it drew escape codes into
    the pipe or read no key, and spun the CPU until killed."""
    import os

    for name, stream in (("input", sys.stdin), ("output", sys.stderr)):
        try:
            ok = stream is not None and os.isatty(stream.fileno())
        except (AttributeError, OSError, ValueError):
            ok = False
        if not ok:
            return (
                f"flowtui FILE draws in a terminal, and its {name} is not one; run it in a "
                "terminal, or use flowtui run FILE to run the flow without one."
            )
    return None


def collect_from_now_on() -> None:
    """What the start made stays out of the collector's way; what comes next is collected."""
    import gc

    gc.freeze()
    gc.enable()
