"""Run with real Metaflow: dump a run's cards, read through `metaflow.cards.get_cards`.

Usage: python metaflow_cards_dump.py FLOW RUN_ID OUT.json   (the METAFLOW_* env picks the store)

Writes {step: [{"type", "id", "title", "components", "artifacts"}]} where `components` are the
components the step added (the blank card's page, the default card's first section) and
`artifacts` the default card's artifact listing, each decoded from the card's embedded data.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path

from metaflow import Run, namespace
from metaflow.cards import get_cards

DATA = re.compile(r'window\.__MF_DATA__\["[^"]+"\] = "([^"]+)"')


def card_record(card) -> dict:
    data = json.loads(base64.b64decode(DATA.search(card.get()).group(1)))
    page = next(c for c in data["components"] if c["type"] == "page")
    sections = page["contents"]
    record = {"type": card.type, "id": card.id, "components": [], "artifacts": []}
    if card.type == "blank":
        record["title"] = page.get("title") or ""
        for section in sections:
            record["components"] += section.get("contents", [])
        return record
    record["title"] = ""
    for section in sections:
        if "title" not in section:  # what the step added comes first, untitled
            record["components"] += section.get("contents", [])
        elif section["title"] == "Artifacts":
            for listing in section["contents"]:
                record["artifacts"] += listing.get("data", [])
    return record


def main() -> None:
    flow, run_id, out = sys.argv[1:4]
    namespace(None)
    dump = {}
    for step in Run(f"{flow}/{run_id}"):
        for task in step:
            dump[step.id] = [card_record(card) for card in get_cards(task)]
    Path(out).write_text(json.dumps(dump))


if __name__ == "__main__":
    main()
