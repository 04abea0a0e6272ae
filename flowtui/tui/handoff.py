"""Handing the terminal to another program and back: the editor (`e`), the debugger (`D`);
and the command line of a spin (`s`, which the spin screen runs in the background).

The TUI never runs user code, so debugging runs the real CLI (`flowtui debug`) in the
foreground while the app is suspended (Textual's `App.suspend`); the app redraws as it was
when it returns. The editor opens at the line that matters, with the `+LINE`
convention most editors accept (vi, vim, nvim, emacs, nano, micro, kak, helix), and VS Code's,
Sublime Text's and JetBrains' own ways for those.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from flowtui.graph.model import FlowGraph, Problem
from flowtui.run.state import TaskState
from flowtui.run.status import TaskStatus

_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)', re.MULTILINE)


# Editors that take no `+LINE` (VS Code opened a new file named "+13"): how each is told it.
_FILE_COLON_LINE = {"subl", "sublime_text", "zed", "atom", "mate"}
_GOTO_FILE_COLON_LINE = {"code", "code-insiders", "codium", "vscodium", "cursor", "windsurf"}
_LINE_OPTION = {"idea", "pycharm", "charm", "pycharm.sh", "idea.sh"}


def editor_setting(env: Mapping[str, str] = os.environ) -> tuple[str, str]:
    """(the variable the editor comes from, its command): `$VISUAL`, else `$EDITOR`, else vi."""
    for name in ("VISUAL", "EDITOR"):
        if env.get(name, "").strip():
            return f"${name}", env[name]
    return "the default", "vi"


def editor_command(file: Path, line: int | None, env: Mapping[str, str] = os.environ) -> list[str]:
    """`$VISUAL` (else `$EDITOR`, else vi) at `line` of `file`: `+LINE FILE` for most editors,
    `-g FILE:LINE` for VS Code and its kin, `FILE:LINE` for Sublime Text and Zed."""
    editor = shlex.split(editor_setting(env)[1])
    name = os.path.basename(editor[0]) if editor else ""
    if not line:
        return [*editor, str(file)]
    if name in _GOTO_FILE_COLON_LINE:
        return [*editor, "-g", f"{file}:{line}"]
    if name in _FILE_COLON_LINE:
        return [*editor, f"{file}:{line}"]
    if name in _LINE_OPTION:
        return [*editor, "--line", str(line), str(file)]
    return [*editor, f"+{line}", str(file)]


def editor_missing(command: Sequence[str], env: Mapping[str, str] = os.environ) -> str | None:
    """The sentence when the editor's program cannot be found, else None."""
    if command and shutil.which(command[0], path=env.get("PATH")):
        return None
    where, setting = editor_setting(env)
    return (
        f"Cannot find the editor {setting!r} ({where}); set $VISUAL or $EDITOR to your "
        "editor's command, e.g. export EDITOR=nano."
    )


def failure_line(traceback: str, file: Path) -> int | None:
    """The line of the deepest frame of `traceback` that is in `file` (the user's code)."""
    wanted = os.path.realpath(file)
    line = None
    for match in _FRAME.finditer(traceback):
        if os.path.realpath(match["file"]) == wanted:
            line = int(match["line"])
    return line


def line_that_matters(
    file: Path,
    graph: FlowGraph | None,
    problems: Sequence[Problem],
    step: str | None,
    task: TaskState | None,
) -> int | None:
    """Where `e` opens: the file's first problem (errors first) while it has any, else the
    deepest frame of the selected task's failure in the file, else the selected step's `def`."""
    if problems:
        return sorted(problems, key=lambda p: (p.severity != "error", p.line))[0].line
    if task is not None and task.error is not None and task.error.traceback:
        line = failure_line(task.error.traceback, file)
        if line is not None:
            return line
    if graph is not None and step is not None and step in graph:
        return graph[step].line
    return None


def flowtui_command(*args: str) -> list[str]:
    """The CLI, as this interpreter runs it (the same flowtui the app is)."""
    return [sys.executable, "-m", "flowtui", *args]


def debug_args(task: TaskState, store: str | None) -> list[str] | None:
    """`flowtui debug` for a failed task, or one waiting at a breakpoint(); None otherwise."""
    if task.status not in (TaskStatus.FAILED, TaskStatus.RUNNING):
        return None
    return flowtui_command("debug", task.pathspec, *(["--store", store] if store else []))


def spin_args(
    file: Path, task: TaskState, flow: str | None, store: str | None, run_id_file: Path
) -> list[str]:
    """`flowtui spin FILE STEP` with the inputs the selected task had in its run; the spin's
    run id is written to `run_id_file`."""
    run_id = task.pathspec.split("/")[1]
    args = ["spin", str(file), task.step, "--run-id", run_id, "--task-id", task.task_id]
    args += ["--run-id-file", str(run_id_file), "--no-artifacts"]  # the screen draws them
    if flow:
        args += ["--flow", flow]
    if store:
        args += ["--store", store]
    return flowtui_command(*args)


def run_in_terminal(commands: Sequence[Sequence[str]], *, pause: bool) -> int:
    """Run `commands` one after the other in the (suspended app's) terminal; their last exit
    code. With `pause`, wait for Enter (or Ctrl-C) afterwards so their last lines can be read.

    A Ctrl-C typed meanwhile is the program's (pdb stops the line it runs): the terminal sends
    it to the app's process too, where asyncio's handler would cancel the app, which then quit
    without a word once back. The app lets it pass until the terminal is its own again."""
    with _interrupts(_let_pass):
        code = 0
        for command in commands:
            try:
                code = subprocess.run(list(command), check=False).returncode
            except OSError as e:
                print(f"flowtui: cannot run {command[0]}: {e.strerror or e}")
                code = 127
        if pause:
            with (
                _interrupts(signal.default_int_handler),
                contextlib.suppress(EOFError, KeyboardInterrupt),
            ):
                input("\nPress Enter to return to flowtui. ")
    return code


def _let_pass(signum: int, frame: object) -> None:
    """SIGINT while the terminal is handed over: the program's, not the app's."""


@contextlib.contextmanager
def _interrupts(handler: Callable[[int, Any], object]) -> Iterator[None]:
    """SIGINT handled by `handler` inside the block (a Python handler: a program started
    meanwhile gets the default one, unlike an ignored signal), the previous one after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)
