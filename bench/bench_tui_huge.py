"""Benchmark: the TUI attached to a huge run (issue 14, target 3).

Runs a `--width`-wide foreach (10,000 by default; `bench/engine_flows.py`) twice, one after
the other on the same machine:

1. **alone**: `python -m flowtui run FILE --store S` as a command, its wall time;
2. **with the TUI attached**: the real app, `FlowtuiApp`, in this process (`App.run_test`,
   160x50, headless), which starts the same runner as `r` does and folds its events as they
   come. While the foreach runs, the benchmark selects the foreach step, focuses the task list
   and presses keys through Pilot:

   (The runner is started as `r` starts it, plus `--max-num-splits`: a foreach wider than 100
   is refused by default, as in Metaflow.)

   * `j` `--presses` times: **key latency** is from just before the key is sent to the moment
     the task list renders the line of the row the cursor moved to (a probe around
     `TaskList.render_line`: the line API draws only what is on screen, so this is the frame the
     user sees, minus the terminal write);
   * `G` and `g` (`--presses` / 5 times each): the same, for a jump across the whole list.

   It also records, for every batch of events the controller hands the app, how long the app
   took to fold it and redraw (`refresh_run_view`), and for every task event how far behind
   the runner the app folded it (now - the event's timestamp, both wall clocks of this
   machine): **whether events back up the runner** shows as a growing lag, and as the run with
   the TUI taking longer than the run alone.

Peak RSS is this process's (`ru_maxrss`): the TUI process, runner excluded. Targets are
printed, never asserted: key latency under 100 ms, the TUI under 300 MB.

    python bench/bench_tui_huge.py [--width 10000] [--presses 50] [--json]
    python bench/bench_tui_huge.py --replay [--width 5000]   # no runner: keys vs batches
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import engine_flows as flows
from textual.strip import Strip

from flowtui.run.events import (
    Event,
    RunStarted,
    StepExpanded,
    TaskFailed,
    TaskFinished,
    TaskStarted,
)
from flowtui.run.state import RunState
from flowtui.run.status import TaskError
from flowtui.tui.app import FlowtuiApp
from flowtui.tui.controller import RunController
from flowtui.tui.widgets.tasks import TaskList

SIZE = (160, 50)
KEY_TARGET_MS = 100.0
RSS_TARGET_MB = 300.0
STEP = "body"  # the foreach step of engine_flows.foreach_flow
TIMEOUT_S = 10.0


@dataclass
class Probe:
    """When the task list last rendered the line of the cursor's row."""

    drawn_at: float = 0.0
    drawn_row: int = -1
    batches: list[tuple[int, float]] = field(default_factory=list)  # (events, ms)
    lags: list[float] = field(default_factory=list)  # s behind the runner, per task event

    def install(self) -> None:
        original_render = TaskList.render_line
        probe = self

        def render_line(view: TaskList, y: int) -> Strip:
            strip = original_render(view, y)
            if y > 0 and round(view.scroll_y) + y - 1 == view.cursor_row:
                probe.drawn_at, probe.drawn_row = time.perf_counter(), view.cursor_row
            return strip

        TaskList.render_line = render_line  # type: ignore[method-assign]

        original_apply = RunState.apply

        def apply(state: RunState, event: object) -> RunState:
            ts = getattr(event, "ts", None)
            if ts is not None and hasattr(event, "pathspec"):
                probe.lags.append(time.time() - ts)
            return original_apply(state, event)  # type: ignore[arg-type]

        RunState.apply = apply  # type: ignore[method-assign,assignment]

        original_refresh = FlowtuiApp.refresh_run_view

        def refresh_run_view(app: FlowtuiApp) -> None:
            began = time.perf_counter()
            original_refresh(app)
            probe.batches.append((0, (time.perf_counter() - began) * 1000))

        FlowtuiApp.refresh_run_view = refresh_run_view  # type: ignore[method-assign]


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {}
    return {
        "median": round(statistics.median(samples), 2),
        "p95": round(percentile(samples, 0.95), 2),
        "max": round(max(samples), 2),
        "n": len(samples),
    }


