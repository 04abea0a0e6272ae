"""Benchmark: running flows, flowtui's engine against real Metaflow, on the same machine.

Every measurement runs the same generated flow file (`bench/engine_flows.py`) as a command
(`flowtui run FILE`, `python FILE run` with Metaflow's local metadata and datastore in a
temporary directory), and prints a table: name, flowtui, Metaflow, Metaflow / flowtui, target,
and whether flowtui meets it. Targets are reported, never asserted.

Groups (pick with `--only`, comma-separated):

* overhead  - per-task overhead of trivial steps: an empty 2-step flow (start-up), a 10-step
              linear flow and a 200-wide foreach; ms/task raw (wall / tasks) and net (wall
              minus the empty flow's, over the extra tasks).
* foreach   - a 1,000-wide foreach under flowtui: wall time, and peak memory of the runner and
              all its children (summed PSS and RSS, sampled every 10 ms); Metaflow runs a
              50-wide foreach for its memory (1,000 would take many minutes).
* artifacts - a 500 MB `bytes` artifact set in one step and read in the next, against a raw
              write + fsync + read of as many bytes; an unchanged value passed through ten
              steps, counted in the store.
* resume    - a 1,000-wide foreach whose join fails, resumed: planning and cloning time
              (Metaflow: 50-wide); and the client opening that run and reading one artifact.

    python bench/bench_engine.py [--only overhead,resume] [--json] [--no-metaflow]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import engine_flows as flows
import proctree
from engine_table import Row, format_row, load_after, machine, table

GROUPS = ("overhead", "foreach", "artifacts", "resume")
DEFAULT_METAFLOW_PYTHON = "/work/mfvenv/bin/python"
TASK_BUDGET_MS = 5.0
BIG_FOREACH_BUDGET_S = 5.0
MEMORY_BUDGET_MB = 300.0
THROUGHPUT_BUDGET = 0.5
RESUME_BUDGET_S = 0.5
CLIENT_BUDGET_MS = 50.0


@dataclass(frozen=True)
class Command:
    wall: float  # seconds
    cpu: float  # user + system seconds of the command and every process it waited for
    returncode: int
    stdout: str
    stderr: str
    memory: proctree.MemoryPeak | None = None


@dataclass
class Bench:
    """Where the benchmark runs and how: the tools, a scratch directory, the sizes."""

    args: argparse.Namespace
    workdir: Path
    flowtui: list[str]
    metaflow_python: str | None
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    empty_flowtui: float | None = None  # wall of the empty flow, for net per-task figures
    empty_metaflow: float | None = None

    # -- commands ------------------------------------------------------------------------
    def run(
        self,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        sample_memory: bool = False,
    ) -> Command:
        full_env = {**os.environ, "USERNAME": "bench", "PYTHONUNBUFFERED": "1", **(env or {})}
        out_path = self.workdir / "stdout.txt"
        err_path = self.workdir / "stderr.txt"
        with open(out_path, "w") as out, open(err_path, "w") as err:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            began = time.perf_counter()
            proc = subprocess.Popen(argv, cwd=self.workdir, env=full_env, stdout=out, stderr=err)
            sampler = proctree.ProcessTreeSampler(proc.pid).start() if sample_memory else None
            code = proc.wait()
            wall = time.perf_counter() - began
            memory = sampler.stop() if sampler else None
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return Command(wall, cpu, code, out_path.read_text(), err_path.read_text(), memory)

    def checked(self, what: str, command: Command, expect_failure: bool = False) -> Command:
        if (command.returncode != 0) != expect_failure:
            tail = (command.stderr.strip() or command.stdout.strip())[-800:]
            raise BenchError(f"{what} exited with {command.returncode}:\n{tail}")
        return command

    def flowtui_run(self, flow: flows.BenchFlow, store: Path, *extra: str, **kw: object) -> Command:
        path = flow.write(self.workdir)
        argv = [*self.flowtui, "run", str(path), "--store", str(store), *self.worker_args, *extra]
        argv += ["--max-num-splits", str(max(100, flow.tasks))]  # as Metaflow's runs below
        return self.run(argv, **kw)  # type: ignore[arg-type]

    def metaflow_env(self, root: Path) -> dict[str, str]:
        return {
            "METAFLOW_DEFAULT_METADATA": "local",
            "METAFLOW_DEFAULT_DATASTORE": "local",
            "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(root),
            "METAFLOW_DEFAULT_ENVIRONMENT": "local",
        }

    def metaflow_run(
        self,
        flow: flows.BenchFlow,
        root: Path,
        *extra: str,
        command: str = "run",
        env: dict[str, str] | None = None,
        **kw: object,
    ) -> Command:
        assert self.metaflow_python
        path = flow.write(self.workdir)
        argv = [self.metaflow_python, str(path), "--no-pylint", command, *self.worker_args]
        if command == "run":
            argv += ["--max-num-splits", str(max(100, flow.tasks))]
        return self.run(argv + list(extra), env={**self.metaflow_env(root), **(env or {})}, **kw)  # type: ignore[arg-type]

    @property
    def worker_args(self) -> list[str]:
        return ["--max-workers", str(self.args.max_workers)] if self.args.max_workers else []

    def scratch(self, name: str) -> Path:
        path = self.workdir / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def median_flowtui_run(self, flow: flows.BenchFlow, store_name: str) -> Command:
        """The run of median wall time among `--repeat` runs, into one store."""
        store = self.scratch(store_name)
        runs = [
            self.checked(f"flowtui run {flow.name}", self.flowtui_run(flow, store))
            for _ in range(self.args.repeat)
        ]
        return sorted(runs, key=lambda c: c.wall)[len(runs) // 2]

    def metaflow_once(self, flow: flows.BenchFlow) -> Command | None:
        if not self.metaflow_python:
            return None
        root = self.scratch(f"mf-{flow.name.lower()}")
        return self.checked(f"Metaflow run {flow.name}", self.metaflow_run(flow, root))

    def add(self, row: Row) -> None:
        self.rows.append(row)
        if not self.args.json:
            print(format_row(row), file=sys.stderr, flush=True)


class BenchError(Exception):
    """A benchmark command failed; the message has its output's tail."""


