"""Runs that real Metaflow made, read by flowtui's readers through Metaflow's own client:
found beside the flow file (`--source auto`) or asked for (`--source metaflow`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from differential import Sides, needs_metaflow

pytestmark = [pytest.mark.differential, needs_metaflow]


def flowtui(sides: Sides, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowtui", *args],
        cwd=cwd,
        env=sides.flowtui_env,  # no METAFLOW_* settings: the datastore is found beside the file
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_metaflow_runs_are_read_by_the_cli_readers(sides: Sides, tmp_path: Path) -> None:
    file = sides.flow("mf_cards")
    mf = sides.metaflow(file)
    assert mf.code == 0, mf.output
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    runs = flowtui(sides, "runs", str(file), cwd=elsewhere)  # no flowtui runs: Metaflow's
    assert runs.returncode == 0, runs.stderr
    row = next(line for line in runs.stdout.splitlines() if mf.run_id in line)
    assert "succeeded" in row

    start = f"CardsFlow/{mf.run_id}/start"
    logs = flowtui(sides, "logs", start, "--source", "metaflow", cwd=sides.workdir)
    assert logs.returncode == 0, logs.stderr
    assert "drawing the cards" in logs.stdout

    listed = flowtui(sides, "artifacts", start, cwd=sides.workdir)
    assert listed.returncode == 0, listed.stderr
    lines = [line.split() for line in listed.stdout.splitlines()[1:]]
    assert [(cols[0], cols[1]) for cols in lines] == [("alpha", "int"), ("words", "list")]
    value = flowtui(sides, "artifacts", start, "words", cwd=sides.workdir)
    assert value.stdout.strip() == "['a', 'b']"

    # Metaflow's card, drawn by flowtui, reads as the card flowtui stored for the same flow
    ours = sides.flowtui(file)
    assert ours.code == 0, ours.output
    args = ("card", "view", "--id", "report")
    theirs_card = flowtui(sides, *args, start, "--source", "metaflow", cwd=sides.workdir)
    ours_card = flowtui(
        sides,
        *args,
        f"CardsFlow/{ours.run_id}/start",
        "--store",
        str(sides.store),
        cwd=sides.workdir,
    )
    assert theirs_card.returncode == ours_card.returncode == 0, theirs_card.stderr
    assert "plain paragraph" in theirs_card.stdout and "3/10 it" in theirs_card.stdout
    assert theirs_card.stdout == ours_card.stdout

    wrong = flowtui(sides, "runs", "NoSuchFlow", "--source", "metaflow", cwd=sides.workdir)
    assert wrong.returncode == 2 and wrong.stderr.startswith("error: Metaflow has no flow")
    assert "Traceback" not in wrong.stderr


def test_flowtui_debug_of_a_metaflow_run_says_the_run_is_metaflows(sides: Sides) -> None:
    """`flowtui debug` on a run `flowtui runs` lists as Metaflow's said there was no flowtui
    store, or that the flow had no such run."""
    file = sides.flow("mf_cards")
    mf = sides.metaflow(file)
    assert mf.code == 0, mf.output
    for pathspec in (f"CardsFlow/{mf.run_id}/start", f"{mf.run_id}/start"):
        said = flowtui(sides, "debug", pathspec, cwd=sides.workdir)
        assert said.returncode == 2, said.stderr
        assert f"Run CardsFlow/{mf.run_id} is Metaflow's" in said.stderr, said.stderr
        assert f"spin {mf.run_id}/start" in said.stderr and "Traceback" not in said.stderr
    spun = flowtui(sides, "spin", file, "start", "--run-id", mf.run_id, cwd=sides.workdir)
    assert spun.returncode == 2, spun.stderr  # it said no run had reached the step
    told = " ".join(spun.stderr.split())
    assert f"Run CardsFlow/{mf.run_id} is Metaflow's: flowtui spin takes its inputs" in told, told
    assert f"python FILE spin {mf.run_id}/start" in told, told