async def press_and_wait(pilot: object, probe: Probe, key: str, tasks: TaskList) -> float | None:
    """ms from sending `key` to the cursor's new row being rendered."""
    before = tasks.cursor_row
    began = time.perf_counter()
    await pilot.press(key)  # type: ignore[attr-defined]
    deadline = began + TIMEOUT_S
    while time.perf_counter() < deadline:
        moved = tasks.cursor_row != before
        if moved and probe.drawn_row == tasks.cursor_row and probe.drawn_at > began:
            return (probe.drawn_at - began) * 1000
        await asyncio.sleep(0.001)
    return None


async def attached(
    path: Path, store: Path, presses: int, probe: Probe, width: int
) -> dict[str, object]:
    app = FlowtuiApp(path, store=store, follow=False)
    result: dict[str, object] = {}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        began = time.perf_counter()
        # what `r` does, with the foreach's width allowed (`r` passes no --max-num-splits)
        splits = str(2 * width)
        app.start_runner(app.runner_args("run", "--events", "--max-num-splits", splits))
        deadline = time.monotonic() + 3600
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        while time.monotonic() < deadline:  # enough of the foreach listed to move through
            run = app.run_state
            if run is not None and sum(1 for t in run.tasks.values() if t.step == STEP) > 500:
                break
            await asyncio.sleep(0.05)
        app.dag.select(STEP)
        await pilot.pause()
        tasks = app.query_one(TaskList)
        tasks.focus()
        await pilot.press("g")
        await pilot.pause()
        j = [await press_and_wait(pilot, probe, "j", tasks) for _ in range(presses)]
        jumps: list[float | None] = []
        for _ in range(max(1, presses // 5)):
            jumps.append(await press_and_wait(pilot, probe, "G", tasks))
            jumps.append(await press_and_wait(pilot, probe, "g", tasks))
        listed_while_running = tasks.row_count
        while time.monotonic() < deadline:
            run = app.run_state
            controller = app.controller
            done = run is not None and run.status.done
            if done and controller is not None and not controller.running:
                break
            await asyncio.sleep(0.05)
        wall = time.perf_counter() - began
        spent = resource.getrusage(resource.RUSAGE_SELF)
        tui_cpu = spent.ru_utime + spent.ru_stime - cpu.ru_utime - cpu.ru_stime
        run = app.run_state
        assert run is not None
        app.dag.select(STEP)
        await pilot.pause()
        tasks.focus()
        end = await press_and_wait(pilot, probe, "G", tasks)
        result = {
            "wall_s": round(wall, 2),
            "tui_cpu_s": round(tui_cpu, 2),
            "status": run.status.value,
            "tasks": len(run.tasks),
            "listed_while_running": listed_while_running,
            "listed_at_end": tasks.row_count,
            "last_row_reached": tasks.cursor_row,
            "key_j_ms": summary([s for s in j if s is not None]),
            "key_j_timed_out": sum(1 for s in j if s is None),
            "key_j_samples_ms": [None if s is None else round(s, 1) for s in j],
            "key_G_g_ms": summary([s for s in jumps if s is not None]),
            "key_G_after_run_ms": end,
        }
    return result


def alone(path: Path, store: Path, width: int) -> float:
    began = time.perf_counter()
    splits = str(2 * width)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "flowtui",
            "run",
            str(path),
            "--store",
            str(store),
            "--max-num-splits",
            splits,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - began


def finished_step(width: int) -> list[Event]:
    """The events of a finished `width`-wide foreach whose item 7 failed."""
    t0 = 1_700_000_000.0
    flow = "HugeFlow"
    events: list[Event] = [RunStarted(flow, "1", "store", ts=t0)]
    events += [
        TaskStarted(f"{flow}/1/start/1", "start", "1", 0, None, "", "", ts=t0),
        TaskFinished(f"{flow}/1/start/1", "start", "1", 0, 1.0, ts=t0 + 1),
        StepExpanded(STEP, width, ts=t0 + 1),
    ]
    for index in range(width):
        task_id = str(2 + index)
        pathspec = f"{flow}/1/{STEP}/{task_id}"
        ts = t0 + 2 + index * 0.01
        events.append(TaskStarted(pathspec, STEP, task_id, 0, index, "", "", ts=ts))
        if index == 7:
            error = TaskError("ValueError", "bad item", "")
            events.append(TaskFailed(pathspec, STEP, task_id, 0, False, error, ts=ts + 0.01))
        else:
            events.append(TaskFinished(pathspec, STEP, task_id, 0, 0.01, ts=ts + 0.01))
    return events


async def static(path: Path, store: Path, width: int, presses: int, probe: Probe) -> dict:
    """Keys and redraws on a finished `width`-wide step fed as events (no runner): what the
    list itself costs, apart from the machine's load from a run."""
    app = FlowtuiApp(path, store=store, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        app.run_state = RunState()
        app.post_message(RunController.Events(finished_step(width)))
        await pilot.pause(0.5)
        app.dag.select(STEP)
        await pilot.pause()
        tasks = app.query_one(TaskList)
        tasks.focus()
        await pilot.pause()
        j = [await press_and_wait(pilot, probe, "j", tasks) for _ in range(presses)]
        jumps: list[float | None] = []
        for _ in range(max(1, presses // 5)):
            jumps.append(await press_and_wait(pilot, probe, "G", tasks))
            jumps.append(await press_and_wait(pilot, probe, "g", tasks))
        redraws = []
        for _ in range(20):
            began = time.perf_counter()
            app.refresh_run_view()
            redraws.append((time.perf_counter() - began) * 1000)
        step = [t for t in app.run_state.tasks.values() if t.step == STEP]
        updates = []
        for _ in range(20):
            step[5] = replace(step[5], attempt=step[5].attempt)  # one task changed
            began = time.perf_counter()
            tasks.set_tasks(step)
            updates.append((time.perf_counter() - began) * 1000)
        return {
            "listed": tasks.row_count,
            "key_j_ms": summary([s for s in j if s is not None]),
            "key_j_samples_ms": [None if s is None else round(s, 1) for s in j],
            "key_G_g_ms": summary([s for s in jumps if s is not None]),
            "refresh_run_view_ms": summary(redraws),
            "set_tasks_one_changed_ms": summary(updates),
        }


async def replay(path: Path, store: Path, width: int, presses: int, probe: Probe) -> dict:
    """Keys while a finished `width`-wide step is fed as a live run feeds it, without a runner:
    half its tasks listed, then the rest as batches of 16 events every BATCH_INTERVAL (what a
    runner on this machine sends), `j` pressed meanwhile. The app's own cost per batch and a
    key's wait behind it, apart from the runner's CPU (which a 2-core machine shares)."""
    from flowtui.tui.controller import BATCH_INTERVAL

    app = FlowtuiApp(path, store=store, follow=False)
    events = finished_step(width)
    head, body = events[:4], events[4:]
    async with app.run_test(size=SIZE) as pilot:
        app.run_state = RunState()
        app.post_message(RunController.Events(head + body[:width]))  # half the step's events
        await pilot.pause(0.3)
        app.dag.select(STEP)
        await pilot.pause()
        tasks = app.query_one(TaskList)
        tasks.focus()
        rest = body[width:]
        fed = asyncio.Event()

        async def feed() -> None:
            for start in range(0, len(rest), 16):
                if fed.is_set():
                    return
                app.post_message(RunController.Events(rest[start : start + 16]))
                await asyncio.sleep(BATCH_INTERVAL)

        feeder = asyncio.create_task(feed())
        probe.batches.clear()
        cpu = time.process_time()
        j = [await press_and_wait(pilot, probe, "j", tasks) for _ in range(presses)]
        spent = time.process_time() - cpu
        fed.set()
        await feeder
        await pilot.pause(0.5)  # the last paced redraw
        return {
            "key_j_ms": summary([s for s in j if s is not None]),
            "key_j_samples_ms": [None if s is None else round(s, 1) for s in j],
            "redraw_per_batch_ms": summary([ms for _, ms in probe.batches]),
            "app_cpu_while_pressing_s": round(spent, 2),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=10_000)
    parser.add_argument("--presses", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--static-only", action="store_true", help="only the finished step fed as events"
    )
    parser.add_argument(
        "--replay",
        action="store_true",
        help="only the step fed as live batches, no runner (keys vs the app's own redraws)",
    )
    args = parser.parse_args()

    if args.replay or args.static_only:  # the app alone, fed events: no runner
        measure = replay if args.replay else static
        with tempfile.TemporaryDirectory(prefix="flowtui-bench-huge-") as tmp:
            folder = Path(tmp)
            path = flows.foreach_flow(args.width, name="HugeFlow").write(folder)
            os.chdir(folder)
            probe = Probe()
            probe.install()
            got = asyncio.run(measure(path, folder / "store", args.width, args.presses, probe))
            if args.static_only:
                got["tui_peak_rss_mb"] = round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                )
        print(json.dumps(got, indent=2))
        return

    with tempfile.TemporaryDirectory(prefix="flowtui-bench-huge-") as tmp:
        folder = Path(tmp)
        path = flows.foreach_flow(args.width, name="HugeFlow").write(folder)
        os.chdir(folder)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        wall_alone = alone(path, folder / "store-alone", args.width)
        probe = Probe()
        probe.install()
        result = asyncio.run(attached(path, folder / "store", args.presses, probe, args.width))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result.update(
        {
            "width": args.width,
            "wall_alone_s": round(wall_alone, 2),
            "attached_over_alone": round(float(result["wall_s"]) / wall_alone, 2),  # type: ignore[arg-type]
            "redraw_per_batch_ms": summary([ms for _, ms in probe.batches]),
            "event_lag_s": summary(probe.lags),
            "event_lag_last_1000_s": summary(probe.lags[-1000:]),
            "tui_peak_rss_mb": round(rss, 1),
            "rss_before_app_mb": round(rss_before, 1),
        }
    )
    if args.json:
        print(json.dumps(result, indent=2))
        return
    j = result["key_j_ms"]
    jumps = result["key_G_g_ms"]
    lag = result["event_lag_s"]
    redraw = result["redraw_per_batch_ms"]
    rows = [
        ("foreach width", f"{args.width:,}", ""),
        ("run alone (flowtui run)", f"{wall_alone:.1f} s", ""),
        ("run with the TUI attached", f"{result['wall_s']} s", f"{result['attached_over_alone']}x"),
        (
            "key j -> row drawn, median / p95",
            f"{j.get('median')} / {j.get('p95')} ms",  # type: ignore[union-attr]
            f"target < {KEY_TARGET_MS:.0f} ms",
        ),
        (
            "key G/g -> row drawn, median / p95",
            f"{jumps.get('median')} / {jumps.get('p95')} ms",  # type: ignore[union-attr]
            "",
        ),
        (
            "app: fold + redraw per batch, median / p95 / max",
            f"{redraw.get('median')} / {redraw.get('p95')} / {redraw.get('max')} ms",
            "",
        ),  # type: ignore[union-attr]
        (
            "event lag behind the runner, median / p95 / max",
            f"{lag.get('median')} / {lag.get('p95')} / {lag.get('max')} s",
            "",
        ),  # type: ignore[union-attr]
        ("TUI process CPU during the run (user + system)", f"{result['tui_cpu_s']} s", ""),
        ("TUI peak RSS", f"{result['tui_peak_rss_mb']} MB", f"target < {RSS_TARGET_MB:.0f} MB"),
        (
            "rows listed (running / at the end)",
            f"{result['listed_while_running']:,} / {result['listed_at_end']:,}",
            "",
        ),
    ]
    for name, value, note in rows:
        print(f"{name:<52} {value:<26} {note}")


if __name__ == "__main__":
    main()
