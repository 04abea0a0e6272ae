"""The cards of a step's task, as (type, id) pairs, through one side's client, as JSON.

python card_ids.py metaflow|flowtui.client FLOW/RUN/STEP
"""

from __future__ import annotations

import importlib
import json
import sys

client = importlib.import_module(sys.argv[1])
cards_module = "metaflow.cards" if sys.argv[1] == "metaflow" else "flowtui.client.cards"
cards = importlib.import_module(cards_module)
client.namespace(None)
task = client.Step(sys.argv[2]).task
print(json.dumps(sorted([card.type, card.id] for card in cards.get_cards(task))))
