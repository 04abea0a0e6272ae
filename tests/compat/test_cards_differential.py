"""Cards, differentially: the same flow under real Metaflow and flowtui stores the same cards.

Compared: each step's cards (type, id, title), every component the step added with all its
data (Markdown source, table cells, the image's bytes, progress values, the Vega-Lite spec,
artifact listings), and the default card's listing of the task's artifacts. Component ids
that both sides draw at random (`markdown_1a2b3c`) are compared by their prefix; ids the
flow gave (`id="bar"`) must be equal. The HTML pages are not compared.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from differential import HERE, Sides, needs_metaflow

from flowtui.client.cards import get_cards
from flowtui.client.objects import Run
from flowtui.store import Store

pytestmark = [pytest.mark.differential, needs_metaflow]

RANDOM_ID = re.compile(r"^([a-z]+)_[0-9a-f]{6}$")


def _normal(value: Any) -> Any:
    """Random component ids reduced to their prefix; everything else as it is."""
    if isinstance(value, dict):
        out = {k: _normal(v) for k, v in value.items()}
        if isinstance(out.get("id"), str):
            out["id"] = RANDOM_ID.sub(r"\1_RANDOM", out["id"])
        return out
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def metaflow_cards(
    sides: Sides, file: Path, run_id: str, flow: str = "CardsFlow"
) -> dict[str, Any]:
    out = sides.workdir / "metaflow-cards.json"
    proc = subprocess.run(
        [sys.executable, str(HERE / "metaflow_cards_dump.py"), flow, run_id, str(out)],
        cwd=sides.workdir,
        env=sides.metaflow_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return _normal(json.loads(out.read_text()))


def flowtui_cards(sides: Sides, run_id: str, flow: str = "CardsFlow") -> dict[str, Any]:
    store = Store(sides.store, create=False)
    dump = {}
    for step in Run(f"{flow}/{run_id}", _store=store, _namespace_check=False):
        for task in step:
            dump[step.id] = [
                {
                    "type": card.type,
                    "id": card.id,
                    "title": card.title,
                    "components": card.components,
                    "artifacts": card.document.get("artifacts", []),
                }
                for card in get_cards(task)
            ]
    return _normal(json.loads(json.dumps(dump)))


def test_cards_store_the_same_components_and_data(sides: Sides) -> None:
    file = sides.flow("mf_cards")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    theirs, ours = metaflow_cards(sides, file, mf.run_id), flowtui_cards(sides, ft.run_id)

    def by_key(cards: list[dict[str, Any]]) -> dict[tuple[str, Any], dict[str, Any]]:
        return {(c["type"], c["id"]): c for c in cards}

    assert set(theirs) == set(ours) == {"start", "end"}
    for step in theirs:
        mf_cards, ft_cards = by_key(theirs[step]), by_key(ours[step])
        assert set(mf_cards) == set(ft_cards), step
        for key, mf_card in mf_cards.items():
            ft_card = ft_cards[key]
            assert ft_card["title"] == mf_card["title"], key
            assert ft_card["components"] == mf_card["components"], (step, key)
            artifacts = sorted(mf_card["artifacts"], key=lambda a: a["name"])
            assert sorted(ft_card["artifacts"], key=lambda a: a["name"]) == artifacts
    # what was compared, so a vacuous pass is visible
    report = by_key(ours["start"])[("blank", "report")]["components"]
    assert [c["type"] for c in report] == [
        "markdown",
        "table",
        "image",
        "progressBar",
        "log",
        "vegaChart",
        "artifacts",
        "valueBox",
        "pythonCode",
    ]
    assert report[3] == {
        "type": "progressBar",
        "id": "bar",
        "max": 10,
        "value": 3,
        "label": "steps",
        "unit": "it",
        "details": "3 done",
    }
    default = by_key(ours["start"])[("default", None)]
    assert [a["name"] for a in sorted(default["artifacts"], key=lambda a: a["name"])] == [
        "alpha",
        "words",
    ]
    end = by_key(ours["end"])[("blank", None)]["components"]
    assert [len(t["data"]) for t in end] == [6, 5]  # truncate=False, then the first 5 rows
    pictures = by_key(ours["end"])[("blank", "pictures")]["components"]
    assert [(p["type"], p["label"]) for p in pictures] == [("image", "pil"), ("image", "plot")]


def test_with_card_adds_the_same_cards(sides: Sides) -> None:
    """`run --with card`: the default card on every step, beside a step's own card of
    another type, listing the same artifacts."""
    file = sides.flow("mf_with_card")
    mf, ft = sides.metaflow(file, "--with", "card"), sides.flowtui(file, "--with", "card")
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output
    theirs = metaflow_cards(sides, file, mf.run_id, "WithCardFlow")
    ours = flowtui_cards(sides, ft.run_id, "WithCardFlow")

    def shown(dump: dict[str, Any]) -> dict[str, Any]:
        return {
            step: sorted(
                (c["type"], c["id"] or "", sorted(a["name"] for a in c["artifacts"])) for c in cards
            )
            for step, cards in dump.items()
        }

    assert shown(ours) == shown(theirs)
    assert shown(ours) == {
        "start": [("default", "", ["x"])],
        "middle": [("blank", "notes", []), ("default", "", ["x", "y"])],
        "end": [("default", "", ["x", "y"])],
    }
