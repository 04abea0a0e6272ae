"""Differential testing: run one Metaflow-written flow under real Metaflow and under flowtui.

Both runs happen in a fresh working directory (Metaflow's local datastore and flowtui's store
both live there), each through its own command line in a subprocess, and each run is read back
through each side's own client, in a subprocess (`metaflow_dump.py`, `flowtui_dump.py`).
`compare` then checks every artifact of every finished task.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import pickle
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
FLOWS = HERE / "flows"
HAVE_METAFLOW = importlib.util.find_spec("metaflow") is not None
needs_metaflow = pytest.mark.skipif(
    not HAVE_METAFLOW,
    reason="real Metaflow is not installed (pip install -e '.[test]' installs it)",
)

# {step: {foreach indices: {artifact: comparable value}}}
Artifacts = dict[str, dict[tuple[int, ...], dict[str, Any]]]


@dataclass
class Outcome:
    """One side's run: its exit code, output, and every successful task's artifacts."""

    side: str
    code: int
    output: str
    run_id: str = ""
    steps: Artifacts = field(default_factory=dict)
    failed_steps: list[str] = field(default_factory=list)

    def value(self, step: str, name: str, index: tuple[int, ...] = ()) -> Any:
        return self.steps[step][index][name]


class Sides:
    """A working directory where a flow runs under both Metaflow and flowtui."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.store = workdir / "flowtui-store"
        self.metaflow_env = {
            **os.environ,
            "METAFLOW_HOME": str(workdir / "metaflow-home"),
            "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(workdir),
            "METAFLOW_DEFAULT_DATASTORE": "local",
            "METAFLOW_DEFAULT_METADATA": "local",
            "USERNAME": "tester",
        }
        self.flowtui_env = {k: v for k, v in os.environ.items() if k != "FLOWTUI_STORE"}

    def flow(self, name: str) -> Path:
        """Copy `flows/NAME.py` into the working directory's `flows/` folder."""
        target = self.workdir / "flows" / f"{name}.py"
        target.parent.mkdir(exist_ok=True)
        shutil.copy(FLOWS / f"{name}.py", target)
        return target

    def metaflow(
        self, file: Path, *args: str, command: str = "run", leading: tuple[str, ...] = ()
    ) -> Outcome:
        """`leading`: Metaflow's options that go before the command (`--config NAME PATH`)."""
        run_id_file = self.workdir / "metaflow-run-id"
        run_id_file.unlink(missing_ok=True)
        proc = subprocess.run(
            [
                sys.executable,
                str(file),
                "--quiet",
                *leading,
                command,
                "--run-id-file",
                str(run_id_file),
                *args,
            ],
            cwd=self.workdir,
            env=self.metaflow_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        out = Outcome("metaflow", proc.returncode, proc.stdout + proc.stderr)
        if not run_id_file.exists():
            return out
        out.run_id = run_id_file.read_text().strip()
        return self.metaflow_dump(out, _flow_name(file))

    def metaflow_dump(self, out: Outcome, flow: str) -> Outcome:
        """`out` with the artifacts of Metaflow's run `out.run_id` of `flow`."""
        data = self._dump("metaflow", [str(HERE / "metaflow_dump.py"), flow, out.run_id])
        out.steps, out.failed_steps = data["steps"], data["failed"]
        return out

    def flowtui_dump(self, out: Outcome, flow: str) -> Outcome:
        """`out` with the artifacts of flowtui's latest run of `flow` (and its id)."""
        data = self._dump("flowtui", [str(HERE / "flowtui_dump.py"), str(self.store), flow])
        out.run_id, out.steps, out.failed_steps = data["run_id"], data["steps"], data["failed"]
        return out

    def _dump(self, side: str, argv: list[str]) -> dict[str, Any]:
        dump_file = self.workdir / f"{side}-dump.pickle"
        dump = subprocess.run(
            [sys.executable, *argv, str(dump_file)],
            cwd=self.workdir,
            env=self.metaflow_env if side == "metaflow" else self.flowtui_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert dump.returncode == 0, dump.stderr
        return dict(pickle.loads(dump_file.read_bytes()))

    def flowtui(self, file: Path, *args: str, command: str = "run") -> Outcome:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "flowtui",
                command,
                str(file),
                "--store",
                str(self.store),
                "--quiet",
                *args,
            ],
            cwd=self.workdir,
            env=self.flowtui_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        out = Outcome("flowtui", proc.returncode, proc.stdout + proc.stderr)
        if not self.store.exists():
            return out
        return self.flowtui_dump(out, _flow_name(file))


def _flow_name(file: Path) -> str:
    """The file's last class: the flow it runs (a base flow comes before it)."""
    tree = ast.parse(file.read_text())
    return [n.name for n in tree.body if isinstance(n, ast.ClassDef)][-1]


def compare(
    metaflow: Outcome, flowtui: Outcome, *, by_type: frozenset[str] = frozenset()
) -> dict[str, set[str]]:
    """Fail on any difference between the two sides' artifacts; return what was compared
    ({step: artifact names}). Names in `by_type` (random by design) compare by type only."""
    problems = []
    compared: dict[str, set[str]] = {}
    for step in sorted(set(metaflow.steps) | set(flowtui.steps)):
        mf_tasks, ft_tasks = metaflow.steps.get(step, {}), flowtui.steps.get(step, {})
        if set(mf_tasks) != set(ft_tasks):
            problems.append(
                f"{step}: tasks (by foreach index) differ: metaflow {sorted(mf_tasks)}, "
                f"flowtui {sorted(ft_tasks)}"
            )
            continue
        for key in sorted(mf_tasks):
            mf, ft = mf_tasks[key], ft_tasks[key]
            where = f"{step}{list(key) if key else ''}"
            for name in sorted(set(mf) ^ set(ft)):
                side = "metaflow" if name in mf else "flowtui"
                problems.append(f"{where}.{name}: only {side} has it")
            for name in sorted(set(mf) & set(ft)):
                compared.setdefault(step, set()).add(name)
                a, b = mf[name], ft[name]
                if name in by_type:
                    a, b = type(a).__name__, type(b).__name__
                if a != b or type(a) is not type(b):
                    problems.append(f"{where}.{name}: metaflow {a!r} != flowtui {b!r}")
    if problems:
        pytest.fail(
            "flowtui differs from Metaflow:\n  "
            + "\n  ".join(problems)
            + f"\n--- metaflow output:\n{metaflow.output[-3000:]}"
            + f"\n--- flowtui output:\n{flowtui.output[-3000:]}",
            pytrace=False,
        )
    return compared
