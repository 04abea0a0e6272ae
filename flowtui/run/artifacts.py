"""An artifact as a task holds it: a reference to a stored value, never the value itself."""

from __future__ import annotations

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


def artifact_records(task_id: str, artifacts: ArtifactMap) -> list[ArtifactRecord]:
    return [ref.record(task_id, name) for name, ref in artifacts.items()]
