"""`flowtui check` finds, with their lines, the metaflow names a run here would refuse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from flowtui.cli import app

USES_UNOFFERED = """\
import metaflow
from metaflow import FlowSpec, step, current, Deployer
from metaflow.plugins.datatools import s3
from metaflow.metaflow_config import DATATOOLS_S3ROOT


class UsesFlow(FlowSpec):
    @step
    def start(self):
        print(current.flow_name, current.no_such_thing, metaflow.Deployer)
        self.next(self.end)

    @step
    def end(self):
        pass
"""

USES_OFFERED = """\
from metaflow import FlowSpec, S3, current, parallel_map, profile, step
from metaflow.metaflow_config import DATATOOLS_S3ROOT


class FineFlow(FlowSpec):
    @step
    def start(self):
        with profile("x"):
            self.out = parallel_map(abs, [-1], max_parallel=1)
        print(current.pathspec, current.retry_count, DATATOOLS_S3ROOT, S3)
        print(current.parameter_names, current.tags | {"t"})
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_check_names_each_unoffered_import_and_current_attribute_with_its_line(
    tmp_path: Path,
) -> None:
    file = tmp_path / "uses.py"
    file.write_text(USES_UNOFFERED)

    result = CliRunner().invoke(app, ["check", str(file)])

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{file}:2:1: metaflow.Deployer is not offered by flowtui")
    assert lines[1].startswith(f"{file}:3:1: module metaflow.plugins.datatools is not offered")
    assert lines[2].startswith(f"{file}:10:")
    assert "current.no_such_thing" in lines[2]
    assert lines[3].startswith(f"{file}:10:") and "metaflow.Deployer" in lines[3]
    assert "runs unchanged on Metaflow itself" in lines[0]
    assert lines[-1] == f"UsesFlow: 4 errors in {file}."


def test_check_accepts_the_names_flowtui_offers_and_the_run_agrees(tmp_path: Path) -> None:
    file = tmp_path / "fine.py"
    file.write_text(USES_OFFERED)

    result = CliRunner().invoke(app, ["check", str(file)])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: FineFlow")
    run = subprocess.run(
        [sys.executable, "-m", "flowtui", "run", str(file), "--store", str(tmp_path / "s")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PROFILE: x starting" in run.stdout
    assert "[] {'t'}" in run.stdout  # no parameters; no tags but the one added
