"""The client's two global settings, with Metaflow's meaning: the namespace that filters runs,
and the "metadata provider", which here is the store directory the client reads.

The default namespace is `user:<current user>`; `namespace(None)` sees every run. The default
store is found like the CLI finds it (`$FLOWTUI_STORE`, then the nearest `.flowtui/` upwards),
so inside a running step the client reads the store of the run it belongs to.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from flowtui.store import Store, find_store_root

_UNSET = object()
_namespace: object = _UNSET  # str, None (everything), or _UNSET (default, resolved lazily)
_store_root: Path | None = None  # set by metadata(); None: find it each time
_local = threading.local()


def current_user() -> str:
    from flowtui.flow.current import resolve_username  # on first use: `current` costs imports

    return resolve_username()


def namespace(ns: str | None) -> str | None:
    """Switch the namespace (a tag such as `user:alice`); `None` sees every run."""
    global _namespace
    _namespace = ns
    return get_namespace()


def get_namespace() -> str | None:
    """The namespace that filters runs now (`None`: no filter)."""
    if _namespace is _UNSET:
        from flowtui.flow.current import NAMESPACE_ENV

        given = os.environ.get(NAMESPACE_ENV)
        if given is not None:  # inside a run started with --namespace (empty: every run)
            return namespace(given or None)
        return default_namespace()
    return _namespace if _namespace is None else str(_namespace)


def default_namespace() -> str:
    """Reset the namespace to the default, `user:<current user>`, and return it."""
    global _namespace
    _namespace = f"user:{current_user()}"
    return str(_namespace)


def metadata(location: str) -> str:
    """Read runs from the store at `location` (a directory, or `local@DIR` as in Metaflow)."""
    global _store_root
    path = location.split("@", 1)[1] if location.startswith("local@") else location
    _store_root = Path(path).expanduser().resolve()
    return get_metadata()


def get_metadata() -> str:
    """Where the client reads from, as `local@<store directory>`."""
    return f"local@{store_root()}"


def default_metadata() -> str:
    """Forget `metadata(...)`: find the store as the CLI does, and return where it is."""
    global _store_root
    _store_root = None
    return get_metadata()


def store_root() -> Path:
    return _store_root if _store_root is not None else find_store_root()


def open_store() -> Store | None:
    """The store the client reads now, or None when there is none yet.

    One `Store` per directory and thread: SQLite connections are not shared between threads.
    """
    root = store_root()
    stores: dict[Path, Store] | None = getattr(_local, "stores", None)
    if stores is None:
        stores = _local.stores = {}
    store = stores.get(root)
    if store is None:
        if not (root / "metadata.db").is_file():
            return None
        store = stores[root] = Store(root, create=False)
    return store
