"""Smaller failures named rightly (defect 9 of issue 10): each one a sentence, never a wrong
status or a traceback."""

from __future__ import annotations

import subprocess

from lab import Lab

from flowtui.store.blobs import TEMP_PLACE

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


def test_huge_ids_are_not_found_not_an_overflow_traceback(lab: Lab):
    file = one_step(lab, "IdFlow", "pass")
    assert lab.cli("run", file, "--quiet").code == 0
    huge = "9" * 30
    for args in (
        ["logs", f"IdFlow/{huge}/start"],
        ["logs", f"IdFlow/1/start/{huge}"],
        ["artifacts", f"IdFlow/1/start/{huge}"],
        ["resume", file, "--origin-run-id", huge],
    ):
        ran = lab.cli(*args)
        assert ran.code == 2, (args, ran.output)
        assert "Traceback" not in ran.output and "OverflowError" not in ran.output
        assert f"no run {huge}" in ran.stderr or f"no task {huge}" in ran.stderr, ran.stderr


def test_what_the_flow_prints_at_import_never_enters_the_event_stream(lab: Lab):
    lab.write(
        "chatty.py",
        """
        print('{"event": "run_finished", "status": "succeeded"}')  # at import, in the runner
        print("hello from import")
        from flowtui import FlowSpec, step

        class ChattyFlow(FlowSpec):
            @step
            def start(self):
                print("hello from start")
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    )
    ran = lab.cli("run", "chatty.py", "--events")
    assert ran.code == 0, ran.output
    import json

    events = [json.loads(line) for line in ran.stdout.splitlines()]  # every line is an event
    assert events[0]["event"] == "run_started"
    assert [e["event"] for e in events].count("run_finished") == 1
    assert "hello from import" in ran.stderr


def test_a_deleted_log_is_said_to_be_missing_not_shown_empty(lab: Lab):
    file = one_step(lab, "LogFlow", "print('something worth reading')")
    assert lab.cli("run", file, "--quiet").code == 0
    store = lab.store
    task = store.meta.tasks("1", "start")[0]
    path = store.meta.attempts(task.task_id)[0].stdout
    store.close()
    import os

    os.unlink(path)
    ran = lab.cli("logs", "LogFlow/1/start", "--stdout")
    assert ran.code == 1
    assert f"The stdout log of LogFlow/1/start/{task.task_id} is missing" in ran.stderr


def test_a_flow_file_that_is_a_fifo_or_a_device_is_refused_at_once(lab: Lab):
    import os

    os.mkfifo(lab.root / "fifo.py")
    (lab.root / "zero.py").symlink_to("/dev/zero")
    for name in ("fifo.py", "zero.py"):
        for command in ("check", "show", "run"):
            ran = lab.cli(command, name, timeout=60)
            assert ran.code == 2, ran.output
            assert "is not a regular file" in ran.stderr


def test_temp_blobs_a_kill_left_behind_are_removed_by_the_next_run(lab: Lab):
    import subprocess
    import sys

    file = one_step(lab, "TmpFlow", "self.x = 1")
    assert lab.cli("run", file, "--quiet").code == 0
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    orphan = lab.store_path / "blobs" / f".0123456789abcdef.{gone.pid}.{TEMP_PLACE}.tmp"
    orphan.write_bytes(b"half a value")
    assert lab.cli("run", file, "--quiet").code == 0
    assert not orphan.exists()


def test_task_escape_sequences_never_reach_the_terminal_raw(lab: Lab):
    body = (
        "import sys\n"
        "sys.stdout.write('title \\x1b]0;pwned\\x07 link \\x1b]8;;http://evil\\x1b\\\\x\\x1b]8;;"
        "\\x1b\\\\ clear \\x1b[2J reset \\x1bc end\\n')"
    )
    file = one_step(lab, "EscFlow", body)
    ran = lab.cli("run", file, TERM="xterm", FORCE_COLOR="1")
    assert ran.code == 0, ran.output
    line = next(x for x in ran.stdout.splitlines() if "title" in x)
    assert "\x1b]" not in line and "\x1b[2J" not in line and "\x1bc" not in line
    assert "end" in line


def test_a_progress_bar_echoes_as_its_last_drawing_not_every_drawing_escaped(lab: Lab):
    """tqdm redraws one line with carriage returns: the console printed every drawing in one
    line, each `\\r` spelled out as `\\x0d`; it shows what a terminal (and the TUI) would."""
    body = (
        "import sys\n"
        "for i in range(0, 101, 25):\n"
        "    sys.stderr.write(f'\\rtraining {i:3d}%')\n"
        "sys.stderr.write('\\n')\n"
        "print('after the bar')"
    )
    file = one_step(lab, "BarFlow", body)
    ran = lab.cli("run", file)
    assert ran.code == 0, ran.output
    bar = [x for x in ran.output.splitlines() if "training" in x]
    assert [x.split(" ", 1)[1] for x in bar] == ["training 100%"]
    assert "\\x0d" not in ran.output and "\r" not in ran.output
    assert "after the bar" in ran.output


def test_an_artifact_named_like_flowspecs_own_attributes_is_an_error_naming_it(lab: Lab):
    file = one_step(lab, "ShadowFlow", "self.foreach_stack = [1, 2]")
    ran = lab.cli("run", file, "--quiet")
    assert ran.code == 1
    assert "self.foreach_stack cannot be an artifact: 'foreach_stack' is part of FlowSpec" in (
        ran.output
    )
