"""The Ray executor against the local one, on a real two-node Ray cluster on this machine.

    python bench/bench_ray.py                      # a table
    python bench/bench_ray.py --json               # one JSON object
    python bench/bench_ray.py --only log-latency   # one group (or several, comma-separated)

Starts the same cluster as the tests (`tests/ray/local_cluster.py`: a head with 2 CPUs, a second
node with 1 CPU and 1 logical GPU), then measures, each as a whole `flowtui run`:

- per-task overhead: a foreach of 10 and of 60 trivial tasks on each executor; the overhead is
  the difference in wall time over the difference in tasks (run start-up cancels out);
- run start-up: the 10-wide run's time less 10 tasks' overhead (Ray: connecting, shipping the
  flow's folder, starting workers);
- a 1,000-wide foreach on Ray;
- a 500 MB artifact read by 50 tasks on Ray: wall time, and the peak memory of the whole
  cluster and the runner (the sum of the processes' PSS, so shared pages count once);
- the runner's memory: a 200 MB artifact (`--artifact-mb`) made by one step and read by the
  next, on each executor: the runner process's peak RSS (`VmHWM`, sampled from /proc) above
  its idle peak (the same flow with a 1 KB artifact), and of that peak its own private
  memory (`RssAnon`) and Ray's object store pages it maps (`RssShmem`);
- log latency: a step prints a line carrying `time.time()` every 0.2 s (50 lines); the bench
  reads the task's stdout log file in the store every 5 ms and takes, for each line, the time
  it was read less the time it was printed (same machine, same clock): median, p95 and max, on
  each executor. On Ray the line goes worker thread -> LogSink actor -> the driver's drain
  (every 0.1 s) -> the file; locally the task writes the file itself.

Ratios, not budgets: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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

TALK = """
    import time
    from flowtui import FlowSpec, step

    class TalkFlow(FlowSpec):
        @step
        def start(self):
            self.next(self.talk)

        @step
        def talk(self):
            for i in range({lines}):
                print(f"latency {{i}} {{time.time():.6f}}")
                time.sleep({every})
            self.next(self.end)

        @step
        def end(self):
            pass
"""

HELD = """
    import os
    from flowtui import FlowSpec, step

    class HeldFlow(FlowSpec):
        @step
        def start(self):
            self.blob = os.urandom({size})
            self.next(self.read)

        @step
        def read(self):
            self.size = len(self.blob)
            self.next(self.end)

        @step
        def end(self):
            pass
