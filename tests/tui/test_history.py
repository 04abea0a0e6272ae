"""Run history rows say what each run was run with and where a failed one failed."""

from __future__ import annotations


def test_history_rows_show_parameters_and_the_failed_step() -> None:
    from flowtui.store.records import RunRecord
    from flowtui.tui.screens.history import describe_run

    run = RunRecord(
        flow="F",
        run_id="7",
        status="failed",
        kind="run",
        created=0.0,
        finished=12.0,
        file="f.py",
        params={"alpha": 0.5, "name": "x"},
        origin_run_id=None,
        resume_step=None,
        user="u",
        tags=(),
        system_tags=(),
        error="F/7/train/3: ValueError: bad",
    )
    cells = [cell.plain for cell in describe_run(run, now=12.0)]
    assert cells[-2:] == ["alpha=0.5 name=x", "✖ train"]
