"""LogView on real files: live tailing, following, huge files, hostile content, search."""

from __future__ import annotations

import threading
from array import array
from pathlib import Path

from textual.app import App, ComposeResult

from flowtui.tui.widgets.logs import (
    CACHED_LINES,
    FINISHED_PLACEHOLDER,
    MISSING_PLACEHOLDER,
    PLACEHOLDER,
    LogView,
)
from tests.tui.waiting import wait_until

STYLES = Path(__file__).resolve().parents[2] / "styles" / "detail.tcss"


class LogApp(App[None]):
    CSS_PATH = STYLES

    def __init__(self, path: Path | None, follow: bool = True) -> None:
        super().__init__()
        self.path = path
        self.follow = follow

    def compose(self) -> ComposeResult:
        yield LogView(id="log")

    def on_mount(self) -> None:
        self.query_one(LogView).open(self.path, follow=self.follow)
        self.query_one(LogView).lines.focus()


def screen_lines(view: LogView) -> list[str]:
    """The text of the log's visible rows, as the user sees them."""
    lines = view.lines
    return [
        lines.render_line(y).text.rstrip() for y in range(lines.scrollable_content_region.height)
    ]


def write_lines(path: Path, lines: range, prefix: str = "line") -> None:
    with path.open("a") as fh:
        fh.writelines(f"{prefix} {i}\n" for i in lines)


async def test_lines_appear_while_a_writer_appends_and_the_view_follows(tmp_path: Path) -> None:
    log = tmp_path / "stdout.log"
    log.touch()
    stop = threading.Event()

    def writer() -> None:
        for i in range(200):
            with log.open("a") as fh:
                fh.write(f"tick {i}\n")
            if stop.wait(0.005):
                return

    app = LogApp(log)
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(LogView)
        thread = threading.Thread(target=writer)
        thread.start()
        try:
            await wait_until(pilot, lambda: "tick 199" in screen_lines(view), "the last tick")
        finally:
            stop.set()
            thread.join()
        await pilot.pause()
        shown = [line for line in screen_lines(view) if line]
        assert shown[-1] == "tick 199"
        assert view.following
        assert view.line_count == 200


async def test_scrolling_up_stops_following_and_end_resumes(tmp_path: Path) -> None:
    log = tmp_path / "stdout.log"
    write_lines(log, range(100))
    app = LogApp(log)
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: "line 99" in screen_lines(view), "the tail")
        await pilot.press("pageup")
        assert not view.following
        before = screen_lines(view)
        assert "line 99" not in before

        write_lines(log, range(100, 150))
        await wait_until(pilot, lambda: view.line_count == 150, "the new lines")
        await pilot.pause()
        assert screen_lines(view) == before  # the user's place is kept

        await pilot.press("end")
        await pilot.pause()
        assert view.following
        assert "line 149" in screen_lines(view)
        write_lines(log, range(150, 160))
        await wait_until(pilot, lambda: "line 159" in screen_lines(view), "following again")


async def test_opened_without_follow_it_stays_at_the_top(tmp_path: Path) -> None:
    log = tmp_path / "stdout.log"
    write_lines(log, range(100))
    app = LogApp(log, follow=False)
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: view.line_count == 100, "the lines")
        assert screen_lines(view)[0] == "line 0"
        assert not view.following
        write_lines(log, range(100, 120))
        await wait_until(pilot, lambda: view.line_count == 120, "more lines")
        assert screen_lines(view)[0] == "line 0"


async def test_a_200000_line_file_opens_at_its_tail_with_bounded_memory(tmp_path: Path) -> None:
    log = tmp_path / "chatty.log"
    with log.open("w") as fh:
        fh.writelines(
            f"{i:06d} the quick brown fox jumps over the lazy dog\n" for i in range(200_000)
        )
    app = LogApp(log)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: view.line_count == 200_000, "the file indexed")
        await pilot.pause()
        assert screen_lines(view)[-1].startswith("199999 ")

        await pilot.press("home")
        await pilot.pause()
        assert screen_lines(view)[0].startswith("000000 ")
        for _ in range(40):
            await pilot.press("pagedown")
        await pilot.pause()
        # What the widget keeps: 8 bytes of offset per line, and a bounded cache of text.
        index = view.lines.index.starts
        assert isinstance(index, array) and index.itemsize == 8
        assert len(view.lines.cache) <= CACHED_LINES
        assert not any(
            isinstance(v, list) and len(v) > CACHED_LINES for v in vars(view.lines).values()
        )