# -- groups -------------------------------------------------------------------------------
def bench_overhead(b: Bench) -> None:
    empty = flows.empty_flow()
    ft_empty = b.median_flowtui_run(empty, "ft-empty")
    mf_empty = b.metaflow_once(empty)
    b.empty_flowtui = ft_empty.wall
    b.empty_metaflow = mf_empty.wall if mf_empty else None
    b.add(
        Row("overhead", "empty 2-step flow: wall (start-up)", "s", ft_empty.wall, b.empty_metaflow)
    )
    cases = [
        (f"linear {b.args.linear_steps} steps", flows.linear_flow(b.args.linear_steps)),
        (f"foreach {b.args.width} wide", flows.foreach_flow(b.args.width)),
    ]
    budget = f"<= {TASK_BUDGET_MS:g} ms"
    for label, flow in cases:
        ft = b.median_flowtui_run(flow, f"ft-{flow.name.lower()}")
        mf = b.metaflow_once(flow)
        extra = flow.tasks - empty.tasks
        mf_wall = mf_raw = mf_net = mf_cpu = None
        if mf is not None:
            mf_wall, mf_raw = mf.wall, 1000 * mf.wall / flow.tasks
        if mf is not None and mf_empty is not None:
            mf_net = 1000 * (mf.wall - mf_empty.wall) / extra
            mf_cpu = 1000 * (mf.cpu - mf_empty.cpu) / extra
        raw = 1000 * ft.wall / flow.tasks
        net = 1000 * (ft.wall - ft_empty.wall) / extra
        b.add(
            Row(
                "overhead",
                f"{label}: wall",
                "s",
                ft.wall,
                mf_wall,
                note=f"{flow.tasks} tasks",
            )
        )
        b.add(
            Row(
                "overhead",
                f"{label}: per task, raw",
                "ms/task",
                raw,
                mf_raw,
                budget,
                raw <= TASK_BUDGET_MS,
                "wall / tasks",
            )
        )
        b.add(
            Row(
                "overhead",
                f"{label}: per task, net of start-up",
                "ms/task",
                net,
                mf_net,
                budget,
                net <= TASK_BUDGET_MS,
                f"(wall - empty flow's) / {extra}",
            )
        )
        b.add(
            Row(
                "overhead",
                f"{label}: CPU per task, net of start-up",
                "ms/task",
                1000 * (ft.cpu - ft_empty.cpu) / extra,
                mf_cpu,
                note="user+sys of the whole process tree; robust to a busy machine",
            )
        )


