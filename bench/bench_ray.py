"""The Ray executor against the local one, on a real two-node Ray cluster on this machine.

    python bench/bench_ray.py            # a table
    python bench/bench_ray.py --json     # one JSON object

Starts the same cluster as the tests (`tests/ray/local_cluster.py`: a head with 2 CPUs, a second
node with 1 CPU and 1 logical GPU), then measures, each as a whole `flowtui run`:

- per-task overhead: a foreach of 10 and of 60 trivial tasks on each executor; the overhead is
  the difference in wall time over the difference in tasks (run start-up cancels out);
- run start-up: the 10-wide run's time less 10 tasks' overhead (Ray: connecting, shipping the
  flow's folder, starting workers);
- a 1,000-wide foreach on Ray;
- a 500 MB artifact read by 50 tasks on Ray: wall time, and the peak memory of the whole
  cluster and the runner (the sum of the processes' PSS, so shared pages count once).

Ratios, not budgets: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "ray"))

from local_cluster import LocalCluster, start_cluster  # noqa: E402

WIDE = """
    from flowtui import FlowSpec, step

    class WideFlow(FlowSpec):
        @step
        def start(self):
            self.items = list(range({width}))
            self.next(self.work, foreach="items")

        @step
        def work(self):
            self.out = self.input * 2
            self.next(self.join)

        @step
        def join(self, inputs):
            self.total = sum(i.out for i in inputs)
            self.next(self.end)

        @step
        def end(self):
            pass
"""

BIG = """
    from flowtui import FlowSpec, step

    class BigFlow(FlowSpec):
        @step
        def start(self):
            self.blob = bytes(range(256)) * ({megabytes} * 4096)
            self.items = list(range({readers}))
            self.next(self.read, foreach="items")

        @step
        def read(self):
            self.size = len(self.blob)
            self.next(self.join)

        @step
        def join(self, inputs):
            self.sizes = sum(i.size for i in inputs)
            self.next(self.end)

        @step
        def end(self):
            pass
"""


def run(folder: Path, source: str, executor: str, cluster: LocalCluster, tag: str) -> float:
    file = folder / f"{tag}.py"
    file.write_text(textwrap.dedent(source))
    cmd = [sys.executable, "-m", "flowtui", "run", str(file), "-q", "--executor", executor]
    cmd += ["--store", str(folder / f"store-{tag}")]
    if executor == "ray":
        cmd += ["--ray-address", cluster.address]
    started = time.perf_counter()
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}  # as the cluster (local_cluster._env)
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=folder, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{tag} on {executor} failed:\n{done.stdout}{done.stderr}")
    return elapsed


def session_pss_mb(sessions: set[int], extra: set[int]) -> float:
    """The summed PSS of every process in `sessions` or with a pid in `extra`, in MB."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            sid = int(stat[stat.rfind(")") + 2 :].split()[3])
            if sid not in sessions and int(entry.name) not in extra:
                continue
            for line in (entry / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1024


def with_peak_memory(cluster: LocalCluster, work: Callable[[], float]) -> tuple[float, float]:
    sessions = {p.pid for p in cluster.procs}
    peak = 0.0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            # the runner and its children are in this process's session
            peak = max(peak, session_pss_mb(sessions | {os.getsid(0)}, set()))
            stop.wait(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        elapsed = work()
    finally:
        stop.set()
        thread.join()
    return elapsed, peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--width", type=int, default=1000, help="the wide foreach's width")
    parser.add_argument("--megabytes", type=int, default=500)
    parser.add_argument("--readers", type=int, default=50)
    args = parser.parse_args(argv)
    rows: dict[str, float | int] = {}
    cluster = start_cluster()
    try:
        with tempfile.TemporaryDirectory(prefix="ftbench-ray") as tmp:
            folder = Path(tmp)
            for executor in ("local", "ray"):
                small = run(folder, WIDE.format(width=10), executor, cluster, f"w10{executor}")
                large = run(folder, WIDE.format(width=60), executor, cluster, f"w60{executor}")
                per_task = (large - small) / 50
                rows[f"{executor}: per-task overhead (ms)"] = round(per_task * 1000, 1)
                rows[f"{executor}: run start-up (s)"] = round(small - 13 * per_task, 2)
            ray_ms, local_ms = (
                rows["ray: per-task overhead (ms)"],
                rows["local: per-task overhead (ms)"],
            )
            rows["ray / local per-task overhead"] = round(ray_ms / max(local_ms, 0.1), 1)
            wide = run(folder, WIDE.format(width=args.width), "ray", cluster, "wide")
            rows[f"ray: {args.width}-wide foreach (s)"] = round(wide, 1)
            big = BIG.format(megabytes=args.megabytes, readers=args.readers)
            idle = session_pss_mb({p.pid for p in cluster.procs}, set())
            elapsed, peak = with_peak_memory(
                cluster, lambda: run(folder, big, "ray", cluster, "big")
            )
            what = f"{args.megabytes} MB read by {args.readers} tasks"
            rows[f"ray: {what} (s)"] = round(elapsed, 1)
            rows[f"ray: {what}, peak memory above idle (MB)"] = round(peak - idle, 0)
            rows["copies if each task had its own (MB)"] = args.megabytes * args.readers
    finally:
        cluster.stop()
    if args.json:
        print(json.dumps(rows))
    else:
        width = max(len(k) for k in rows)
        for key, value in rows.items():
            print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
