"""`current.card`: the cards a running step fills, as Metaflow's `current.card` does.

A step's `@card` decorators each give one `CardSlot`. `current.card.append(...)` adds to the
*default editable* card (the only card; else the one with `customize=True`; else the only one
without an `id`), `current.card["ID"]` is the card with that id, `.components["ID"]` one of
its components by id. `refresh()` saves the card as it is now, at most once per the card's
`refresh_interval` (unless `force=True`), which is how a dynamic card updates while its task
runs. The engine gives the slots a `save` function and saves every card once more at the end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flowtui.flow.cards.components import MetaflowCardComponent

EDITABLE_TYPES = ("default", "blank")

SaveCard = Callable[["CardSlot", bool], None]  # (slot, final)


def _warn(message: str) -> None:
    sys.stderr.write(f"@card warning: {message}\n")


class CardSlot:
    """One `@card` of the running step: its settings and the components added to it."""

    def __init__(
        self,
        index: int,
        type: str = "default",
        id: str | None = None,
        options: dict[str, Any] | None = None,
        refresh_interval: float = 5,
        customize: bool = False,
    ) -> None:
        self.index = index
        self.type = type
        self.id = id
        self.options = dict(options or {})
        self.refresh_interval = refresh_interval
        self.customize = customize
        self.editable = type in EDITABLE_TYPES
        self._components: dict[str, MetaflowCardComponent] = {}
        self._added = 0
        self.save: SaveCard | None = None
        self._last_save = 0.0
        self.changed_at = time.time()

    # -- what the step calls -------------------------------------------------------------
    def append(self, component: MetaflowCardComponent, id: str | None = None) -> None:
        if not isinstance(component, MetaflowCardComponent):
            _warn(
                f"{type(component).__name__} is not a card component and was not added; "
                "use one from metaflow.cards (Markdown, Table, Image, ...)."
            )
            return
        if id is not None:
            component.component_id = id
            for key, existing in self._components.items():
                if existing.component_id == id:  # the same id again replaces it, in place
                    self._components[key] = component
                    self.changed_at = time.time()
                    return
        self._added += 1
        self._components[f"{self._added}"] = component
        self.changed_at = time.time()

    def extend(self, components: Iterable[MetaflowCardComponent]) -> None:
        for component in components:
            self.append(component)

    def clear(self) -> None:
        self._components.clear()
        self.changed_at = time.time()

    @property
    def components(self) -> _ComponentsById:
        return _ComponentsById(self)

    def __getitem__(self, component_id: str) -> MetaflowCardComponent:
        return self.components[component_id]

    def __setitem__(self, component_id: str, component: MetaflowCardComponent) -> None:
        self.append(component, id=component_id)

    def __iter__(self) -> Iterator[MetaflowCardComponent]:
        return iter(list(self._components.values()))

    def __len__(self) -> int:
        return len(self._components)

    def refresh(self, data: Any = None, force: bool = False) -> None:
        """Save the card as it is now, for readers watching the running task."""
        now = time.monotonic()
        if self.save is None or (not force and now - self._last_save < self.refresh_interval):
            return
        self._last_save = now
        self.save(self, False)

    # -- what the engine reads -----------------------------------------------------------
    def rendered(self) -> list[dict[str, Any]]:
        """Each component's stored form, in the order they were added."""
        return [component.safe_render() for component in list(self._components.values())]

    def __repr__(self) -> str:
        return f"<card type={self.type!r} id={self.id!r} components={len(self)}>"


class _ComponentsById:
    """`card.components["ID"]`: a component added with an id (or given one when rendered)."""

    def __init__(self, slot: CardSlot) -> None:
        self._slot = slot

    def __getitem__(self, key: str) -> MetaflowCardComponent:
        for component in self._slot:
            if component.component_id == key:
                return component
        raise KeyError(f"No component with id {key!r} on this card.")

    def __contains__(self, key: object) -> bool:
        return any(c.component_id == key for c in self._slot)

    def keys(self) -> list[str]:
        return [c.component_id for c in self._slot if c.component_id is not None]


class CardCollector:
    """`current.card` while a step runs: every `@card` of the step, and the default one."""

    def __init__(self, slots: list[CardSlot] | None = None) -> None:
        self.slots = list(slots or [])
        self._default = self._pick_default()
        self._warned = False

    def _pick_default(self) -> CardSlot | None:
        editable = [s for s in self.slots if s.editable]
        if len(editable) == 1:
            return editable[0]
        customized = [s for s in editable if s.customize]
        if len(customized) == 1:
            return customized[0]
        without_id = [s for s in editable if s.id is None]
        return without_id[0] if len(without_id) == 1 else None

    def _target(self) -> CardSlot | None:
        if self._default is None and not self._warned:
            self._warned = True
            if not self.slots:
                _warn("this step has no @card, so current.card adds to nothing; add @card.")
            else:
                _warn(
                    "current.card cannot tell which of this step's cards to add to; "
                    'give the cards ids and use current.card["ID"].append(...).'
                )
        return self._default

    def append(self, component: MetaflowCardComponent, id: str | None = None) -> None:
        target = self._target()
        if target is not None:
            target.append(component, id=id)

    def extend(self, components: Iterable[MetaflowCardComponent]) -> None:
        target = self._target()
        if target is not None:
            target.extend(components)

    def clear(self) -> None:
        target = self._target()
        if target is not None:
            target.clear()

    @property
    def components(self) -> _ComponentsById:
        target = self._target()
        return (target or CardSlot(-1)).components

    def refresh(self, data: Any = None, force: bool = False) -> None:
        target = self._target()
        if target is not None:
            target.refresh(data, force)

    def __getitem__(self, card_id: str) -> CardSlot:
        for slot in self.slots:
            if slot.id == card_id:
                return slot
        known = ", ".join(repr(s.id) for s in self.slots if s.id) or "none"
        raise KeyError(
            f"This step has no @card with id={card_id!r} (ids here: {known}); "
            f'add @card(id="{card_id}") to the step.'
        )

    def __setitem__(self, card_id: str, components: Iterable[MetaflowCardComponent]) -> None:
        slot = self[card_id]
        slot.clear()
        slot.extend(components)

    def __contains__(self, card_id: object) -> bool:
        return any(s.id == card_id for s in self.slots)

    def __iter__(self) -> Iterator[MetaflowCardComponent]:
        target = self._default
        return iter(target) if target is not None else iter(())

    def __repr__(self) -> str:
        return f"<current.card: {len(self.slots)} card(s)>"


def slots_from_decorators(decorators: Iterable[tuple[str, dict[str, Any]]]) -> list[CardSlot]:
    """The step's cards, in the order their `@card` decorators apply (nearest the def first)."""
    args = [a for name, a in decorators if name == "card"]
    return [
        CardSlot(
            index=i,
            type=str(a.get("type") or "default"),
            id=a.get("id"),
            options=a.get("options"),
            refresh_interval=float(a.get("refresh_interval", 5)),
            customize=bool(a.get("customize", False)),
        )
        for i, a in enumerate(args)
    ]