async def test_markup_like_text_prints_literally(tmp_path: Path) -> None:
    log = tmp_path / "stdout.log"
    log.write_text("[red]not red[/red] and [bold]not bold\n[link=x]y[/link] [/]\n")
    app = LogApp(log)
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: view.line_count == 2, "the lines")
        await pilot.pause()
        assert screen_lines(view)[:2] == [
            "[red]not red[/red] and [bold]not bold",
            "[link=x]y[/link] [/]",
        ]


async def test_invalid_utf8_ansi_and_control_codes_are_shown_safely(tmp_path: Path) -> None:
    log = tmp_path / "stderr.log"
    log.write_bytes(
        b"bytes \xff\xfe here\n"
        b"\x1b[31mred\x1b[0m plain\n"
        b"\x1b[2Jcleared \x07bell\ttab\n"
        b"progress 10%\rprogress 100%\r\n"
    )
    app = LogApp(log)
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: view.line_count == 4, "the lines")
        await pilot.pause()
        shown = screen_lines(view)
        assert shown[0] == "bytes \ufffd\ufffd here"
        assert shown[1] == "red plain"
        assert shown[2].startswith("cleared \ufffdbell") and "tab" in shown[2]
        assert shown[3] == "progress 100%"
        red = next(seg for seg in view.lines.render_line(1) if seg.text == "red")
        assert red.style is not None and red.style.color is not None
        assert red.style.color.name != view.lines.rich_style.color.name  # type: ignore[union-attr]


async def test_a_partial_last_line_shows_and_completes(tmp_path: Path) -> None:
    log = tmp_path / "stdout.log"
    log.write_text("first\nhalf a li")
    app = LogApp(log)
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: "half a li" in screen_lines(view), "the partial line")
        with log.open("a") as fh:
            fh.write("ne\nnext\n")
        await wait_until(pilot, lambda: "next" in screen_lines(view), "the next line")
        assert screen_lines(view)[:3] == ["first", "half a line", "next"]


async def test_missing_file_says_no_output_yet_then_follows_it(tmp_path: Path) -> None:
    log = tmp_path / "later.log"
    app = LogApp(log)
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        await pilot.pause(0.2)
        assert screen_lines(view)[0] == PLACEHOLDER
        log.write_text("hello\n")
        await wait_until(pilot, lambda: screen_lines(view)[0] == "hello", "the new file")


async def test_no_path_says_no_output_yet() -> None:
    app = LogApp(None)
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        assert screen_lines(app.query_one(LogView))[0] == PLACEHOLDER


async def test_an_empty_log_of_a_finished_task_says_no_output(tmp_path: Path) -> None:
    log = tmp_path / "stdout.log"
    log.touch()
    app = LogApp(log)
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        await pilot.pause(0.2)
        assert screen_lines(view)[0] == PLACEHOLDER  # the task may still print
        view.open(log, finished=True)  # the task finished without printing
        await pilot.pause()
        assert screen_lines(view)[0] == FINISHED_PLACEHOLDER
        other = tmp_path / "other.log"
        other.touch()
        view.open(other, finished=True)  # another finished task's log
        await wait_until(pilot, lambda: screen_lines(view)[0] != "", "the other log's check")
        assert screen_lines(view)[0] == FINISHED_PLACEHOLDER


