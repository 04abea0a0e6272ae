"""Searching a log says where the match is among all; `&` shows only the matching lines."""

from __future__ import annotations

from pathlib import Path

from textual.content import Content

from flowtui.tui.logfile import LineIndex, count_in_file, lines_matching, scan_line_starts
from flowtui.tui.widgets.logs import LogView
from tests.tui.test_logs import LogApp, screen_lines, write_lines
from tests.tui.waiting import wait_until


def haystack(path: Path, lines: int, needles: tuple[int, ...]) -> None:
    with path.open("w") as fh:
        for i in range(lines):
            fh.write(f"step {i}: {'NEEDLE found' if i in needles else 'hay'}\n")


async def test_a_search_shows_which_match_of_how_many(tmp_path: Path) -> None:
    log = tmp_path / "stdout.log"
    haystack(log, 2_000, (300, 900, 1500))
    app = LogApp(log, follow=False)
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: view.line_count == 2_000, "the file")
        await pilot.press("slash", *"needle", "enter")
        await wait_until(pilot, lambda: view.border_title == "match 1 of 3", "the count")
        await pilot.press("n", "n")
        await wait_until(pilot, lambda: view.border_title == "match 3 of 3", "the third")
        await pilot.press("n")
        await wait_until(pilot, lambda: view.border_title == "match 1 of 3", "wrapping")


async def test_the_filter_shows_only_matching_lines_and_follows_new_ones(tmp_path: Path) -> None:
    log = tmp_path / "stdout.log"
    haystack(log, 5_000, (10, 2_500, 4_999))
    app = LogApp(log)
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: view.line_count == 5_000, "the file")
        await pilot.press("ampersand", *"needle", "enter")
        await wait_until(pilot, lambda: view.lines.row_count == 3, "the filter")
        shown = [line for line in screen_lines(view) if line]
        assert shown == [
            "step 10: NEEDLE found",
            "step 2500: NEEDLE found",
            "step 4999: NEEDLE found",
        ]
        assert view.border_title == "3 lines hold 'needle'"
        with log.open("a") as fh:  # the task writes on: new matching lines join the view
            fh.write("more hay\nanother NEEDLE here\nhay again\n")
        await wait_until(pilot, lambda: view.lines.row_count == 4, "the new match")
        assert [line for line in screen_lines(view) if line][-1] == "another NEEDLE here"
        await pilot.press("ampersand", "ctrl+u", "enter")  # an empty filter: every line
        await wait_until(pilot, lambda: view.lines.row_count == 5_003, "every line")
        assert "hay again" in screen_lines(view)


async def test_a_filter_matching_nothing_says_so(tmp_path: Path) -> None:
    log = tmp_path / "stdout.log"
    write_lines(log, range(20))
    app = LogApp(log)
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: view.line_count == 20, "the file")
        await pilot.press("ampersand", *"absent", "enter")
        await wait_until(pilot, lambda: view.border_title == "0 lines hold 'absent'", "the filter")
        assert screen_lines(view)[0] == "no line holds 'absent'"


def test_counts_and_line_scans_see_matches_across_read_chunks(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    line = b"x" * 1000 + b"\n"
    with log.open("wb") as fh:  # matches straddle the 1 MiB read boundaries
        for i in range(3_000):
            fh.write(line[:-9] + b"NeEdLe!!\n" if i % 7 == 0 else line)
    data = log.read_bytes()
    index = LineIndex()
    starts, widest = scan_line_starts(data, 0)
    index.extend(starts, len(data), widest)
    assert count_in_file(str(log), b"needle", 0, len(data)) == len(range(0, 3_000, 7))
    found = lines_matching(str(log), b"needle", index, 0, len(data))
    assert list(found) == list(range(0, 3_000, 7))


def title(view: LogView) -> str:
    """The border's title as drawn (`border_title` reads it back as markup)."""
    drawn = view._border_title
    return drawn.plain if isinstance(drawn, Content) else str(drawn)


async def test_a_filter_term_that_looks_like_markup_is_shown_as_typed(tmp_path: Path) -> None:
    """The border's "N lines hold 'term'" was read as markup: `&` with "[/bold" crashed the
    whole app (MarkupError), and "[red]" showed as "1 line hold ''"."""
    log = tmp_path / "stdout.log"
    log.write_text("plain\n[red]markup in log[/red]\n")
    app = LogApp(log)
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: view.line_count == 2, "the file")
        await pilot.press("ampersand", *"[red]", "enter")
        await wait_until(pilot, lambda: view.lines.row_count == 1, "the filter")
        assert title(view) == "1 line holds '[red]'"
        await pilot.press("ampersand", "ctrl+u", *"[/bold", "enter")
        await wait_until(pilot, lambda: view.lines.row_count == 0, "the second filter")
        await pilot.pause()
        assert app.is_running and title(view) == "0 lines hold '[/bold'"
