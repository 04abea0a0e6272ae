"""Run next to flowtui: dump a run's artifacts, read through flowtui's client.

Usage: python flowtui_dump.py STORE FLOW OUT.pickle   (dumps the flow's latest run)

Writes the same shape as `metaflow_dump.py`, plus the run's id (nothing when the flow has no
run). Tasks are keyed by `Task.foreach_indices`, as Metaflow's by its `_foreach_stack`.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from comparable import METAFLOW_SYSTEM_ARTIFACTS, comparable

from flowtui.client import Flow, FlowNotFound, metadata, namespace


def main() -> None:
    store, flow, out = sys.argv[1:4]
    metadata(store)
    namespace(None)
    try:
        run = Flow(flow).latest_run
    except FlowNotFound:
        run = None
    if run is None:
        Path(out).write_bytes(pickle.dumps({"run_id": "", "steps": {}, "failed": []}))
        return
    steps: dict[str, dict[tuple[int, ...], dict[str, object]]] = {}
    failed = []
    for step in run:
        for task in step:
            if task.status not in ("succeeded", "cloned"):  # a task @catch caught counts
                if task.status == "failed":
                    failed.append(step.id)
                continue
            key = task.foreach_indices
            steps.setdefault(step.id, {})[key] = {
                a.id: comparable(a.data)
                for a in task
                if not a.id.startswith("_") and a.id not in METAFLOW_SYSTEM_ARTIFACTS
            }
    dump = {
        "run_id": run.id,
        "steps": steps,
        "successful": run.successful,
        "failed": sorted(set(failed)),
    }
    Path(out).write_bytes(pickle.dumps(dump))


if __name__ == "__main__":
    main()
