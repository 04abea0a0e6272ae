"""Running a flow defined in a notebook cell (or a script's `__main__`): `flowtui.NBRunner`.

    class MyFlow(FlowSpec):
        ...
    run = NBRunner(MyFlow).nbrun(alpha=5)     # the last line of the same cell

As Metaflow's NBRunner does, the flow's source is the cell being run (IPython's
`history_manager.input_hist_raw[-1]`), cut after the flow's class and ended with
`if __name__ == "__main__": MyFlow()`, written to a temporary `.py` file in `base_dir` (the
current directory by default), and run by a `Runner`. Outside IPython the source is the file
of the module that defines the class (a script run as `__main__`), cut the same way, so the
call to NBRunner below the class never runs inside the run. The flow's code runs only in the
runner's process, never here. `nbrun()`/`nbresume()` return the client's `Run` and clean up;
after `run()`/`async_run()`, call `cleanup()` (the file also goes when the NBRunner does).
"""

from __future__ import annotations

import ast
import os
import sys
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowtui.client.runner import ExecutingRun, Runner, RunnerError

if TYPE_CHECKING:
    from flowtui.client.objects import Run


class NBRunner:
    """Runs `flow`, a FlowSpec class defined in this notebook cell (or this script)."""

    def __init__(
        self,
        flow: type,
        show_output: bool = True,
        profile: str | None = None,
        env: Mapping[str, str] | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        file_read_timeout: float = 3600,
        **kwargs: Any,
    ) -> None:
        self.flow = flow
        self.source = flow_file_text(flow)
        self.base_dir = Path(os.path.abspath(base_dir)) if base_dir is not None else Path.cwd()
        self.flow_file = self._write(self.base_dir, flow.__name__, self.source)
        self._finalizer = weakref.finalize(self, _remove, self.flow_file)
        env_vars = {**(env or {}), "JPY_PARENT_PID": ""}  # as Metaflow: the run is no kernel's
        kwargs.setdefault("flow", flow.__name__)
        try:
            self.runner = Runner(
                self.flow_file,
                show_output=show_output,
                profile=profile,
                env=env_vars,
                cwd=self.base_dir,
                file_read_timeout=file_read_timeout,
                **kwargs,
            )
        except RunnerError:
            _remove(self.flow_file)
            raise

    def nbrun(self, **kwargs: Any) -> Run:
        """Run the flow, wait for its end, clean up, and return the client's `Run`."""
        try:
            return self.run(**kwargs).run
        finally:
            self.cleanup()

    def nbresume(self, **kwargs: Any) -> Run:
        """Resume the flow's latest run (or `origin_run_id=`), wait, clean up, return its Run."""
        try:
            return self.resume(**kwargs).run
        finally:
            self.cleanup()

    def run(self, **kwargs: Any) -> ExecutingRun:
        self._again()
        return self.runner.run(**kwargs)

    def resume(self, **kwargs: Any) -> ExecutingRun:
        self._again()
        return self.runner.resume(**kwargs)

    async def async_run(self, **kwargs: Any) -> ExecutingRun:
        self._again()
        return await self.runner.async_run(**kwargs)

    async def async_resume(self, **kwargs: Any) -> ExecutingRun:
        self._again()
        return await self.runner.async_resume(**kwargs)

    def cleanup(self) -> None:
        """Remove the temporary flow file, and what the runs left (stopping one still going)."""
        self.runner.cleanup()
        _remove(self.flow_file)

    def _again(self) -> None:
        """The flow file back after a cleanup (`nbresume()` after `nbrun()`)."""
        if not self.flow_file.exists():
            self.flow_file.write_text(self.source, encoding="utf-8")

    @staticmethod
    def _write(folder: Path, name: str, text: str) -> Path:
        import tempfile

        try:
            fd, path = tempfile.mkstemp(prefix=name, suffix=".py", dir=folder, text=True)
        except OSError as e:
            raise RunnerError(
                f"NBRunner cannot write the flow's file in {folder} ({e.strerror}); give "
                "base_dir= a folder you can write to."
            ) from None
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        return Path(path)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def flow_file_text(flow: type) -> str:
    """A flow file for `flow`: its cell's (or module's) text up to the end of its class, then
    the `__main__` call that makes it the file's flow."""
    if not isinstance(flow, type) or not any(c.__name__ == "FlowSpec" for c in flow.__mro__):
        raise RunnerError(
            f"NBRunner takes a flow class (a FlowSpec subclass), not {flow!r}; give the class "
            "itself, e.g. NBRunner(MyFlow)."
        )
    source, where = _defining_text(flow)
    name = flow.__name__
    try:
        module = ast.parse(source)
    except SyntaxError as e:
        raise RunnerError(
            f"The {where} that defines {name} is not plain Python (line {e.lineno}: {e.msg}); "
            "NBRunner runs its text as a file, so keep %magics and !commands in other cells."
        ) from None
    found = [n for n in module.body if isinstance(n, ast.ClassDef) and n.name == name]
    if not found:
        raise RunnerError(
            f"{name} is not defined in the {where}; call NBRunner({name}) in the same cell as "
            f"`class {name}` (with the imports it needs), as Metaflow's NBRunner asks."
        )
    end = found[-1].end_lineno or len(source.splitlines())
    lines = source.splitlines()[:end]
    lines += ["", "", 'if __name__ == "__main__":', f"    {name}()", ""]
    return "\n".join(lines)


def _defining_text(flow: type) -> tuple[str, str]:
    """The text that defined `flow` and what it is ("cell", "file x.py")."""
    if flow.__module__ == "__main__":
        cell = _current_cell()
        if cell is not None:
            return cell, "cell"
    module = sys.modules.get(flow.__module__)
    file = getattr(module, "__file__", None)
    if file and file.endswith(".py") and os.path.isfile(file):
        return Path(file).read_text(encoding="utf-8"), f"file {os.path.basename(file)}"
    raise RunnerError(
        f"NBRunner cannot find the source of {flow.__name__}: it was not defined in a notebook "
        "cell or a file (an interactive prompt keeps none); save the flow to a file and run "
        "it with Runner('flow.py')."
    )


def _current_cell() -> str | None:
    """The cell IPython is running (Metaflow reads the same), or None outside IPython."""
    ipython = sys.modules.get("IPython")  # never imported here: a kernel has it already
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    if shell is None:
        return None
    history = shell.history_manager.input_hist_raw
    return str(history[-1]) if history else None


__all__ = ["NBRunner", "flow_file_text"]
