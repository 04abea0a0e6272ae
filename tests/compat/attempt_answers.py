"""The `attempt` metadata values of a step's task, through one side's client, as JSON.

python attempt_answers.py metaflow|flowtui.client FLOW/RUN/STEP
"""

from __future__ import annotations

import importlib
import json
import sys

client = importlib.import_module(sys.argv[1])
client.namespace(None)
task = client.Step(sys.argv[2]).task
print(json.dumps(sorted(m.value for m in task.metadata if m.type == "attempt")))
