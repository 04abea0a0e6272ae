"""Quit → "Leave it running" in a real terminal: the app exits, the terminal closes, the run goes
on to succeed, and `flowtui FILE` opened again shows it live."""

from __future__ import annotations

import sys

from flowtui.client.runs import RunReader
from tests.e2e.test_tmux import Terminal, pytestmark  # noqa: F401 -- skipped without tmux
from tests.gate import Gate, wait_for


def stored(gate: Gate) -> list[tuple[str, str]]:
    reader = RunReader(gate.store)
    try:
        return [(run.run_id, run.status) for run in reader.runs("GateFlow")]
    finally:
        reader.close()


def test_a_run_left_going_outlives_its_terminal_and_is_found_again(gate: Gate) -> None:
    command = [sys.executable, "-m", "flowtui", "gate.py", "--store", str(gate.store)]
    first = Terminal(command, gate.root)
    try:
        first.wait_for("Quit")
        first.send("r")
        wait_for(gate.started.exists, "the run to reach its waiting step")
        first.send("q")
        first.wait_for("Leave it running")
        first.send("l")
        screen = first.wait_for("goes on")  # printed once the app has exited
        assert "flowtui cancel GateFlow/1" in " ".join(screen.split())
    finally:
        first.close()  # the terminal goes away too: the run was left going, so it goes on
    assert stored(gate) == [("1", "running")]

    again = Terminal(command, gate.root)
    try:
        again.wait_for(r"run 1 +● running", pattern=True)
        gate.release()
        again.wait_for(r"run 1 +✔ succeeded", pattern=True)
    finally:
        again.close()
    assert stored(gate) == [("1", "succeeded")]
