"""A flow's parameter may be named like one of flowtui's run options (`flow`, `store`,
`events`, `executor`: Metaflow reserves none of them, and Outerbounds' own tutorial names one
`flow`). After the file the name is the parameter's; flowtui's options go before the file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowtui.client.objects import Run
from flowtui.store import Store

FLOW = """
from flowtui import FlowSpec, Parameter, step


class NamedFlow(FlowSpec):
    upstream = Parameter("flow", default="TrainFlow")
    where = Parameter("store", default="s3")
    events = Parameter("events", default="none")
    executor = Parameter("executor", default="local-pool")

    @step
    def start(self):
        self.seen = (self.upstream, self.where, self.events, self.executor)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NamedFlow()
"""


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "named.py").write_text(FLOW)
    return subprocess.run(
        [sys.executable, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "FLOWTUI_STORE"},
    )


def _seen(store: Path) -> tuple[str, ...]:
    opened = Store(store, create=False)
    record = opened.meta.runs("NamedFlow")[0]
    run = Run(f"NamedFlow/{record.run_id}", _store=opened, _namespace_check=False)
    return tuple(run["start"].task.data.seen)


def test_after_the_file_a_name_is_the_parameters_before_it_flowtuis(tmp_path: Path) -> None:
    ran = _run(
        tmp_path,
        *("-m", "flowtui", "run", "--store", "kept", "named.py"),
        *("--flow", "TuningFlow", "--store", "gcs", "--events=all", "--executor", "ray"),
    )
    assert ran.returncode == 0, ran.stderr
    assert _seen(tmp_path / "kept") == ("TuningFlow", "gcs", "all", "ray")
    assert not (tmp_path / "gcs").exists()  # --store after the file was not the store
    for option in ("--flow", "--store", "--events", "--executor"):  # each said, once
        note = (
            f"note: {option} after the file is the flow's parameter (flowtui's own {option} "
            f"goes before the file: flowtui run {option} ... FILE)."
        )
        assert ran.stderr.count(note) == 1, ran.stderr


def test_the_defaults_and_the_check_accept_such_names(tmp_path: Path) -> None:
    ran = _run(tmp_path, "-m", "flowtui", "run", "named.py", "--quiet")
    assert ran.returncode == 0, ran.stderr  # --quiet is no parameter here: flowtui's
    assert _seen(tmp_path / ".flowtui") == ("TrainFlow", "s3", "none", "local-pool")
    checked = _run(tmp_path, "-m", "flowtui", "check", "named.py")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_python_flow_run_sets_the_parameter_as_on_metaflow(tmp_path: Path) -> None:
    ran = _run(tmp_path, "named.py", "run", "--flow", "TuningFlow")
    assert ran.returncode == 0, ran.stderr
    assert _seen(tmp_path / ".flowtui")[0] == "TuningFlow"


@pytest.mark.parametrize("name", ["help", "tag", "max-workers"])
def test_a_name_metaflow_reserves_is_still_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / "reserved.py").write_text(
        "from flowtui import FlowSpec, Parameter, step\n\n\n"
        "class R(FlowSpec):\n"
        f"    p = Parameter({name!r}, default=1)\n\n"
        "    @step\n    def start(self):\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    checked = _run(tmp_path, "-m", "flowtui", "check", "reserved.py")
    assert checked.returncode == 1
    assert f"Parameter name '{name}' is reserved" in checked.stdout
