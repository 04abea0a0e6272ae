"""A task's `@card`s: give the step its `current.card`, save the cards while and after it runs.

Runs inside the task process. Cards are written by the task itself into the store's
`cards/TASK_ID/` (see `flowtui.store.cards`), never through SQLite, so a refresh costs one small
file write and nothing in the runner. A card never fails its task: a component that cannot be
rendered becomes a `log` component saying why, and a card that cannot be saved is reported on
the task's stderr.
"""

from __future__ import annotations

import signal
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowtui.flow.cards.collector import CardCollector, CardSlot, slots_from_decorators
from flowtui.flow.cards.components import artifact_entry
from flowtui.flow.decorators import StepDecorator, step_decorators
from flowtui.flow.parameters import Parameter
from flowtui.store.cards import CardFiles

if TYPE_CHECKING:
    from flowtui.engine.task import TaskRequest
    from flowtui.flow import FlowSpec


class CardTimeout(Exception):
    """Rendering a card took longer than its `@card(timeout=...)`."""


class TaskCards:
    """The cards of one task attempt."""

    @classmethod
    def of(cls, req: TaskRequest, flow: type[FlowSpec]) -> TaskCards | None:
        """The task's cards; None for a step without @card, which has none to make or save
        (`current.card` is then made when first used: an empty collector)."""
        func = getattr(flow, req.step, None)
        decorators = step_decorators(func) if func is not None else ()
        if not any(d.name == "card" for d in decorators):
            return None
        return cls(req, decorators)

    def __init__(self, req: TaskRequest, decorators: tuple[StepDecorator, ...]) -> None:
        self.slots = slots_from_decorators((d.name, d.args) for d in decorators)
        self.timeouts = [float(d.args.get("timeout") or 0) for d in decorators if d.name == "card"]
        self.collector = CardCollector(self.slots)
        self.files = CardFiles(Path(req.store_root))
        self.task_id = req.task_id
        self.pathspec = f"{req.flow_name}/{req.run_id}/{req.step}/{req.task_id}"
        if self.slots:
            self.files.clear(req.task_id)  # an earlier attempt's cards are replaced
        for slot in self.slots:
            slot.save = self._save_running
            self._save_running(slot, False)  # readers see the card (empty, live) at once

    def _save_running(self, slot: CardSlot, final: bool) -> None:
        self._write(slot, self._document(slot, final=final))

    def _document(self, slot: CardSlot, *, final: bool) -> dict[str, Any]:
        known = slot.type in ("default", "blank")
        return {
            "type": slot.type,
            "id": slot.id,
            "title": str(slot.options.get("title") or ""),
            "pathspec": self.pathspec,
            "final": final,
            "updated": time.time(),
            "components": slot.rendered() if known else [],
            "artifacts": [],
            "parameters": [],
            "error": None
            if known
            else f"Card type {slot.type!r} is not available locally; "
            "use type='default' or type='blank'.",
        }

    def _write(self, slot: CardSlot, document: dict[str, Any]) -> None:
        try:
            self.files.write(self.task_id, slot.index, document)
        except Exception as e:
            sys.stderr.write(f"@card warning: the card could not be saved: {e}\n")

    def finish(self, flow: FlowSpec, artifact_names: list[str]) -> None:
        """Save every card in its final form (the default card lists the task's artifacts)."""
        for slot, limit in zip(self.slots, self.timeouts, strict=True):
            try:
                with _deadline(limit):
                    document = self._document(slot, final=True)
                    if slot.type == "default":
                        self._add_artifacts(document, flow, artifact_names)
            except CardTimeout:
                document = self._document(slot, final=True)
                document["components"] = []
                document["error"] = (
                    f"The card took longer than its @card(timeout={limit:g}) to render; "
                    "raise the timeout or add fewer components."
                )
            except Exception:
                document = self._document(slot, final=True)
                document["error"] = "The card could not be rendered:\n" + traceback.format_exc()
            self._write(slot, document)

    @staticmethod
    def _add_artifacts(document: dict[str, Any], flow: FlowSpec, names: list[str]) -> None:
        params = {
            name
            for klass in type(flow).__mro__
            for name, value in vars(klass).items()
            if isinstance(value, Parameter)
        }
        for name in sorted(names):
            if name.startswith("_") or name == "name":  # `name`: the flow's, as in Metaflow
                continue
            try:
                value = getattr(flow, name)
            except Exception as e:
                value = f"<not loadable: {type(e).__name__}>"
            key = "parameters" if name in params else "artifacts"
            document[key].append(artifact_entry(value, name))


class _deadline:
    """Raise `CardTimeout` in this thread after `seconds` (0: no limit)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __enter__(self) -> None:
        if self.seconds > 0:
            signal.signal(signal.SIGALRM, self._expired)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc: object) -> None:
        if self.seconds > 0:
            signal.setitimer(signal.ITIMER_REAL, 0)

    @staticmethod
    def _expired(signum: int, frame: Any) -> None:
        raise CardTimeout
