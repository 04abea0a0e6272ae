"""`s`: spin the selected task's step in place, its output live, then its artifacts beside the
run's with what changed.

The spin is the real CLI (`flowtui spin FILE STEP --run-id RUN --task-id TASK --run-id-file F
--no-artifacts`) in a child process of its own process group, as runs are: user code never runs
in the app. Its output is shown as it comes, as plain text, never as markup. When it has
finished, the spun task is read back through the client (its run id from `--run-id-file`): a
task that failed shows its error and nothing is compared; one that succeeded is compared with
the task whose inputs it used by `flowtui diff A B --json` in another child process (comparing
loads values, which runs user code), and each artifact is listed with both short reprs and a
mark: changed first, then added, removed, same. The highlighted artifact is previewed on both
sides by `python -m flowtui.tui.preview`. `s` spins again (after an edit); closing while the
spin runs stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Log, Static
from textual.worker import get_current_worker

from flowtui.client.diff import MARKS, ArtifactPair, Diff
from flowtui.client.runs import RunReader
from flowtui.errors import FlowtuiError
from flowtui.run.artifacts import inert_text
from flowtui.run.labels import RUN_GLYPHS
from flowtui.run.status import RunStatus, TaskStatus
from flowtui.tui.handoff import flowtui_command
from flowtui.tui.preview import Preview, run_preview
from flowtui.tui.screens.diff import DIFF_TIMEOUT

MAX_LOG_LINES = 10_000
"""Lines of the spin's output kept on screen (the task's own log files keep everything)."""
READ_SIZE = 65_536
#: Cells of a preview panel that are not its content: border 2, padding 2, scrollbar 1, 1 spare.
PREVIEW_FRAME = 6
MARK_STYLES = {"changed": "bold yellow", "added": "bold green", "removed": "bold red"}
"""The marks drawn as `flowtui diff` draws them."""


@dataclass(frozen=True)
class SpinComparison:
    """What the finished spin left: the spun task and its artifacts beside the source's, or
    a sentence (and the task's traceback) saying why there is nothing to compare."""

    spun: str | None = None  # the spun task's pathspec
    store: str | None = None  # the store's directory
    pairs: tuple[ArtifactPair, ...] = ()
    error: str = ""
    traceback: str = ""
    hint: str = "Fix the code, save, and press s to spin again."


LOST_INPUT = (
    "A value the step reads is missing or damaged in the store, not in the code: run the flow "
    "again (r) to make it anew, then spin."
)


def read_run_id(path: Path) -> str | None:
    """The run id `--run-id-file` left (None before the spin created its run)."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return text or None


def compare_spin(store: str | None, source: str, run_id: str | None) -> SpinComparison:
    """The spin run `run_id`'s task compared with task `source` (from a worker thread)."""
    if run_id is None:
        return SpinComparison(error="The spin did not start its task; its output above says why.")
    reader = RunReader(store)
    try:
        state = reader.run_state(run_id)
        root = reader.root
    finally:
        reader.close()
    task = next(iter(state.tasks.values()), None) if state is not None else None
    if task is None or root is None:
        return SpinComparison(error=f"The spin (run {run_id}) never started its task.")
    if task.status is not TaskStatus.SUCCEEDED:
        error = task.error
        said = (error.why or error.summary()) if error is not None else task.status.value
        return SpinComparison(
            task.pathspec,
            str(root),
            error=f"The spin {task.pathspec} failed: {said}",
            traceback=error.traceback if error is not None else "",
            hint=LOST_INPUT if error is not None and error.value_lost else SpinComparison.hint,
        )
    command = flowtui_command("diff", source, task.pathspec, "--json", "--store", str(root))
    try:
        done = subprocess.run(
            command, capture_output=True, stdin=subprocess.DEVNULL, timeout=DIFF_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        said = f"Comparing took longer than {DIFF_TIMEOUT:.0f} s and was stopped."
        return SpinComparison(task.pathspec, str(root), error=said)
    if done.returncode not in (0, 1):  # 1: they differ, as diff(1) says
        last = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        said = last[0] if last else f"exit code {done.returncode}"
        return SpinComparison(task.pathspec, str(root), error=f"The comparison failed: {said}")
    diff = Diff.from_json(json.loads(done.stdout))
    pairs = tuple(diff.tasks[0].pairs()) if diff.tasks else ()
    return SpinComparison(task.pathspec, str(root), pairs)


class SpinScreen(Screen[None]):
    """A spin's output, live, then its artifacts beside those of task `source`.

    `phase` is "spinning", "comparing", then "compared" or "failed"; `exit_code` is the spin
    process's once it has finished; "stopped" when ctrl+c stopped it.

    Ctrl+c means here what it means on the main screen, stop the live thing: the spin (its
    output stays on screen), never the app's run, which the app leaves alone while this
    screen is up (`OWNS_CTRL_C`)."""

    OWNS_CTRL_C = True

    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("ctrl+c", "stop_spin", "Stop the spin"),
        Binding("s", "spin_again", "Spin again"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    class _Compared(Message):
        def __init__(self, comparison: SpinComparison) -> None:
            super().__init__()
            self.comparison = comparison

    class _Previewed(Message):
        def __init__(self, side: str, name: str, preview: Preview) -> None:
            super().__init__()
            self.side = side
            self.name = name
            self.preview = preview

    def __init__(
        self, title: str, command: list[str], *, source: str, store: str | None, run_id_file: Path
    ) -> None:
        super().__init__()
        self.title_text = title
        self.command = command
        self.source = source
        self.store_path = store
        self.run_id_file = run_id_file
        self.process: asyncio.subprocess.Process | None = None
        self.exit_code: int | None = None
        self.phase = "spinning"
        self.stopping = False  # ctrl+c stopped the spin; it is ending
        self.comparison: SpinComparison | None = None
        self.previewing: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(self.title_text, style="bold"), id="spin-title")
        yield Log(id="spin-log", highlight=False, max_lines=MAX_LOG_LINES)
        with Vertical(id="spin-compared"):
            yield DataTable[Text](id="spin-artifacts", cursor_type="row")
            with VerticalScroll(id="spin-error"):
                yield Static(id="spin-error-text")
            with Horizontal(id="spin-previews"):
                for side in ("before", "after"):
                    with VerticalScroll(id=f"spin-preview-{side}", classes="spin-preview"):
                        yield Static(id=f"spin-preview-{side}-text")
            with VerticalScroll(id="spin-difference"):
                yield Static(id="spin-difference-text")
        yield Static(id="spin-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#spin-log", Log).border_title = "output"
        self.query_one("#spin-artifacts", DataTable).border_title = "artifacts"
        self.query_one("#spin-difference").border_title = "what changed"
        self.start_spin()

    @property
    def output(self) -> str:
        return "\n".join(str(line) for line in self.query_one(Log).lines)

    # -- the spin -------------------------------------------------------------------------

    def start_spin(self) -> None:
        self.phase = "spinning"
        self.stopping = False
        self.exit_code = None
        self.comparison = None
        self.previewing = None
        self.set_class(False, "-compared")
        self.set_class(False, "-failed")
        self.query_one("#spin-log", Log).clear()
        self.query_one("#spin-log", Log).focus()
        running = RUN_GLYPHS[RunStatus.RUNNING]
        self._status(Text(f"{running} spinning… ctrl+c stops · esc stops and closes"))
        self.refresh_bindings()
        with contextlib.suppress(OSError):
            self.run_id_file.write_text("")  # the last spin's id is not this one's
        self.run_worker(self.spin(), group="spin", exclusive=True, exit_on_error=False)

    async def spin(self) -> None:
        log = self.query_one("#spin-log", Log)
        env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="100")
        self.process = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
        assert self.process.stdout is not None
        pending = b""
        while chunk := await self.process.stdout.read(READ_SIZE):  # lines of any length
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:  # the step's text: its escape codes written out, never sent
                log.write_line(inert_text(line.decode("utf-8", errors="replace")))
        if pending:
            log.write_line(inert_text(pending.decode("utf-8", errors="replace")))
        self.exit_code = await self.process.wait()
        if self.stopping:
            self.phase = "stopped"
            self.refresh_bindings()
            glyph = RUN_GLYPHS[RunStatus.CANCELLED]
            self._status(
                Text.assemble(
                    (f"{glyph} spin stopped", "bold"), " (ctrl+c) · s spins again · esc closes"
                )
            )
            return
        self.phase = "comparing"
        self.refresh_bindings()
        word = "finished" if self.exit_code == 0 else f"failed (exit code {self.exit_code})"
        self._status(Text(f"spin {word}; reading its artifacts…", style="dim"))
        self.compare(read_run_id(self.run_id_file))

    @work(thread=True, exclusive=True, group="spin-compare", exit_on_error=False)
    def compare(self, run_id: str | None) -> None:
        try:
            comparison = compare_spin(self.store_path, self.source, run_id)
        except FlowtuiError as e:
            comparison = SpinComparison(error=str(e))
        except Exception as e:  # a locked or damaged store, an unreadable answer: say so
            comparison = SpinComparison(error=f"The spin's results could not be read ({e}).")
        self.post_message(self._Compared(comparison))

    @on(_Compared)
    def _on_compared(self, message: _Compared) -> None:
        comparison = self.comparison = message.comparison
        failed = bool(comparison.error)
        self.phase = "failed" if failed else "compared"
        self.set_class(True, "-compared")
        self.set_class(failed, "-failed")
        self.call_after_refresh(self.query_one("#spin-log", Log).scroll_end, animate=False)
        if failed:
            self._show_error(comparison)
            return
        self._fill_table(comparison.pairs)
        counts = {mark: sum(p.mark == mark for p in comparison.pairs) for mark in MARKS}
        said = ", ".join(f"{n} {mark}" for mark, n in counts.items() if n) or "no artifacts"
        glyph = RUN_GLYPHS[RunStatus.SUCCEEDED]
        self._status(
            Text.assemble(
                (f"{glyph} spin {comparison.spun} done", "bold green"),
                f" · {said} · s spins again · esc closes",
            )
        )

    def _show_error(self, comparison: SpinComparison) -> None:
        text = Text()
        text.append(inert_text(comparison.error), style="bold red")  # the user's message
        if comparison.traceback:
            text.append("\n\n" + inert_text(comparison.traceback.rstrip()), style="dim")
        text.append("\n\n" + comparison.hint)
        self.query_one("#spin-error-text", Static).update(text)
        glyph = RUN_GLYPHS[RunStatus.FAILED]
        self._status(
            Text.assemble((f"{glyph} spin failed", "bold red"), " · s spins again · esc closes")
        )

    # -- the comparison -------------------------------------------------------------------

    def _fill_table(self, pairs: tuple[ArtifactPair, ...]) -> None:
        table = self.query_one("#spin-artifacts", DataTable)
        table.clear(columns=True)
        source_run = self.source.split("/")[1]
        spin_run = (self.comparison.spun or "///").split("/")[1] if self.comparison else ""
        rows = [
            (
                Text(f"{MARKS[p.mark]} {p.mark}", style=MARK_STYLES.get(p.mark, "dim")),
                Text(p.name, style="bold"),
                Text(p.before, no_wrap=True, overflow="ellipsis"),
                Text(p.after, no_wrap=True, overflow="ellipsis"),
            )
            for p in pairs
        ]
        labels = ("", "name", f"run {source_run}", f"spin {spin_run}")
        fixed = [max([len(labels[c]), *(row[c].cell_len for row in rows)]) for c in (0, 1)]
        room = max(24, self.size.width - sum(fixed) - 12) // 2
        for column, label in enumerate(labels):
            longest = max([len(label), *(row[column].cell_len for row in rows)])
            table.add_column(label, width=fixed[column] if column < 2 else min(longest, room))
        for pair, row in zip(pairs, rows, strict=True):
            table.add_row(*row, key=pair.name)
        if not pairs:
            self.query_one("#spin-difference-text", Static).update(
                Text("Neither task has artifacts.", style="dim")
            )
            return
        table.focus()
        self.call_after_refresh(self._start_previews, pairs[0])  # once the panes are laid out

    def _pair(self, name: str) -> ArtifactPair | None:
        pairs = self.comparison.pairs if self.comparison else ()
        return next((p for p in pairs if p.name == name), None)

    @on(DataTable.RowHighlighted, "#spin-artifacts")
    def _on_highlighted(self, event: DataTable.RowHighlighted) -> None:
        pair = self._pair(str(event.row_key.value))
        if pair is not None and pair.name != self.previewing:
            self._start_previews(pair)

    def _start_previews(self, pair: ArtifactPair) -> None:
        self.previewing = pair.name
        self.query_one("#spin-difference-text", Static).update(_difference(pair))
        comparison = self.comparison
        assert comparison is not None and comparison.spun is not None
        sides = (("before", self.source, "added"), ("after", comparison.spun, "removed"))
        for side, pathspec, absent in sides:
            panel = self.query_one(f"#spin-preview-{side}", VerticalScroll)
            run = "run" if side == "before" else "spin"
            panel.border_title = f"{pair.name} in {run} {pathspec}"
            if pair.mark == absent:
                self._preview_text(side, Text(f"({run} has no {pair.name})", style="dim"))
                continue
            self._preview_text(side, Text(f"Loading {pair.name}…", style="dim"))
            # From the screen's width, not the panel's region: the panels are being laid out
            # as the comparison appears, and a region read then was sometimes stale (a chart
            # drawn wider than its half). Half the screen less border, padding and scrollbar.
            width = max(20, self.size.width // 2 - PREVIEW_FRAME)
            assert comparison.store is not None
            self._preview(side, comparison.store, pathspec, pair.name, width)

    @work(thread=True, group="spin-preview", exit_on_error=False)
    def _preview(self, side: str, store: str, pathspec: str, name: str, width: int) -> None:
        worker = get_current_worker()
        preview = run_preview(
            store,
            pathspec,
            name,
            width,
            cancelled=lambda: worker.is_cancelled or self.previewing != name,
        )
        if preview is not None:
            self.post_message(self._Previewed(side, name, preview))

    @on(_Previewed)
    def _on_previewed(self, message: _Previewed) -> None:
        if message.name != self.previewing:
            return
        preview = message.preview
        if preview.ok:
            text = Text.from_ansi(preview.text.rstrip("\n"), no_wrap=True)
        else:
            text = Text(preview.text, style="red")
        self._preview_text(message.side, text)

    def _preview_text(self, side: str, text: Text) -> None:
        self.query_one(f"#spin-preview-{side}-text", Static).update(text)

    # -- keys -----------------------------------------------------------------------------

    def _status(self, text: Text) -> None:
        self.query_one("#spin-status", Static).update(text)

    def action_cursor_down(self) -> None:
        self.query_one("#spin-artifacts", DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#spin-artifacts", DataTable).action_cursor_up()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer to stop the spin only while it runs."""
        if action == "stop_spin":
            return self.phase == "spinning" and not self.stopping
        return True

    def action_stop_spin(self) -> None:
        process = self.process
        if self.phase != "spinning" or process is None or process.returncode is not None:
            return
        self.stopping = True
        self.refresh_bindings()
        self._status(Text("stopping the spin…", style="dim"))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)

    def action_spin_again(self) -> None:
        if self.phase in ("spinning", "comparing"):
            self.notify("The spin is still running; wait for it, or esc to stop it.")
            return
        self.workers.cancel_group(self, "spin-preview")
        self.query_one("#spin-artifacts", DataTable).clear(columns=True)
        for side in ("before", "after"):
            self._preview_text(side, Text(""))
        self.query_one("#spin-difference-text", Static).update("")
        self.start_spin()

    def action_close(self) -> None:
        process = self.process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        self.workers.cancel_group(self, "spin-preview")
        with contextlib.suppress(OSError):
            self.run_id_file.unlink()
        self.dismiss(None)


def _difference(pair: ArtifactPair) -> Text:
    """What changed in the highlighted artifact, in the value's terms (from `flowtui diff`)."""
    if pair.mark == "same":
        return Text(f"{MARKS['same']} {pair.name} is the same in both.", style="dim")
    if pair.mark == "added":
        return Text(f"{MARKS['added']} {pair.name} is new in the spin.", style="green")
    if pair.mark == "removed":
        return Text(f"{MARKS['removed']} the spin no longer sets {pair.name}.", style="red")
    out = Text()
    for line in pair.lines:
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
        out.append(line + "\n", style=style)
    out.rstrip()
    return out
