"""Debug a task: run it again in the foreground, with the inputs it had, under a debugger.

`flowtui debug FLOW/RUN/STEP[/TASK]` rebuilds the task exactly as the runner built it (its
parents' artifacts, its foreach item, the run's parameters, `current` naming the same run and
task) and runs the step in this process, where the terminal is, under `pdb` (or the debugger
`$PYTHONBREAKPOINT` names, e.g. `ipdb.set_trace`). By default the debugger opens post-mortem at
the exception, with the user's deepest frame in the flow file selected; `--break` stops at the
step's first line instead. The file's current code runs (as for spin), so a fix can be tried.

Nothing is recorded unless asked: the debug attempt writes no metadata and no blobs. With
`store_result` it is recorded as a spin of the task (a run of kind `spin` whose origin is the
debugged run), so its artifacts can be read and compared like any task's.
"""

from __future__ import annotations

import importlib
import os
import pdb
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType, ModuleType, TracebackType
from typing import Any

from rich.text import Text

from flowtui.engine.breakpoints import NotWaiting, attach, breakpoint_hook, socket_path
from flowtui.engine.prepare import checked_graph, prepare
from flowtui.engine.report import Reporter
from flowtui.engine.spin import SpinConfig, SpinRunner, find_source_task
from flowtui.engine.task import TaskOutcome, TaskRequest, _run
from flowtui.errors import UsageError
from flowtui.run.artifacts import artifact_records
from flowtui.run.events import Notice
from flowtui.run.status import RunStatus, TaskError
from flowtui.store import Store, ensure_logs
from flowtui.store.records import NewTask, TaskRecord

POST_MORTEM = "post-mortem"
BREAK = "break"
DEBUG_TAG = "debug"  # the tag of a debug attempt kept with --store-result
_SKIP = ["flowtui.*", "cloudpickle.*"]  # stepping never stops inside flowtui's own code


QUIT_MESSAGE = "the debugger was quit (q) before the step finished"


class DebuggerQuit(Exception):
    """`q` at `--break`: the step stopped where the debugger stood, not by its own error."""


INTERRUPTED = "the step was stopped with Ctrl-C"


class DebugInterrupted(Exception):
    """Ctrl-C while the step ran under `flowtui debug` (post-mortem then opened there)."""


@dataclass
class DebugConfig:
    task_id: str  # the task to debug
    file: Path | None = None  # the flow file (default: the one the run was started from)
    mode: str = POST_MORTEM
    store_result: bool = False
    store: str | None = None


@dataclass(frozen=True)
class DebugResult:
    source_pathspec: str  # the task that was debugged
    ok: bool  # the step finished without an exception this time
    error: str | None  # `Type: message` of the exception, when it raised
    stored_pathspec: str | None  # the spin recorded with --store-result
    code_changed: bool  # the flow file differs from the code the run ran

    def summary(self) -> Text:
        """The lines `flowtui debug` ends with: how the step ended, and what was kept."""
        text = Text()
        if self.ok:
            text.append("✔ ", style="bold green")
            text.append(f"The step finished this time ({self.source_pathspec}).\n")
        elif self.error == f"{DebuggerQuit.__name__}: {QUIT_MESSAGE}":
            text.append("✖ ", style="bold red")
            text.append("You quit the debugger before the step finished.\n")
        elif self.error == f"{DebugInterrupted.__name__}: {INTERRUPTED}":
            text.append("✖ ", style="bold red")
            text.append("You stopped the step (Ctrl-C) before it finished.\n")
        else:
            text.append("✖ ", style="bold red")
            text.append(f"The step raised {(self.error or 'an error').rstrip('.')}.\n")
        if self.code_changed:
            text.append("The flow file has changed since that run: its current code ran.\n", "dim")
        if self.stored_pathspec:
            text.append(f"Recorded as {self.stored_pathspec} (a spin).", style="cyan")
        else:
            text.append("Nothing was stored (--store-result keeps the attempt as a spin).", "dim")
        return text


