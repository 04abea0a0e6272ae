"""`flowtui FILE`: the path to the TUI's first frame skips the CLI framework, and says what is
wrong with a bad path in one sentence, as every other command does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def flowtui(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowtui", *args], cwd=cwd, capture_output=True, text=True
    )


def test_opening_a_file_loads_no_cli_framework() -> None:
    probe = (
        "import sys, flowtui.entry, flowtui.tui.app; "
        "print(' '.join(m for m in ('typer', 'pydantic', 'click') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_a_missing_flow_file_is_one_sentence_and_exit_code_2(tmp_path: Path) -> None:
    done = flowtui("nothere.py", "--store", str(tmp_path / "store"), cwd=tmp_path)
    assert done.returncode == 2
    assert "nothere.py does not exist; check the path of the flow file." in done.stderr
    assert "Traceback" not in done.stderr


def test_other_command_lines_still_reach_the_cli(tmp_path: Path) -> None:
    help_text = flowtui("hello.py", "--help", cwd=tmp_path)
    assert help_text.returncode == 0
    assert "Open the TUI on FILE" in help_text.stdout
    unknown = flowtui("hello.py", "--bogus", "1", cwd=tmp_path)
    assert unknown.returncode == 2
    assert "--bogus" in unknown.stderr


def test_a_flow_file_still_imports_the_authoring_api_from_flowtui() -> None:
    probe = "from flowtui import FlowSpec, step, current; print(FlowSpec.__name__, callable(step))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.split() == ["FlowSpec", "True"]
