"""Eight runs of one flow at once into one store, two of them in their own PID namespaces
(where a runner and its tasks may have the same pids as others), while a client reads in a
loop and a headless TUI watches: no `database is locked`, no lost task, every artifact right,
and the TUI ends showing the newest run as it is stored."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from lab import Lab

from flowtui.client import Flow, metadata, namespace
from flowtui.tui.app import FlowtuiApp
from flowtui.tui.settings import CONFIG_ENV

FLOW = """
    import os, time
    from flowtui import FlowSpec, step

    class ManyFlow(FlowSpec):
        @step
        def start(self):
            self.items = list(range(6))
            self.next(self.body, foreach="items")

        @step
        def body(self):
            self.sq = self.input * self.input
            self.big = bytes([self.input]) * (2 << 20) + os.urandom(64)  # streamed, unique
            self.next(self.join)

        @step
        def join(self, inputs):
            gate, give_up = os.environ["MANY_GATE"], time.monotonic() + 240
            while not os.path.exists(gate) and time.monotonic() < give_up:
                time.sleep(0.01)  # until the test's reader has read a task: they overlap
            self.total = sum(i.sq for i in inputs)
            self.sizes = sorted(len(i.big) for i in inputs)
            self.next(self.end)

        @step
        def end(self):
            pass
"""


def _pid_namespaces() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rpf", "--mount-proc", "true"], capture_output=True)
    return probe.returncode == 0


async def test_eight_runs_at_once_with_a_reader_and_a_tui_lose_nothing(
    lab: Lab, tmp_path, monkeypatch: pytest.MonkeyPatch
):  # type: ignore[no-untyped-def]
    lab.write("many.py", FLOW)
    isolated = _pid_namespaces()
    base = [sys.executable, "-m", "flowtui", "run", "many.py", "--quiet", "--max-workers", "2"]
    commands = [base] * 6 + [["unshare", "-rpf", "--mount-proc", *base]] * 2
    if not isolated:
        pytest.skip("this machine does not allow PID namespaces (unshare -rpf)")
    gate = tmp_path / "reader-has-read"
    procs = [
        subprocess.Popen(
            cmd,
            cwd=lab.root,
            env={**lab.env, "MANY_GATE": str(gate)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for cmd in commands
    ]
    metadata(str(lab.store_path))
    namespace(None)
    reads = 0
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "tui.json"))
    app = FlowtuiApp(lab.root / "many.py", store=lab.store_path, follow=True)
    async with app.run_test(size=(120, 40)) as pilot:
        while any(p.poll() is None for p in procs):  # a client reading while they all write
            try:
                for run in Flow("ManyFlow").runs():
                    for step in run:
                        for task in step:
                            reads += len(list(task))
                if reads:
                    gate.touch()
            except Exception as e:  # only "not there yet" is acceptable while the store is new
                assert type(e).__name__ in ("FlowNotFound",), repr(e)
            await pilot.pause(0.05)  # the TUI polls the store meanwhile
        for _ in range(1200):  # the TUI catches up with the newest run (a state, not a time)
            shown = app.run_state
            if shown is not None and shown.run_id == "8" and shown.status.value == "succeeded":
                break
            await pilot.pause(0.05)
        shown = app.run_state
        assert shown is not None and (shown.run_id, shown.status.value) == ("8", "succeeded")
        assert len(shown.tasks) == 9  # start, 6 bodies, join, end
    outs = [p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, "\n".join(o + e for o, e in outs)
    assert not any("locked" in err for _, err in outs)
    runs = lab.runs("ManyFlow")
    assert len(runs) == 8 and {r.status for r in runs} == {"succeeded"}
    store = lab.store
    try:
        for run in runs:
            tasks = store.meta.tasks(run.run_id)
            assert sorted(t.step for t in tasks) == sorted(["start", "join", "end"] + ["body"] * 6)
            join = next(t for t in tasks if t.step == "join")
            assert lab.value(join.task_id, "total") == sum(i * i for i in range(6))
            assert lab.value(join.task_id, "sizes") == [(2 << 20) + 64] * 6
    finally:
        store.close()
    assert lab.cli("doctor").code == 0
    assert reads > 0
