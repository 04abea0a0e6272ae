"""Benchmark: the CLI's read commands as commands, against a bare interpreter (issue 14 item 2).

On the store given (`--store`, a run with `--run` of a flow `--flow` whose wide step is
`--step`; `bench/bench_resume_clone.py` or `bench_scale.py` leave such runs), for each command
— `python -c pass` (the floor of any command), `flowtui --help`, `flowtui runs FLOW`,
`flowtui logs RUN/STEP/TASK`, `flowtui logs RUN/join` — the median wall time and CPU time
(user + system, from `os.wait4`) of `--repeat` starts, bytecode cached as a user's Python
does. With `--compare DIR` (another checkout's root), the two checkouts' starts alternate, so
both see the same load. With `--instructions`, each command's instruction count under
valgrind (callgrind) too: the one figure a loaded machine does not change.

    python bench/bench_cli.py --store STORE
    python bench/bench_cli.py --store STORE --compare /tmp/flowtui-main --instructions
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

TREE = Path(__file__).resolve().parent.parent
QUERY_BUDGET_MS = 50.0


def commands(args: argparse.Namespace) -> dict[str, list[str]]:
    store = ["--store", str(args.store)]
    return {
        "python -c pass": ["-c", "pass"],
        "flowtui --help": ["-m", "flowtui", "--help"],
        "flowtui runs": ["-m", "flowtui", "runs", args.flow, *store],
        "flowtui logs (one task)": ["-m", "flowtui", "logs", f"{args.run}/{args.step}", *store],
        "flowtui logs (the join)": ["-m", "flowtui", "logs", f"{args.run}/join", *store],
    }


def env_for(tree: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(tree)}


def start(argv: list[str], tree: Path) -> tuple[float, float]:
    """One start: (wall, CPU) in ms."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env_for(tree),
        cwd="/tmp",
    )
    _, _, usage = os.wait4(proc.pid, 0)
    return 1000 * (time.perf_counter() - began), 1000 * (usage.ru_utime + usage.ru_stime)


def instructions(argv: list[str], tree: Path) -> float:
    """Millions of instructions of one start (valgrind callgrind)."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, *argv],
        env=env_for(tree),
        cwd="/tmp",
        capture_output=True,
        text=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    return int(found.group(1)) / 1e6 if found else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--flow", default="ResumeFlow")
    parser.add_argument("--run", default="1")
    parser.add_argument("--step", default="body/5", help="STEP/TASK of one task of the wide step")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--compare", type=Path, default=None, help="another checkout's root")
    parser.add_argument("--instructions", action="store_true")
    args = parser.parse_args(argv)
    trees = {"this tree": TREE} | ({"compare": args.compare.resolve()} if args.compare else {})
    todo = commands(args)
    for argv_ in todo.values():  # bytecode written once, as after a user's first start
        for tree in trees.values():
            start(argv_, tree)
    load_before = os.getloadavg()[0]
    walls: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.repeat):
        for name, argv_ in todo.items():
            for tree_name, tree in trees.items():
                walls.setdefault((name, tree_name), []).append(start(argv_, tree))
    print(f"1-minute load: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    for name, argv_ in todo.items():
        cells = []
        for tree_name, tree in trees.items():
            runs = walls[(name, tree_name)]
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            cell = f"{tree_name}: wall {wall:7.1f} ms, CPU {cpu:6.1f} ms"
            if args.instructions:
                cell += f", {instructions(argv_, tree):7.1f} M instructions"
            cells.append(cell)
        print(f"{name:24} " + " | ".join(cells), flush=True)
    print(f"(target: flowtui runs / logs under {QUERY_BUDGET_MS:g} ms on a 10,000-task run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
