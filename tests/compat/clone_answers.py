"""What one side's client says of the metadata of a resumed run's reused and re-run tasks.

python clone_answers.py metaflow|flowtui.client PATHSPEC_OF_THE_RESUMED_RUN
"""

from __future__ import annotations

import importlib
import json
import sys

client = importlib.import_module(sys.argv[1])
client.namespace(None)
run = client.Run(sys.argv[2])
reused, rerun = run["start"].task.metadata_dict, run["end"].task.metadata_dict
origin = run.parent[reused["origin-run-id"]]["start"][reused["origin-task-id"]].metadata_dict
same = ("runtime", "user", "script-name", "attempt", "attempt_ok", "ds-type")
print(
    json.dumps(
        {
            "reused_names_its_origin_task": "origin-task-id" in reused,
            "rerun_names_no_origin_task": "origin-task-id" not in rerun,
            "reused_has_its_origins_metadata": {k: reused.get(k) == origin.get(k) for k in same},
        },
        sort_keys=True,
    )
)
