"""How fast a DataFrame artifact opens, scrolls and sorts in the TUI's frame process.

    python bench/bench_frame.py                 # a table: 10 rows against 1,000,000 rows
    python bench/bench_frame.py --rows 10 100000 1000000 --runs 3 --json

For each size it stores a frame (an int, a float and a string column) as a task's artifact in
a temporary store, then, through the TUI's own `FrameSession` (the same process and pipe the
table uses), measures: the first rows (process start, unpickling, the shape, page one), a page
from the far end, a sort by the float column and by the string column (each answered with its
first page), and a page of the sorted frame. Medians of `--runs`. The target (issue 13): a
million rows open as fast as ten, within the preview's usual second. Printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_store(folder: Path, rows: int) -> tuple[str, str]:
    import cloudpickle
    import numpy as np
    import pandas as pd

    from flowtui.store import ArtifactRecord, Store

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "n": np.arange(rows),
            "score": rng.random(rows),
            "name": [f"s{i:07d}" for i in rng.integers(0, max(rows, 1), rows)],
        }
    )
    store = Store(folder / ".flowtui")
    meta = store.meta
    run_id = meta.create_run("Bench", file=str(folder / "f.py"), source="", params={}, user="b")
    task_id = meta.create_task(run_id, "start")
    out, err = store.log_paths(run_id, "start", task_id, 0)
    meta.start_attempt(task_id, 0, str(out), str(err))
    ref = store.blobs.put_bytes(cloudpickle.dumps(frame))
    record = ArtifactRecord(task_id, "frame", ref.hash, "DataFrame", ref.size, "frame")
    meta.succeed_task(task_id, 0, [record])
    store.close()
    return str(store.root), f"Bench/{run_id}/start/{task_id}"


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    answer = action()
    elapsed = time.perf_counter() - started
    if type(answer).__name__ == "FrameError":
        raise SystemExit(f"the frame's process said: {answer.sentence}")
    return elapsed


def measure(store: str, pathspec: str, rows: int) -> dict[str, float]:
    from flowtui.tui.frame_pages import FrameSession

    figures: dict[str, float] = {}
    started = time.perf_counter()
    session = FrameSession(store, pathspec, "frame")
    try:
        timed(session.shape)
        timed(lambda: session.rows(0, 100, None))
        figures["first rows"] = time.perf_counter() - started
        figures["last page"] = timed(lambda: session.rows(max(0, rows - 100), 100, None))
        figures["sort by float"] = timed(lambda: session.rows(0, 100, (1, False)))
        figures["page, sorted"] = timed(lambda: session.rows(rows // 2, 100, (1, False)))
        figures["sort by string"] = timed(lambda: session.rows(0, 100, (2, False)))
    finally:
        session.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[10, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for rows in args.rows:
            where = Path(folder) / str(rows)
            where.mkdir()
            store, pathspec = make_store(where, rows)
            runs = [measure(store, pathspec, rows) for _ in range(args.runs)]
            results[rows] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    if args.json:
        print(json.dumps(results))
        return
    names = list(next(iter(results.values())))
    print(f"{'rows':>10}  " + "  ".join(f"{n:>15}" for n in names))
    for rows, figures in results.items():
        cells = "  ".join(f"{figures[n] * 1000:>12.0f} ms" for n in names)
        print(f"{rows:>10,}  {cells}")


if __name__ == "__main__":
    main()
