"""A value's preview (`flowtui artifacts RUN/STEP NAME`, the TUI's pane) says when it cut
something: a dict of long columns showed each column's first 200 items, then `... +3551`,
and nothing said that the value shown was not the whole value."""

from __future__ import annotations

from rich.console import Console

from flowtui.client.render import render_value


def _shown(value: object) -> str:
    console = Console(width=100, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(render_value(value, hint='Task("F/1/start/1").data.frame'))
    return " ".join(console.export_text().split())


def test_a_collection_cut_inside_the_value_is_said() -> None:
    columns = {"title": [f"movie {i}" for i in range(4000)], "year": list(range(4000))}
    shown = _shown(columns)
    assert "a collection inside holds more than 200 items; showing the first 200 of each" in (shown)
    assert 'Task("F/1/start/1").data.frame' in shown  # where to read it whole


def test_a_value_shown_whole_says_nothing_of_cuts() -> None:
    whole = {"title": [f"movie {i}" for i in range(150)], "nested": [[1, 2], {"a": [3] * 10}]}
    assert "showing the first" not in _shown(whole)


def test_a_deep_or_huge_value_is_looked_at_within_a_bound() -> None:
    deep: list[object] = []
    for _ in range(10_000):  # deeper than the preview goes: no recursion error, no cut said
        deep = [deep]
    assert "showing the first" not in _shown(deep)
    wide = [list(range(150)) for _ in range(150)]  # 22,500 values: within what is shown
    assert "showing the first" not in _shown(wide)
