"""Hostile checks of the fork server (`flowtui/engine/forkserver.py`) as a step meets it."""

from __future__ import annotations

import pytest

HEADER = "from flowtui import FlowSpec, step\n"


@pytest.mark.parametrize("server", ["1", "0"])
def test_a_program_the_step_starts_inherits_no_descriptor_of_flowtui(flows, server):
    # A program a step starts (os.system, subprocess with close_fds=False) inherits every
    # descriptor not marked close-on-exec. The task's result pipe arrives at the fork server
    # over SCM_RIGHTS, which does not mark it: a `sleep 600 &` the step left behind held it.
    # The flow's module is imported in the runner first: descriptors open then are the
    # environment's, not flowtui's.
    flows.write(
        "inherit.py",
        HEADER
        + """
import os

def inheritable():
    fds = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.get_inheritable(int(name)):
                fds.add(int(name))
        except OSError:  # the listing's own descriptor, closed by now
            pass
    return fds

BEFORE = inheritable()

class InheritFlow(FlowSpec):
    @step
    def start(self):
        self.items = [0, 1, 2]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.leaked = sorted(
            f"{fd} -> {os.readlink(f'/proc/self/fd/{fd}')}"
            for fd in inheritable() - BEFORE - {0, 1, 2}
        )
        self.next(self.join)

    @step
    def join(self, inputs):
        self.leaked = [fd for i in inputs for fd in i.leaked]
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    ran = flows.run("inherit.py", "--max-workers", "3", env={"FLOWTUI_FORK_SERVER": server})
    assert ran.code == 0, ran.output
    join = flows.tasks("InheritFlow")["join"][0]
    assert flows.artifact(join, "leaked") == []


def test_following_a_finished_task_whose_log_was_deleted_says_it_is_missing(flows):
    # A task now creates its own log files, so a running attempt's missing file is normal
    # and reads empty; an ended attempt's was deleted, and `logs -f` says so as `logs` does
    # (it printed nothing and exited 0).
    flows.write(
        "said.py",
        HEADER
        + """
class SaidFlow(FlowSpec):
    @step
    def start(self):
        print("hello")
        self.next(self.end)

    @step
    def end(self):
        pass
""",
    )
    assert flows.run("said.py", "-q").code == 0
    (out,) = (flows.store_path / "logs" / "1" / "start").glob("1.*.out")
    out.unlink()
    for args in ((), ("-f",)):
        shown = flows.cli("logs", "SaidFlow/1/start/1", *args)
        assert shown.code == 1, (args, shown.output)
        assert "The stdout log of SaidFlow/1/start/1 is missing from the store" in (
            shown.stderr.replace("\n", " ")
        )
        assert "Traceback" not in shown.output
