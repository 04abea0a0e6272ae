"""What starting a run from Python costs: `Runner(...).run()` beside the same `flowtui run` typed
as a subprocess, `async_run` until the run exists, and Metaflow's own Runner on the same flow.

    python bench/bench_runner.py             # 7 runs of each, the median reported
    python bench/bench_runner.py --runs 15

Reported as seconds and ratios (Runner / plain subprocess; Metaflow's Runner / flowtui's),
never asserted by tests. The flow is two steps that do nothing: what is measured is the
starting, waiting and reading back, not the work.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from flowtui import Runner

FLOW = """
from metaflow import FlowSpec, Parameter, step


class BenchRunnerFlow(FlowSpec):
    alpha = Parameter("alpha", default=1)

    @step
    def start(self):
        self.x = self.alpha
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BenchRunnerFlow()
"""

METAFLOW_RUNNER = """
import sys, time
from metaflow import Runner
t0 = time.perf_counter()  # after the import, as flowtui's side is measured
with Runner(sys.argv[1], show_output=False).run(alpha=2) as running:
    assert running.run.data.x == 2, running.status
print(time.perf_counter() - t0)
"""


def _median(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        flow = root / "bench_flow.py"
        flow.write_text(textwrap.dedent(FLOW))
        store = root / "store"
        env = {k: v for k, v in os.environ.items() if k != "FLOWTUI_STORE"}

        def plain() -> None:
            command = ["run", "--store", str(store), "-q", str(flow), "--alpha", "2"]
            subprocess.run(
                [sys.executable, "-m", "flowtui", *command],
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
            )

        def blocking() -> None:
            with Runner(flow, show_output=False, store=store).run(alpha=2) as running:
                assert running.run.data.x == 2

        async def started() -> float:
            async with Runner(flow, store=store) as runner:
                start = time.perf_counter()
                running = await runner.async_run(alpha=2)
                exists = time.perf_counter() - start
                await running.wait()
                return exists

        plain_s = _median(plain, runs)
        runner_s = _median(blocking, runs)
        exists_s = statistics.median(asyncio.run(started()) for _ in range(runs))
        print(f"flowtui run (subprocess)      {plain_s:6.3f} s")
        print(f"Runner.run()                  {runner_s:6.3f} s  ({runner_s / plain_s:.2f}x)")
        print(f"async_run() until it exists   {exists_s:6.3f} s")

        if importlib.util.find_spec("metaflow") is None:
            print("Metaflow is not installed: its Runner is not measured.")
            return
        script = root / "mf_runner.py"
        script.write_text(METAFLOW_RUNNER)
        mf_env = {
            **env,
            "METAFLOW_HOME": str(root / "mfhome"),
            "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(root),
            "METAFLOW_DEFAULT_DATASTORE": "local",
            "METAFLOW_DEFAULT_METADATA": "local",
            "USERNAME": env.get("USERNAME") or env.get("USER") or "bench",
        }
        mf = []
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, str(script), str(flow)],
                cwd=root,
                env=mf_env,
                capture_output=True,
                text=True,
            )
            if out.returncode != 0:
                sys.exit(f"Metaflow's Runner failed:\n{out.stderr[-2000:]}")
            mf.append(float(out.stdout.strip().splitlines()[-1]))
        mf_s = statistics.median(mf)
        print(f"Metaflow's Runner.run()       {mf_s:6.3f} s  ({mf_s / runner_s:.1f}x flowtui's)")


if __name__ == "__main__":
    main()
