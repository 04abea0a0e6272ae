"""Starting runs from Python, in Metaflow's `Runner` shape: `flowtui.Runner`.

    from flowtui import Runner
    with Runner("flow.py", show_output=False).run(alpha=5) as running:
        running.status           # "successful", "failed", "running" or "timeout"
        running.run.data.x       # the client's Run of exactly this run

A run is `flowtui run` (or `resume`) in a subprocess, as the TUI starts it: the flow's code
never runs in the caller's process (which may be a Jupyter kernel). Its run id comes back
through `--run-id-file`, written by the runner as soon as the run exists, into a FIFO of the
Runner's own (as Metaflow's Runner reads its attribute file), so `.run` is that run, never
"the latest". The runner's stdout and stderr are copied to temporary files (and to this
process's console with `show_output`, for the blocking calls); `cleanup()`, or leaving the
`with` block, stops a run still going and removes those files.

Keyword arguments of `run()`/`resume()` are the flow's parameters (`alpha=5`, a list for
`multiple=True`, a dict for `JSONType`) and Metaflow's run options (`tags`, `max_workers`,
`max_num_splits`, `decospecs`, `user_namespace`; `step_to_rerun`, `origin_run_id` for
resume). `Runner(...)`'s own are the top-level options: flowtui's `store`, `flow`,
`executor`, `ray_address`, `quiet`, `branch`, `production`, `decospecs`, and Metaflow's
`env`, `cwd`, `show_output`, `profile`, `file_read_timeout` (and `pylint`, `metadata`,
`datastore`, `environment` when they ask for nothing but a local run). The command line is
the judge of everything else: a refusal before the run exists (a bad file, an unknown
parameter, a bad value) is a `RunnerError` carrying its sentence.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowtui.client.runner_process import STREAMS, RunnerError, RunnerProcess

if TYPE_CHECKING:
    from flowtui.client.objects import Run

#: The blocking calls' statuses, and the async ones' while they run (Metaflow's words).
RUNNING, SUCCESSFUL, FAILED, TIMEOUT = "running", "successful", "failed", "timeout"

# run()/resume()'s own keyword arguments (Metaflow's run options) -> flowtui's option.
_RUN_OPTIONS = {
    "tags": "--tag",
    "max_workers": "--max-workers",
    "max_num_splits": "--max-num-splits",
    "decospecs": "--with",
    "user_namespace": "--namespace",
}
_RESUME_OPTIONS = {"origin_run_id": "--origin-run-id"}
# Metaflow's options that flowtui has no use for: accepted, no effect.
_IGNORED_RUN_OPTIONS = frozenset({"max_log_size"})
# Metaflow's options that only its internals pass, refused by name.
_INTERNAL_RUN_OPTIONS = frozenset(
    {"runner_attribute_file", "run_id", "clone_only", "reentrant", "resume_identifier"}
)
# Runner(...)'s top-level options: flowtui's, as the CLI takes them before the file.
_TOP_OPTIONS = {
    "flow": "--flow",
    "executor": "--executor",
    "ray_address": "--ray-address",
    "branch": "--branch",
    "decospecs": "--with",
}
_TOP_FLAGS = {"quiet": "--quiet", "production": "--production"}
# Metaflow's top-level options a local run honours by being one: accepted when they ask for
# nothing else ("local"), or whatever they say (pylint: flowtui checks the file its own way).
_LOCAL_ONLY = ("metadata", "datastore", "environment")
_IGNORED_TOP = frozenset({"pylint"})


def flowtui_command(*args: str) -> list[str]:
    """The CLI, as this interpreter runs it."""
    return [sys.executable, "-m", "flowtui", *args]


class Runner:
    """Runs the flow in `flow_file` (relative to the current directory) through `flowtui run`.

    `show_output`: echo the run's stdout and stderr here while a blocking `run()`/`resume()`
    goes. `env`: variables set for the run over this process's. `cwd`: the run's working
    directory (default: the current one). `store`: the store directory (relative to the
    current directory; default: as the CLI finds it from `cwd`). Other keywords are the
    top-level options listed in this module's docstring.
    """

    def __init__(
        self,
        flow_file: str | os.PathLike[str],
        show_output: bool = True,
        profile: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        file_read_timeout: float = 3600,
        store: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        from flowtui.errors import FlowtuiError
        from flowtui.graph import read_flow_file

        self.flow_file = Path(os.path.abspath(flow_file))
        try:
            read_flow_file(self.flow_file)
        except FlowtuiError as e:
            raise RunnerError(str(e)) from None
        self.show_output = show_output
        self.env_vars = {**os.environ, **(env or {})}
        if profile:
            self.env_vars["METAFLOW_PROFILE"] = profile
        self.cwd = Path(os.path.abspath(cwd)) if cwd is not None else Path.cwd()
        if not self.cwd.is_dir():
            raise RunnerError(f"cwd={str(cwd)!r} is not a directory; give an existing one.")
        self.file_read_timeout = file_read_timeout
        self.top_level_args = _top_level_args(kwargs)
        self.flow_name: str | None = kwargs.get("flow")
        _find_this_flowtui(self.env_vars)
        self.store_root = _store_root(store, self.env_vars, self.cwd)
        self._processes: list[RunnerProcess] = []

    # -- the blocking calls ----------------------------------------------------------------
    def run(self, **kwargs: Any) -> ExecutingRun:
        """Run the flow with `kwargs` (its parameters, run options) and wait for it to end."""
        return self._blocking("run", kwargs)

    def resume(self, **kwargs: Any) -> ExecutingRun:
        """Resume the flow's latest run (or `origin_run_id=`), from `step_to_rerun=` or the
        first step that did not succeed, and wait for it to end."""
        return self._blocking("resume", kwargs)

    # -- the async calls: they return once the run exists ---------------------------------
    async def async_run(self, **kwargs: Any) -> ExecutingRun:
        """Start a run; return as soon as it exists (`await running.wait()` for its end)."""
        return await self._started("run", kwargs)

    async def async_resume(self, **kwargs: Any) -> ExecutingRun:
        """Start a resume; return as soon as it exists."""
        return await self._started("resume", kwargs)

    def cleanup(self) -> None:
        """Stop what this Runner started that still runs, and remove its temporary files."""
        for process in self._processes:
            process.close()

    def __enter__(self) -> Runner:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        self.cleanup()

    async def __aenter__(self) -> Runner:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.cleanup)

    # -- how -------------------------------------------------------------------------------
    def _start(self, command: str, kwargs: dict[str, Any], echo: bool) -> RunnerProcess:
        process = RunnerProcess(echo=echo)
        try:
            argv = flowtui_command(*self._command_line(command, kwargs, process.run_id_file))
            process.start(argv, self.env_vars, self.cwd)
        except BaseException:
            process.close()
            raise
        self._processes.append(process)
        return process

    def _command_line(self, command: str, kwargs: dict[str, Any], run_id_file: str) -> list[str]:
        """`command [options] FILE [STEP] --NAME=VALUE...` for the CLI."""
        kwargs = dict(kwargs)
        types = _parameter_types(self.flow_file, self.flow_name)
        options = ["--store", str(self.store_root), "--run-id-file", run_id_file]
        options += self.top_level_args
        own = {**_RUN_OPTIONS, **(_RESUME_OPTIONS if command == "resume" else {})}
        step: list[str] = []
        if command == "resume" and "step_to_rerun" not in types:
            rerun = kwargs.pop("step_to_rerun", None)
            step = [str(rerun)] if rerun is not None else []
        params: list[str] = []
        for name, value in kwargs.items():
            if name in types:
                params += _parameter_words(name, value, types[name])
            elif name in own:
                options += _option_words(own[name], value)
            elif name in _IGNORED_RUN_OPTIONS:
                continue
            elif name in _INTERNAL_RUN_OPTIONS or (command == "run" and name in _RESUME_OPTIONS):
                raise RunnerError(
                    f"{command}({name}=...) is not an option flowtui's {command} takes; leave "
                    f"it out (its options: {', '.join(sorted(own))})."
                )
            else:  # a parameter the file's text does not show (the CLI judges it)
                params += _parameter_words(name, value, None)
        return [command, *options, str(self.flow_file), *step, *params]

    def _blocking(self, command: str, kwargs: dict[str, Any]) -> ExecutingRun:
        process = self._start(command, kwargs, echo=self.show_output)
        try:
            process.wait()
        except KeyboardInterrupt:  # Ctrl-C here (or a kernel interrupted) stops the run too
            process.stop()
            raise
        return ExecutingRun(self, process, self._run_of(process, command, kwargs))

    async def _started(self, command: str, kwargs: dict[str, Any]) -> ExecutingRun:
        process = self._start(command, kwargs, echo=False)
        try:
            await process.run_exists(self.file_read_timeout)
        except asyncio.CancelledError:
            await process.async_stop()
            raise
        return ExecutingRun(self, process, self._run_of(process, command, kwargs))

    def _run_of(self, process: RunnerProcess, command: str, kwargs: dict[str, Any]) -> Run:
        """The client's Run of the run `process` started, or the CLI's refusal as an error."""
        run_id = process.run_id()
        if run_id is None:  # nothing to hand back, so nothing to keep
            refusal = self._refusal(process, command, kwargs)
            process.close()
            raise RunnerError(refusal) from None
        from flowtui.client.objects import Run
        from flowtui.store import Store

        store = Store(self.store_root, create=False)
        record = store.meta.run(run_id)
        if record is None:  # the runner said it made it: never expected
            raise RunnerError(f"Run {run_id} is not in the store at {self.store_root}.")
        return Run(f"{record.flow}/{run_id}", _store=store, _namespace_check=False)

    def _refusal(self, process: RunnerProcess, command: str, kwargs: dict[str, Any]) -> str:
        said = process.text("stderr")
        start = said.find("error: ")
        sentence = said[start + len("error: ") :].strip() if start >= 0 else said.strip()
        if not sentence:
            sentence = f"flowtui {command} exited with code {process.returncode} before it began."
        call = f"{command}({', '.join(f'{k}=...' for k in kwargs)})"
        hint = ""
        if "has no parameter" in sentence:
            own = {**_RUN_OPTIONS, **(_RESUME_OPTIONS if command == "resume" else {})}
            hint = (
                f" {command}()'s keyword arguments are the flow's parameters (with _ for -) and "
                f"its options: {', '.join(sorted(own))}."
            )
        return f"{call} of {self.flow_file.name} did not start: {sentence}{hint}"


class ExecutingRun:
    """A run started by a `Runner`: its client `Run`, and the process that runs it.

    `status` is "running", "successful", "failed" or "timeout" (the process's, as in
    Metaflow: a run that failed a task exits non-zero); `returncode` is None while it runs.
    A context manager: leaving the block cleans up its Runner.
    """

    def __init__(self, runner: Runner, process: RunnerProcess, run: Run) -> None:
        self.runner = runner
        self.run = run
        self._process = process

    @property
    def returncode(self) -> int | None:
        return self._process.returncode

    @property
    def status(self) -> str:
        if self._process.timed_out:
            return TIMEOUT
        code = self._process.returncode
        if code is None:
            return RUNNING
        return SUCCESSFUL if code == 0 else FAILED

    @property
    def stdout(self) -> str:
        """What the runner wrote to stdout so far (all of it once the run ended)."""
        return self._process.text("stdout")

    @property
    def stderr(self) -> str:
        """What the runner wrote to stderr so far."""
        return self._process.text("stderr")

    async def wait(self, timeout: float | None = None, stream: str | None = None) -> ExecutingRun:
        """Wait for the run to end, printing `stream` ("stdout" or "stderr") meanwhile when
        given. Past `timeout` seconds the run is stopped and its status reads "timeout"."""
        if stream is not None:
            _check_stream(stream)

        async def until_the_end() -> None:
            if stream is not None:
                async for _, line in self.stream_log(stream):
                    print(line)
            await self._process.async_wait()

        try:
            await asyncio.wait_for(until_the_end(), timeout)
        except asyncio.TimeoutError:
            self._process.timed_out = True
            await self._process.async_stop()
        return self

    async def stream_log(
        self, stream: str, position: int | None = None
    ) -> AsyncIterator[tuple[int, str]]:
        """Each line of `stream` as it is written, with the position after it (give it back as
        `position` to go on from there); ends when the run has ended and every line is read."""
        _check_stream(stream)
        async for item in self._process.lines(stream, position or 0):
            yield item

    def __enter__(self) -> ExecutingRun:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        self.runner.__exit__(exc_type, exc, tb)

    async def __aenter__(self) -> ExecutingRun:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        await self.runner.__aexit__(exc_type, exc, tb)

    def __repr__(self) -> str:
        return f"ExecutingRun({self.run.pathspec!r}, status={self.status!r})"


def _check_stream(stream: str) -> None:
    if stream not in STREAMS:
        raise RunnerError(f"There is no stream {stream!r}; give 'stdout' or 'stderr'.")


# -- the process ---------------------------------------------------------------------------
# -- the command line's words ----------------------------------------------------------------
def _top_level_args(kwargs: dict[str, Any]) -> list[str]:
    words: list[str] = []
    for name, value in kwargs.items():
        if name in _TOP_OPTIONS:
            words += _option_words(_TOP_OPTIONS[name], value)
        elif name in _TOP_FLAGS:
            words += [_TOP_FLAGS[name]] if value else []
        elif name in _IGNORED_TOP:
            continue
        elif name in _LOCAL_ONLY:
            if value not in (None, "local"):
                raise RunnerError(
                    f"Runner({name}={value!r}): flowtui runs flows locally, with its own store; "
                    f"leave {name} out (or give {name}='local')."
                )
        elif name == "datastore_root":
            raise RunnerError(
                "Runner(datastore_root=...): flowtui keeps runs in its store; give "
                "store=PATH instead."
            )
        else:
            known = sorted({*_TOP_OPTIONS, *_TOP_FLAGS, *_IGNORED_TOP, *_LOCAL_ONLY})
            raise RunnerError(
                f"Runner() has no option {name!r}; its options: env, cwd, show_output, store, "
                f"profile, file_read_timeout, {', '.join(known)} (the flow's parameters go to "
                f"run(), e.g. run({name}=...))."
            )
    return words


def _option_words(option: str, value: Any) -> list[str]:
    """`--tag a --tag b` for a list; `--max-workers=4` for one value; nothing for None."""
    if value is None:
        return []
    values = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
    return [f"{option}={_word(v)}" for v in values]


def _parameter_words(name: str, value: Any, kind: str | None) -> list[str]:
    """A parameter's `--NAME=VALUE` words: JSON for a `JSONType` (or a dict), one per item
    for a list (`multiple=True`), Metaflow's true/false for a bool; nothing for None."""
    if value is None:
        return []
    if (kind == "json" and not isinstance(value, str)) or isinstance(value, dict):
        return [f"--{name}={json.dumps(value)}"]
    if isinstance(value, list | tuple | set | frozenset):
        return [f"--{name}={_word(v)}" for v in value]
    return [f"--{name}={_word(value)}"]


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return os.fspath(value) if isinstance(value, os.PathLike) else str(value)


