"""`flowtui.NBRunner`: a flow class defined in a notebook cell or a script's `__main__`, run from
its own source (found as Metaflow's NBRunner finds it), with no temporary file left behind.

Most tests simulate the notebook the way NBRunner reads it: a real Python process executes the
cell's text in `__main__` (as a kernel does) while a stand-in for
`IPython.get_ipython().history_manager.input_hist_raw[-1]` is that cell. One test runs the cells
in IPython's own shell (IPython is in the test extra)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from flowtui import NBRunner
from flowtui.client import RunnerError

KERNEL = """
import sys, types

cell = open(sys.argv[1]).read()
history = types.SimpleNamespace(input_hist_raw=["", "x = 1", cell])
shell = types.SimpleNamespace(history_manager=history)
IPython = types.ModuleType("IPython")
IPython.get_ipython = lambda: shell
sys.modules["IPython"] = IPython

import __main__
exec(compile(cell, "<ipython-input-3>", "exec"), __main__.__dict__)
"""

CELL = """
from flowtui import FlowSpec, NBRunner, Parameter, step

class CellFlow(FlowSpec):
    n = Parameter("n", default=1)

    @step
    def start(self):
        print("in the run", flush=True)
        self.square = self.n * self.n
        self.next(self.end)

    @step
    def end(self):
        pass

nb = NBRunner(CellFlow, show_output=False, store={store!r})
run = nb.nbrun(n=4)
print("square", run.data.square, run.successful, run.pathspec)
again = nb.nbresume(step_to_rerun="end")
print("resumed", again.data.square, again.origin_pathspec)
"""


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


def test_a_flow_in_a_notebook_cell_runs_from_the_cells_text(tmp_path: Path) -> None:
    (tmp_path / "cell.py").write_text(CELL.format(store=str(tmp_path / "store")))
    (tmp_path / "kernel.py").write_text(KERNEL)
    work = tmp_path / "notebooks"
    work.mkdir()

    done = _run([sys.executable, str(tmp_path / "kernel.py"), str(tmp_path / "cell.py")], work)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "square 16 True CellFlow/1"
    assert lines[1] == "resumed 16 CellFlow/1"
    assert "in the run" not in done.stdout  # show_output=False: the run's output is its own
    assert list(work.iterdir()) == []  # the flow file written for the run is gone


SCRIPT = """
from flowtui import FlowSpec, NBRunner, step


class ScriptFlow(FlowSpec):
    @step
    def start(self):
        print("in the run", flush=True)
        self.value = 42
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    print("script main ran", flush=True)  # never inside the run: its file is cut at the class
    nb = NBRunner(ScriptFlow, show_output=False, store={store!r})
    running = nb.run()
    print(running.status, running.run.data.value, "script main ran" in running.stdout)
    nb.cleanup()
"""


def test_a_flow_in_a_scripts_main_runs_without_running_the_script_again(
    tmp_path: Path,
) -> None:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT.format(store=str(tmp_path / "store")))

    done = _run([sys.executable, str(script)], tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["script main ran", "successful 42 False"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["script.py", "store"]


def _in_a_cell(monkeypatch: pytest.MonkeyPatch, cell: str, *, defines: str = "") -> type:
    """A class made as a kernel makes it (in `__main__`), with `cell` as the current cell."""
    history = types.SimpleNamespace(input_hist_raw=[textwrap.dedent(cell)])
    shell = types.SimpleNamespace(history_manager=history)
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    scope: dict[str, object] = {"__name__": "__main__"}
    exec(
        textwrap.dedent(
            defines
            or """
            from flowtui import FlowSpec, step
            class EarlierFlow(FlowSpec):
                @step
                def start(self):
                    self.next(self.end)
                @step
                def end(self):
                    pass
            """
        ),
        scope,
    )
    return scope["EarlierFlow"]  # type: ignore[return-value]


def test_a_flow_defined_in_another_cell_is_one_sentence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    flow = _in_a_cell(monkeypatch, "run = NBRunner(EarlierFlow).nbrun()\n")

    with pytest.raises(RunnerError) as caught:
        NBRunner(flow, base_dir=tmp_path)

    assert str(caught.value) == (
        "EarlierFlow is not defined in the cell; call NBRunner(EarlierFlow) in the same cell as "
        "`class EarlierFlow` (with the imports it needs), as Metaflow's NBRunner asks."
    )
    assert list(tmp_path.iterdir()) == []


def test_a_cell_with_magics_is_one_sentence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    flow = _in_a_cell(monkeypatch, "%load_ext autoreload\nclass EarlierFlow: pass\n")

    with pytest.raises(RunnerError, match="keep %magics and !commands in other cells"):
        NBRunner(flow, base_dir=tmp_path)

    assert list(tmp_path.iterdir()) == []


def test_something_not_a_flow_class_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(RunnerError, match="NBRunner takes a flow class"):
        NBRunner(print, base_dir=tmp_path)  # type: ignore[arg-type]


IPYTHON_KERNEL = """
import sys
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
shell.run_cell("alpha = 6", store_history=True).raise_error()
shell.run_cell(open(sys.argv[1]).read(), store_history=True).raise_error()
"""

IPYTHON_CELL = """
from flowtui import FlowSpec, NBRunner, Parameter, step

class IpyFlow(FlowSpec):
    n = Parameter("n", default=1)

    @step
    def start(self):
        self.square = self.n * self.n
        self.next(self.end)

    @step
    def end(self):
        pass

run = NBRunner(IpyFlow, show_output=False, store={store!r}).nbrun(n=alpha)
print("square", run.data.square, IpyFlow.__module__)
"""


@pytest.mark.skipif(
    importlib.util.find_spec("IPython") is None, reason="IPython is not installed here"
)
def test_a_flow_in_a_real_ipython_cell_runs_with_a_value_from_an_earlier_cell(
    tmp_path: Path,
) -> None:
    (tmp_path / "kernel.py").write_text(IPYTHON_KERNEL)
    (tmp_path / "cell.py").write_text(IPYTHON_CELL.format(store=str(tmp_path / "store")))
    work = tmp_path / "notebooks"
    work.mkdir()

    done = _run([sys.executable, str(tmp_path / "kernel.py"), str(tmp_path / "cell.py")], work)

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "square 36 __main__"
    assert list(work.iterdir()) == []
