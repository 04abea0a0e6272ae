"""What differs between two tasks, two steps or two runs: their artifacts, compared by value.

Artifacts with the same content hash are equal and never loaded. For a changed one the
difference is told in the value's own terms: a text diff for strings and reprs, the delta for
numbers, and for numpy arrays and pandas DataFrames the shape/dtype changes, how many elements
differ, the largest absolute difference and the first differing rows. numpy and pandas are
never imported here: a value that is an array was unpickled by them, so they are loaded already.

Tasks of two runs are matched by their place in the flow (step, and the branch or foreach item
of every enclosing split), as resume matches them; ids differ from run to run.
"""

from __future__ import annotations

import difflib
import math
import pprint
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text

from flowtui.client.base import DataArtifact
from flowtui.client.errors import MetaflowInvalidPathspec, TaskNotFound
from flowtui.client.lookup import resolve_step_or_task, run_by_id
from flowtui.client.objects import Run, Step, Task
from flowtui.store import Store

MAX_LINES = 40  # lines of difference shown per artifact
MAX_ROWS = 5  # differing rows (or elements) shown for arrays and DataFrames


Entry = tuple[str, str, str]  # (name, type, short repr) of an artifact on one side

MARKS = {"changed": "~", "added": "+", "removed": "-", "same": "="}
"""Each kind of artifact difference and its one-character mark, as `render` and the TUI show it."""


@dataclass(frozen=True)
class ArtifactChange:
    """One artifact that is in both tasks with different values."""

    name: str
    old_type: str
    new_type: str
    lines: tuple[str, ...]  # the readable difference
    hashes: tuple[str, str] = ("", "")  # (before, after): the same change seen in another task
    reprs: tuple[str, str] = ("", "")  # (before, after): the short reprs the store keeps

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "types": [self.old_type, self.new_type],
            "reprs": list(self.reprs),
            "hashes": list(self.hashes),
            "lines": list(self.lines),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArtifactChange:
        old_type, new_type = data["types"]
        hashes, reprs = data.get("hashes", ["", ""]), data.get("reprs", ["", ""])
        return cls(
            data["name"],
            old_type,
            new_type,
            tuple(data["lines"]),
            (hashes[0], hashes[1]),
            (reprs[0], reprs[1]),
        )


@dataclass(frozen=True)
class ArtifactPair:
    """One artifact of a comparison, both sides: `mark` is a key of `MARKS`; a side where the
    artifact is absent has an empty repr."""

    name: str
    mark: str
    before: str
    after: str
    lines: tuple[str, ...] = ()  # the readable difference of a changed one