def _parameter_types(file: Path, flow: str | None) -> dict[str, str | None]:
    """The flow's parameters as its text declares them, by name with _ for - (and by the name
    itself): their types ("json", "int", ...; None when unknown). Empty when the text does not
    tell (a file that does not parse: the CLI says why)."""
    from flowtui.errors import FlowtuiError
    from flowtui.graph import parse_flow, read_flow_file

    try:
        graph = parse_flow(read_flow_file(file), str(file), flow)
    except FlowtuiError:
        return {}
    found: dict[str, str | None] = {}
    for p in graph.parameters:
        found[p.name] = found[p.name.replace("-", "_")] = p.type
    return found


def _find_this_flowtui(env: dict[str, str]) -> None:
    """Make `python -m flowtui` in the run find this flowtui: a checkout on `sys.path` only
    (a notebook started in it, a path inserted by hand) is added to the run's PYTHONPATH."""
    import site

    import flowtui

    root = str(Path(flowtui.__file__).resolve().parent.parent)
    site_dirs = (*site.getsitepackages(), site.getusersitepackages())
    installed = {str(Path(p).resolve()) for p in site_dirs}
    given = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if root in installed or any(Path(p).resolve() == Path(root) for p in given):
        return
    env["PYTHONPATH"] = os.pathsep.join([*given, root])


def _store_root(store: str | os.PathLike[str] | None, env: Mapping[str, str], cwd: Path) -> Path:
    """The store the run writes and `.run` reads, as the CLI would find it from `cwd` with
    `env` (then given to it as --store, so both sides agree)."""
    from flowtui.errors import FlowtuiError
    from flowtui.store import STORE_ENV, find_store_root

    if store is not None:
        return Path(store).expanduser().resolve()
    if env.get(STORE_ENV):
        return (cwd / Path(env[STORE_ENV]).expanduser()).resolve()
    try:
        return find_store_root(start=cwd)
    except FlowtuiError as e:
        raise RunnerError(f"{e} (Runner(..., store=PATH) picks one.)") from None


__all__ = ["ExecutingRun", "Runner", "RunnerError"]
