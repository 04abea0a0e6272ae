"""Benchmark: the TUI's first frame and save -> redrawn DAG, against issue 5's targets.

Measures the real app, `FlowtuiApp`, two ways:

* **in process**, headless (`App.run_test(size=(160, 50))`): from constructing `FlowtuiApp(...)`
  to the DAG widget rendering a line with a step's box on it; and, with the app watching its
  file, from the moment a changed file is written to the moment the DAG renders the change
  (a renamed step, an added step), written in place and written to a temporary file that is
  renamed over the original;
* **as a process in a real terminal** (tmux, 160x50): from `python -m flowtui FILE` being
  started to `tmux capture-pane` showing the DAG's first box, and the CPU time the process had
  used by then (`/proc/PID/schedstat`: a busy machine disturbs it far less than wall time).
  Bytecode is cached as a user's Python caches it (one untimed start first), whatever
  PYTHONDONTWRITEBYTECODE says in the benchmark's own environment. `--compare DIR` also starts
  the checkout at DIR (an older commit, say), alternating with this one start by start, so
  both see the same load.

"Renders" is observed by a probe wrapped around `DagView.render_line` in this process: the time
of the first rendered line that holds the expected text (the line API renders only what is on
screen, so this is the frame the user would see, minus the terminal write). Targets are
reported, never asserted: first frame under 0.3 s (issue 14; 0.5 s in issue 5), save -> redrawn
DAG under 50 ms (issue 14; 100 ms in issue 5) for 100 steps.

    python bench/bench_tui.py [--steps 100] [--saves 20] [--starts 10] [--json] [--wheel]
                              [--only-starts] [--compare DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from textual.strip import Strip

from flowtui.graph import check_flow, read_flow_file
from flowtui.graph.synthetic import random_flow
from flowtui.tui.app import FlowtuiApp
from flowtui.tui.watcher import watch_file
from flowtui.tui.widgets.dag import DagView

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "branch_join.py"
SIZE = (160, 50)
FIRST_FRAME_TARGET_MS = 300.0
REDRAW_TARGET_MS = 50.0
#: The name line of the start step's box: a border, the kind marker (linear or split), the name.
START_BOX = re.compile(r"│ \S start ")
#: Long enough for anything the app does once; a measurement that times out is reported n/a.
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Row:
    """One line of the table; `samples` are the raw measurements (ms) behind `value`."""

    name: str
    value: float | None  # ms
    target_ms: float | None = None
    samples: tuple[float, ...] = ()
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.target_ms is None or self.value is None:
            return None
        return self.value < self.target_ms


def median_row(
    name: str, samples: Sequence[float | None], target_ms: float | None = None, note: str = ""
) -> Row:
    got = [s for s in samples if s is not None]
    if len(got) < len(samples):
        note = f"{note}; {len(samples) - len(got)} timed out".lstrip("; ")
    value = statistics.median(got) if got else None
    return Row(name, value, target_ms, tuple(round(s, 2) for s in got), note)


# -- the render probe --------------------------------------------------------------------------


class RenderProbe:
    """Notes when `DagView` first renders a line holding some text (wraps `render_line`)."""

    def __init__(self) -> None:
        self.wanted: re.Pattern[str] | None = None
        self.seen_at: float | None = None
        self.seen = asyncio.Event()
        original = DagView.render_line

        def render_line(view: DagView, y: int) -> Strip:
            strip = original(view, y)
            wanted = self.wanted
            if wanted is not None and self.seen_at is None and wanted.search(strip.text):
                self.seen_at = time.perf_counter()
                self.seen.set()
            return strip

        DagView.render_line = render_line  # type: ignore[method-assign,assignment]

    def expect(self, text: re.Pattern[str]) -> None:
        self.wanted, self.seen_at = text, None
        self.seen = asyncio.Event()

    async def wait(self) -> float | None:
        """The perf_counter time the expected text was first rendered, None on time-out."""
        try:
            await asyncio.wait_for(self.seen.wait(), TIMEOUT_S)
        except TimeoutError:
            return None
        return self.seen_at


# -- the edits a save brings ---------------------------------------------------------------------


def first_child(source: str) -> str:
    """The step `start` goes to first (the box just below start's)."""
    found = re.search(r"def start\(self\):.*?self\.next\(self\.(\w+)", source, re.DOTALL)
    if found is None:
        raise ValueError("the flow's start step has no self.next(...)")
    return found.group(1)


def renamed(source: str, step: str, new_name: str) -> str:
    """`source` with `step` renamed everywhere to `new_name`."""
    return re.sub(rf"\b{step}\b", new_name, source)


def with_step_added(source: str, after_start: str, new_name: str) -> str:
    """`source` with a linear step `new_name` between start and its first child."""
    rewired = source.replace(f"self.next(self.{after_start}", f"self.next(self.{new_name}", 1)
    added = (
        f"    @step\n    def {new_name}(self):\n"
        f'        """Added by the benchmark."""\n'
        f"        self.next(self.{after_start})\n\n"
    )
    anchor = f"    @step\n    def {after_start}("
    return rewired.replace(anchor, added + anchor, 1)


def save_in_place(path: Path, text: str) -> None:
    with path.open("w") as file:
        file.write(text)


def save_by_rename(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.swp")
    temporary.write_text(text)
    os.replace(temporary, path)


SAVES: dict[str, Callable[[Path, str], None]] = {
    "in place": save_in_place,
    "temp + rename": save_by_rename,
}


# -- in process ----------------------------------------------------------------------------------


async def first_frame_in_process(probe: RenderProbe, path: Path, store: Path) -> float | None:
    probe.expect(START_BOX)
    began = time.perf_counter()
    app = FlowtuiApp(path, store=store)  # as `flowtui FILE` opens it: watching
    async with app.run_test(size=SIZE):
        drawn = await probe.wait()
    return None if drawn is None else (drawn - began) * 1000


async def saves_in_process(
    probe: RenderProbe, path: Path, store: Path, base: str, saves: int
) -> tuple[list[Row], dict[str, float]]:
    """Median save -> render for each edit and way of saving; and the stages of a redraw."""
    path.write_text(base)
    child = first_child(base)
    rows: list[Row] = []
    app = FlowtuiApp(path, store=store)
    async with app.run_test(size=SIZE) as pilot:
        probe.expect(START_BOX)
        await probe.wait()
        await pilot.pause(0.5)  # the watcher's thread is up and watching
        counter = 0
        for how, save in SAVES.items():
            for edit in ("rename a step", "add a step"):
                samples: list[float | None] = []
                for _ in range(saves):
                    counter += 1
                    name = f"bench_{counter:03d}"
                    text = (
                        renamed(base, child, name)
                        if edit == "rename a step"
                        else with_step_added(base, child, name)
                    )
                    probe.expect(re.compile(f" {name} "))
                    began = time.perf_counter()
                    save(path, text)
                    drawn = await probe.wait()
                    samples.append(None if drawn is None else (drawn - began) * 1000)
                    await pilot.pause(0.1)  # saves further apart than the watcher's debounce
                rows.append(
                    median_row(
                        f"save -> redrawn DAG, {edit}, {how}",
                        samples,
                        REDRAW_TARGET_MS,
                        f"median of {saves}",
                    )
                )
        stages = redraw_stages(app)
    return rows, stages


def redraw_stages(app: FlowtuiApp, repeat: int = 20) -> dict[str, float]:
    """Median ms of what the app does after the watcher reports a save (on the current file).

    `check_flow` keeps its last results by source text, so each check reads a file whose text
    differs (a trailing comment), as each real save does.
    """

    def timed(work: Callable[[int], object]) -> float:
        samples = []
        for i in range(repeat):
            began = time.perf_counter()
            work(i)
            samples.append((time.perf_counter() - began) * 1000)
        return statistics.median(samples)

    text = app.path.read_text()
    folder = app.path.parent / "stages"
    folder.mkdir(exist_ok=True)
    copies = [folder / f"copy_{i}.py" for i in range(repeat)]
    for i, copy in enumerate(copies):
        copy.write_text(f"{text}\n# save {i} {time.time()}\n")
    graph, problems, note = app.check_file()
    assert graph is not None, problems or note

    def check(i: int) -> object:
        return check_flow(read_flow_file(copies[i]), str(copies[i]))

    return {
        "read + parse + lint (read_flow_file, check_flow)": timed(check),
        "layout + draw + spans (DagView.set_graph)": timed(lambda i: app.dag.set_graph(graph)),
        "whole show_check (DAG, header, detail pane)": timed(
            lambda i: app.show_check(graph, problems, note)
        ),
    }


async def watcher_latency(folder: Path, saves: int) -> list[float | None]:
    """ms from a write to `watch_file` reporting it: the floor under save -> redraw."""
    path = folder / "watched.py"
    path.write_text("x = 0\n")
    stop = asyncio.Event()
    reported: asyncio.Queue[float] = asyncio.Queue()

    async def follow() -> None:
        async for _exists in watch_file(path, stop):
            reported.put_nowait(time.perf_counter())

    task = asyncio.create_task(follow())
    await asyncio.sleep(0.5)
    samples: list[float | None] = []
    for i in range(saves):
        began = time.perf_counter()
        save_in_place(path, f"x = {i}\n")
        try:
            seen = await asyncio.wait_for(reported.get(), TIMEOUT_S)
        except TimeoutError:
            samples.append(None)
        else:
            samples.append((seen - began) * 1000)
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(task, TIMEOUT_S)
    return samples


# -- a real terminal -----------------------------------------------------------------------------


class Tmux:
    """One detached tmux server on its own socket, so nobody else's sessions are touched."""

    def __init__(self, folder: Path) -> None:
        self.socket = f"flowtui-bench-{os.getpid()}"
        self.folder = folder
        width, height = SIZE
        # The server's environment is every pane's: bytecode cached as a user's Python does.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
        self.tmux("new-session", "-d", "-s", "bench", "-x", str(width), "-y", str(height), env=env)
        self.tmux("set-option", "-g", "remain-on-exit", "on")

    def tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True, env=env
        )
        return done.stdout

    def time_until(
        self, command: str, shown: Callable[[str], bool]
    ) -> tuple[float | None, float | None]:
        """ms from starting `command` in the pane to `shown(screen)` being true, and the CPU
        ms the pane's process had used by then (None when either is unknown)."""
        began = time.perf_counter()
        self.tmux("respawn-pane", "-k", "-t", "bench", "-c", str(self.folder), command)
        while time.perf_counter() - began < TIMEOUT_S:
            if shown(self.tmux("capture-pane", "-p", "-t", "bench")):
                wall = (time.perf_counter() - began) * 1000
                return wall, self.pane_cpu_ms()
            time.sleep(0.005)
        return None, None

    def pane_cpu_ms(self) -> float | None:
        """CPU time (ms) of the process in the pane (`exec`ed by tmux's shell: the app)."""
        pid = self.tmux("display-message", "-p", "-t", "bench", "#{pane_pid}").strip()
        try:
            return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e6
        except (OSError, ValueError, IndexError):
            return None

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


#: The least a Textual app can do: import Textual, compose one Static, draw it.
BARE_TEXTUAL_APP = """\
from textual.app import App
from textual.widgets import Static


class Bare(App):
    def compose(self):
        yield Static("│ ▷ start │")


Bare().run()
"""


def dag_on_screen(screen: str) -> bool:
    return START_BOX.search(screen) is not None


def first_frame_in_tmux(
    python: str,
    flows: dict[str, Path],
    store: Path,
    starts: int,
    folder: Path,
    checkouts: dict[str, Path | None],
) -> list[Row]:
    """The first-frame rows of each checkout (label -> PYTHONPATH; None: as installed), their
    starts alternating so that every checkout sees the same load."""
    tmux = Tmux(folder)
    rows = []
    try:
        floor = f"{python} -c 'print(\"│ ▷ start │\"); import time; time.sleep(30)'"
        samples = [tmux.time_until(floor, dag_on_screen)[0] for _ in range(starts)]
        rows.append(median_row("tmux: bare interpreter prints a box", samples, None, "the floor"))
        bare_app = folder / "bare_textual_app.py"
        bare_app.write_text(BARE_TEXTUAL_APP)
        samples = [tmux.time_until(f"{python} {bare_app}", dag_on_screen)[0] for _ in range(starts)]
        rows.append(
            median_row(
                "tmux: a bare Textual app draws a box",
                samples,
                None,
                "the floor for any Textual app on this machine",
            )
        )
        for flow, path in flows.items():
            commands = {
                label: (f"env PYTHONPATH={where} " if where else "")
                + f"{python} -m flowtui {path} --store {store}"
                for label, where in checkouts.items()
            }
            for command in commands.values():  # untimed: caches the bytecode
                tmux.time_until(command, dag_on_screen)
            walls: dict[str, list[float | None]] = {label: [] for label in commands}
            cpus: dict[str, list[float | None]] = {label: [] for label in commands}
            for _ in range(starts):
                for label, command in commands.items():
                    wall, cpu = tmux.time_until(command, dag_on_screen)
                    walls[label].append(wall)
                    cpus[label].append(cpu)
            for label in commands:
                rows.append(
                    median_row(
                        f"first frame, process start, {flow}{label}",
                        walls[label],
                        FIRST_FRAME_TARGET_MS,
                        f"`python -m flowtui FILE` in tmux, median of {starts}",
                    )
                )
                rows.append(
                    median_row(
                        f"CPU to the first frame, {flow}{label}",
                        cpus[label],
                        note=f"the process's CPU time when its frame is seen, median of {starts}",
                    )
                )
    finally:
        tmux.close()
    return rows


def import_time(
    python: str, runs: int, checkouts: dict[str, Path | None], folder: Path
) -> list[Row]:
    """`import flowtui.tui.app` in a fresh interpreter, bytecode cached, checkouts alternating."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    command = [python, "-c", "import flowtui.tui.app"]

    def timed(where: Path | None) -> float:
        began = time.perf_counter()
        subprocess.run(command, check=True, cwd=folder, env={**env, "PYTHONPATH": str(where or "")})
        return (time.perf_counter() - began) * 1000

    for where in checkouts.values():
        timed(where)  # caches the bytecode
    samples: dict[str, list[float | None]] = {label: [] for label in checkouts}
    for _ in range(runs):
        for label, where in checkouts.items():
            samples[label].append(timed(where))
    return [
        median_row(f"`import flowtui.tui.app` in a fresh interpreter{label}", got)
        for label, got in samples.items()
    ]


def wheel_python(folder: Path) -> str:
    """A fresh virtualenv with flowtui installed from the checkout as a wheel (not editable)."""
    venv = folder / "wheel-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    installed = subprocess.run(
        [python, "-m", "pip", "install", "-q", str(REPO)], capture_output=True, text=True
    )
    if installed.returncode != 0:
        raise SystemExit(f"pip install {REPO} failed: {installed.stderr.strip()[-500:]}")
    where = subprocess.run(
        [python, "-c", "from flowtui.tui.app import stylesheet_dir; print(stylesheet_dir())"],
        capture_output=True,
        text=True,
        check=True,
        cwd=folder,
    ).stdout.strip()
    if not where.startswith(str(venv)):
        raise SystemExit(f"the wheel's app reads its styles from {where}, not from {venv}")
    return python


# -- main ----------------------------------------------------------------------------------------


def measure(args: argparse.Namespace, folder: Path) -> dict[str, object]:
    load_before = os.getloadavg()[0]
    synthetic = random_flow(args.steps, args.seed, name="BenchFlow")
    big = folder / "benchflow.py"
    big.write_text(synthetic.source)
    example = folder / EXAMPLE.name
    shutil.copy(EXAMPLE, example)
    flows = {f"example ({EXAMPLE.name})": example, f"{args.steps}-step flow": big}
    store = folder / "store"
    rows: list[Row] = []

    async def in_process() -> dict[str, float]:
        probe = RenderProbe()
        for flow, path in flows.items():
            samples = [await first_frame_in_process(probe, path, store) for _ in range(args.starts)]
            rows.append(
                median_row(
                    f"first frame, in process, {flow}",
                    samples,
                    FIRST_FRAME_TARGET_MS,
                    f"FlowtuiApp(...) -> DAG rendered, median of {args.starts}",
                )
            )
        watched = folder / "watched"
        watched.mkdir()
        rows.append(
            median_row(
                "watcher: write -> watch_file reports it",
                await watcher_latency(watched, args.saves),
                note="in place; the floor under save -> redraw",
            )
        )
        save_rows, stages = await saves_in_process(
            probe, folder / "edited.py", store, synthetic.source, args.saves
        )
        rows.extend(save_rows)
        return stages

    if not args.only_starts:
        stages = asyncio.run(in_process())
        for stage, ms in stages.items():
            rows.append(Row(f"redraw stage: {stage}", ms, note=f"{args.steps} steps, median of 20"))

    python = sys.executable
    checkouts: dict[str, Path | None] = {"": REPO}
    if args.compare is not None:
        checkouts[f" ({args.compare.name})"] = args.compare.resolve()
    rows += import_time(python, args.starts, checkouts, folder)
    if shutil.which("tmux"):
        rows += first_frame_in_tmux(python, flows, store, args.starts, folder, checkouts)
        if args.wheel:
            installed = wheel_python(folder)
            rows += first_frame_in_tmux(
                installed, flows, folder / "store-wheel", args.starts, folder, {" (wheel)": None}
            )
    else:
        print("note: tmux is not installed; skipping the real-terminal rows", file=sys.stderr)

    return {
        "steps": args.steps,
        "seed": args.seed,
        "size": list(SIZE),
        "loadavg_1min": load_before,
        "loadavg_1min_after": os.getloadavg()[0],
        "rows": [{**asdict(r), "met": r.met} for r in rows],
    }


def print_table(results: dict[str, object]) -> None:
    rows = results["rows"]
    assert isinstance(rows, list)
    body = [("name", "value", "target", "met")]
    for r in rows:
        value = "n/a" if r["value"] is None else f"{r['value']:.1f} ms"
        target = f"< {r['target_ms']:.0f} ms" if r["target_ms"] else ""
        met = "" if r["met"] is None else ("yes" if r["met"] else "NO")
        body.append((r["name"], value, target, met))
    widths = [max(len(line[i]) for line in body) for i in range(4)]
    print(
        f"TUI benchmark: {results['steps']}-step flow (seed {results['seed']}), "
        f"terminal {SIZE[0]}x{SIZE[1]}, 1-minute load {results['loadavg_1min']:.1f} before, "
        f"{results['loadavg_1min_after']:.1f} after"
    )
    for i, line in enumerate(body):
        print(
            "  "
            + line[0].ljust(widths[0])
            + " | "
            + line[1].rjust(widths[1])
            + " | "
            + line[2].ljust(widths[2])
            + " | "
            + line[3]
        )
        if i == 0:
            print("  " + "-+-".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=100, help="size of the generated flow")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--saves", type=int, default=20, help="saves per kind of edit")
    parser.add_argument("--starts", type=int, default=10, help="app starts per flow")
    parser.add_argument(
        "--only-starts",
        action="store_true",
        help="only the process-start rows (import, first frame from process start)",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        help="also start the checkout at this folder (e.g. a git worktree of an older commit)",
    )
    parser.add_argument(
        "--wheel",
        action="store_true",
        help="also pip install the checkout (not editable) into a fresh venv and time its start",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="flowtui-bench-tui-"))
    try:
        results = measure(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
