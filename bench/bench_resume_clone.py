"""Benchmark: resume of a wide foreach whose join failed, where its time goes (issue 14 item 2).

Makes one origin run (`--width` items, default 10,000; its join fails on purpose), then resumes
a fresh copy of its store `--repeat` times, in a child process per resume: in process, with
`flowtui.engine.runner.execute` as `flowtui resume` calls it, the phases timed from outside
the code (wrappers, nothing in flowtui measures itself):

- plan: reading the origin's tasks and planning (`ResumeSource.open` + `bind`);
- clone: recording the reused tasks and the runner's bookkeeping of them (`Runner._clone`,
  outermost calls: the start task, then the foreach's items at once);
- to first task: from the `run_started` event to the first re-run task's `task_started` (the
  cloning as a reader of the event stream sees it);
- plan + clone per reused task;
- the CPU time of plan and clone (the process's), less inflated by a loaded machine than wall.

With `--compare DIR` (a checkout of another commit: DIR/flowtui), each repeat resumes with
both, one after the other, so both see the same load. The 1-minute load average is printed.

    python bench/bench_resume_clone.py                      # 10,000 wide, 3 repeats
    python bench/bench_resume_clone.py --width 1000 --compare /tmp/flowtui-main
    python bench/bench_resume_clone.py --origin resumeflow.py STORE   # an origin made before
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import engine_flows as flows

HERE = Path(__file__).resolve().parent
TREE = HERE.parent
CLONE_BUDGET_S = 1.0


def origin_run(work: Path, width: int) -> tuple[Path, Path]:
    """A `width`-wide foreach whose join fails: its file and its store."""
    path = flows.foreach_flow(width, name="ResumeFlow", fail_join=True).write(work)
    store = work / "origin-store"
    command = ["run", str(path), "--store", str(store), "-q", "--max-num-splits", str(width)]
    done = subprocess.run(
        [sys.executable, "-m", "flowtui", *command],
        cwd=work,
        env={**os.environ, flows.FAIL_JOIN_ENV: "1", "PYTHONPATH": str(TREE)},
        capture_output=True,
        text=True,
    )
    if done.returncode != 1 or "join fails on purpose" not in done.stdout + done.stderr:
        raise SystemExit(f"the origin run did not fail in its join:\n{done.stderr[-800:]}")
    return path, store


def resume_once(tree: Path, work: Path, path: Path, store: Path, width: int) -> dict[str, float]:
    """One resume of a fresh copy of `store`, with the flowtui of `tree`: its phases."""
    copy = work / "resumed-store"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(store, copy)
    env = {**os.environ, flows.FAIL_JOIN_ENV: "1", "PYTHONPATH": str(tree)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as a user's Python: bytecode cached
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(path), str(copy), str(width)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"the resume with {tree} failed:\n{done.stderr[-1500:]}")
    return json.loads(done.stdout.splitlines()[-1])


def child(path: Path, store: Path, width: int) -> None:
    """In the child: resume, the phases timed by wrappers around the runner's own calls."""
    from flowtui.engine import resume as resume_module
    from flowtui.engine import runner as runner_module
    from flowtui.engine.prepare import RunConfig
    from flowtui.engine.report import Reporter

    spent = {"plan": 0.0, "clone": 0.0, "plan cpu": 0.0, "clone cpu": 0.0}
    depth = [0]

    def timed(owner: type, name: str, phase: str, outermost: bool = False) -> None:
        method = owner.__dict__[name]
        func = method.__func__ if isinstance(method, classmethod) else method

        def wrapper(*args: object, **kwargs: object) -> object:
            depth[0] += 1
            began, cpu = time.perf_counter(), time.process_time()
            try:
                return func(*args, **kwargs)
            finally:
                depth[0] -= 1
                if not outermost or depth[0] == 0:
                    spent[phase] += time.perf_counter() - began
                    spent[f"{phase} cpu"] += time.process_time() - cpu

        setattr(owner, name, classmethod(wrapper) if isinstance(method, classmethod) else wrapper)

    timed(resume_module.ResumeSource, "open", "plan")
    timed(resume_module.ResumeSource, "bind", "plan")
    timed(runner_module.Runner, "_clone", "clone", outermost=True)
    marks: dict[str, float] = {}
    cloned = [0]

    class Marks(Reporter):
        def report(self, event: object) -> None:
            kind = type(event).__name__
            if kind == "RunStarted":
                marks["started"] = time.perf_counter()
            elif kind == "TaskStarted" and "first" not in marks:
                marks["first"] = time.perf_counter()
            elif kind == "TaskCloned":
                cloned[0] += 1

    config = RunConfig(
        file=path,
        store=str(store),
        resume=True,
        origin_run_id="1",
        max_workers=2,
        max_num_splits=width,
    )
    runner_module.execute(config, Marks())
    print(
        json.dumps(
            {
                **spent,
                "to first task": marks["first"] - marks["started"],
                "cloned": cloned[0],
            }
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compare", type=Path, default=None, help="another checkout's root")
    parser.add_argument(
        "--origin",
        nargs=2,
        metavar=("FILE", "STORE"),
        help="resume this run 1 (a bench_scale failing run of --width) instead of making one",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]), int(args.child[2]))
        return 0
    trees = {"this tree": TREE} | ({"compare": args.compare.resolve()} if args.compare else {})
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="flowtui-clone-") as tmp:
        work = Path(tmp)
        if args.origin:
            path, store = Path(args.origin[0]).resolve(), Path(args.origin[1]).resolve()
        else:
            began = time.perf_counter()
            path, store = origin_run(work, args.width)
            print(f"origin run: {args.width} wide, {time.perf_counter() - began:.1f} s")
        results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for _ in range(args.repeat):
            for name, tree in trees.items():
                results[name].append(resume_once(tree, work, path, store, args.width))
    print(f"1-minute load: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    for name, rows in results.items():
        phases = ("plan", "clone", "to first task", "plan cpu", "clone cpu")
        med = {k: statistics.median(r[k] for r in rows) for k in phases}
        reused = int(rows[0]["cloned"])
        per_task = (med["plan"] + med["clone"]) / max(1, reused) * 1e6
        met = "yes" if med["plan"] + med["clone"] < CLONE_BUDGET_S else "NO"
        print(
            f"{name:>10} ({trees[name]}): {reused} tasks reused; median of {len(rows)}: "
            f"plan {med['plan']:.3f} s, clone {med['clone']:.3f} s, run_started -> first "
            f"re-run task {med['to first task']:.3f} s; CPU: plan {med['plan cpu']:.3f} s, "
            f"clone {med['clone cpu']:.3f} s; plan + clone {per_task:.0f} us per task "
            f"(target plan + clone < {CLONE_BUDGET_S:g} s: {met})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
