"""Benchmark: knowing a 200-step flow without running it, flowtui against real Metaflow.

Generates a valid flow file (``from metaflow import FlowSpec, step``, so both tools read the
same file), then times

* flowtui in process, each stage separately: parse, lint, layout, draw (median of many runs);
  parse + lint + layout is what the TUI redoes on every save, with a budget of 20 ms;
* ``flowtui show FILE`` as a command (median of a few runs), when the CLI has ``show``;
* ``python FILE show`` with real Metaflow (median of a few runs), from the Python given by
  ``--metaflow-python`` (default: ``$METAFLOW_PYTHON``, else ``/work/mfvenv/bin/python``).

and prints a table with the ratio. The budget is reported, never asserted.

    python bench/bench_graph.py [--steps 200] [--seed 1] [--json]
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
from collections.abc import Callable
from pathlib import Path

from flowtui.graph.layout import layout_layers
from flowtui.graph.model import FlowGraph
from flowtui.graph.render import draw_canvas
from flowtui.graph.synthetic import random_flow

BUDGET_MS = 20.0
DEFAULT_METAFLOW_PYTHON = "/work/mfvenv/bin/python"


def median_ms(fn: Callable[[], object], iterations: int) -> float:
    fn()  # warm up imports and caches of the interpreter, not of the work itself
    samples = []
    for _ in range(iterations):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def time_command(argv: list[str], runs: int, cwd: Path) -> float | None:
    """Median wall time of a command in ms, or None if it fails."""
    env = {**os.environ, "USERNAME": os.environ.get("USERNAME", "bench")}
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
        samples.append((time.perf_counter() - began) * 1000)
        if done.returncode != 0:
            print(f"note: {' '.join(argv)} failed: {done.stderr.strip()[-300:]}", file=sys.stderr)
            return None
    return statistics.median(samples)


def cli_has_show() -> bool:
    try:
        from flowtui.cli import app
    except ImportError:
        return False
    return any(c.name == "show" for c in app.registered_commands)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=100, help="in-process repetitions")
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each command")
    parser.add_argument(
        "--metaflow-python",
        default=os.environ.get("METAFLOW_PYTHON", DEFAULT_METAFLOW_PYTHON),
        help="a Python with `metaflow` installed",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    synthetic = random_flow(args.steps, args.seed, name="BenchFlow")
    workdir = Path(tempfile.mkdtemp(prefix="flowtui-bench-"))
    try:
        path = workdir / "benchflow.py"
        path.write_text(synthetic.source)
        results = measure(args, synthetic.source, path, synthetic.graph)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
    return 0


def measure(
    args: argparse.Namespace, source: str, path: Path, generated: FlowGraph
) -> dict[str, object]:
    """Time every stage; until `flowtui.graph.parse_flow` exists, lay out the generated graph."""
    graph = generated
    parse_ms: float | None = None
    lint_ms: float | None = None
    try:
        from flowtui.graph.lint import lint_graph
        from flowtui.graph.parse import parse_flow
    except ImportError:
        pass
    else:
        graph = parse_flow(source, str(path))
        parse_ms = median_ms(lambda: parse_flow(source, str(path)), args.iterations)
        lint_ms = median_ms(lambda: lint_graph(graph), args.iterations)
    final = graph
    layout_ms = median_ms(lambda: layout_layers(final), args.iterations)
    layout = layout_layers(final)
    draw_ms = median_ms(lambda: draw_canvas(layout), args.iterations)
    redraw_ms = sum(t for t in (parse_ms, lint_ms, layout_ms) if t is not None)

    flowtui = shutil.which("flowtui") or str(Path(sys.executable).with_name("flowtui"))
    show_ms = None
    if cli_has_show():
        show_ms = time_command([flowtui, "show", str(path)], args.runs, path.parent)
    metaflow_ms = None
    if Path(args.metaflow_python).exists():
        metaflow_ms = time_command(
            [args.metaflow_python, str(path), "show"], args.runs, path.parent
        )
    else:
        print(f"note: no Python at {args.metaflow_python}; skipping Metaflow", file=sys.stderr)

    return {
        "steps": len(final),
        "edges": sum(len(s.next) for s in final.steps),
        "seed": args.seed,
        "iterations": args.iterations,
        "runs": args.runs,
        "flowtui_ms": {
            "parse": parse_ms,
            "lint": lint_ms,
            "layout": layout_ms,
            "draw": draw_ms,
            "parse_lint_layout": redraw_ms,
        },
        "budget_ms": BUDGET_MS,
        "within_budget": redraw_ms <= BUDGET_MS,
        "flowtui_show_ms": show_ms,
        "metaflow_show_ms": metaflow_ms,
        "ratio_in_process": metaflow_ms / (redraw_ms + draw_ms) if metaflow_ms else None,
        "ratio_command": metaflow_ms / show_ms if metaflow_ms and show_ms else None,
    }


def print_table(r: dict[str, object]) -> None:
    def ms(value: object) -> str:
        return f"{value:9.2f} ms" if isinstance(value, float) else "        n/a"

    stages = r["flowtui_ms"]
    assert isinstance(stages, dict)
    print(f"graph benchmark: {r['steps']} steps, {r['edges']} edges (seed {r['seed']})")
    print()
    print(f"  flowtui parse                 {ms(stages['parse'])}")
    print(f"  flowtui lint                  {ms(stages['lint'])}")
    print(f"  flowtui layout                {ms(stages['layout'])}")
    print(f"  flowtui draw                  {ms(stages['draw'])}")
    verdict = "within" if r["within_budget"] else "OVER"
    print(
        f"  parse + lint + layout         {ms(stages['parse_lint_layout'])}"
        f"   ({verdict} the {r['budget_ms']:.0f} ms redraw budget)"
    )
    print()
    print(f"  `flowtui show FILE`           {ms(r['flowtui_show_ms'])}")
    print(f"  `python FILE show` (Metaflow) {ms(r['metaflow_show_ms'])}")
    if r["ratio_in_process"]:
        print(f"  Metaflow show / flowtui in process   {r['ratio_in_process']:8.1f}x")
    if r["ratio_command"]:
        print(f"  Metaflow show / flowtui show command {r['ratio_command']:8.1f}x")


if __name__ == "__main__":
    sys.exit(main())