def bench_foreach(b: Bench) -> None:
    width = b.args.big_width
    flow = flows.foreach_flow(width)
    store = b.scratch("ft-big")
    timed = b.checked("flowtui run (1,000-wide)", b.flowtui_run(flow, store))
    b.add(
        Row(
            "foreach",
            f"foreach {width} wide: wall",
            "s",
            timed.wall,
            None,
            f"< {BIG_FOREACH_BUDGET_S:g} s",
            timed.wall < BIG_FOREACH_BUDGET_S,
            f"{flow.tasks} tasks",
        )
    )
    if not proctree.supported():
        b.notes.append("No /proc/*/smaps_rollup here: memory was not measured.")
        return
    sampled = b.checked(
        "flowtui run (1,000-wide, memory)", b.flowtui_run(flow, store, sample_memory=True)
    ).memory
    assert sampled is not None
    mf_width = b.args.metaflow_width
    mf_peak = None
    if b.metaflow_python:
        mf_flow = flows.foreach_flow(mf_width)
        done = b.checked(
            "Metaflow run (memory)",
            b.metaflow_run(mf_flow, b.scratch("mf-mem"), sample_memory=True),
        )
        mf_peak = done.memory
        b.add(
            Row(
                "foreach",
                f"Metaflow foreach {mf_width} wide: wall",
                "s",
                None,
                done.wall,
                note=f"{mf_flow.tasks} tasks, for its memory",
            )
        )
    note = f"flowtui {width} wide, Metaflow {mf_width} wide"
    b.add(
        Row(
            "foreach",
            "peak memory, summed PSS",
            "MB",
            sampled.pss_mb,
            mf_peak.pss_mb if mf_peak else None,
            f"<= {MEMORY_BUDGET_MB:g} MB",
            sampled.pss_mb <= MEMORY_BUDGET_MB,
            note,
        )
    )
    b.add(
        Row(
            "foreach",
            "peak memory, summed RSS",
            "MB",
            sampled.rss_mb,
            mf_peak.rss_mb if mf_peak else None,
            f"<= {MEMORY_BUDGET_MB:g} MB",
            sampled.rss_mb <= MEMORY_BUDGET_MB,
            f"{note}; at most {sampled.max_processes} processes at once",
        )
    )


def read_stamps(path: Path) -> dict[str, float]:
    stamps = {}
    for line in path.read_text().splitlines():
        name, value = line.split()
        stamps[name] = float(value)
    return stamps


def raw_round_trip(folder: Path, megabytes: int) -> float:
    """Seconds to write `megabytes` MB to a new file, fsync it, and read it back."""
    import random

    rng = random.Random(3)
    payload = b"".join(rng.randbytes(1024 * 1024) for _ in range(megabytes))
    path = folder / "raw.bin"
    began = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with memoryview(payload) as view:
            written = 0
            while written < len(view):
                written += os.write(fd, view[written : written + (64 << 20)])
        os.fsync(fd)
    finally:
        os.close(fd)
    back = path.read_bytes()
    elapsed = time.perf_counter() - began
    assert len(back) == len(payload)
    path.unlink()
    return elapsed


def bench_artifacts(b: Bench) -> None:
    mb = b.args.blob_mb
    flow = flows.blob_flow(mb)
    stamps = b.workdir / "stamps.txt"
    env = {flows.STAMPS_ENV: str(stamps)}

    def round_trip(run: Callable[[], Command], what: str) -> float:
        stamps.unlink(missing_ok=True)
        b.checked(what, run())
        s = read_stamps(stamps)
        return s["loaded"] - s["stored"]

    ft = round_trip(lambda: b.flowtui_run(flow, b.scratch("ft-blob"), env=env), "flowtui blob")
    raw = statistics.median(raw_round_trip(b.workdir, mb) for _ in range(3))
    mf = None
    if b.metaflow_python and not b.args.skip_metaflow_blob:
        mf = round_trip(
            lambda: b.metaflow_run(flow, b.scratch("mf-blob"), env=env), "Metaflow blob"
        )
    b.add(
        Row(
            "artifacts",
            f"raw write+fsync+read {mb} MB",
            "s",
            raw,
            None,
            note="the reference: median of 3, same run",
        )
    )
    b.add(
        Row(
            "artifacts",
            f"{mb} MB bytes artifact: store + load in next step",
            "s",
            ft,
            mf,
            note="`stored` stamp in the step to `loaded` stamp in the next",
        )
    )
    b.add(
        Row(
            "artifacts",
            "artifact throughput / raw throughput",
            "%",
            100 * raw / ft,
            None if mf is None else 100 * raw / mf,
            f">= {100 * THROUGHPUT_BUDGET:g}%",
            raw / ft >= THROUGHPUT_BUDGET,
        )
    )


