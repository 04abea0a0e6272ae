"""Reading a task's cards back: `get_cards(task)`, as `metaflow.cards.get_cards`.

A card is a stored document (see `flowtui.store.cards`); `Card.components` are its components
in Metaflow's shape, `Card.get()` a standalone HTML page of it (`Card.view()` opens it in a
browser; a card or the container drawn in a notebook shows its pages, each in a frame), and
`Card.refreshed()` reads it again (a running task's dynamic card changes while it runs). A
task that a resume reused shows the cards of the task that actually ran, as Metaflow does.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flowtui.client.errors import MetaflowNotFound
from flowtui.client.objects import Task
from flowtui.store import Store


class Card:
    """One card of a task."""

    def __init__(self, document: dict[str, Any], task: Task, index: int) -> None:
        self._document = document
        self._task = task
        self._index = index

    @property
    def type(self) -> str:
        return str(self._document.get("type") or "default")

    @property
    def id(self) -> str | None:
        value = self._document.get("id")
        return None if value is None else str(value)

    @property
    def title(self) -> str:
        return str(self._document.get("title") or "")

    @property
    def final(self) -> bool:
        """False while the task is still running and the card may change."""
        return bool(self._document.get("final"))

    @property
    def components(self) -> list[dict[str, Any]]:
        return list(self._document.get("components") or [])

    @property
    def pathspec(self) -> str:
        return str(self._document.get("pathspec") or self._task.pathspec)

    @property
    def from_resumed(self) -> bool:
        return self.pathspec != self._task.pathspec

    @property
    def document(self) -> dict[str, Any]:
        """Everything stored: components, and the default card's artifacts and parameters."""
        return dict(self._document)

    def get_data(self) -> dict[str, Any]:
        """The card's data, by component id (as Metaflow's `Card.get_data()["data"]`)."""
        return {c["id"]: c for c in self.components if isinstance(c, dict) and c.get("id")}

    def get(self) -> str:
        """The card as a standalone HTML page (no network needed to open it)."""
        from flowtui.client.card_render import card_html

        return card_html(self._document)

    def view(self) -> str:
        """Open the card in a web browser (Python's `webbrowser`, so `$BROWSER` is honoured);
        the page's path, kept after the call so the browser can read it (and printed when no
        browser opens, as on a remote machine)."""
        import tempfile
        import webbrowser

        name = f"{self._task.pathspec.replace('/', '-')}-{self.type}-{self._index}-"
        fd, path = tempfile.mkstemp(prefix=f"flowtui-card-{name}", suffix=".html")
        with open(fd, "w", encoding="utf-8") as f:
            f.write(self.get())
        if not webbrowser.open(Path(path).as_uri()):
            print(f"No web browser could be opened here; the card's page is {path}")
        return path

    def _repr_html_(self) -> str:
        """Drawn in a notebook's output cell: the card's page in a frame of its own, so its
        styles and the notebook's keep apart."""
        return _framed(self)

    def refreshed(self) -> Card | None:
        """The same card read again from the store (None if it is gone)."""
        for card in get_cards(self._task):
            if card._index == self._index:
                return card
        return None

    def __repr__(self) -> str:
        name = self.type + (f" id={self.id}" if self.id else "")
        return f"<Card {name} of {self._task.pathspec}>"


class CardContainer:
    """The cards of a task: iterate, index by position, or `len()`."""

    def __init__(self, cards: list[Card]) -> None:
        self._cards = cards

    def __iter__(self) -> Iterator[Card]:
        return iter(self._cards)

    def __len__(self) -> int:
        return len(self._cards)

    def __getitem__(self, index: int) -> Card:
        return self._cards[index]

    @property
    def from_resumed(self) -> bool:
        """Whether the cards are those of the task a resume reused (as Metaflow's)."""
        return any(card.from_resumed for card in self._cards)

    @property
    def origin_pathspec(self) -> str | None:
        """The task whose cards these are, when a resume reused it; else None."""
        return self._cards[0].pathspec if self.from_resumed else None

    def _repr_html_(self) -> str:
        """Every card, one under the other, in a notebook's output cell."""
        if not self._cards:
            return "<p>This task has no cards.</p>"
        return "\n".join(
            f"<h3>{html.escape(card.title or card.type)}</h3>{_framed(card)}"
            for card in self._cards
        )

    def __repr__(self) -> str:
        return f"<CardContainer {self._cards!r}>"


