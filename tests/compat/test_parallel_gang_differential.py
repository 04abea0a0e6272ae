"""`@parallel` gangs (`self.next(self.train, num_parallel=N)`), against real Metaflow."""

from __future__ import annotations

import pytest
from differential import Sides, compare, needs_metaflow

pytestmark = [pytest.mark.differential, needs_metaflow]


def test_a_gang_gives_each_node_its_place_as_metaflow_does(sides: Sides) -> None:
    """flowtui refused `num_parallel=` as "not a self.next() argument flowtui supports"."""
    file = sides.flow("gang_parallel")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert {"place", "has_control"} <= compared["train"]
    assert ft.value("join", "places") == [
        (0, 3, "127.0.0.1", 0, True),
        (1, 3, "127.0.0.1", 1, True),
        (2, 3, "127.0.0.1", 2, True),
    ]
    assert ft.value("join", "before") == "set before the gang"
