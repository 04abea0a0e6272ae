"""Run with real Metaflow: dump a run's artifacts, read through Metaflow's own client.

Usage: python metaflow_dump.py FLOW RUN_ID OUT.pickle   (the METAFLOW_* env picks the store)

Writes {"steps": {step: {foreach_indices: {artifact: value}}}, "successful": bool,
"failed": [steps with a failed task]}; values pass through `comparable`. Only finished tasks
are dumped (successful ones, and those whose exception @catch caught).
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from comparable import METAFLOW_SYSTEM_ARTIFACTS, comparable
from metaflow import Run, namespace


def main() -> None:
    flow, run_id, out = sys.argv[1:4]
    namespace(None)
    run = Run(f"{flow}/{run_id}")
    steps: dict[str, dict[tuple[int, ...], dict[str, object]]] = {}
    failed = []
    for step in run:
        for task in step:
            if not task.finished:  # `finished`: a task @catch caught counts, as in flowtui
                failed.append(step.id)
                continue
            stack = task["_foreach_stack"].data if "_foreach_stack" in task else []
            key = tuple(frame.index for frame in stack)
            steps.setdefault(step.id, {})[key] = {
                a.id: comparable(a.data)
                for a in task
                if not a.id.startswith("_") and a.id not in METAFLOW_SYSTEM_ARTIFACTS
            }
    dump = {"steps": steps, "successful": run.successful, "failed": sorted(set(failed))}
    Path(out).write_bytes(pickle.dumps(dump))


if __name__ == "__main__":
    main()
