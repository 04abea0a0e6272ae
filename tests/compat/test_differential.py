"""The same Metaflow-written flows, run under real Metaflow and under flowtui, compared.

Each test runs a file from `flows/` on both sides (command line, subprocess), reads every
artifact of every successful task back through each side's store, and fails on any
difference (`compare`). Each test also states which artifacts it compared, per step.
Metaflow's own bookkeeping artifacts (`name` and `_`-prefixed ones) are not compared.
"""

from __future__ import annotations

import pytest
from conftest import Sides, compare, needs_metaflow

pytestmark = [pytest.mark.differential, needs_metaflow]


def test_branches_merge_artifacts(sides: Sides) -> None:
    file = sides.flow("mf_branches")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft, by_type=frozenset({"token"}))

    start = {"GREETING", "shared", "score", "token"}
    assert compared == {
        "start": start,
        "left": start | {"only_left", "same_both"},
        "right": start | {"only_right", "same_both"},
        "join": start | {"only_left", "only_right", "same_both", "left_score"},
        "end": start | {"only_left", "only_right", "same_both", "left_score", "summary"},
    }
    assert ft.value("join", "score") == 2  # the join's own value, not merged
    assert ft.value("end", "summary") == (2, "L", b"R", (1, "x"))
