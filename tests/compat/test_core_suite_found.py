"""Differences Metaflow's own core suite found (bench/metaflow_core.py), each pinned by a
small flow of ours run under real Metaflow and under flowtui and compared."""

from __future__ import annotations

import pytest
from differential import Sides, compare, needs_metaflow

pytestmark = [pytest.mark.differential, needs_metaflow]


def test_a_class_constant_cannot_be_set_in_a_step(sides: Sides) -> None:
    file = sides.flow("mf_constant_readonly")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert ft.value("start", "tried") == ft.value("middle", "tried_again") == "refused"
    assert ft.value("end", "LIMIT") == 5
    assert compared["middle"] >= {"tried", "tried_again", "seen", "LIMIT", "labels"}


def test_a_failed_merge_artifacts_merges_nothing_and_raises_metaflows_errors(
    sides: Sides,
) -> None:
    file = sides.flow("mf_merge_failed")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert ft.value("join", "same_after_failure") is False
    assert [ft.value("join", n) for n in ("failed_merge", "both_options", "missing")] == [
        "unhandled",
        "metaflow",
        "missing",
    ]
    assert ft.value("end", "not_a_join") == "metaflow"
    assert compared["join"] >= {"failed_merge", "same_after_failure", "merged", "step_seen"}


def test_parameters_are_read_from_metaflow_run_variables(sides: Sides) -> None:
    (sides.workdir / "default.txt").write_text("the default file")
    (sides.workdir / "given.txt").write_text("the file named in the environment")
    env = {
        "METAFLOW_RUN_ALPHA": "7",
        "METAFLOW_RUN_FLAG": "False",
        "METAFLOW_RUN_DASHED_NAME": "from env",
        "METAFLOW_RUN_NOTES": "given.txt",
    }
    sides.metaflow_env.update(env)
    sides.flowtui_env.update(env)
    file = sides.flow("mf_env_params")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert ft.value("start", "seen") == (
        7,
        False,
        "from env",
        "kept",
        "the file named in the environment",
    )
    assert "seen" in compared["start"]