def bench_passthrough(b: Bench) -> None:
    kb = b.args.pass_kb
    passing = flows.passthrough_flow(10, kb)
    store = b.scratch("ft-pass")
    b.checked("flowtui pass-through", b.flowtui_run(passing, store))
    ft_count = count_files(store / "blobs", kb * 1024)
    mf_count = None
    if b.metaflow_python:
        root = b.scratch("mf-pass")
        b.checked("Metaflow pass-through", b.metaflow_run(passing, root))
        mf_count = count_files(root, int(kb * 1024 * 0.9))
    b.add(
        Row(
            "artifacts",
            f"{kb} KB value unchanged through 10 steps: blobs stored",
            "count",
            ft_count,
            mf_count,
            "1",
            ft_count == 1,
            f"files of >= {kb} KB in the store",
        )
    )


def count_files(folder: Path, min_size: int) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file() and p.stat().st_size >= min_size)


def events(text: str) -> list[dict[str, object]]:
    out = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if isinstance(event, dict) and "event" in event:
                out.append(event)
    return out


def bench_resume(b: Bench) -> None:
    width = b.args.big_width
    flow = flows.foreach_flow(width, name="ResumeFlow", fail_join=True)
    store = b.scratch("ft-resume")
    failed = b.checked(
        "flowtui run (join fails)",
        b.flowtui_run(flow, store, "--events", env={flows.FAIL_JOIN_ENV: "1"}),
        expect_failure=True,
    )
    origin = next(str(e["run_id"]) for e in events(failed.stdout) if e["event"] == "run_started")
    path = flow.write(b.workdir)
    resumed = b.checked(
        "flowtui resume",
        b.run(
            [
                *b.flowtui,
                "resume",
                str(path),
                "--origin-run-id",
                origin,
                "--store",
                str(store),
                "--events",
                *b.worker_args,
            ]
        ),
    )
    stream = events(resumed.stdout)
    started = next(float(e["ts"]) for e in stream if e["event"] == "run_started")  # type: ignore[arg-type]
    first_task = next(float(e["ts"]) for e in stream if e["event"] == "task_started")  # type: ignore[arg-type]
    cloned = sum(1 for e in stream if e["event"] == "task_cloned")
    planning = plan_in_process(store, path, origin)
    clone_s = first_task - started
    ft_total = clone_s + (planning or 0.0)

    mf_total = mf_cloned = None
    mf_run_id = None
    if b.metaflow_python:
        mf_flow = flows.foreach_flow(b.args.metaflow_width, name="ResumeFlow", fail_join=True)
        root = b.scratch("mf-resume")
        ids = b.workdir / "mf-run-id"
        b.checked(
            "Metaflow run (join fails)",
            b.metaflow_run(
                mf_flow, root, "--run-id-file", str(ids), env={flows.FAIL_JOIN_ENV: "1"}
            ),
            expect_failure=True,
        )
        mf_origin = ids.read_text().strip()
        done = b.checked(
            "Metaflow resume",
            b.metaflow_run(
                mf_flow,
                root,
                "--origin-run-id",
                mf_origin,
                "--run-id-file",
                str(ids),
                command="resume",
            ),
        )
        mf_run_id = ids.read_text().strip()
        mf_total, mf_cloned = metaflow_resume_window(done.stdout + done.stderr)

    note = f"flowtui {cloned} tasks cloned of {width + 3}"
    if mf_cloned is not None:
        note += f", Metaflow {mf_cloned} of {b.args.metaflow_width + 3}"
    b.add(
        Row(
            "resume",
            "resume: planning (in process)",
            "s",
            planning,
            None,
            note="ResumeSource.open + bind on the origin run",
        )
    )
    b.add(
        Row(
            "resume",
            "resume: cloning until the first re-run task starts",
            "s",
            clone_s,
            None,
            note="events: run_started -> first task_started",
        )
    )
    b.add(
        Row(
            "resume",
            "resume: planning + cloning",
            "s",
            ft_total,
            mf_total,
            f"< {RESUME_BUDGET_S:g} s",
            ft_total < RESUME_BUDGET_S,
            note,
        )
    )
    if cloned and mf_cloned:
        b.add(
            Row(
                "resume",
                "resume: planning + cloning per cloned task",
                "ms/task",
                1000 * ft_total / cloned,
                1000 * (mf_total or 0) / mf_cloned,
            )
        )
    b.add(
        Row(
            "resume",
            "resume command: wall",
            "s",
            resumed.wall,
            None,
            note="includes start-up and the re-run join and end",
        )
    )

    resumed_id = next(str(e["run_id"]) for e in stream if e["event"] == "run_started")
    bench_client(b, store, f"ResumeFlow/{resumed_id}", mf_run_id)


