"""How a parameter's value is read from text: one rule for the runner's command line and the
TUI's parameters form, so that what the form accepts the runner accepts too."""

from __future__ import annotations

import json
from typing import Any

#: The words Metaflow's command line (click 7) accepts for a boolean, lower-cased.
TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y"})
FALSE_WORDS = frozenset({"0", "false", "f", "no", "n"})
#: What a value of each type must be, for error messages.
EXPECTED = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "json": "valid JSON",
}


def parse_value(kind: str, text: str) -> Any:
    """`text` as a value of type `kind` (int, float, bool, json, or str); `ValueError` when it
    is not one."""
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise ValueError(text)
    if kind == "json":
        return json.loads(text)
    return text
