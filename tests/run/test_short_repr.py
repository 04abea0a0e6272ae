"""An artifact's one-line repr: numbers take a short cut (a forked task writes many of them);
what is shown is what reprlib gives, long numbers cut short the same way."""

from __future__ import annotations

import math
import reprlib

import pytest

from flowtui.run.artifacts import short_repr

NUMBERS = [0, -7, 10**39, -(10**39), 10**40, 2**200, 0.1, -0.0, math.nan, -math.inf, True, None]


@pytest.mark.parametrize("value", NUMBERS, ids=repr)
def test_a_number_reads_as_reprlib_shows_it(value: object):
    shown = reprlib.Repr()
    shown.maxother = 80
    assert short_repr(value) == shown.repr(value)
    assert len(short_repr(value)) <= 40 or "..." in short_repr(value)
