"""Helpers for the reliability tests: real flows through the real CLI in a fresh store per test,
waiting on the store (never on the clock), and runners started in the background."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flowtui.store import Store

DEADLINE = 120.0  # generous: the machine is shared and slow; polling ends as soon as it can


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def wait_for(condition: Callable[[], Any], what: str, deadline: float = DEADLINE) -> Any:
    """Poll `condition` until it returns something truthy; fail naming `what` at the deadline."""
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


class Lab:
    """A temporary folder with flow files and a store; `cli` runs the real `flowtui`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store_path = root / "store"
        self.env = {**os.environ, "FLOWTUI_STORE": str(self.store_path)}

    def write(self, name: str, source: str) -> Path:
        path = self.root / name
        path.write_text(textwrap.dedent(source))
        return path

    def cli(self, *args: str, timeout: float = DEADLINE, **env: str) -> Ran:
        proc = subprocess.run(
            [sys.executable, "-m", "flowtui", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**self.env, **env},
        )
        return Ran(proc.returncode, proc.stdout, proc.stderr)

    def start(self, *args: str, **popen: Any) -> subprocess.Popen[str]:
        kw: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
        kw.update(popen)
        return subprocess.Popen(
            [sys.executable, "-m", "flowtui", *args],
            cwd=self.root,
            env=self.env,
            text=True,
            **kw,
        )

    @property
    def store(self) -> Store:
        return Store(self.store_path, create=False)

    def runs(self, flow: str) -> list[Any]:
        if not (self.store_path / "metadata.db").exists():
            return []
        store = self.store
        try:
            return store.meta.runs(flow)
        finally:
            store.close()

    def value(self, task_id: str, name: str) -> Any:
        store = self.store
        try:
            arts = {a.name: a for a in store.meta.artifacts(task_id)}
            return store.blobs.get_value(arts[name].hash)
        finally:
            store.close()
