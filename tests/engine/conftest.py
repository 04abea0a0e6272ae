"""Fixtures for running real flows through the real CLI, in a fresh store per test."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from flowtui.store import Store


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class FlowDir:
    """A temporary folder holding flow files and a store, with a `run` that uses the CLI."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store_path = root / "store"

    def write(self, name: str, source: str) -> Path:
        path = self.root / name
        path.write_text(textwrap.dedent(source))
        return path

    def cli(self, *args: str, env: dict[str, str] | None = None, timeout: float = 900) -> Ran:
        proc = subprocess.run(
            [sys.executable, "-m", "flowtui", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "FLOWTUI_STORE": str(self.store_path), **(env or {})},
        )
        return Ran(proc.returncode, proc.stdout, proc.stderr)

    def run(self, file: str, *args: str, env: dict[str, str] | None = None) -> Ran:
        return self.cli("run", file, *args, env=env)

    @property
    def store(self) -> Store:
        return Store(self.store_path, create=False)

    def latest_run(self, flow: str):  # -> RunRecord
        return self.store.meta.runs(flow)[0]

    def tasks(self, flow: str, run_id: str | None = None) -> dict[str, list]:
        meta = self.store.meta
        run_id = run_id or meta.runs(flow)[0].run_id
        out: dict[str, list] = {}
        for t in meta.tasks(run_id):
            out.setdefault(t.step, []).append(t)
        return out

    def artifact(self, task, name: str):
        arts = {a.name: a for a in self.store.meta.artifacts(task.task_id)}
        return self.store.blobs.get_value(arts[name].hash)

    def artifact_names(self, task) -> set[str]:
        return {a.name for a in self.store.meta.artifacts(task.task_id)}


@pytest.fixture
def flows(tmp_path: Path) -> FlowDir:
    return FlowDir(tmp_path)


FlowFactory = Callable[[str], Path]