async def test_a_finished_task_s_missing_log_says_so_and_a_running_one_s_is_awaited(
    tmp_path: Path,
) -> None:
    # Every ended attempt has both its log files (its task, or the runner, makes them): a
    # missing one was deleted, and says so as `flowtui logs` does; a running task's is just
    # not created yet. It said "no output" for both.
    log = tmp_path / "gone.log"
    app = LogApp(log)
    async with app.run_test(size=(100, 10)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: view.lines.checked, "the first look")
        assert screen_lines(view)[0] == PLACEHOLDER  # running: its task creates it
        view.lines.set_finished(True)
        await pilot.pause()
        assert screen_lines(view)[0] == MISSING_PLACEHOLDER
        log.touch()  # there after all (and empty): no output
        await wait_until(pilot, lambda: screen_lines(view)[0] == FINISHED_PLACEHOLDER, "found")


async def test_a_truncated_or_replaced_file_is_shown_afresh(tmp_path: Path) -> None:
    log = tmp_path / "stdout.log"
    write_lines(log, range(30), prefix="old")
    app = LogApp(log)
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: view.line_count == 30, "the old lines")
        log.write_text("new 0\n")  # truncate and rewrite in place
        await wait_until(pilot, lambda: view.line_count == 1, "the truncation")
        await wait_until(pilot, lambda: screen_lines(view)[0] == "new 0", "the new line")

        replacement = tmp_path / "tmp.log"
        replacement.write_text("replaced 0\nreplaced 1\n")
        replacement.replace(log)
        await wait_until(pilot, lambda: "replaced 1" in screen_lines(view), "the replaced file")
        assert screen_lines(view)[0] == "replaced 0"


async def test_search_finds_next_and_previous_matches(tmp_path: Path) -> None:
    log = tmp_path / "stdout.log"
    with log.open("w") as fh:
        for i in range(2_000):
            fh.write(f"step {i}: {'NEEDLE found' if i in (300, 900, 1500) else 'hay'}\n")
    app = LogApp(log, follow=False)
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: view.line_count == 2_000, "the file")
        await pilot.press("slash")
        await pilot.press(*"needle", "enter")
        await wait_until(pilot, lambda: view.lines.current_match == 300, "the first match")
        await pilot.pause()
        assert "step 300: NEEDLE found" in screen_lines(view)
        assert not view.following

        await pilot.press("n")
        await wait_until(pilot, lambda: view.lines.current_match == 900, "the next match")
        await pilot.press("n")
        await wait_until(pilot, lambda: view.lines.current_match == 1500, "the third match")
        await pilot.press("n")  # wraps around to the top
        await wait_until(pilot, lambda: view.lines.current_match == 300, "wrapping")
        await pilot.press("N")
        await wait_until(pilot, lambda: view.lines.current_match == 1500, "the previous match")
        await pilot.pause()
        assert "step 1500: NEEDLE found" in screen_lines(view)

        # The match is highlighted: its cells carry a background the other text lacks.
        row = screen_lines(view).index("step 1500: NEEDLE found")
        strip = view.lines.render_line(row)
        needle = [seg for seg in strip if seg.text.strip().lower() == "needle"]
        assert needle and needle[0].style is not None and needle[0].style.bgcolor is not None
        assert needle[0].style.bgcolor != view.lines.rich_style.bgcolor


async def test_search_for_absent_text_keeps_the_place(tmp_path: Path) -> None:
    log = tmp_path / "stdout.log"
    write_lines(log, range(50))
    app = LogApp(log)
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: "line 49" in screen_lines(view), "the tail")
        await pilot.press("slash", *"absent", "enter")
        await pilot.pause(0.3)
        assert view.lines.current_match is None
        assert "line 49" in screen_lines(view)


async def test_the_last_line_shows_above_the_scrollbar_a_very_long_line_brings(
    tmp_path: Path,
) -> None:
    """A line wider than the view brings a horizontal scrollbar, which takes a row of the
    view: following the tail, the log's last line was left under it, out of sight."""
    log = tmp_path / "stdout.log"
    write_lines(log, range(100))
    with log.open("a") as fh:
        fh.write("L" * 5_000 + "\n" + "the last line\n")
    app = LogApp(log)
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: view.line_count == 102, "the whole file")
        await pilot.pause()
        assert view.lines.scrollbars_enabled[1]  # a horizontal scrollbar
        shown = [line for line in screen_lines(view) if line]
        assert shown[-1] == "the last line", shown[-3:]


