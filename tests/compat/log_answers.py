"""A step's task's stdout and stderr, through one side's client, as JSON.

python log_answers.py metaflow|flowtui.client FLOW/RUN/STEP
"""

from __future__ import annotations

import importlib
import json
import sys

client = importlib.import_module(sys.argv[1])
client.namespace(None)
task = client.Step(sys.argv[2]).task
print(json.dumps({"stdout": task.stdout, "stderr": task.stderr}))