class UserPdb(pdb.Pdb):
    """pdb that opens at the user's frame: the deepest one in the flow file (post-mortem),
    or the step's first line (`--break`, not pdb's `--Call--` stop on the `def`)."""

    def __init__(self, user_file: str) -> None:
        super().__init__(skip=_SKIP)
        self.user_file = os.path.realpath(user_file)
        self._entered = False
        self.quit_asked = False  # the user typed `q` (pdb then stops the step where it stood)

    def set_quit(self) -> None:
        self.quit_asked = True
        super().set_quit()

    def setup(self, f: FrameType | None, tb: TracebackType | None) -> Any:
        result = super().setup(f, tb)
        if tb is not None:
            index = self._user_frame_index()
            if index is not None:
                self.curindex = index
                self.curframe = self.stack[index][0]
                self.curframe_locals = self.curframe.f_locals
        return result

    def _user_frame_index(self) -> int | None:
        flowtui_dir = str(Path(__file__).resolve().parent.parent) + os.sep
        fallback = None
        for index in range(len(self.stack) - 1, -1, -1):
            filename = self.stack[index][0].f_code.co_filename
            if os.path.realpath(filename) == self.user_file:
                return index
            if fallback is None and not filename.startswith((flowtui_dir, "<")):
                fallback = index
        return fallback

    def user_call(self, frame: FrameType, argument_list: Any) -> None:
        if not self._entered:  # the step's own call: stop at its first line, not at `def`
            self._entered = True
            return
        super().user_call(frame, argument_list)


def debugger_module() -> ModuleType | None:
    """The module of the debugger `$PYTHONBREAKPOINT` names (`ipdb.set_trace` -> ipdb), or None
    for pdb. `0` (breakpoints off) is ignored here: running `flowtui debug` asks for one."""
    hook = breakpoint_hook()
    if not hook or hook == "0" or "." not in hook:
        return None
    name = hook.rsplit(".", 1)[0]
    if name == "pdb":
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        print(f"flowtui: PYTHONBREAKPOINT names {hook}, which cannot be imported; using pdb.")
        return None


def call_under_debugger(
    mode: str, method: Callable[..., Any], args: Sequence[Any], user_file: str
) -> None:
    """Call the step `method(*args)` under the debugger; an exception it raises is re-raised
    after the post-mortem session, so the attempt still reads as failed."""
    module = debugger_module()
    if mode == BREAK:
        if module is not None and hasattr(module, "runcall"):
            module.runcall(method, *args)
            return
        debugger = UserPdb(user_file)
        debugger.runcall(method, *args)
        if debugger.quit_asked:  # `q`: pdb ends the step there, as if it had returned
            raise DebuggerQuit(QUIT_MESSAGE)
        return
    try:
        method(*args)
    except (Exception, KeyboardInterrupt) as e:
        # Ctrl-C in a slow step is a question too ("where is it?"): pdb opens where it was
        stopped = isinstance(e, KeyboardInterrupt)
        print(f"KeyboardInterrupt: {INTERRUPTED}" if stopped else f"{type(e).__name__}: {e}")
        where = "was when you stopped it" if stopped else "failed"
        print(f"Post-mortem: the debugger stands where the step {where}.", flush=True)
        if module is not None and hasattr(module, "post_mortem"):
            module.post_mortem(e.__traceback__)
        else:
            debugger = UserPdb(user_file)
            debugger.reset()
            debugger.interaction(None, e.__traceback__)
        if stopped:  # the attempt ends as stopped, not as flowtui's own interruption
            raise DebugInterrupted(INTERRUPTED) from None
        raise