def plan_in_process(store_root: Path, path: Path, origin: str) -> float | None:
    """Median seconds of the runner's own resume planning, called in this process."""
    try:
        from flowtui.engine.prepare import checked_graph
        from flowtui.engine.resume import ResumeSource
        from flowtui.store import Store
    except ImportError as e:
        print(f"note: resume planning not timed ({e})", file=sys.stderr)
        return None
    _, graph = checked_graph(path, None)
    samples = []
    for _ in range(3):
        store = Store(store_root, create=False)
        began = time.perf_counter()
        ResumeSource.open(store, graph.flow_name, origin, None).bind(graph)
        samples.append(time.perf_counter() - began)
        store.close()
    return statistics.median(samples)


def metaflow_resume_window(output: str) -> tuple[float | None, int]:
    """From Metaflow's timestamped resume output: seconds from 'Gathering required
    information' to the first re-run task starting, and how many tasks it cloned."""
    gathering = first_task = None
    cloned = 0
    for line in output.splitlines():
        try:
            ts = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S.%f").timestamp()
        except ValueError:
            continue
        if "Gathering required information" in line and gathering is None:
            gathering = ts
        elif "Cloning previously run task" in line:
            cloned += 1
        elif "Task is starting" in line and first_task is None:
            first_task = ts
    if gathering is None or first_task is None:
        return None, cloned
    return first_task - gathering, cloned


_CLIENT_PROBE = """
import json, sys, time
import {module} as client
{setup}
began = time.perf_counter()
run = client.Run(sys.argv[1])
value = run["end"].task.data.total
print(json.dumps({{"seconds": time.perf_counter() - began, "value": value}}))
"""


def bench_client(b: Bench, store: Path, pathspec: str, mf_run_id: str | None) -> None:
    """Open a run and read one artifact, in a fresh process (imports not timed)."""
    import importlib

    try:
        has_run = hasattr(importlib.import_module("flowtui.client"), "Run")
    except ImportError:
        has_run = False
    if not has_run:
        b.notes.append("flowtui.client has no Run yet: the client measurement was skipped.")
        return
    probe = _CLIENT_PROBE.format(module="flowtui.client", setup="")
    done = b.checked(
        "flowtui client",
        b.run([sys.executable, "-c", probe, pathspec], env={"FLOWTUI_STORE": str(store)}),
    )
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    ft = answer["seconds"]
    if answer["value"] != sum(range(b.args.big_width)):
        raise BenchError(f"the flowtui client read total={answer['value']!r}, a wrong value")
    mf = None
    if b.metaflow_python and mf_run_id:
        mf_probe = _CLIENT_PROBE.format(module="metaflow", setup="client.namespace(None)")
        mf_done = b.checked(
            "Metaflow client",
            b.run(
                [b.metaflow_python, "-c", mf_probe, f"ResumeFlow/{mf_run_id}"],
                env=b.metaflow_env(b.workdir / "mf-resume"),
            ),
        )
        mf = json.loads(mf_done.stdout.strip().splitlines()[-1])["seconds"]
    b.add(
        Row(
            "resume",
            "client: Run(...)['end'].task.data.total",
            "ms",
            1000 * ft,
            None if mf is None else 1000 * mf,
            f"< {CLIENT_BUDGET_MS:g} ms",
            1000 * ft < CLIENT_BUDGET_MS,
            f"fresh process, imports not timed; flowtui {b.args.big_width}-wide run, "
            f"Metaflow {b.args.metaflow_width}-wide",
        )
    )


