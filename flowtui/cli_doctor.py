"""`flowtui doctor [--repair]`: the command (its checks live in `flowtui.store.doctor`)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.text import Text

from flowtui.cli import StoreOption, fail
from flowtui.errors import FlowtuiError


def doctor_command(
    store: StoreOption = None,
    repair: bool = typer.Option(
        False, "--repair", help="Fix what is safe: leftovers of crashes (never a used blob)."
    ),
) -> None:
    """Check the store: every blob against its hash, logs, crashed runs, SQLite's integrity.

    Exit code 0: clean; 1: only leftovers of crashes (--repair tidies them); 3: damage.
    """
    from flowtui.store import Store
    from flowtui.store.doctor import examine
    from flowtui.store.doctor import repair as repair_store

    try:
        st = Store.open(store, create=False)
        if st.meta.full and repair:
            raise fail(
                f"The disk holding the store {st.root} is full, so flowtui doctor --repair "
                "cannot tidy it; free some space, or run flowtui doctor without --repair to "
                "check it.",
                2,
            )
        if st.meta.read_only and repair:  # (a store without a database is named here)
            raise fail(
                f"The store at {st.root} is read-only, so flowtui doctor --repair cannot tidy "
                "it; make it writable, or run flowtui doctor without --repair to check it.",
                2,
            )
        report = examine(st)
        done = repair_store(st, report) if repair else []
        after = examine(st) if repair else report
    except FlowtuiError as e:
        raise fail(str(e), e.exit_code) from None
    out = Console(highlight=False, soft_wrap=True)
    out.print(
        Text(
            f"{st.root}: {report.blobs_checked} blobs verified "
            f"({report.bytes_checked / 1e6:.1f} MB) in {report.seconds:.2f} s",
            style="dim",
        )
    )
    if report.unrecorded:
        runs = ", ".join(report.live_runs)
        out.print(
            Text(
                f"in progress: {runs}; {report.unrecorded} blob(s) no run references yet are "
                "its tasks' until it records them, not leftovers (check again once it ends).",
                style="dim",
            )
        )
    for finding in report.findings:
        style = "bold red" if finding.severity == "damage" else "yellow"
        out.print(Text.assemble((f"{finding.severity}: ", style), finding.line()))
    for line in done:
        out.print(Text.assemble(("repaired: ", "green"), line))
    if not after.findings:
        out.print(Text("ok: nothing wrong with the store.", style="green"))
    raise typer.Exit(after.exit_code)