def _framed(card: Card) -> str:
    """A card's page as an `<iframe srcdoc>`, grown to its content's height once loaded."""
    return (
        f'<iframe title="{html.escape(card.type)} card of {html.escape(card.pathspec)}" '
        'style="width: 100%; height: 480px; border: 1px solid #ddd" '
        "onload=\"this.style.height = (this.contentDocument.body.scrollHeight + 32) + 'px'\" "
        f'srcdoc="{html.escape(card.get(), quote=True)}"></iframe>'
    )


def get_cards(
    task: Task | str, id: str | None = None, type: str | None = None, follow_resumed: bool = True
) -> CardContainer:
    """The cards of `task` (a `Task` or its pathspec), optionally only those of an `id` or
    `type`; none when the step had no `@card`."""
    if isinstance(task, str):
        task = Task(task)
    if not isinstance(task, Task):
        raise MetaflowNotFound(
            f"get_cards needs a Task or a task pathspec (Flow/RUN/STEP/TASK), not {task!r}."
        )
    store: Store = task._store
    source_id = task.id
    origin = task.origin_pathspec
    if follow_resumed and origin and not store.cards.read(source_id):
        source_id = origin.rsplit("/", 1)[-1]
    cards = [
        Card(document, task, i)
        for i, document in enumerate(store.cards.read(source_id))
        if (id is None or document.get("id") == id)
        and (type is None or document.get("type") == type)
    ]
    return CardContainer(cards)


def select_card(task: Task, id: str | None = None, type: str | None = None) -> Card:
    """The one card of `task` that `id`/`type` pick; a sentence naming the choices otherwise."""
    all_cards = list(get_cards(task))
    if not all_cards:
        raise MetaflowNotFound(
            f"Task {task.pathspec} has no cards; add @card to step '{task.parent.id}' "
            "(cards are saved while the task runs)."
        )
    chosen = [
        c for c in all_cards if (id is None or c.id == id) and (type is None or c.type == type)
    ]
    if len(chosen) == 1 or (chosen and id is None and type is None):
        return chosen[0]
    names = ", ".join(f"{c.type}" + (f" --id {c.id}" if c.id else "") for c in all_cards)
    what = "no card" if not chosen else f"{len(chosen)} cards"
    raise MetaflowNotFound(
        f"Task {task.pathspec} has {what} matching that; its cards: {names}. "
        "Pick one with --id ID or --type TYPE."
    )


def select_metaflow_card(
    mf_task: Any, id: str | None = None, type: str | None = None
) -> dict[str, Any]:
    """The document of the card of a task that real Metaflow ran (see `metaflow_runs`)."""
    from flowtui.client.metaflow_runs import metaflow_cards

    pathspec = mf_task.pathspec
    documents = metaflow_cards(mf_task)
    if not documents:
        raise MetaflowNotFound(f"Metaflow task {pathspec} has no cards.")
    chosen = [
        d
        for d in documents
        if (id is None or d["id"] == id) and (type is None or d["type"] == type)
    ]
    if chosen:
        return chosen[0]
    names = ", ".join(d["type"] + (f" --id {d['id']}" if d["id"] else "") for d in documents)
    raise MetaflowNotFound(
        f"Metaflow task {pathspec} has no card matching that; its cards: {names}."
    )


def card_document(
    source: str, store: str | None, pathspec: str, id: str | None, type: str | None
) -> dict[str, Any]:
    """The card a reader asked for, from flowtui's store or from a run Metaflow made."""
    from flowtui.client.lookup import resolve_task
    from flowtui.client.metaflow_runs import metaflow_task_if_asked
    from flowtui.client.namespace import namespace

    mf_task = metaflow_task_if_asked(source, store, pathspec)
    if mf_task is not None:
        return select_metaflow_card(mf_task, id, type)
    namespace(None)  # a reader sees every user's runs
    return select_card(resolve_task(Store.open(store, create=False), pathspec), id, type).document


def cards_stamp(task: Task) -> tuple[tuple[str, int], ...]:
    """Changes whenever one of the task's cards is written (cheap: no file is read)."""
    return task._store.cards.stamp(task.id)


def task_cards_at(store_root: str, pathspec: str) -> tuple[list[Card], bool]:
    """The cards of the task `pathspec` in the store at `store_root`, and whether the task has
    finished (for readers that follow a running task's cards from outside a run)."""
    from pathlib import Path

    from flowtui.client.objects import Run

    store = Store(Path(store_root), create=False)
    parts = pathspec.split("/")
    if len(parts) != 4:
        raise MetaflowNotFound(f"{pathspec} is not a task pathspec (Flow/RUN/STEP/TASK).")
    run = Run("/".join(parts[:2]), _store=store, _namespace_check=False)  # any user's run
    task = run[parts[2]][parts[3]]
    return list(get_cards(task)), task.finished_at is not None  # succeeded or failed