# -- output ---------------------------------------------------------------------------------
def metaflow_usable(python: str) -> bool:
    if not Path(python).exists():
        return False
    done = subprocess.run([python, "-c", "import metaflow"], capture_output=True)
    return done.returncode == 0


@contextlib.contextmanager
def scratch_dir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="flowtui-bench-engine-"))
    try:
        yield path
    finally:
        if keep:
            print(f"note: kept {path}", file=sys.stderr)
        else:
            shutil.rmtree(path, ignore_errors=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--only", default=",".join(GROUPS), help=f"groups: {', '.join(GROUPS)}")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.add_argument("--save-json", metavar="PATH", help="also write the JSON object to PATH")
    p.add_argument(
        "--metaflow-python",
        default=os.environ.get("METAFLOW_PYTHON", DEFAULT_METAFLOW_PYTHON),
        help="a Python with `metaflow` installed",
    )
    p.add_argument("--no-metaflow", action="store_true", help="measure flowtui only")
    p.add_argument("--repeat", type=int, default=3, help="runs of each small flowtui flow")
    p.add_argument("--linear-steps", type=int, default=10)
    p.add_argument("--width", type=int, default=200, help="foreach width for per-task overhead")
    p.add_argument("--big-width", type=int, default=1000, help="foreach width (memory, resume)")
    p.add_argument("--metaflow-width", type=int, default=50, help="Metaflow's (memory, resume)")
    p.add_argument("--blob-mb", type=int, default=500)
    p.add_argument("--skip-metaflow-blob", action="store_true", help="not the big artifact")
    p.add_argument("--pass-kb", type=int, default=1024, help="the pass-through value's size")
    p.add_argument("--max-workers", type=int, default=0, help="both tools (default: each's)")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = p.parse_args(argv)
    unknown = set(args.only.split(",")) - set(GROUPS)
    if unknown:
        p.error(f"unknown group(s) {', '.join(sorted(unknown))}; pick from {', '.join(GROUPS)}")
    return args


RUNNERS: dict[str, tuple[Callable[[Bench], None], ...]] = {
    "overhead": (bench_overhead,),
    "foreach": (bench_foreach,),
    "artifacts": (bench_artifacts, bench_passthrough),
    "resume": (bench_resume,),
}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    metaflow_python = None
    if not args.no_metaflow:
        if metaflow_usable(args.metaflow_python):
            metaflow_python = args.metaflow_python
        else:
            print(
                f"note: no Metaflow at {args.metaflow_python}; its column stays empty",
                file=sys.stderr,
            )
    flowtui = shutil.which("flowtui") or str(Path(sys.executable).with_name("flowtui"))
    failures = 0
    load_before = load_after()
    began = time.perf_counter()
    with scratch_dir(args.keep) as workdir:
        b = Bench(args, workdir, [flowtui], metaflow_python)
        for group in args.only.split(","):
            for measure in RUNNERS[group]:
                try:
                    measure(b)
                except BenchError as e:
                    failures += 1
                    b.notes.append(f"{group}: {e}")
                    print(f"error: {group}: {e}", file=sys.stderr)
    elapsed = time.perf_counter() - began
    info = machine(metaflow_python)
    info["load"] = f"{load_before} before, {load_after()} after (1-min average)"
    document = json.dumps(
        {
            "machine": info,
            "options": vars(args),
            "seconds": elapsed,
            "rows": [{**asdict(r), "ratio": r.ratio} for r in b.rows],
            "notes": b.notes,
        },
        indent=2,
    )
    if args.save_json:
        Path(args.save_json).write_text(document + "\n")
    if args.json:
        print(document)
    else:
        print(table(b.rows, markdown=args.markdown))
        for note in b.notes:
            print(f"note: {note}")
        print(", ".join(f"{k} {v}" for k, v in info.items()) + f"; took {elapsed:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
