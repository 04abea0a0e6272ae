"""Import a flow file inside the runner, with `metaflow` resolving to `flowtui.compat`."""

from __future__ import annotations

import hashlib
import importlib.util
import linecache
import sys
import traceback
from pathlib import Path
from types import ModuleType

import cloudpickle

from flowtui.errors import FlowtuiError, UsageError
from flowtui.flow import FlowSpec


class FlowImportError(FlowtuiError):
    """The flow file raised while being imported; `details` holds the user-code traceback."""

    def __init__(self, message: str, details: str) -> None:
        super().__init__(message)
        self.details = details

    def __reduce__(self) -> tuple[type[FlowImportError], tuple[str, str]]:
        return type(self), (str(self), self.details)  # crosses a pipe: engine/ray_driver.py


def install_metaflow_alias() -> None:
    """Make `import metaflow` give flowtui's compatible module, in this process only.

    Only runner and task processes call this; the TUI never does, and neither does an
    interactive session that merely imports flowtui.
    """
    import flowtui.compat as compat

    sys.modules["metaflow"] = compat


def import_flow_module(file: Path, source: str | None = None) -> ModuleType:
    """Import the flow file as a module. `source`: the file's text as it was checked (and
    stored as the run's code), else read now; that text is what runs, and what tracebacks
    quote, however the file changes on disk while the run goes on (`pin_source`)."""
    file = file.resolve()
    # Named after the file, as a plain import would be, unless that name is taken.
    name = file.stem
    if not name.isidentifier() or name in sys.modules or name in sys.stdlib_module_names:
        name = f"flowtui_flow_{hashlib.sha1(str(file).encode()).hexdigest()[:10]}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise UsageError(f"{file} cannot be imported as a Python module.")
    module = importlib.util.module_from_spec(spec)
    folder = str(file.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    sys.modules[name] = module
    # Values of classes defined in the flow file are pickled by value, so the client, the TUI's
    # preview and other processes can load them without this module.
    cloudpickle.register_pickle_by_value(module)
    try:
        if source is None:  # a process importing the file afresh (spawn, a Ray worker, debug)
            source = importlib.util.decode_source(file.read_bytes())
        pin_source(str(file), source)
        exec(compile(source, str(file), "exec", dont_inherit=True), module.__dict__)
        track_classes(module, f"{file}\0{source}")
    except BaseException as e:
        del sys.modules[name]
        cloudpickle.unregister_pickle_by_value(module)
        if isinstance(e, KeyboardInterrupt | UsageError):  # a config that cannot be read
            raise
        details = "".join(user_traceback(e))
        raise FlowImportError(
            f"{file.name} raised {type(e).__name__} while being imported: {e}", details
        ) from None
    return module


def track_classes(module: ModuleType, text: str) -> None:
    """Give each class the flow file defines a tracker id made from what it is, where
    cloudpickle would draw a random one per process.

    Its values are pickled by value, class and all, and that id is in the pickle: with a
    random one, the same value stored by two runs (or a run and a spin) had two hashes, so
    `flowtui diff`, `s` and `d` called every such artifact changed ("type odd.Point →
    odd.Point") and the store kept a copy per run. The id says two classes are the same (an
    unpickling process reuses the first class for both), so it is a hash of the class's own
    pickle (its methods' code, the globals they use, its attributes: a class attribute set
    at import time from the clock or the environment makes another id), the file's path and
    text, and its name. A class that cannot be pickled, or one pickled before the classes it
    uses have their ids, keeps a random id, as cloudpickle's default; so does every class if
    cloudpickle's internals are not as expected."""
    internals = getattr(cloudpickle, "cloudpickle", None)
    by_class = getattr(internals, "_DYNAMIC_CLASS_TRACKER_BY_CLASS", None)
    by_id = getattr(internals, "_DYNAMIC_CLASS_TRACKER_BY_ID", None)
    lock = getattr(internals, "_DYNAMIC_CLASS_TRACKER_LOCK", None)
    if by_class is None or by_id is None or lock is None:
        return
    for cls in _defined_classes(module):
        if cls in by_class:  # already pickled, or tracked by an import before this one
            continue
        with lock:
            by_class[cls] = "flowtui-pending"  # a stand-in, so its pickle has no random id
        try:
            data = cloudpickle.dumps(cls)
        except Exception:
            data = None
        with lock:
            del by_class[cls]
            if data is not None:
                digest = hashlib.sha256(f"{text}\0{cls.__qualname__}\0".encode() + data)
                tracker = f"flowtui-{digest.hexdigest()[:32]}"
                if by_id.setdefault(tracker, cls) is cls:
                    by_class[cls] = tracker


def _defined_classes(module: ModuleType) -> list[type]:
    """The classes `module` defines (not its flows), nested ones before the class holding
    them and each after those defined above it: the order their pickles refer to each other."""
    found: list[type] = []

    def visit(cls: type) -> None:
        if cls in found or cls.__module__ != module.__name__ or issubclass(cls, FlowSpec):
            return
        for inner in vars(cls).values():
            if isinstance(inner, type):
                visit(inner)
        found.append(cls)

    for value in list(vars(module).values()):
        if isinstance(value, type):
            visit(value)
    return found


def pin_source(filename: str, source: str) -> None:
    """Make tracebacks (and `inspect`) in this process and the tasks it forks quote `source`
    for `filename`, not the file's text on disk when they are formatted: a user who edits the
    flow while it runs would otherwise see a failed task's traceback quote the new text at the
    old line numbers. An entry without a modification time is one `linecache.checkcache`
    never drops (as for a module whose loader gave its source)."""
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)


def load_flow_class(file: Path, flow_name: str, source: str | None = None) -> type[FlowSpec]:
    install_metaflow_alias()
    module = import_flow_module(file, source)
    cls = getattr(module, flow_name, None)
    if not (isinstance(cls, type) and issubclass(cls, FlowSpec)):
        raise UsageError(
            f"{file.name} defines no FlowSpec class named {flow_name} when imported; "
            "check that the class is defined at module level."
        )
    return cls


_FLOWTUI_DIR = str(Path(__file__).resolve().parent.parent) + "/"
# Folders shown under another name in tracebacks: a Ray worker runs a copy of the flow's folder,
# and its tracebacks name the files where the user has them (see ray_task).
_SHOWN_AS: dict[str, str] = {}


def show_paths_as(folder: str, shown: str) -> None:
    _SHOWN_AS[folder.rstrip("/") + "/"] = shown.rstrip("/") + "/"


def _shown(filename: str) -> str:
    for folder, shown in _SHOWN_AS.items():
        if filename.startswith(folder):
            return shown + filename[len(folder) :]
    return filename


def user_traceback(exc: BaseException) -> list[str]:
    """The exception's traceback with flowtui's own frames removed (user frames only)."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith(_FLOWTUI_DIR) and "importlib._bootstrap" not in f.filename
    ]
    for f in frames:
        f.filename = _shown(f.filename)
    lines = ["Traceback (most recent call last):\n"]
    lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    return lines
