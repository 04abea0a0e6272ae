"""flowtui-only checks of round two's names and options, where Metaflow is not needed to
know the answer: `--with` forms and their errors, parallel_map's failures, metaflow_config."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

FLOW = """
from metaflow import FlowSpec, step, parallel_map

class WithFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""

FAILING_MAP = """
from metaflow import FlowSpec, step, parallel_map

def boom(x):
    if x == 2:
        raise KeyError("item two")
    return x

class MapFlow(FlowSpec):
    @step
    def start(self):
        self.out = parallel_map(boom, [1, 2, 3], dir=".")
        self.next(self.end)

    @step
    def end(self):
        pass
"""

CONFIG = """
import os
from metaflow import FlowSpec, step
from metaflow.metaflow_config import DEFAULT_DATASTORE, S3_RETRY_COUNT, DATATOOLS_S3ROOT

class ConfigFlow(FlowSpec):
    @step
    def start(self):
        self.values = (DEFAULT_DATASTORE, S3_RETRY_COUNT, DATATOOLS_S3ROOT)
        print("VALUES", self.values)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def run(tmp_path: Path, source: str, *args: str, env: dict[str, str] | None = None) -> str:
    file = tmp_path / "flow.py"
    file.write_text(textwrap.dedent(source))
    proc = subprocess.run(
        [sys.executable, "-m", "flowtui", "run", str(file), "--store", str(tmp_path / "s"), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    return f"rc={proc.returncode}\n{proc.stdout}{proc.stderr}"


def test_with_a_remote_decorator_is_one_notice_per_step(tmp_path: Path) -> None:
    out = run(tmp_path, FLOW, "--with", "kubernetes:cpu=4,memory=8000")
    assert out.startswith("rc=0"), out
    assert "@kubernetes on step 'start' has no effect in a local run" in out
    assert "@kubernetes on step 'end' has no effect in a local run" in out


def test_with_an_unknown_decorator_or_bad_argument_is_one_sentence(tmp_path: Path) -> None:
    out = run(tmp_path, FLOW, "--with", "turbo")
    assert out.startswith("rc=2"), out
    assert "--with turbo: flowtui has no decorator 'turbo'" in out
    assert "Traceback" not in out
    out = run(tmp_path, FLOW, "--with", "retry:times=-1")
    assert out.startswith("rc=2") and "--with retry:times=-1" in out and "Traceback" not in out
    out = run(tmp_path, FLOW, "--with", "retry:often")
    assert "'often' is not ARG=VALUE" in out


def test_a_failing_parallel_map_item_fails_the_step_with_the_items_traceback(
    tmp_path: Path,
) -> None:
    out = run(tmp_path, FAILING_MAP)
    assert out.startswith("rc=1"), out
    assert "MulticoreException" in out
    assert "KeyError: 'item two'" in out  # the child's own traceback, in the task's log
    assert not list(tmp_path.glob("parallel_map_*"))  # no result file left behind


def test_metaflow_config_reads_the_environment_and_metaflows_config_file(tmp_path: Path) -> None:
    home = tmp_path / "mfhome"
    home.mkdir()
    (home / "config.json").write_text('{"METAFLOW_DATASTORE_SYSROOT_S3": "s3://bucket/mf"}')
    env = {"PATH": "/usr/bin:/bin", "METAFLOW_HOME": str(home), "METAFLOW_S3_RETRY_COUNT": "2"}
    out = run(tmp_path, CONFIG, env=env)
    assert out.startswith("rc=0"), out
    assert "VALUES ('local', 2, 's3://bucket/mf/data')" in out
