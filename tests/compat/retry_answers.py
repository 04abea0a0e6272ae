"""What one side's client says of a retried task's attempts and a caught exception, as JSON.

python retry_answers.py metaflow|flowtui.client PATHSPEC
"""

from __future__ import annotations

import importlib
import json
import sys

client = importlib.import_module(sys.argv[1])
client.namespace(None)
run = client.Run(sys.argv[2])
start, end = run["start"].task, run["end"].task
print(
    json.dumps(
        {
            "attempts": sorted(m.value for m in start.metadata if m.type == "attempt"),
            "attempt_in_dict": start.metadata_dict["attempt"],
            "caught_type": end.data.ex.type,
            "caught_message": end.data.ex.exception,
        },
        sort_keys=True,
    )
)
