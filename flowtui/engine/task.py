"""One task attempt: what the runner asks (`TaskRequest`), running the step, persisting its
artifacts, and what it answers (`TaskOutcome`).

`_run` runs inside the task's own process (`engine/task_process.py` sets that process up; a
Ray worker or `flowtui debug` call it their own way). It writes artifact blobs itself and
returns the outcome, which the process sends to the runner as one JSON line; the runner records
it in the metadata: the task never touches SQLite.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from flowtui.engine import step_clock
from flowtui.engine.cards import TaskCards
from flowtui.engine.loader import load_flow_class, user_traceback
from flowtui.flow import FlowSpec, current
from flowtui.flow.current import _TaskContext
from flowtui.flow.spec import Inputs, class_constants
from flowtui.flow.user_decorators import UserDecoratorError
from flowtui.graph.model import PARALLEL_VAR
from flowtui.run.artifacts import ArtifactMap, ArtifactRef, short_repr, type_name
from flowtui.run.status import EXCEPTION, EXIT, PICKLE, TIMEOUT, TaskError
from flowtui.store.blobs import ArtifactPickleError, BlobStore, StoreFullError
from flowtui.store.lost_values import LostValueError

_IMMUTABLE = (str, bytes, int, float, complex, bool, type(None), frozenset)


@dataclass(frozen=True)
class ForeachFrame:
    index: int
    count: int
    value_hash: str  # the blob of the foreach's list (the parent foreach step's artifact)
    step: str = ""  # the first step inside the foreach (Metaflow's frame names it)
    var: str = ""  # the foreach's artifact (`foreach="items"`)


@dataclass(frozen=True)
class TaskRequest:
    """All a task process needs; plain data, so it can cross a spawn as well as a fork."""

    file: str
    flow_name: str
    store_root: str
    run_id: str
    step: str
    task_id: str
    attempt: int
    stdout: str
    stderr: str
    inherited: ArtifactMap
    next_steps: tuple[str, ...] = ()
    foreach_var: str | None = None
    is_end: bool = False
    join_inputs: tuple[tuple[str, str, ArtifactMap], ...] = ()  # (step, task_id, artifacts)
    foreach: tuple[ForeachFrame, ...] = ()
    catch_var: str | None = None
    catch_print: bool = True
    catch: bool = False
    env: dict[str, str] = field(default_factory=dict)
    origin_run_id: str | None = None
    user: str = ""
    tags: tuple[str, ...] = ()
    timeout: float | None = None  # @timeout, in seconds
    memory: int | None = None  # @resources(memory=MB): enforced with RLIMIT_AS
    project: tuple[str, str, bool, str] | None = None  # @project: a ProjectInfo's fields
    switch: bool = False  # the step is a switch: next_steps are its cases' steps
    resources: dict[str, float] = field(default_factory=dict)  # @resources given (cpu, gpu, ...)
    runner_pid: int = field(default_factory=os.getpid)
    debug: str | None = None  # "post-mortem" or "break": run under a debugger (flowtui debug)
    breakpoints: str = "wait"  # breakpoint() waits for a debugger to attach, or is "off"
    persist: bool = True  # False: the artifacts the step sets are not written (a debug attempt)
    # The flow file's text as the run checked it, for a process that imports the file afresh
    # (spawn, a Ray worker): it runs that text, not the file as it is on disk by then. None in
    # a forked task, which has the runner's class (`register_flow_class`).
    source: str | None = None
    # The run's `--with` decorators, which such a process adds to the class it imports (a
    # forked task's class has them already).
    with_decorators: tuple[str, ...] = ()
    # The run's configs (name: stored value), which such a process's class body is given (a
    # forked task's class was made with them).
    configs: dict[str, Any] = field(default_factory=dict)
    # @catch's fallback attempt: the process of every earlier one died; the step's code does
    # not run, and the catch variable gets a FailureHandledByCatch (as Metaflow's).
    fallback: bool = False


INPUT_READS_NOTHING = (
    "input() in a step reads nothing (a task runs apart from the terminal); pass the value "
    "as a Parameter, or stop at breakpoint() and set it in the debugger"
)


@dataclass
class TaskOutcome:
    """What a task process sends its runner, as one JSON line on its result pipe."""

    ok: bool
    artifacts: ArtifactMap = field(default_factory=dict)
    foreach_count: int | None = None
    error: TaskError | None = None
    caught: TaskError | None = None  # the error @catch caught (the task still succeeds)
    chosen: str | None = None  # a switch: the step its condition chose
    lost: str | None = None  # the blob of a stored value it failed on, damaged or missing

    @classmethod
    def raised(cls, e: BaseException, traceback_text: str) -> TaskOutcome:
        """A task that raised `e` outside its step (flowtui's own failure, or a stored value
        it could not load, such as its foreach's list)."""
        error = TaskError(type(e).__name__, str(e), traceback_text, module=type(e).__module__)
        return cls(ok=False, error=error, lost=lost_blob(e))

    def to_json(self) -> str:
        return _json_text(
            {
                "ok": self.ok,
                "artifacts": {name: ref.to_json() for name, ref in self.artifacts.items()},
                "foreach_count": self.foreach_count,
                "error": self.error.to_json() if self.error else None,
                "caught": self.caught.to_json() if self.caught else None,
                "chosen": self.chosen,
                "lost": self.lost,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> TaskOutcome:
        data = json.loads(text)
        return cls(
            ok=bool(data["ok"]),
            artifacts={k: ArtifactRef.from_json(v) for k, v in data["artifacts"].items()},
            foreach_count=data.get("foreach_count"),
            error=TaskError.from_json(data.get("error")),
            caught=TaskError.from_json(data.get("caught")),
            chosen=data.get("chosen"),
            lost=data.get("lost"),
        )


def lost_blob(e: BaseException | None) -> str | None:
    """The blob of the stored value `e` (or an error it was raised from, as a step that wraps
    it raises) found damaged or missing: its runner records the fact, and a resume runs the
    task that made the value again."""
    for _ in range(8):  # a chain is short; a loop of causes is not followed for ever
        if e is None:
            return None
        if isinstance(e, LostValueError):
            return e.digest
        e = e.__cause__ or e.__context__
    return None


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# json.dumps' own C encoder, made once: json.dumps makes one per call, through three Python
# functions a forked task would pay for in copied pages. The same text as json.dumps (no
# check for cycles: an outcome has none).
_ENCODE = (
    c_make_encoder(None, _not_json, encode_basestring_ascii, None, ": ", ", ", False, False, True)
    if c_make_encoder is not None
    else None
)


def _json_text(data: Any) -> str:
    if _ENCODE is None:
        return json.dumps(data)
    return "".join(_ENCODE(data, 0))


class StepFailure(Exception):
    """A failure of the step's contract (not an exception from user code)."""

    def __init__(self, message: str, reason: str = EXCEPTION) -> None:
        super().__init__(message)
        self.reason = reason


# Flow classes already imported in this process (the runner's, inherited through fork), and
# the text each file was imported from (what a task that imports it afresh is sent).
_loaded: dict[tuple[str, str], type[FlowSpec]] = {}
_sources: dict[str, str] = {}


def register_flow_class(file: str, flow_name: str, cls: type[FlowSpec], source: str) -> None:
    _loaded[(file, flow_name)] = cls
    _sources[file] = source


def checked_source(file: str) -> str | None:
    """The text of `file` this process's run checked and imported (None: none was)."""
    return _sources.get(file)


def _flow_class(req: TaskRequest) -> type[FlowSpec]:
    cls = _loaded.get((req.file, req.flow_name))
    if cls is None:  # a spawned process or a Ray worker: import the run's text afresh
        from flowtui.flow.config import ConfigReading, reading_configs, resolve_decorators

        reading = ConfigReading(req.flow_name, given=dict(req.configs))
        with reading_configs(reading):
            cls = load_flow_class(Path(req.file), req.flow_name, req.source)
        resolve_decorators(cls)
        from flowtui.engine.run_options import apply_decorators

        steps = {
            name
            for klass in cls.__mro__
            for name, f in vars(klass).items()
            if getattr(f, "is_step", False)
        }
        apply_decorators(cls, sorted(steps), req.with_decorators)
        _loaded[(req.file, req.flow_name)] = cls
    return cls


class _StoreSource:
    """Lazily loads a task's inherited artifacts from the blob store."""

    def __init__(self, blobs: BlobStore, artifacts: ArtifactMap) -> None:
        self._blobs = blobs
        self._artifacts = artifacts
        self.loaded: dict[str, Any] = {}

    def names(self) -> list[str]:
        return list(self._artifacts)

    def hash_of(self, name: str) -> str | None:
        entry = self._artifacts.get(name)
        return entry.hash if entry else None

    def load(self, name: str) -> Any:
        value = self._blobs.get_value(self._artifacts[name].hash, f"artifact '{name}'")
        self.loaded[name] = value
        return value


class FailureHandledByCatch(Exception):
    """What @catch stores when the task's process kept dying (no exception of the step to
    catch): Metaflow's `metaflow.plugins.catch_decorator.FailureHandledByCatch`."""


def _limit_memory(req: TaskRequest) -> None:
    """Cap the task's address space at what it uses now plus its @resources(memory=MB): an
    allocation past it raises MemoryError in the step (reported as OutOfMemory)."""
    if not req.memory:
        return
    try:
        import resource

        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = used + int(req.memory) * (1 << 20)
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError, ImportError):
        return  # not Linux: recorded, not enforced


_store_in_env: str | None = None  # FLOWTUI_STORE names this store (set by the fork server)


def set_store_in_environment(store_root: str) -> None:
    """FLOWTUI_STORE, read by the client inside a step, set once for every task to come (the
    fork server's): a task then sets it only if its store is another."""
    global _store_in_env
    os.environ["FLOWTUI_STORE"] = store_root
    _store_in_env = store_root


# Blob stores already open in this process, by store root (the runner's, inherited through
# fork: a task then makes none of its own).
_blob_stores: dict[str, BlobStore] = {}


def register_blob_store(store_root: str, blobs: BlobStore) -> None:
    _blob_stores[store_root] = blobs


def _run(req: TaskRequest, blobs: Any = None, note: step_clock.Note | None = None) -> TaskOutcome:
    """Run the step. `blobs` reads inputs and keeps new values (default: the store's blobs;
    the Ray executor passes one backed by Ray's object store); `note` tells the runner when a
    @timeout step's clock starts and stops (engine/step_clock.py)."""
    if blobs is None:
        blobs = _blob_stores.get(req.store_root) or BlobStore(Path(req.store_root, "blobs"))
    if req.env:
        os.environ.update(req.env)
    if req.env or _store_in_env != req.store_root:  # the server may have set it for its tasks
        os.environ["FLOWTUI_STORE"] = req.store_root  # the client inside a step reads this store
    context = _TaskContext(
        flow_name=req.flow_name,
        run_id=req.run_id,
        step_name=req.step,
        task_id=req.task_id,
        retry_count=req.attempt,
        origin_run_id=req.origin_run_id,
        username=req.user or None,
        tags=req.tags,
        store=req.store_root,
        project=req.project,
    )
    current._bind(context)
    if not req.debug:  # under `flowtui debug`, breakpoint() is the terminal's own pdb
        from flowtui.engine.breakpoints import install

        install(req.store_root, req.task_id, req.breakpoints)
    cls = _flow_class(req)
    context.flow_class = cls  # current.parameter_names reads it
    cards = TaskCards.of(req, cls)
    if cards is not None:
        current._card = cards.collector
    flow = cls.__new__(cls)
    source = _StoreSource(blobs, req.inherited)
    foreach_input = None
    stack: list[tuple[int, int, Any]] = []
    for frame in req.foreach:
        if frame.var == PARALLEL_VAR:  # a @parallel gang's node: its input is its index
            item: Any = frame.index
        else:
            item = _item(blobs.get_value(frame.value_hash), frame.index)
        stack.append((frame.index, frame.count, item))
        foreach_input = item
    flow._flowtui_bind(
        source,
        {k: v.hash for k, v in req.inherited.items()},
        step=req.step,
        foreach_frames=tuple(stack),
        foreach_input=foreach_input,
        foreach_names=tuple((f.step, f.var) for f in req.foreach),
    )
    known: dict[str, ArtifactRef] = {ref.hash: ref for ref in req.inherited.values()}
    args: list[Any] = []
    if req.join_inputs:
        flows = []
        for _step, _task, artifacts in req.join_inputs:
            inp = cls.__new__(cls)
            inp._flowtui_bind(
                _StoreSource(blobs, artifacts),
                {k: v.hash for k, v in artifacts.items()},
                step=_step,
                read_only=True,
            )
            known.update({ref.hash: ref for ref in artifacts.values()})
            flows.append(inp)
        args.append(Inputs(flows, [s for s, _, _ in req.join_inputs]))

    if req.step == "start":
        _store_class_constants(flow)

    error: TaskError | None = None
    caught_error: TaskError | None = None
    raised: BaseException | None = None
    try:
        if req.fallback:  # @catch's fallback: the step's code does not run again
            raise FailureHandledByCatch(
                f"Task execution kept failing over {req.attempt} attempts. Your code did not "
                "raise an exception. Something in the execution environment caused the failure."
            )
        step_clock.start(req.step, req.timeout, note)
        _limit_memory(req)
        try:
            wrappers = getattr(getattr(cls, req.step), "_flowtui_wrappers", ())
            if wrappers:  # user step decorators (flow/user_decorators.py) around the step
                _run_wrapped(req, flow, args, wrappers)
            else:
                _call_step(req, flow, args)
        finally:
            step_clock.disarm()
        _check_transition(req, flow)
    except step_clock.TimeoutException as e:  # the traceback shows the line that was running
        error = TaskError("TimeoutError", str(e), "".join(user_traceback(e)), TIMEOUT)
        raised = e
    except StepFailure as e:
        error, raised = TaskError("StepError", str(e), reason=e.reason), e
    except MemoryError as e:
        message = (
            f"step '{req.step}' needed more memory than its @resources(memory={req.memory}) "
            "(MB) allows; raise the limit or make the step use less"
            if req.memory
            else str(e)
        )
        kind = "OutOfMemory" if req.memory else "MemoryError"
        error, raised = TaskError(kind, message, "".join(user_traceback(e))), e
    except SystemExit as e:
        message = f"step '{req.step}' called sys.exit({e.code!r}); raise an exception instead"
        error = TaskError("SystemExit", message, "".join(user_traceback(e)), EXIT)
    except Exception as e:
        error = TaskError(
            type(e).__name__, str(e), "".join(user_traceback(e)), module=type(e).__module__
        )
        if type(e).__module__ == "bdb":  # `q` in the debugger at a breakpoint()
            from flowtui.engine.breakpoints import quit_error

            error = quit_error(e)
        elif isinstance(e, UserDecoratorError) and len(error.traceback.splitlines()) < 3:
            error = replace(error, traceback="")  # a sentence, raised by none of the user's lines
        elif type(e) is EOFError and str(e) == "EOF when reading a line":  # input()
            error = replace(error, message=f"{error.message}: {INPUT_READS_NOTHING}")
        raised = e
    step_clock.stopped(req.timeout, note)

    if error is not None and req.catch and error.reason != EXIT:
        if req.catch_print:
            sys.stderr.write(error.traceback or f"{error.summary()}\n")
            sys.stderr.write(f"@catch: step '{req.step}' failed; the flow continues.\n")
        caught = CaughtException(raised, error.traceback or None)
        if req.catch_var:
            setattr(flow, req.catch_var, caught)
        caught_error, error = error, None
    elif error is None and req.catch_var and req.catch_var not in vars(flow):
        setattr(flow, req.catch_var, None)

    try:
        artifacts = _persist(flow, source, req.inherited, known, blobs) if req.persist else {}
    except StepFailure as e:
        if error is None:
            error = TaskError("ArtifactError", str(e), reason=PICKLE)
        artifacts = dict(req.inherited)
    if cards is not None and cards.slots:
        cards.finish(flow, list(artifacts))

    foreach_count = None
    if error is None and req.foreach_var:
        try:
            foreach_count = _foreach_count(req, flow)
        except StepFailure as e:
            error = TaskError("ForeachError", str(e), reason=e.reason)
    return TaskOutcome(
        ok=error is None,
        artifacts=artifacts,
        foreach_count=foreach_count,
        error=error,
        caught=caught_error,
        chosen=_chosen(req, flow) if error is None else None,
        lost=lost_blob(raised) if error is not None else None,
    )


def _call_step(req: TaskRequest, flow: FlowSpec, args: list[Any]) -> None:
    if req.debug:
        from flowtui.engine.debug import call_under_debugger

        call_under_debugger(req.debug, getattr(flow, req.step), args, req.file)
    else:
        getattr(flow, req.step)(*args)


def _run_wrapped(req: TaskRequest, flow: FlowSpec, args: list[Any], wrappers: Any) -> None:
    """The step inside its user decorators; a skipped step (or one whose exception a decorator
    swallowed) goes on to its `self.next` as the file declares it, as on Metaflow."""
    from flowtui.flow.user_decorators import run_step_with_wrappers

    def default_next(given: dict[str, Any] | None) -> None:
        if not req.next_steps:  # the end step
            return
        object.__setattr__(flow, "_flowtui_transition", None)
        steps = [getattr(flow, name) for name in req.next_steps]
        if given is not None:
            flow.next(*steps, **given)
        elif req.switch:
            raise StepFailure(
                f"Step '{req.step}' is a switch; a user decorator that skips it must give "
                "self.next's arguments (yield a dict of them)."
            )
        else:
            flow.next(*steps, foreach=req.foreach_var)

    inputs = args[0] if args else None
    # each task its own copies (as each of Metaflow's tasks is a fresh process): a Ray worker
    # that runs several tasks never carries one task's skip_step or generator to the next
    own = [copy.copy(w) for w in wrappers]
    run_step_with_wrappers(
        flow, req.step, lambda *a: _call_step(req, flow, list(a)), inputs, own, default_next
    )


def _chosen(req: TaskRequest, flow: FlowSpec) -> str | None:
    """The step a switch's condition chose (None for any other step)."""
    taken = flow._flowtui_transition
    return taken[0][0] if req.switch and taken else None


class CaughtException(Exception):
    """What `@catch(var=...)` stores, shaped as Metaflow's `MetaflowExceptionWrapper`.

    `type` is the module-qualified class name (`builtins.ValueError`), `exception` the
    message (`str(exc)`), `stacktrace` the user traceback; `str()` gives the traceback.
    """

    def __init__(self, exc: BaseException | None = None, stacktrace: str | None = None) -> None:
        super().__init__()
        self.exception = str(exc) if exc is not None else ""
        cls = type(exc)
        self.type = ""
        if isinstance(exc, step_clock.TimeoutException):  # what a Metaflow flow compares with
            self.type = "metaflow.plugins.timeout_decorator.TimeoutException"
        elif isinstance(exc, FailureHandledByCatch):
            self.type = "metaflow.plugins.catch_decorator.FailureHandledByCatch"
        elif exc is not None:
            self.type = f"{cls.__module__}.{cls.__name__}"
        self.stacktrace = stacktrace

    def __reduce__(self) -> Any:
        return CaughtException, (), self.__dict__

    def __setstate__(self, state: dict[str, Any] | None) -> None:
        self.__dict__.update(state or {})

    def __str__(self) -> str:
        return self.stacktrace or f"[no stacktrace]\n{self.type}: {self.exception}"

    def __repr__(self) -> str:
        return str(self)


def _store_class_constants(flow: FlowSpec) -> None:
    """As Metaflow does, the start step stores the class body's constants (`LIMIT = 5`) as
    artifacts, so every task and the client see them (a join passes them down from its first
    input, with the parameters: `task_request.task_request`); parameters and methods are not."""
    cls = type(flow)
    for name in class_constants(cls):
        if name not in vars(flow):  # stored past the guard that keeps them read-only
            object.__setattr__(flow, name, getattr(cls, name))


def _item(items: Any, index: int) -> Any:
    try:
        return items[index]
    except TypeError:
        return list(items)[index]


def _check_transition(req: TaskRequest, flow: FlowSpec) -> None:
    taken = flow._flowtui_transition
    if req.is_end:
        if taken is not None:
            raise StepFailure("The end step must not call self.next(); remove that call.")
        return
    if taken is None:
        raise StepFailure(
            f"Step '{req.step}' finished without calling self.next(...); end it with "
            f"self.next(self.{req.next_steps[0] if req.next_steps else 'end'})."
        )
    steps, foreach = taken
    if req.switch and flow._flowtui_switched and steps[0] in req.next_steps:
        return
    if steps != req.next_steps or foreach != req.foreach_var:
        want = ", ".join(f"self.{s}" for s in req.next_steps)
        if req.foreach_var:
            want += f', foreach="{req.foreach_var}"'
        raise StepFailure(
            f"Step '{req.step}' called self.next() differently from what the file declares "
            f"(self.next({want})); self.next must be the step's last statement."
        )


def _foreach_count(req: TaskRequest, flow: FlowSpec) -> int:
    var = req.foreach_var or ""
    try:
        items = getattr(flow, var)
    except AttributeError:
        raise StepFailure(
            f"Step '{req.step}' has foreach=\"{var}\" but never set self.{var}; "
            "set it to a list of items before self.next()."
        ) from None
    try:
        count = len(items)
    except TypeError:
        try:
            count = len(list(iter(items)))
        except TypeError:
            raise StepFailure(
                f"The foreach over self.{var} in step '{req.step}' needs a list or other "
                f"iterable, not a {type(items).__name__}."
            ) from None
    if count == 0:
        raise StepFailure(
            f"The foreach over self.{var} in step '{req.step}' has no items; "
            "a foreach needs at least one."
        )
    if isinstance(items, Mapping) and any(i not in items for i in range(count)):
        # each task takes its item by position (as on Metaflow): a dict's keys are not that
        raise StepFailure(
            f"The foreach over self.{var} in step '{req.step}' is a {type(items).__name__}, "
            f"whose items are not at positions 0 to {count - 1}; make it a list: "
            f"list(self.{var}) for its keys, or list(self.{var}.items()) for its pairs."
        )
    return count


def _persist(
    flow: FlowSpec,
    source: _StoreSource,
    inherited: ArtifactMap,
    known: dict[str, ArtifactRef],
    blobs: BlobStore,
) -> ArtifactMap:
    """Every public artifact of the task: inherited ones by reference, new values written."""
    out: ArtifactMap = {}
    for name, digest in flow._flowtui_inherited.items():
        ref = known.get(digest)
        if ref is not None:
            out[name] = ref
    failures = []
    for name, value in list(vars(flow).items()):
        if name.startswith("_"):
            continue
        loaded = source.loaded.get(name, _MISSING)
        if loaded is value and isinstance(value, _IMMUTABLE) and name in out:
            continue  # read but necessarily unchanged: keep the reference
        try:
            stored = blobs.put_value(value)
        except ArtifactPickleError as e:
            failures.append(f"self.{name} ({e})")
            continue
        except StoreFullError as e:
            raise StepFailure(f"self.{name} was not stored: {e}", reason=PICKLE) from None
        out[name] = ArtifactRef(stored.hash, type_name(value), stored.size, short_repr(value))
    if failures:
        raise StepFailure(
            "These artifacts cannot be stored: " + "; ".join(failures) + ". Store a picklable "
            "value instead, or keep it in a name starting with '_' (not persisted).",
            reason=PICKLE,
        )
    return out


_MISSING = object()
