"""`flowtui cancel FLOW/RUN | FILE`: stop a live run started anywhere (the TUI's `x` does the
same, through `flowtui.client.control`)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from flowtui.cli import FlowOption, StoreOption, _flow_name, _reader_store, fail
from flowtui.cli_options import seconds
from flowtui.errors import FlowtuiError


def cancel_command(
    target: str = typer.Argument(
        ...,
        metavar="FLOW/RUN|RUN|FILE|FLOW",
        help="A run (Flow/12 or 12), or a flow file or name: its newest live run.",
    ),
    flow: FlowOption = None,
    store: StoreOption = None,
    wait: float = typer.Option(
        30.0,
        "--wait",
        parser=seconds("how long to wait for the run to stop", "--wait 60"),
        help="Seconds to wait for the run to be recorded cancelled.",
    ),
) -> None:
    """Cancel a live run, wherever it was started (a terminal, the TUI).

    Its runner stops its tasks and records the run cancelled, as Ctrl-C in its terminal would.
    """
    from flowtui.client.control import cancel_run, run_to_cancel, started_from

    out = Console(highlight=False, soft_wrap=True)
    try:
        name, run_id = _target(target, flow)
        meta = _reader_store(store).meta
        run_id = run_to_cancel(meta, name, run_id)
        record, runner = meta.run(run_id), meta.runner(run_id)
        if record is not None and runner is not None and record.status == "running":
            how = started_from(runner)
            out.print(Text(f"Cancelling run {record.pathspec}" + (f" ({how})" if how else "")))
        run = cancel_run(meta, run_id, wait=wait)
    except FlowtuiError as e:
        raise fail(str(e), e.exit_code) from None
    if run.status == "cancelled":
        out.print(Text(f"Run {run.pathspec} cancelled."))
        return
    if run.status == "running":
        raise fail(
            f"Run {run.pathspec} is still stopping after {wait:g} s; "
            "`flowtui runs` shows when it has.",
            1,
        )
    raise fail(f"Run {run.pathspec} {run.status} before it could be cancelled.", 1)


def _target(target: str, flow: str | None) -> tuple[str | None, str | None]:
    """(flow name, run id) from what was typed: `Flow/12`, `12`, a flow file, a flow name."""
    parts = [part for part in target.strip().strip("/").split("/") if part]
    if len(parts) == 2 and parts[1].isdigit() and not Path(target).exists():
        return parts[0], parts[1]
    if len(parts) == 1 and parts[0].isdigit() and not Path(target).exists():
        return flow, parts[0]
    return _flow_name(target, flow), None