@dataclass(frozen=True)
class TaskDiff:
    """What differs between task `a` and task `b` (pathspecs)."""

    a: str
    b: str
    added: tuple[Entry, ...] = ()  # only in b
    removed: tuple[Entry, ...] = ()  # only in a
    changed: tuple[ArtifactChange, ...] = ()
    unchanged: tuple[Entry, ...] = ()  # in both, equal

    @property
    def same(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def pairs(self) -> list[ArtifactPair]:
        """Every artifact side by side: the changed first, then the added, the removed and
        the same, each kind by name."""
        changed = [
            ArtifactPair(c.name, "changed", c.reprs[0], c.reprs[1], c.lines) for c in self.changed
        ]
        return [
            *sorted(changed, key=lambda p: p.name),
            *(ArtifactPair(n, "added", "", r) for n, _, r in sorted(self.added)),
            *(ArtifactPair(n, "removed", r, "") for n, _, r in sorted(self.removed)),
            *(ArtifactPair(n, "same", r, r) for n, _, r in sorted(self.unchanged)),
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "added": [list(e) for e in self.added],
            "removed": [list(e) for e in self.removed],
            "changed": [c.to_json() for c in self.changed],
            "unchanged": [list(e) for e in self.unchanged],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskDiff:
        def entries(key: str) -> tuple[Entry, ...]:
            return tuple((str(n), str(t), str(r)) for n, t, r in data.get(key, ()))

        return cls(
            data["a"],
            data["b"],
            entries("added"),
            entries("removed"),
            tuple(ArtifactChange.from_json(c) for c in data.get("changed", ())),
            entries("unchanged"),
        )


@dataclass(frozen=True)
class Diff:
    """A comparison: the matched tasks' diffs, and tasks present on one side only."""

    a: str
    b: str
    tasks: tuple[TaskDiff, ...] = ()
    only_a: tuple[str, ...] = ()
    only_b: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def same(self) -> bool:
        return not self.only_a and not self.only_b and all(t.same for t in self.tasks)

    def to_json(self) -> dict[str, Any]:
        """The comparison as `flowtui diff --json` prints it: values only as the short reprs
        the store keeps, and each change's readable difference."""
        return {
            "a": self.a,
            "b": self.b,
            "same": self.same,
            "tasks": [t.to_json() for t in self.tasks],
            "only_a": list(self.only_a),
            "only_b": list(self.only_b),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Diff:
        return cls(
            data["a"],
            data["b"],
            tuple(TaskDiff.from_json(t) for t in data.get("tasks", ())),
            tuple(data.get("only_a", ())),
            tuple(data.get("only_b", ())),
        )


# -- resolving what to compare --------------------------------------------------------------
def resolve(store: Store, text: str) -> Run | Step | Task:
    """`RUN`, `Flow/RUN`, or anything `resolve_step_or_task` takes."""
    parts = [p for p in text.strip().strip("/").split("/") if p]
    if len(parts) == 1 and parts[0].isdigit():
        return run_by_id(store, parts[0])
    if len(parts) == 2 and not parts[0].isdigit():
        return Run(f"{parts[0]}/{parts[1]}", _store=store, _namespace_check=False)
    return resolve_step_or_task(store, text)


def compare(store: Store, a: str, b: str) -> Diff:
    """Compare two pathspecs of the same kind (two runs, two steps or two tasks), or a task
    and a run: the run stands for its task at the same place (step, branch, foreach item)."""
    left, right = resolve(store, a), resolve(store, b)
    if isinstance(left, Task) and isinstance(right, Task):
        return Diff(left.pathspec, right.pathspec, (diff_tasks(left, right),))
    if isinstance(left, Task) and isinstance(right, Run):
        match = diff_tasks(left, _same_place(left, right))
        return Diff(match.a, match.b, (match,))
    if isinstance(left, Run) and isinstance(right, Task):
        match = diff_tasks(_same_place(right, left), right)
        return Diff(match.a, match.b, (match,))
    if type(left) is not type(right):
        raise MetaflowInvalidPathspec(
            f"Cannot compare {_kind(left)} {left.pathspec} with {_kind(right)} "
            f"{right.pathspec}; give two runs, two steps or two tasks."
        )
    return diff_task_sets(left.pathspec, right.pathspec, _tasks(left), _tasks(right))


def _same_place(task: Task, run: Run) -> Task:
    """`run`'s task at `task`'s place; one sentence when it has none."""
    step, _ = place(task)
    candidates = [t for t in run[step] if place(t) == place(task)] if step in run else []
    if not candidates:
        raise TaskNotFound(
            f"Run {run.pathspec} has no task at the place of {task.pathspec} "
            f"({_place_text(task)}); pick another run."
        )
    return candidates[0]


def _kind(obj: Run | Step | Task) -> str:
    return type(obj).__name__.lower()


def _tasks(obj: Run | Step | Task) -> list[Task]:
    if isinstance(obj, Task):
        return [obj]
    if isinstance(obj, Step):
        return list(obj)
    return [task for step in obj for task in step]


def place(task: Task) -> tuple[str, tuple[tuple[str, int], ...]]:
    """A task's place in its flow: its step and (split step, branch or item) of each frame."""
    return task._record.step, tuple((str(f[1]), int(f[2])) for f in task._record.frames)


def _place_text(task: Task) -> str:
    step, frames = place(task)
    return step + "".join(f"[{s}:{i}]" for s, i in frames)


def diff_task_sets(a: str, b: str, left: Iterable[Task], right: Iterable[Task]) -> Diff:
    by_place = {place(t): t for t in right}
    seen = set()
    diffs = []
    only_a = []
    for task in sorted(left, key=lambda t: int(t.id)):
        other = by_place.get(place(task))
        if other is None:
            only_a.append(task.pathspec)
            continue
        seen.add(place(task))
        diffs.append(diff_tasks(task, other))
    only_b = [t.pathspec for key, t in by_place.items() if key not in seen]
    return Diff(a, b, tuple(diffs), tuple(only_a), tuple(sorted(only_b)))


def diff_tasks(a: Task, b: Task) -> TaskDiff:
    left = {art.id: art for art in a}
    right = {art.id: art for art in b}
    added = tuple((n, right[n].type, right[n].repr) for n in sorted(right.keys() - left.keys()))
    removed = tuple((n, left[n].type, left[n].repr) for n in sorted(left.keys() - right.keys()))
    changed = []
    unchanged = []
    for name in sorted(left.keys() & right.keys()):
        old, new = left[name], right[name]
        lines = None if old.sha == new.sha else _artifact_difference(old, new)
        if lines is None:  # the same bytes, or different pickles of equal values
            unchanged.append((name, new.type, new.repr))
            continue
        changed.append(
            ArtifactChange(
                name, old.type, new.type, tuple(lines), (old.sha, new.sha), (old.repr, new.repr)
            )
        )
    return TaskDiff(a.pathspec, b.pathspec, added, removed, tuple(changed), tuple(unchanged))


def _artifact_difference(old: DataArtifact, new: DataArtifact) -> list[str] | None:
    try:
        before, after = old.data, new.data
    except Exception as e:  # unpickling runs arbitrary code: any error is the value's
        lines = [f"(cannot load the values here: {type(e).__name__}: {e}; stored reprs:)"]
        return lines + text_diff(old.repr, new.repr, quote=False)
    return describe(before, after)


# -- describing a difference ----------------------------------------------------------------
def describe(old: Any, new: Any) -> list[str] | None:
    """Readable lines saying how `new` differs from `old`; None when they are equal."""
    frame = _module_of(old, new, "pandas")
    if frame is not None:
        return _frame_difference(frame, old, new)
    np = _module_of(old, new, "numpy")
    if np is not None and isinstance(old, np.ndarray) and isinstance(new, np.ndarray):
        return _array_difference(np, old, new)
    try:
        if _equal(old, new):
            return None
    except Exception:  # a value whose == raises: compare by repr
        pass
    if _is_number(old) and _is_number(new):
        return [_number_delta(old, new)]
    if isinstance(old, str) and isinstance(new, str):
        return text_diff(old, new)
    lines = []
    if type(old) is not type(new):
        named = _type_name(old)
        if named == _type_name(new):  # a class of the flow file whose code changed
            lines.append(f"class {named}: defined again, with other code")
        else:
            lines.append(f"type {named} → {_type_name(new)}")
    before, after = _pformat(old), _pformat(new)
    if before == after:
        return lines or [f"the values differ but print the same: {_short(before)}"]
    return lines + text_diff(before, after, quote=False)


def _module_of(old: Any, new: Any, name: str) -> Any:
    module = sys.modules.get(name)
    if module is None:
        return None
    roots = {type(v).__module__.split(".")[0] for v in (old, new)}
    return module if name in roots else None


def _equal(old: Any, new: Any) -> bool:
    result = old == new
    return result is True or (isinstance(result, bool) and result)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    item = getattr(value, "item", None)  # numpy scalars
    return callable(item) and type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0


def _number_delta(old: Any, new: Any) -> str:
    try:
        delta = new - old
    except Exception:
        return f"{old!r} → {new!r}"
    text = f"{old!r} → {new!r} ({'+' if delta >= 0 else ''}{delta!r}"
    if isinstance(old, float | int) and old != 0 and math.isfinite(float(old)):
        text += f", {float(delta) / abs(float(old)):+.2%}"
    return text + ")"


def text_diff(old: str, new: str, *, quote: bool = True) -> list[str]:
    """One line `'a' → 'b'` for short single-line strings, else a unified diff of the lines.

    `quote=False` for reprs, which are shown as written."""
    if "\n" not in old and "\n" not in new and len(old) + len(new) <= 120:
        return [f"{old!r} → {new!r}" if quote else f"{old} → {new}"]
    diff = difflib.unified_diff(
        old.splitlines(), new.splitlines(), "before", "after", n=1, lineterm=""
    )
    lines = [line for line in diff if not line.startswith(("---", "+++"))]
    if not lines:  # differ only in trailing newlines
        return [f"{_short(repr(old))} → {_short(repr(new))}"]
    return _capped(lines)


def _capped(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_LINES:
        return lines
    return [*lines[:MAX_LINES], f"… ({len(lines) - MAX_LINES} more lines)"]


def _array_difference(np: Any, old: Any, new: Any) -> list[str] | None:
    lines = []
    if old.dtype != new.dtype:
        lines.append(f"dtype {old.dtype} → {new.dtype}")
    if old.shape != new.shape:
        lines.append(f"shape {old.shape} → {new.shape}")
        return lines
    try:
        differs = ~((old == new) | (_isnan(np, old) & _isnan(np, new)))
    except Exception:
        return lines or [f"{_short(repr(old))} → {_short(repr(new))}"]
    count = int(np.count_nonzero(differs))
    if count == 0:
        return lines or None
    lines.append(f"{count:,} of {old.size:,} elements differ")
    largest = _largest_difference(np, old[differs], new[differs])
    if largest is not None:
        lines.append(f"largest absolute difference: {largest:g}")
    for index in list(zip(*np.nonzero(differs), strict=True))[:MAX_ROWS]:
        where = tuple(int(i) for i in index)
        at = where[0] if len(where) == 1 else where
        lines.append(f"  [{at}]: {_plain(old[where])!r} → {_plain(new[where])!r}")
    if count > MAX_ROWS:
        lines.append(f"  … ({count - MAX_ROWS:,} more)")
    return lines


def _isnan(np: Any, values: Any) -> Any:
    if values.dtype.kind in "fc":
        return np.isnan(values)
    return np.zeros(values.shape, dtype=bool)


def _largest_difference(np: Any, old: Any, new: Any) -> float | None:
    if old.dtype.kind not in "iufcb" or new.dtype.kind not in "iufcb" or old.size == 0:
        return None
    with np.errstate(all="ignore"):
        delta = np.abs(new.astype("float64") - old.astype("float64"))
    finite = delta[np.isfinite(delta)]
    return float(finite.max()) if finite.size else None


def _frame_difference(pd: Any, old: Any, new: Any) -> list[str] | None:
    if isinstance(old, pd.Series) and isinstance(new, pd.Series):
        old, new = old.to_frame(), new.to_frame()
    if not (isinstance(old, pd.DataFrame) and isinstance(new, pd.DataFrame)):
        before, after = _pformat(old), _pformat(new)
        return [
            f"type {_type_name(old)} → {_type_name(new)}",
            *text_diff(before, after, quote=False),
        ]
    lines = []
    if old.shape != new.shape:
        lines.append(f"shape {old.shape} → {new.shape}")
    old_cols, new_cols = [str(c) for c in old.columns], [str(c) for c in new.columns]
    if added := [c for c in new_cols if c not in old_cols]:
        lines.append("columns added: " + ", ".join(added))
    if removed := [c for c in old_cols if c not in new_cols]:
        lines.append("columns removed: " + ", ".join(removed))
    for column in old.columns.intersection(new.columns):
        if old[column].dtype != new[column].dtype:
            lines.append(f"column {column}: dtype {old[column].dtype} → {new[column].dtype}")
    common = old.columns.intersection(new.columns)
    rows = old.index.intersection(new.index)
    if len(rows) < max(len(old.index), len(new.index)):
        lines.append(
            f"rows only before: {len(old.index.difference(new.index)):,}, "
            f"only after: {len(new.index.difference(old.index)):,}"
        )
    if not len(common) or not len(rows):
        return lines or None
    left, right = old.loc[rows, common], new.loc[rows, common]
    differs = (left != right) & ~(left.isna() & right.isna())
    count = int(differs.to_numpy().sum())
    if count:
        lines.append(f"{count:,} of {left.size:,} cells differ")
        numeric = [
            c for c in common if left[c].dtype.kind in "iuf" and right[c].dtype.kind in "iuf"
        ]
        if numeric:
            delta = (right[numeric].astype("float64") - left[numeric].astype("float64")).abs()
            largest = delta.max().max()
            if largest == largest:  # not NaN
                lines.append(f"largest absolute difference: {float(largest):g}")
        changed_rows = differs.any(axis=1)
        shown = list(changed_rows[changed_rows].index[:MAX_ROWS])
        for label in shown:
            cols = [c for c in common if differs.at[label, c]]
            cells = ", ".join(
                f"{c}: {_plain(left.at[label, c])!r} → {_plain(right.at[label, c])!r}" for c in cols
            )
            lines.append(f"  row {label!r}: {cells}")
        more = int(changed_rows.sum()) - len(shown)
        if more > 0:
            lines.append(f"  … ({more:,} more rows)")
    return lines or None


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (so it prints as `2.0`, not `np.float64`)."""
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0:
        return item()
    return value


def _pformat(value: Any) -> str:
    try:
        return pprint.pformat(value, width=88, compact=True)
    except Exception as e:
        return f"<repr failed: {type(e).__name__}>"


def _type_name(value: Any) -> str:
    t = type(value)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _short(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- rendering ------------------------------------------------------------------------------
def render(diff: Diff) -> Text:
    """The comparison as text for a terminal (user values never read as markup).

    Comparing runs, a change a task inherited unchanged from its parent (the same two values)
    is told once, where it first appears, and named only after that."""
    out = Text()
    out.append("Comparing ", style="bold")
    out.append(diff.a, style="bold cyan")
    out.append(" with ", style="bold")
    out.append(diff.b, style="bold cyan")
    out.append("\n")
    several = len(diff.tasks) > 1 or bool(diff.only_a or diff.only_b)
    told: set[tuple[str, ...]] = set()
    for task in diff.tasks:
        if several:
            if task.same:
                continue
            out.append(f"\n{task.a} → {task.b}\n", style="bold")
        _render_task(out, task, "  " if several else "", told)
    if diff.only_a:
        out.append(f"\nTasks only in {diff.a}: ", style="yellow")
        out.append(", ".join(diff.only_a) + "\n")
    if diff.only_b:
        out.append(f"\nTasks only in {diff.b}: ", style="yellow")
        out.append(", ".join(diff.only_b) + "\n")
    if several:
        same = sum(t.same for t in diff.tasks)
        out.append(f"\n{same} of {len(diff.tasks)} matched tasks have the same artifacts.\n")
    elif diff.same:
        out.append("The artifacts are the same.\n", style="green")
    out.rstrip()
    return out


def _render_task(out: Text, task: TaskDiff, indent: str, told: set[tuple[str, ...]]) -> None:
    again: list[str] = []
    signs = (MARKS["added"], "green", task.added), (MARKS["removed"], "red", task.removed)
    for sign, style, entries in signs:
        for name, type_, text in entries:
            key = (sign, name, type_, text)
            if key in told:
                again.append(sign + name)
                continue
            told.add(key)
            out.append(f"{indent}{sign} ", style=style)
            out.append(name, style=f"bold {style}")
            out.append(f" ({type_}) = {text}\n")
    for change in task.changed:
        sign = MARKS["changed"]
        key = (sign, change.name, *change.hashes)
        if key in told:
            again.append(sign + change.name)
            continue
        told.add(key)
        out.append(f"{indent}{sign} ", style="yellow")
        out.append(change.name, style="bold yellow")
        same_type = change.old_type == change.new_type
        out.append(f" ({change.old_type})\n" if same_type else "\n")
        for line in change.lines:
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
            out.append(f"{indent}    {line}\n", style=style)
    if again:
        out.append(f"{indent}  as above: {', '.join(again)}\n", style="dim")
    if task.unchanged:
        out.append(f"{indent}{MARKS['same']} {len(task.unchanged)} unchanged\n", style="dim")
