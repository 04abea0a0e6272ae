"""Benchmark: a foreach from 10 to 10,000 tasks, flowtui against the machine's floor and Metaflow.

For each width, in one run of this script and one after the other (so they share the machine's
load): the floor (`bench/floor.py`: fork, cloudpickle a small value, blob temp + fdatasync +
rename, one SQLite WAL record per task, nothing else), `flowtui run` of the same-width
foreach (`bench/engine_flows.py`), and Metaflow on the widths it finishes in `--metaflow-budget`
seconds (predicted from its per-task time at the previous width). Every figure is a command's
wall time from `time.perf_counter` around the process; the runner's peak RSS comes from
`os.wait4` (the largest process of its tree). At the largest width it also reports the store's
size per task, `flowtui runs` / `flowtui logs` / the client on that run, and the cloning time
of a resume of it. The scaling plot (`--plot docs/scaling.png`) is drawn by this script with
matplotlib (`pip install -e ".[bench]"`).

    python bench/bench_scale.py                          # 10 .. 10,000, a table
    python bench/bench_scale.py --widths 10,100,1000 --repeat 3 --no-metaflow
    python bench/bench_scale.py --plot docs/scaling.png --json results.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import engine_flows as flows

HERE = Path(__file__).resolve().parent
FLOWTUI = [sys.executable, "-m", "flowtui"]
RATIO_BUDGET = 1.5  # a 1,000-wide foreach within 1.5x of the floor
FLAT_BUDGET = 10.5  # 10,000-wide at most 10.5x the 1,000-wide
RUNNER_MB_BUDGET = 150.0
QUERY_BUDGET_MS = 50.0
CLONE_BUDGET_S = 1.0


@dataclass
class Timed:
    wall: float
    max_rss_mb: float
    stdout: str


@dataclass
class Point:
    width: int
    floor: list[float] = field(default_factory=list)
    flowtui: list[float] = field(default_factory=list)
    runner_mb: list[float] = field(default_factory=list)
    metaflow: float | None = None

    @property
    def ratio(self) -> float:
        return statistics.median(self.flowtui) / statistics.median(self.floor)


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Timed:
    """Run a command; its wall time and the peak RSS of its largest process."""
    out = cwd / "stdout.txt"
    with open(out, "w") as sink, open(cwd / "stderr.txt", "w") as err:
        began = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=sink, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = (cwd / "stderr.txt").read_text()[-800:]
        raise SystemExit(f"{' '.join(argv[:4])} … exited with {proc.returncode}:\n{tail}")
    return Timed(wall, usage.ru_maxrss / 1024, out.read_text())


def splits(width: int) -> list[str]:
    """The option that lets a foreach of `width` items run (the default allows 100)."""
    return ["--max-num-splits", str(max(100, width))]


_made = itertools.count(1)


def fresh(path: Path) -> Path:
    """A new empty directory beside `path` (`path-N`), kept until the benchmark ends.

    Not the previous one emptied: on a journal-less ext4 (this VM's) a new file's inode is
    looked for past every inode deleted in the last minutes, so creating files right after
    deleting thousands costs ~0.3 ms each instead of ~0.05 ms, a cost of the benchmark, not of
    the tool measured (flowtui creates three files per task, the floor one)."""
    made = path.with_name(f"{path.name}-{next(_made)}")
    made.mkdir(parents=True)
    return made


def metaflow_env(root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "USERNAME": "bench",
        "METAFLOW_DEFAULT_METADATA": "local",
        "METAFLOW_DEFAULT_DATASTORE": "local",
        "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(root),
        "METAFLOW_DEFAULT_ENVIRONMENT": "local",
    }


def metaflow_python(wanted: str | None) -> str | None:
    for python in (wanted, os.environ.get("METAFLOW_PYTHON"), sys.executable):
        if (
            python
            and subprocess.run([python, "-c", "import metaflow"], capture_output=True).returncode
            == 0
        ):
            return python
    return None


def measure(args: argparse.Namespace, work: Path) -> list[Point]:
    workers = str(args.max_workers or os.cpu_count() or 1)
    mf_python = None if args.no_metaflow else metaflow_python(args.metaflow_python)
    mf_per_task: float | None = None
    points = []
    for width in args.widths:
        flow = flows.foreach_flow(width)
        path = flow.write(work)
        point = Point(width)
        for _ in range(args.repeat if width <= 1000 else 1):
            floor_dir = fresh(work / "floor")
            point.floor.append(
                timed(
                    [
                        sys.executable,
                        str(HERE / "floor.py"),
                        str(flow.tasks),
                        "--workers",
                        workers,
                        "--dir",
                        str(floor_dir),
                    ],
                    work,
                ).wall
            )
            store = fresh(work / "store")
            run = timed(
                [
                    *FLOWTUI,
                    "run",
                    str(path),
                    "--store",
                    str(store),
                    "--max-workers",
                    workers,
                    "-q",
                    *splits(width),
                ],
                work,
            )
            point.flowtui.append(run.wall)
            point.runner_mb.append(run.max_rss_mb)
        if mf_python and (mf_per_task is None or mf_per_task * flow.tasks <= args.metaflow_budget):
            root = fresh(work / "mf")
            mf = timed(
                [
                    mf_python,
                    str(path),
                    "--no-pylint",
                    "run",
                    "--max-num-splits",
                    str(max(100, flow.tasks)),
                    "--max-workers",
                    workers,
                ],
                work,
                env=metaflow_env(root),
            )
            point.metaflow = mf.wall
            mf_per_task = mf.wall / flow.tasks
        points.append(point)
        print(row(point), file=sys.stderr, flush=True)
    return points


def row(p: Point) -> str:
    mf = f"{p.metaflow:8.2f} s" if p.metaflow is not None else "       -  "
    return (
        f"{p.width:>6} wide  floor {statistics.median(p.floor):7.2f} s  flowtui "
        f"{statistics.median(p.flowtui):7.2f} s  ({p.ratio:4.2f}x floor)  Metaflow {mf}  "
        f"runner peak RSS {max(p.runner_mb):5.0f} MB"
    )


def failing_run(work: Path, width: int, workers: str, name: str) -> tuple[Path, Path, list[dict]]:
    """A `width`-wide foreach whose join fails (so it can be resumed): its file, store, events."""
    path = flows.foreach_flow(width, name="ResumeFlow", fail_join=True).write(work)
    store = fresh(work / name)
    env = {**os.environ, flows.FAIL_JOIN_ENV: "1"}
    done = subprocess.run(
        [
            *FLOWTUI,
            "run",
            str(path),
            "--store",
            str(store),
            "--max-workers",
            workers,
            "--events",
            *splits(width),
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    return path, store, stream(done.stdout)


def queries(work: Path, store: Path, events: list[dict]) -> dict[str, float]:
    """Median wall (ms) of the CLI's read commands and the client against one run."""
    run_id = next(e["run_id"] for e in events if e["event"] == "run_started")
    body = next(
        e["task_id"] for e in events if e["event"] == "task_started" and e["step"] == "body"
    )
    out = {}
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    bare = [timed([sys.executable, "-c", "pass"], work, cached).wall for _ in range(5)]
    out["python -c pass (the floor of any command)"] = 1000 * statistics.median(bare)
    for name, argv in (
        ("flowtui runs", ["runs", "ResumeFlow"]),
        ("flowtui logs of one task of the wide step", ["logs", f"{run_id}/body/{body}"]),
        ("flowtui logs of the join", ["logs", f"{run_id}/join"]),
    ):
        command = [*FLOWTUI, *argv, "--store", str(store)]
        walls = [timed(command, work, cached).wall for _ in range(5)]  # as a user's Python
        out[name] = 1000 * statistics.median(walls)
    client = (
        "import time, sys; from flowtui.client import Run, namespace; namespace(None); "
        "t = time.perf_counter(); r = Run(sys.argv[1]); v = r['body'].task.data.x; "
        "print((time.perf_counter() - t) * 1000)"
    )
    env = {**os.environ, "FLOWTUI_STORE": str(store)}
    walls = [
        float(timed([sys.executable, "-c", client, f"ResumeFlow/{run_id}"], work, env).stdout)
        for _ in range(5)
    ]
    out["client: Run(...)['body'].task.data.x, in process"] = statistics.median(walls)
    return out


def at_scale(work: Path, width: int, workers: str) -> dict[str, float]:
    """On a run of the largest width: store size, CLI queries and the client (against the same
    on a 10-wide run, for the start-up they share), and the cloning time of a resume."""
    out: dict[str, float] = {}
    _, small_store, small_events = failing_run(work, 10, workers, "small-store")
    path, store, events = failing_run(work, width, workers, "scale-store")
    size = sum(f.stat().st_size for f in store.rglob("*") if f.is_file())
    out[f"store bytes per task ({width + 3} tasks)"] = size / (width + 3)
    small, big = queries(work, small_store, small_events), queries(work, store, events)
    for name in big:
        out[f"{name}, ms, 10 wide"] = small[name]
        out[f"{name}, ms, {width} wide"] = big[name]
    run_id = next(e["run_id"] for e in events if e["event"] == "run_started")
    resumed = subprocess.run(
        [
            *FLOWTUI,
            "resume",
            str(path),
            "--origin-run-id",
            run_id,
            "--store",
            str(store),
            "--events",
            "--max-workers",
            workers,
            *splits(width),
        ],
        cwd=work,
        capture_output=True,
        text=True,
    )
    stream_ = stream(resumed.stdout)
    started = next(e["ts"] for e in stream_ if e["event"] == "run_started")
    first_task = next(e["ts"] for e in stream_ if e["event"] == "task_started")
    out["resume: cloning until the first re-run task starts, s"] = first_task - started
    return out


def stream(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def plot(points: list[Point], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    widths = [p.width for p in points]
    ax.plot(widths, [statistics.median(p.flowtui) for p in points], "o-", label="flowtui")
    ax.plot(widths, [statistics.median(p.floor) for p in points], "s--", label="floor")
    mf = [(p.width, p.metaflow) for p in points if p.metaflow is not None]
    if mf:
        ax.plot(*zip(*mf, strict=True), "^-", label="Metaflow")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("foreach width (tasks)")
    ax.set_ylabel("wall time of the run (s)")
    ax.set_title(f"A trivial foreach on {os.cpu_count()} cores, {len(points)} widths")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(target)


def verdicts(points: list[Point], extra: dict[str, float]) -> list[str]:
    lines = []
    by_width = {p.width: p for p in points}
    if 1000 in by_width:
        r = by_width[1000].ratio
        lines.append(
            f"1,000 wide vs floor: {r:.2f}x (target <= {RATIO_BUDGET}x: "
            f"{'yes' if r <= RATIO_BUDGET else 'NO'})"
        )
    if 1000 in by_width and 10000 in by_width:
        f = statistics.median(by_width[10000].flowtui) / statistics.median(by_width[1000].flowtui)
        lines.append(
            f"10,000 wide / 1,000 wide: {f:.2f}x (target <= {FLAT_BUDGET}x: "
            f"{'yes' if f <= FLAT_BUDGET else 'NO'})"
        )
    peak = max(max(p.runner_mb) for p in points)
    lines.append(
        f"runner peak RSS: {peak:.0f} MB (target < {RUNNER_MB_BUDGET:g} MB: "
        f"{'yes' if peak < RUNNER_MB_BUDGET else 'NO'})"
    )
    lines += [f"{k}: {v:.3f}" if v < 100 else f"{k}: {v:.0f}" for k, v in extra.items()]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--widths",
        default="10,100,1000,2000,5000,10000",
        type=lambda s: [int(w) for w in s.split(",")],
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per width up to 1,000")
    parser.add_argument("--max-workers", type=int, default=0)
    parser.add_argument("--no-metaflow", action="store_true")
    parser.add_argument("--metaflow-python", default=None)
    parser.add_argument(
        "--metaflow-budget",
        type=float,
        default=120.0,
        help="run Metaflow on a width only if predicted under this many seconds",
    )
    parser.add_argument("--no-scale-rows", dest="scale_rows", action="store_false")
    parser.add_argument("--plot", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="flowtui-scale-") as tmp:
        points = measure(args, Path(tmp))
        if args.plot:  # drawn before the (long) rows at scale, so a stopped run keeps it
            plot(points, args.plot)
        workers = str(args.max_workers or os.cpu_count() or 1)
        extra = at_scale(Path(tmp), args.widths[-1], workers) if args.scale_rows else {}
    print(f"1-minute load: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    for p in points:
        print(row(p))
    for line in verdicts(points, extra):
        print(line)
    if args.json:
        args.json.write_text(json.dumps({"points": [asdict(p) for p in points], **extra}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
