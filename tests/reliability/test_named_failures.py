"""Smaller failures named rightly (defect 9 of issue 10): each one a sentence, never a wrong
status or a traceback."""

from __future__ import annotations

import subprocess

from lab import Lab

ONE_STEP = """
    from flowtui import FlowSpec, step

    class {name}(FlowSpec):
        @step
        def start(self):
{body}
            self.next(self.end)

        @step
        def end(self):
            pass
"""


def one_step(lab: Lab, name: str, body: str) -> str:
    indented = "\n".join("            " + line for line in body.strip().splitlines())
    lab.write(f"{name.lower()}.py", ONE_STEP.format(name=name, body=indented))
    return f"{name.lower()}.py"


def test_a_closed_stdout_detaches_the_console_and_the_run_still_succeeds(lab: Lab):
    file = one_step(lab, "HeadFlow", "for i in range(100_000):\n    print('line', i)")
    proc = lab.start("run", file, stdout=subprocess.PIPE)  # as in `flowtui run F | head -1`
    assert proc.stdout is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert first.startswith("Running HeadFlow/1")
    assert proc.returncode == 0
    assert "the run goes on detached" in err and "Traceback" not in err
    assert lab.runs("HeadFlow")[0].status == "succeeded"


def test_a_step_closing_flowtuis_pipe_is_named_not_read_as_exit_code_0(lab: Lab):
    file = one_step(lab, "CloserFlow", "import os\nos.closerange(3, 1024)")
    ran = lab.cli("run", file, "--quiet")
    assert ran.code == 1
    assert "ResultPipeClosed: the step closed the pipe flowtui reads its result from" in ran.output
    assert "code 0" not in ran.output


def test_the_resume_hint_names_the_store_it_ran_in(lab: Lab):
    file = one_step(lab, "HintFlow", "raise ValueError('boom')")
    other = lab.root / "elsewhere"
    ran = lab.cli("run", file, "--store", str(other))
    assert ran.code == 1
    assert f"flowtui resume {file} --store {other}" in ran.output