class DebugRunner(SpinRunner):
    """Builds the task's request as the runner would, and runs it here, under the debugger."""

    def __init__(self, config: DebugConfig, store: Store, reporter: Reporter) -> None:
        self.debug_config = config
        source = store.meta.task(config.task_id)
        if source is None:
            raise UsageError(f"The store has no task {config.task_id}.")
        run = store.meta.run(source.run_id)
        assert run is not None
        file = config.file or Path(run.file)
        if not file.is_file():
            raise UsageError(
                f"Run {run.pathspec} was started from {run.file}, which no longer exists; "
                "pass the flow file with --file."
            )
        spin = SpinConfig(file=file, step=source.step, store=config.store, task_id=source.task_id)
        super().__init__(spin, store, reporter)
        self.source = source
        self.code_changed = store.meta.run_source(run.run_id) != file.read_text(errors="replace")

    def debug_task(self) -> DebugResult:
        meta = self.store.meta
        _, graph = checked_graph(self.spin.file, self.spin.flow)
        source = find_source_task(self.store, graph, self.spin.step, None, self.source.task_id)
        origin = meta.run(source.run_id)
        assert origin is not None
        self._adopt(prepare(self.config, origin.params, self.store.blobs.get_value), origin.params)
        self.resume = None
        pending = self._pending(source)
        stored_pathspec = None
        if self.debug_config.store_result:
            self.run_id = meta.create_run(
                self.flow_name,
                file=str(self.file),
                source=self.file.read_text(errors="replace"),
                params=self.params,
                user=self.user,
                tags=(DEBUG_TAG,),
                kind="spin",
                origin_run_id=origin.run_id,
                resume_step=source.step,
            )
            new = NewTask(
                pending.step,
                pending.foreach_index,
                [[f.index, f.count] for f in pending.frames if f.foreach],
                [f.to_json() for f in pending.frames],
                list(pending.parents),
            )
            task_id = meta.create_tasks(self.run_id, [new])[0]
            stdout, stderr = self.store.log_paths(self.run_id, pending.step, task_id, 0)
            ensure_logs(stdout, stderr)  # the step runs here, its output on this terminal
            meta.start_attempt(task_id, 0, str(stdout), str(stderr))
            request = self._request(pending, task_id, 0, str(stdout), str(stderr))
            stored_pathspec = self._pathspec(pending.step, task_id)
        else:  # the same run, task and attempt as the debugged one, as `current` tells it
            self.run_id = source.run_id
            request = self._request(pending, source.task_id, max(source.attempts - 1, 0), "", "")
            request = replace(request, origin_run_id=origin.origin_run_id, persist=False)
        request = replace(
            request, debug=self.debug_config.mode, timeout=None, catch=False, catch_var=None
        )
        where = (
            "its first line"
            if self.debug_config.mode == BREAK
            else "the exception (or where Ctrl-C stops the step)"
        )
        self.reporter.report(
            Notice(
                f"Debugging {source.pathspec} with the inputs it had; the debugger stops at "
                f"{where}. `p self.NAME` shows an artifact, `c` continues, `q` quits."
            )
        )
        outcome = _run(request)
        if stored_pathspec is not None:
            self._record(request, outcome)
        error = outcome.error.summary() if outcome.error is not None else None
        return DebugResult(source.pathspec, outcome.ok, error, stored_pathspec, self.code_changed)

    def _record(self, request: TaskRequest, outcome: TaskOutcome) -> None:
        meta = self.store.meta
        records = artifact_records(request.task_id, outcome.artifacts)
        if outcome.ok:
            meta.succeed_task(request.task_id, 0, records, foreach_count=outcome.foreach_count)
            meta.finish_run(self.run_id, RunStatus.SUCCEEDED.value)
            return
        error = outcome.error or TaskError("Error", "the step failed")
        meta.fail_attempt(
            request.task_id,
            0,
            reason=error.reason,
            error=error.to_json(),
            final=True,
            artifacts=records,
        )
        meta.finish_run(self.run_id, RunStatus.FAILED.value, error.summary())


def pick_task(store: Store, run_id: str, step: str) -> TaskRecord:
    """The task of a step to debug when none is named: its only task, or its only failed one."""
    tasks = store.meta.tasks(run_id, step)
    if len(tasks) == 1:
        return tasks[0]
    failed = [t for t in tasks if t.status == "failed"]
    if len(failed) == 1:
        return failed[0]
    listed = ", ".join(
        f"{t.task_id}{'' if t.foreach_index is None else f' [{t.foreach_index}]'} {t.status}"
        for t in (failed or tasks)[:10]
    )
    raise UsageError(f"Step '{step}' of run {run_id} has {len(tasks)} tasks; name one: {listed}.")


def debug(config: DebugConfig, reporter: Reporter) -> DebugResult | None:
    """Debug the task; None when it was waiting at a breakpoint() and this terminal attached."""
    store = Store.open(config.store, create=False)
    try:
        path = socket_path(str(store.root), config.task_id)
        record = store.meta.task(config.task_id)
        if record is not None and record.status == "running" and os.path.exists(path):
            reporter.report(
                Notice(f"{record.pathspec} waits at breakpoint(); attaching (c continues).")
            )
            try:
                attach(path)
                return None
            except NotWaiting:
                raise UsageError(
                    f"{record.pathspec} no longer waits at its breakpoint (another terminal "
                    "attached, or it finished)."
                ) from None
        if record is not None and record.status in ("running", "retrying", "pending"):
            raise UsageError(
                f"{record.pathspec} is {record.status} and not stopped at a breakpoint(); "
                "debug it once it has failed (or put a breakpoint() in the step)."
            )
        return DebugRunner(config, store, reporter).debug_task()
    finally:
        store.close()
