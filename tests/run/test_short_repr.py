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


def test_a_dict_reads_in_its_own_order():
    """reprlib sorts a dict's keys: a dict of columns ({'title': ..., 'year': ..., 'genres':
    ...}) was listed as {'genres': ...} while its preview, and Python, put 'title' first."""
    columns = {"title": ["Avatar"], "year": [2009], "genres": ["Action|Sci-Fi"], "gross": [7]}
    assert short_repr(columns) == repr(columns)
    wide = {f"k{i}": i for i in range(20, 0, -1)}  # more keys than are shown
    assert short_repr(wide) == "{" + ", ".join(f"'k{i}': {i}" for i in range(20, 12, -1)) + ", ...}"
    assert short_repr({"b": {"d": 1, "c": 2}}) == "{'b': {'d': 1, 'c': 2}}"
    assert short_repr({3, 1, 2}) == "{1, 2, 3}"  # a set has no order of its own: sorted
