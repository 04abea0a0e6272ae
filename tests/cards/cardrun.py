"""Cards tests run real flows through the real CLI, in a fresh store per test (`CardRun`)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from flowtui.client.objects import Run
from flowtui.store import Store


@dataclass
class CardRun:
    root: Path
    code: int = 0
    output: str = ""

    @property
    def store_path(self) -> Path:
        return self.root / "store"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "flowtui", *args, "--store", str(self.store_path)],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
            env={k: v for k, v in os.environ.items() if k != "FLOWTUI_STORE"},
        )

    def run(self, source: str) -> CardRun:
        (self.root / "flow.py").write_text(textwrap.dedent(source))
        proc = self.cli("run", "flow.py")
        self.code, self.output = proc.returncode, proc.stdout + proc.stderr
        return self

    def run_obj(self, flow: str) -> Run:
        store = Store(self.store_path, create=False)
        record = store.meta.runs(flow)[0]
        return Run(f"{flow}/{record.run_id}", _store=store, _namespace_check=False)