async def test_a_match_far_along_a_long_line_is_scrolled_into_view(tmp_path: Path) -> None:
    """Search scrolled to a match's line but never along it: a match past the view's
    width was "match 1 of 2" with nothing to see; the view now scrolls across to it."""
    log = tmp_path / "stdout.log"
    write_lines(log, range(40))
    with log.open("a") as fh:
        fh.write("x" * 300 + " NEEDLE far along " + "y" * 300 + "\n")
        fh.write("short NEEDLE\n")
    app = LogApp(log, follow=False)
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: view.line_count == 42, "the file")
        await pilot.press("slash", *"needle", "enter")
        await wait_until(pilot, lambda: view.lines.current_match == 40, "the first match")
        await pilot.pause()
        assert any("NEEDLE far along" in line for line in screen_lines(view))

        await pilot.press("n")  # the next one is near the start of its line: back to the left
        await wait_until(pilot, lambda: view.lines.current_match == 41, "the second match")
        await pilot.pause()
        assert "short NEEDLE" in screen_lines(view)


async def test_an_escape_no_colour_parser_knows_never_reaches_the_terminal(
    tmp_path: Path,
) -> None:
    """Colours are read from a log line and the CSI and OSC sequences dropped, but an ESC
    followed by anything else stayed in the text and was sent to the terminal as it was:
    `tput reset`'s ESC c reset the whole terminal under the app, ESC 7 / ESC 8 moved its
    cursor. Such an ESC shows as a replacement character."""
    log = tmp_path / "stdout.log"
    log.write_bytes(b"before \x1bc after\n\x1b7saved \x1b[32mgreen\x1b[0m \x1b8restored\n")
    app = LogApp(log)
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: view.line_count == 2, "the lines")
        await pilot.pause()
        sent = "".join(seg.text for y in range(2) for seg in view.lines.render_line(y))
        assert "\x1b" not in sent
        shown = screen_lines(view)
        assert shown[0] == "before \ufffdc after"
        assert "saved green" in shown[1] and "restored" in shown[1]
        green = next(seg for seg in view.lines.render_line(1) if seg.text == "green")
        assert green.style is not None and green.style.color is not None  # colours kept


async def test_a_match_past_the_shown_part_of_a_very_long_line_is_said(tmp_path: Path) -> None:
    """A line is shown up to its first 16,384 bytes; a match past them read "match 1 of 1"
    with nothing on screen to show it. The app says where it is."""
    log = tmp_path / "stdout.log"
    log.write_text("start\n" + "x" * 20_000 + " NEEDLE\nend\n")
    app = LogApp(log, follow=False)
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: view.line_count == 3, "the file")
        await pilot.press("slash", *"needle", "enter")
        await wait_until(pilot, lambda: view.lines.current_match == 1, "the match")
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert any("past the first 16,384 bytes of its line" in m for m in said), said


async def test_c1_control_characters_in_a_log_are_shown_as_replacement_characters(
    tmp_path: Path,
) -> None:
    """U+009B is CSI in one character, U+009D an OSC: a terminal that reads C1 controls
    (xterm does) took "\\u009b2J" in a task's output as clear-screen. They are replaced like
    the C0 controls are."""
    log = tmp_path / "stdout.log"
    log.write_text("a\u009b2Jb \u009d0;title\u009c end\n", encoding="utf-8")
    app = LogApp(log)
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: view.line_count == 1, "the line")
        await pilot.pause()
        sent = "".join(seg.text for seg in view.lines.render_line(0))
        assert not any(0x80 <= ord(c) <= 0x9F for c in sent), repr(sent)
        assert screen_lines(view)[0] == "a\ufffd2Jb \ufffd0;title\ufffd end"
