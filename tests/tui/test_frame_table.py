"""A DataFrame artifact scrolls and sorts whole: every row reachable, sorted over all rows in
the process that holds the frame, user text drawn as written. Real store, real processes;
what is asserted is what the screen shows."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from textual.pilot import Pilot

from tests.tui.test_artifacts import ArtifactsApp, make_task, screen_lines
from tests.tui.waiting import wait_until

ROWS = 100_000
MARKUP = "[bold]x[/]"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[tuple[str, str], pd.DataFrame]:
    """A 100,000-row frame: a shuffled numeric column with one NaN, a string column whose
    first cell looks like markup."""
    rng = np.random.default_rng(13)
    score = rng.permutation(ROWS) * 0.5 + 0.25
    score[1] = np.nan  # neither the smallest nor the largest
    names = [f"n{i:06d}" for i in rng.permutation(ROWS)]
    names[0] = MARKUP
    frame = pd.DataFrame({"n": np.arange(ROWS), "score": score, "name": names})
    return make_task(tmp_path_factory.mktemp("big"), {"table": frame}), frame


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    days = pd.Index(["mon", "tue", "wed"], name="when")
    values = {
        "a_mixed": pd.DataFrame({"temp": [3.5, 1.0, 2.0], "both": [1, "two", 3]}, index=days),
        "b_empty": pd.DataFrame({"x": pd.Series([], dtype=float), "y": pd.Series([], dtype=str)}),
        "c_wide": pd.DataFrame({f"feature_{c:02d}": [c * 1.5] for c in range(30)}),
    }
    return make_task(tmp_path_factory.mktemp("small"), values)


def rows_shown(app: ArtifactsApp, dtype: str = "float64") -> list[str]:
    """The screen lines under the header line that holds `dtype` (the table's rows)."""
    lines = screen_lines(app)
    header = next((i for i, line in enumerate(lines) if dtype in line), None)
    return lines[header + 1 :] if header is not None else []


def first_row(app: ArtifactsApp) -> str:
    rows = rows_shown(app)
    return rows[0] if rows else ""


def cell(value: float) -> str:
    return f"{value:.10g}"


def label(frame: pd.DataFrame, column: str, which: str) -> str:
    """The index label of the row holding the column's min or max."""
    series = frame[column]
    return str(series.idxmin() if which == "min" else series.idxmax())


async def opened(app: ArtifactsApp, pilot: Pilot[None], rows: int) -> None:
    """Wait until the table's first rows are on screen, then move into it (Enter)."""
    await wait_until(pilot, lambda: f" of {rows:,}" in "\n".join(screen_lines(app)), "the rows")
    await pilot.press("enter")


def holds(line: str, *cells: str) -> bool:
    return all(re.search(rf"(^|\s){re.escape(c)}(\s|$)", line) for c in cells)


async def test_a_100000_row_frame_opens_at_its_first_rows_and_end_reaches_the_last(
    big: tuple[tuple[str, str], pd.DataFrame],
) -> None:
    (store, pathspec), frame = big
    app = ArtifactsApp(store, pathspec)
    async with app.run_test(size=(140, 36)) as pilot:
        await opened(app, pilot, ROWS)
        text = "\n".join(screen_lines(app))
        assert re.search(r"rows 1–\d+ of 100,000", text)
        assert "DataFrame 100,000 × 3" in text
        assert holds(first_row(app), "0", cell(frame.score[0]), MARKUP)  # markup as written

        await pilot.press("end")
        last = ROWS - 1
        expected = (str(last), str(last), cell(frame.score[last]), frame.name[last])

        def last_row_shown() -> bool:
            rows = [row for row in rows_shown(app) if row.strip()]
            return bool(rows) and any(holds(row, *expected) for row in rows[-3:])

        await wait_until(pilot, last_row_shown, "the last row")
        assert re.search(r"rows 99,9\d\d–100,000 of 100,000", "\n".join(screen_lines(app)))


async def test_s_sorts_every_row_by_a_numeric_column_then_reverses_with_nan_last(
    big: tuple[tuple[str, str], pd.DataFrame],
) -> None:
    (store, pathspec), frame = big
    smallest, largest = frame.score.min(), frame.score.max()
    app = ArtifactsApp(store, pathspec)
    async with app.run_test(size=(140, 36)) as pilot:
        await opened(app, pilot, ROWS)
        await pilot.press("right", "s")  # the column after `n`: score
        low = (label(frame, "score", "min"), cell(smallest))
        await wait_until(pilot, lambda: holds(first_row(app), *low), "the smallest first")
        assert "score ▲" in "\n".join(screen_lines(app))

        await pilot.press("s")
        high = (label(frame, "score", "max"), cell(largest))
        await wait_until(pilot, lambda: holds(first_row(app), *high), "the largest first")
        text = "\n".join(screen_lines(app))
        assert "score ▼" in text and "by score ▼" in text

        await pilot.press("end")  # NaN sorts last, whichever way
        await wait_until(
            pilot,
            lambda: any(holds(row, "1", "NaN") for row in rows_shown(app)[-3:]),
            "the NaN last",
        )


async def test_a_string_column_sorts_by_a_click_on_its_name_and_markup_stays_text(
    big: tuple[tuple[str, str], pd.DataFrame],
) -> None:
    (store, pathspec), frame = big
    app = ArtifactsApp(store, pathspec)
    async with app.run_test(size=(140, 36)) as pilot:
        await opened(app, pilot, ROWS)
        lines = screen_lines(app)
        header = next(i for i, line in enumerate(lines) if "float64" in line) - 1
        await pilot.click(offset=(lines[header].rindex("name") + 1, header))
        ordered = sorted(frame.name)
        assert ordered[:2] == [MARKUP, "n000000"]  # "[" sorts before "n"

        def sorted_by_name() -> bool:
            rows = rows_shown(app)
            return len(rows) > 1 and MARKUP in rows[0] and "n000000" in rows[1]

        await wait_until(pilot, sorted_by_name, "the names in order")
        assert "name ▲" in "\n".join(screen_lines(app))
        await pilot.press("s")
        await wait_until(pilot, lambda: "n099999" in first_row(app), "the names reversed")


async def test_a_mixed_column_says_why_it_cannot_sort_and_an_empty_frame_says_so(
    small: tuple[str, str],
) -> None:
    app = ArtifactsApp(*small)
    async with app.run_test(size=(140, 30), notifications=True) as pilot:
        await opened(app, pilot, 3)
        lines = screen_lines(app)
        header = next(i for i, line in enumerate(lines) if "float64" in line) - 1
        assert "when" in lines[header]  # the index, named
        assert holds(first_row(app), "mon", "3.5", "1")
        await pilot.press("right", "s")  # `both`: 1, "two", 3

        def told() -> Any:
            toasts = " ".join(str(t.render()) for t in app.screen.query("Toast"))
            return "cannot be ordered together (int, str)" in " ".join(toasts.split())

        await wait_until(pilot, told, "the sentence")
        assert holds(first_row(app), "mon", "3.5", "1")  # the rows keep their order
        assert "both ▲" not in "\n".join(screen_lines(app))

        await pilot.press("tab")  # back to the list, then the empty frame
        await pilot.press("down")
        await wait_until(
            pilot, lambda: "(this frame has no rows)" in "\n".join(screen_lines(app)), "no rows"
        )
        assert "DataFrame 0 × 2" in "\n".join(screen_lines(app))


async def test_a_wide_frame_scrolls_across_and_says_which_columns_are_shown(
    small: tuple[str, str],
) -> None:
    app = ArtifactsApp(*small)
    async with app.run_test(size=(120, 30)) as pilot:
        await opened(app, pilot, 3)  # the first frame, shown once the list is there
        await pilot.press("tab", "down", "down")  # back to the list, then c_wide
        await wait_until(pilot, lambda: " of 30 " in "\n".join(screen_lines(app)), "the table")
        text = "\n".join(screen_lines(app))
        assert re.search(r"columns 1–\d+ of 30", text) and "feature_29" not in text
        await pilot.press("enter", *["l"] * 29)  # to the last column: the view follows
        await wait_until(pilot, lambda: "feature_29" in "\n".join(screen_lines(app)), "the end")
        text = "\n".join(screen_lines(app))
        assert re.search(r"columns \d+–30 of 30", text)
        header = next(line for line in screen_lines(app) if "feature_29" in line)
        assert "feature_00" not in header.split("││")[-1]  # the frame's part of the line
        assert holds(first_row(app), "0", "43.5")  # the index stays; the last cell: 29 x 1.5


async def test_z_gives_the_table_the_whole_width_and_escape_gives_it_back(
    small: tuple[str, str],
) -> None:
    app = ArtifactsApp(*small)
    async with app.run_test(size=(100, 24)) as pilot:
        await opened(app, pilot, 3)

        def header() -> str:
            return next((line for line in screen_lines(app) if " temp" in line), "")

        def footer() -> str:
            return screen_lines(app)[-1]

        assert "type" in header()  # the artifact list beside the table
        assert "esc Close" in footer()
        await pilot.press("z")
        await wait_until(pilot, lambda: "type" not in header(), "the zoomed table")
        assert header().startswith("│ when │")
        await wait_until(pilot, lambda: "esc Unzoom" in footer(), "escape said as Unzoom")
        assert "Close" not in footer()
        await pilot.press("escape")
        await wait_until(pilot, lambda: "type" in header(), "the list back")
        assert " of 3" in "\n".join(screen_lines(app))  # still on the screen
        await wait_until(pilot, lambda: "esc Close" in footer(), "escape said as Close again")
