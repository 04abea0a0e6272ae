"""An artifact as a task holds it: a reference to a stored value, never the value itself."""

from __future__ import annotations

import itertools
import reprlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flowtui.store.records import ArtifactRecord


@dataclass(frozen=True)
class ArtifactRef:
    """A value stored once under its hash, with what is shown without loading it."""

    hash: str
    type: str
    size: int
    repr: str

    def to_json(self) -> list[Any]:
        return [self.hash, self.type, self.size, self.repr]

    @classmethod
    def from_json(cls, data: Any) -> ArtifactRef:
        """From `to_json()`'s list, or from a `{hash, type, size, repr}` mapping."""
        if isinstance(data, dict):
            return cls(str(data["hash"]), str(data["type"]), int(data["size"]), str(data["repr"]))
        digest, type_, size, shown = data
        return cls(str(digest), str(type_), int(size), str(shown))

    @classmethod
    def of(cls, record: ArtifactRecord) -> ArtifactRef:
        return cls(record.hash, record.type, record.size, record.repr)

    def record(self, task_id: str, name: str) -> ArtifactRecord:
        return ArtifactRecord(task_id, name, self.hash, self.type, self.size, self.repr)


#: A task's artifacts by name.
ArtifactMap = dict[str, ArtifactRef]


def artifact_map(records: list[ArtifactRecord]) -> ArtifactMap:
    return {r.name: ArtifactRef.of(r) for r in records}


def artifact_maps(
    task_ids: Iterable[str], rows: Iterable[tuple[int, str, str, str, int, str]]
) -> dict[str, ArtifactMap]:
    """Each task's artifacts from rows `(task id, name, hash, type, size, repr)`; every task of
    `task_ids` gets a map, empty if no row names it. Equal references are one object (the
    artifacts a foreach's tasks inherit are the same value: 10,000 clones share them)."""
    maps: dict[str, ArtifactMap] = {str(t): {} for t in task_ids}
    refs: dict[tuple[str, str, int, str], ArtifactRef] = {}
    for task_id, name, digest, type_, size, shown in rows:
        key = (digest, type_, size, shown)
        ref = refs.get(key)
        if ref is None:
            ref = refs[key] = ArtifactRef(*key)
        maps[str(task_id)][name] = ref
    return maps


def artifact_records(task_id: str, artifacts: ArtifactMap) -> list[ArtifactRecord]:
    return [ref.record(task_id, name) for name, ref in artifacts.items()]


class _InOrder(reprlib.Repr):
    """reprlib's, but a dict's keys in their order, as `repr` shows them (reprlib sorts them:
    `{'b': 1, 'a': 2}` read as `{'a': 2, 'b': 1}`, and a DataFrame-like dict of columns showed
    its columns out of order)."""

    def repr_dict(self, x: dict[Any, Any], level: int) -> str:
        if not x:
            return "{}"
        if level <= 0:
            return "{...}"
        pieces = [
            f"{self.repr1(key, level - 1)}: {self.repr1(x[key], level - 1)}"
            for key in itertools.islice(x, self.maxdict)
        ]
        if len(x) > self.maxdict:
            pieces.append("...")
        return "{" + ", ".join(pieces) + "}"


_repr = _InOrder()
_repr.maxstring = 80
_repr.maxother = 80
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 8
_NUMBERS = frozenset({int, float, bool, type(None)})


#: Control characters shown as `\xNN` (a `str.translate` table): a user's text printed
#: with them spelled out drives no terminal (tab and line breaks included here: a repr is one
#: table cell).
CONTROL_ESCAPES = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]}


#: `CONTROL_ESCAPES` but for line breaks and tabs: a text shown over many lines.
TEXT_CONTROLS = {c: e for c, e in CONTROL_ESCAPES.items() if c not in (0x09, 0x0A)}


def inert_text(text: str) -> str:
    """`text` (a string, a repr, a card, an exception's message: the user's) with its escape
    codes and other control characters written out but its lines and tabs kept, so it shows
    as it is: drawn as it was, ESC[2J would clear the screen, ESC[31m colour it."""
    return text.translate(TEXT_CONTROLS)


def inert(text: str) -> str:
    """`text` (a repr a class of the user's wrote) with its control characters spelled out,
    so an escape sequence in it neither drives a terminal (`flowtui artifacts`: a colour, a
    cleared screen, a window title) nor puts a table's columns out of line."""
    return text.translate(CONTROL_ESCAPES)


def short_repr(value: Any) -> str:
    """A one-line repr of at most 120 characters, without building a huge one first; its
    control characters spelled out (`inert`)."""
    if type(value) in _NUMBERS:  # reprlib gives these their repr while short (a task's usual)
        text = repr(value)  # no control characters in a number's repr
        if len(text) <= _repr.maxlong:
            return text
    try:
        if isinstance(value, (bytes, bytearray, memoryview)):
            head = bytes(value[:40])
            more = f"… ({len(value):,} bytes)" if len(value) > 40 else ""
            text = repr(head) + more
        else:
            text = _repr.repr(value)
    except Exception as e:
        text = f"<repr failed: {type(e).__name__}>"
    text = inert(" ".join(text.split()))
    return text if len(text) <= 120 else text[:119] + "…"


def type_name(value: Any) -> str:
    t = type(value)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"
