"""Benchmark: the engine's fixed cost per task, against the machine's floor (issue 14 item 1).

Runs a 1,000-wide foreach three ways, alternating, each into a new directory:

- flowtui as installed;
- flowtui whose foreach tasks do no work at all: a copy of the package, patched in a temporary
  directory (never in the repository), whose task process writes a canned successful outcome
  and exits as its first line, for the foreach's step only. The request is still built, sent,
  forked, unpickled, reaped and recorded: what is left is the cost of the engine itself;
- the floor (`bench/floor.py`: fork, cloudpickle, blob with fdatasync, SQLite).

    python bench/fixed_cost.py                 # 4 triples, 1,000 wide, the machine's cores
    python bench/fixed_cost.py --width 2000 --repeat 6 --max-workers 2

If the no-work row alone is near 1.5x the floor, no cut of a task's own work can bring the
real row under the 1.5x target: docs/benchmarks.md, "Eighth round".
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import engine_flows as flows
from bench_scale import FLOWTUI, HERE, fresh, splits, timed

import flowtui

# Where the patch goes: the task process's entry, right after its docstring. The canned
# outcome is a success that set no artifact (the flow's join does not read any).
ANCHOR = '''    exits with os._exit."""
'''
PATCH = """    if req.step == "body":  # bench/fixed_cost.py: a task that does no work at all
        os.write(result_fd, b'{"ok": true, "artifacts": {}, "foreach_count": null, '
                 b'"error": null, "caught": null, "chosen": null, "lost": null}\\n')
        os._exit(0)
"""


def patched_copy(into: Path) -> Path:
    """A copy of the installed flowtui package under `into`, its tasks doing no work; the
    directory to put first on PYTHONPATH."""
    target = into / "flowtui"
    shutil.copytree(Path(flowtui.__file__).parent, target, ignore=shutil.ignore_patterns("*.pyc"))
    task_process = target / "engine" / "task_process.py"
    text = task_process.read_text()
    if text.count(ANCHOR) != 1:
        raise SystemExit(
            f"{task_process}: run_task_process's docstring changed; update ANCHOR in {__file__}"
        )
    task_process.write_text(text.replace(ANCHOR, ANCHOR + PATCH))
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=4)
    parser.add_argument("--max-workers", type=int, default=0, help="default: the machine's cores")
    args = parser.parse_args()
    workers = str(args.max_workers or os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix="flowtui-fixed-cost-") as tmp:
        work = Path(tmp)
        patched = patched_copy(work / "patched")
        # the join reads no input's artifact: the no-work tasks set none
        bench_flow = flows.foreach_flow(args.width, name="FixedCostFlow", join_reads=False)
        flow, tasks = bench_flow.write(work), bench_flow.tasks
        nothing_env = {**os.environ, "PYTHONPATH": str(patched)}
        walls: dict[str, list[float]] = {"flowtui": [], "no-work": [], "floor": []}
        for _ in range(args.repeat):
            for name, env in (("flowtui", None), ("no-work", nothing_env)):
                argv = [*FLOWTUI, "run", str(flow), "--store", str(fresh(work / name))]
                argv += ["--max-workers", workers, "-q", *splits(args.width)]
                walls[name].append(timed(argv, work, env=env).wall)
            floor = [sys.executable, str(HERE / "floor.py"), str(tasks), "--workers", workers]
            walls["floor"].append(timed([*floor, "--dir", str(fresh(work / "floor"))], work).wall)
            last = ", ".join(f"{name} {values[-1]:.2f} s" for name, values in walls.items())
            print(f"  {last}", file=sys.stderr, flush=True)
    floor = statistics.median(walls["floor"])
    print(f"{args.width} wide, {workers} workers, medians of {args.repeat}:")
    for name, values in walls.items():
        median = statistics.median(values)
        print(f"  {name:8} {median:6.2f} s  ({median / floor:.2f}x floor)")


if __name__ == "__main__":
    main()
