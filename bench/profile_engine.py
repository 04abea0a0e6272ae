"""Where a run's time goes: cProfile of the runner and of every task process, summed.

Runs `flowtui run` in this process under cProfile, with the executor's task entry point wrapped
so that each forked task process drops the profiler it inherited, profiles itself, and writes
its stats just before it exits. Prints the top functions of the runner and of all tasks
together (wall-clock time, so waits on fsync or pipes count). Profiling slows everything
down; read shares, not absolute times.

    python bench/profile_engine.py foreach --width 300
    python bench/profile_engine.py blob --megabytes 100
    python bench/profile_engine.py linear --steps 10
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import engine_flows as flows


def wrap_task_entry(outdir: Path, runner_profile: cProfile.Profile) -> None:
    """Make every task process profile itself and dump `task-PID.prof` into `outdir`."""
    import flowtui.engine.executor as executor
    import flowtui.engine.forkserver as forkserver

    original: Callable[..., Any] = executor.run_task_process
    real_exit = os._exit

    def profiled(request: Any, result_fd: int, parent: int | None = None) -> NoReturn:
        runner_profile.disable()  # inherited through fork: not this process's time
        profile = cProfile.Profile()

        def exit_with_stats(status: int) -> NoReturn:
            profile.disable()
            profile.dump_stats(str(outdir / f"task-{os.getpid()}.prof"))
            real_exit(status)

        os._exit = exit_with_stats
        profile.enable()
        original(request, result_fd, parent)
        real_exit(1)  # not reached: the task exits through os._exit

    # tasks are forked by the fork server (or, without one, by the runner's executor)
    executor.run_task_process = forkserver.run_task_process = profiled


def top(stats: pstats.Stats, sort: str, limit: int) -> str:
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats(sort).print_stats(limit)
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(lines[start:])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("flow", choices=["foreach", "linear", "blob", "empty"])
    p.add_argument("--width", type=int, default=300)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--megabytes", type=int, default=100)
    p.add_argument("--limit", type=int, default=25, help="functions listed per table")
    p.add_argument("--max-workers", type=int, default=0)
    args = p.parse_args(argv)

    flow = {
        "foreach": lambda: flows.foreach_flow(args.width),
        "linear": lambda: flows.linear_flow(args.steps),
        "blob": lambda: flows.blob_flow(args.megabytes),
        "empty": flows.empty_flow,
    }[args.flow]()
    workdir = Path(tempfile.mkdtemp(prefix="flowtui-profile-"))
    os.environ[flows.STAMPS_ENV] = str(workdir / "stamps.txt")
    try:
        path = flow.write(workdir)
        taskdir = workdir / "tasks"
        taskdir.mkdir()
        from flowtui.cli import main as flowtui_main

        runner = cProfile.Profile()
        wrap_task_entry(taskdir, runner)
        argv_run = ["run", str(path), "--store", str(workdir / "store"), "--quiet"]
        argv_run += ["--max-num-splits", str(max(100, flow.tasks))]
        if args.max_workers:
            argv_run += ["--max-workers", str(args.max_workers)]
        runner.enable()
        try:
            flowtui_main(argv_run)
        except SystemExit as e:
            if e.code not in (0, None):
                print(f"note: the run exited with {e.code}", file=sys.stderr)
        finally:
            runner.disable()
        print(f"== runner ({flow.name}, {flow.tasks} tasks), by own time")
        print(top(pstats.Stats(runner), "tottime", args.limit))
        print("== runner, by cumulative time")
        print(top(pstats.Stats(runner), "cumulative", args.limit))
        dumps = sorted(str(f) for f in taskdir.iterdir())
        if dumps:
            tasks = pstats.Stats(*dumps)
            print(f"== all {len(dumps)} task processes summed, by own time")
            print(top(tasks, "tottime", args.limit))
            print("== all task processes summed, by cumulative time")
            print(top(tasks, "cumulative", args.limit))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