"""

GROUPS = ("overhead", "wide", "big", "runner-memory", "log-latency")
LOG_POLL = 0.005  # seconds between the bench's looks at the log file


def command(folder: Path, source: str, executor: str, cluster: LocalCluster, tag: str) -> list[str]:
    file = folder / f"{tag}.py"
    file.write_text(textwrap.dedent(source))
    cmd = [sys.executable, "-m", "flowtui", "run", str(file), "-q", "--executor", executor]
    cmd += ["--store", str(folder / f"store-{tag}")]
    if executor == "ray":
        cmd += ["--ray-address", cluster.address]
    return cmd


ENV = {**os.environ, "RAY_AUTH_MODE": "disabled"}  # as the cluster (local_cluster._env)


def run(folder: Path, source: str, executor: str, cluster: LocalCluster, tag: str) -> float:
    cmd = command(folder, source, executor, cluster, tag)
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=folder, env=ENV)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{tag} on {executor} failed:\n{done.stdout}{done.stderr}")
    return elapsed


def log_delays(
    folder: Path, executor: str, cluster: LocalCluster, lines: int, every: float
) -> list[float]:
    """Seconds from each line's print (its own `time.time()`) to its arrival in the task's
    stdout log file in the store, read every `LOG_POLL` s while the run goes on."""
    tag = f"talk{executor}"
    cmd = command(folder, TALK.format(lines=lines, every=every), executor, cluster, tag)
    store = folder / f"store-{tag}"
    delays: list[float] = []
    path: Path | None = None
    offset, partial = 0, b""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=folder, env=ENV)
        while True:
            exited = proc.poll() is not None  # before the read: nothing written is missed
            if path is None:  # the store's layout: logs/RUN/STEP/TASK.ATTEMPT.out
                found = sorted(store.glob("logs/*/talk/*.out"))
                path = found[0] if found else None
            if path is not None:
                with open(path, "rb") as f:
                    f.seek(offset)
                    data = f.read()
                now = time.time()
                offset += len(data)
                *complete, partial = (partial + data).split(b"\n")
                for line in complete:
                    words = line.split()
                    if len(words) == 3 and words[0] == b"latency":
                        delays.append(now - float(words[2]))
            if exited:
                break
            time.sleep(LOG_POLL)
        if proc.returncode != 0 or len(delays) != lines:
            out.seek(0)
            raise SystemExit(
                f"the log-latency run on {executor} failed or lost lines ({len(delays)} of "
                f"{lines} read):\n{out.read().decode(errors='replace')}"
            )
    return delays


def runner_peak_mb(folder: Path, size: int, executor: str, cluster: LocalCluster) -> dict[str, int]:
    """The runner process's peak RSS and peak private and shared-memory RSS, in MB, running
    HELD with a `size`-byte artifact (in a folder of its own: nothing else is shipped)."""
    folder = folder / f"held-{executor}-{size}"
    folder.mkdir()
    cmd = command(folder, HELD.format(size=size), executor, cluster, "held")
    peak: dict[str, int] = {}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=folder, env=ENV
    )
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                for line in f:
                    key, _, value = line.partition(":")
                    if key in ("VmHWM", "RssAnon", "RssShmem"):
                        peak[key] = max(peak.get(key, 0), int(value.split()[0]) // 1024)
        except OSError:
            pass
        time.sleep(0.02)
    if proc.returncode != 0:
        raise SystemExit(f"the runner-memory run on {executor} failed:\n{proc.stderr.read()}")
    return peak


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
    parser.add_argument(
        "--only",
        default=",".join(GROUPS),
        help=f"the groups to run, comma-separated, of: {', '.join(GROUPS)} (default: all)",
    )
    parser.add_argument("--artifact-mb", type=int, default=200, help="runner-memory: its size")
    parser.add_argument("--lines", type=int, default=50, help="log-latency: lines printed")
    parser.add_argument("--every", type=float, default=0.2, help="log-latency: s between lines")
    args = parser.parse_args(argv)
    only = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = [g for g in only if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group {unknown[0]!r} in --only; choose from {', '.join(GROUPS)}")
    rows: dict[str, float | int] = {}
    cluster = start_cluster()
    try:
        with tempfile.TemporaryDirectory(prefix="ftbench-ray") as tmp:
            folder = Path(tmp)
            if "overhead" in only:
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
            if "wide" in only:
                wide = run(folder, WIDE.format(width=args.width), "ray", cluster, "wide")
                rows[f"ray: {args.width}-wide foreach (s)"] = round(wide, 1)
            if "big" in only:
                big = BIG.format(megabytes=args.megabytes, readers=args.readers)
                idle = session_pss_mb({p.pid for p in cluster.procs}, set())
                elapsed, peak = with_peak_memory(
                    cluster, lambda: run(folder, big, "ray", cluster, "big")
                )
                what = f"{args.megabytes} MB read by {args.readers} tasks"
                rows[f"ray: {what} (s)"] = round(elapsed, 1)
                rows[f"ray: {what}, peak memory above idle (MB)"] = round(peak - idle, 0)
                rows["copies if each task had its own (MB)"] = args.megabytes * args.readers
            if "runner-memory" in only:
                for executor in ("local", "ray"):
                    idle = runner_peak_mb(folder, 1024, executor, cluster)
                    held = runner_peak_mb(folder, args.artifact_mb << 20, executor, cluster)
                    what = f"{executor}: runner's peak with a {args.artifact_mb} MB artifact"
                    rows[f"{what}, above idle (MB)"] = held["VmHWM"] - idle["VmHWM"]
                    rows[f"{what}: its private memory (MB)"] = held["RssAnon"]
                    rows[f"{what}: object store pages (MB)"] = held.get("RssShmem", 0)
            if "log-latency" in only:
                rows["1-minute load average before log latency"] = round(os.getloadavg()[0], 1)
                for executor in ("local", "ray"):
                    ms = sorted(
                        1000 * d
                        for d in log_delays(folder, executor, cluster, args.lines, args.every)
                    )
                    p95 = statistics.quantiles(ms, n=20, method="inclusive")[18]
                    what = f"{executor}: print to log file, {len(ms)} lines"
                    rows[f"{what}, median (ms)"] = round(statistics.median(ms), 1)
                    rows[f"{what}, p95 (ms)"] = round(p95, 1)
                    rows[f"{what}, max (ms)"] = round(ms[-1], 1)
                rows["1-minute load average after log latency"] = round(os.getloadavg()[0], 1)
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
