"""`flowtui.Runner`: runs started from Python as real `flowtui run`/`resume` subprocesses, each
handed back as the client's Run of exactly that run, with its status and output."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowtui import Flow, Runner, namespace
from flowtui.client import ExecutingRun, RunnerError, metadata
from tests.gate import wait_for

FLOW = """
import os, time
from flowtui import FlowSpec, JSONType, Parameter, step


class RunMe(FlowSpec):
    alpha = Parameter("alpha", default=1)
    dashed = Parameter("dashed-name", default="d")
    config = Parameter("config", type=JSONType, default="{}")
    flag = Parameter("flag", default=False)
    word = Parameter("word", multiple=True)
    gate = Parameter("gate", default="")

    @step
    def start(self):
        print("alpha is", self.alpha, flush=True)
        self.x = self.alpha * 2
        if self.gate:
            print("waiting at the gate", flush=True)
            open(self.gate + ".reached", "w").close()
            while not os.path.exists(self.gate):
                time.sleep(0.02)
        self.next(self.end)

    @step
    def end(self):
        if os.environ.get("RUNME_FAIL"):
            raise ValueError("told to fail")
        self.seen = (self.alpha, self.dashed, self.config, self.flag, self.word)
"""


@pytest.fixture
def flow_file(tmp_path: Path) -> Path:
    path = tmp_path / "runme.py"
    path.write_text(textwrap.dedent(FLOW))
    return path


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def own_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Where the Runner's temporary files go in this test (to see they are gone after)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder


def test_run_hands_back_that_run_with_its_parameters_status_and_output(
    flow_file: Path, store: Path
) -> None:
    runner = Runner(flow_file, show_output=False, store=store, pylint=False, metadata="local")

    with runner.run(
        alpha=5, dashed_name="z", config={"k": [1, 2]}, flag=True, word=["a", "b"], tags=["exp"]
    ) as running:
        assert (running.status, running.returncode) == ("successful", 0)
        assert running.run.successful
        assert running.run.data.seen == (5, "z", {"k": [1, 2]}, True, ("a", "b"))
        assert running.run["start"].task.data.x == 10
        assert "exp" in running.run.user_tags
        assert "alpha is 5" in running.stdout
        assert running.stderr == ""


def test_the_run_is_the_one_started_not_the_flows_latest(
    flow_file: Path, store: Path, tmp_path: Path
) -> None:
    go = tmp_path / "go"

    async def both() -> None:
        async with Runner(flow_file, store=store) as runner:
            first = await runner.async_run(alpha=1, gate=str(go))
            assert (first.status, first.returncode) == ("running", None)
            second = Runner(flow_file, show_output=False, store=store).run(alpha=2)
            assert second.status == "successful"

            metadata(str(store))
            namespace(None)
            assert Flow("RunMe").latest_run.pathspec == second.run.pathspec  # type: ignore[union-attr]
            assert first.run.pathspec != second.run.pathspec
            assert not first.run.finished
            go.touch()
            await first.wait()
            assert first.status == "successful"
            assert first.run.data.x == 2 and second.run.data.x == 4

    try:
        asyncio.run(both())
    finally:
        from flowtui.client import default_metadata, default_namespace

        default_metadata()
        default_namespace()


def test_async_run_streams_the_log_while_the_run_goes(
    flow_file: Path, store: Path, tmp_path: Path
) -> None:
    go = tmp_path / "go"

    async def follow() -> list[str]:
        async with Runner(flow_file, store=store) as runner:
            running = await runner.async_run(alpha=3, gate=str(go))
            seen = []
            async for position, line in running.stream_log("stdout"):
                seen.append(line)
                if "waiting at the gate" in line:
                    assert running.status == "running"  # the line came while it ran
                    go.touch()
                    rest = position
            await running.wait()
            assert running.status == "successful"
            tail = [line async for _, line in running.stream_log("stdout", rest)]
            assert tail == seen[seen.index("start/1 waiting at the gate") + 1 :]
            return seen

    seen = asyncio.run(follow())

    assert "start/1 alpha is 3" in seen
    assert any("succeeded" in line for line in seen[-1:])


def test_a_failed_run_says_failed_and_its_run_reads_the_failed_task_then_resume_finishes_it(
    flow_file: Path, store: Path
) -> None:
    failed = Runner(flow_file, show_output=False, store=store, env={"RUNME_FAIL": "1"}).run(alpha=4)

    assert failed.status == "failed" and failed.returncode not in (0, None)
    assert not failed.run.successful
    end = failed.run["end"].task
    assert end.successful is False
    assert "told to fail" in str(end.exception)
    assert failed.run["start"].task.data.x == 8

    resumed = Runner(flow_file, show_output=False, store=store).resume()

    assert resumed.status == "successful"
    assert resumed.run.origin_pathspec == failed.run.pathspec
    assert resumed.run.data.seen[0] == 4  # the origin's parameters
    assert resumed.run.pathspec != failed.run.pathspec


def test_resume_from_a_named_step_of_a_named_origin(flow_file: Path, store: Path) -> None:
    runner = Runner(flow_file, show_output=False, store=store)
    first = runner.run(alpha=6)
    runner.run(alpha=7)  # the latest: not the one resumed

    resumed = runner.resume(origin_run_id=first.run.id, step_to_rerun="start")

    assert resumed.status == "successful"
    assert resumed.run.origin_pathspec == first.run.pathspec
    assert resumed.run.resume_step == "start"
    assert resumed.run.data.seen[0] == 6


def test_wait_past_its_timeout_stops_the_run(flow_file: Path, store: Path, tmp_path: Path) -> None:
    async def too_slow() -> None:
        async with Runner(flow_file, store=store) as runner:
            running = await runner.async_run(gate=str(tmp_path / "never"))
            await running.wait(timeout=0.2)
            assert running.status == "timeout"
            assert running.returncode is not None
            assert running.run.status == "cancelled"

    asyncio.run(too_slow())


def test_a_flow_file_that_does_not_exist_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(RunnerError) as caught:
        Runner(tmp_path / "nope.py")

    assert (
        str(caught.value)
        == f"{tmp_path / 'nope.py'} does not exist; check the path of the flow file."
    )
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_flow_file_that_does_not_parse_says_where(tmp_path: Path, store: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from flowtui import FlowSpec\nclass Bad(FlowSpec:\n    pass\n")

    with pytest.raises(RunnerError) as caught:
        Runner(bad, show_output=False, store=store).run()

    message = str(caught.value)
    assert message.startswith("run() of bad.py did not start: ")
    assert "bad.py:2:" in message and "Syntax error" in message
    assert "Traceback" not in message


def test_an_unknown_parameter_names_it_and_what_the_flow_takes(
    flow_file: Path, store: Path, own_tmp: Path
) -> None:
    with pytest.raises(RunnerError) as caught:
        Runner(flow_file, show_output=False, store=store).run(alhpa=3)

    message = str(caught.value)
    assert "RunMe has no parameter --alhpa; its parameters are: --alpha," in message
    assert "keyword arguments are the flow's parameters (with _ for -)" in message
    assert "Traceback" not in message
    assert list(own_tmp.iterdir()) == []  # no run to hand back: nothing kept


def test_a_bad_value_and_an_unknown_option_are_sentences(flow_file: Path, store: Path) -> None:
    with pytest.raises(RunnerError, match="Parameter 'alpha' takes a whole number, not 'x'"):
        Runner(flow_file, show_output=False, store=store).run(alpha="x")
    with pytest.raises(RunnerError, match=re.escape("Runner() has no option 'colour'")):
        Runner(flow_file, colour="red")
    with pytest.raises(RunnerError, match="flowtui runs flows locally"):
        Runner(flow_file, metadata="service")
    with pytest.raises(RunnerError, match=re.escape("run(origin_run_id=...) is not an option")):
        Runner(flow_file, show_output=False, store=store).run(origin_run_id="1")


def test_leaving_the_with_block_removes_the_runners_files(
    flow_file: Path, store: Path, own_tmp: Path
) -> None:
    with Runner(flow_file, show_output=False, store=store).run() as running:
        assert list(own_tmp.iterdir())  # its output is kept while the block runs
        assert "alpha is 1" in running.stdout

    assert list(own_tmp.iterdir()) == []
    with pytest.raises(RunnerError, match=re.escape("read .stdout inside it")):
        _ = running.stdout


def test_leaving_an_async_block_stops_a_run_still_going(
    flow_file: Path, store: Path, own_tmp: Path, tmp_path: Path
) -> None:
    async def leave_early() -> None:
        async with Runner(flow_file, store=store) as runner:
            running = await runner.async_run(gate=str(tmp_path / "never"))
            async for _, line in running.stream_log("stdout"):
                if "waiting at the gate" in line:
                    break
        assert running.returncode is not None
        assert running.run.status == "cancelled"

    asyncio.run(leave_early())

    assert list(own_tmp.iterdir()) == []


INTERRUPTED = """
import sys
from flowtui import Runner

runner = Runner(sys.argv[1], show_output=False, store=sys.argv[2])
try:
    runner.run(gate=sys.argv[3])
except KeyboardInterrupt:
    print("interrupted", runner._processes[0].returncode is not None, flush=True)
"""


def test_an_interrupt_while_run_waits_stops_the_run_too(
    flow_file: Path, store: Path, tmp_path: Path
) -> None:
    script = tmp_path / "caller.py"
    script.write_text(INTERRUPTED)
    gate = tmp_path / "never"
    caller = subprocess.Popen(
        [sys.executable, str(script), str(flow_file), str(store), str(gate)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(Path(f"{gate}.reached").exists, "the run to reach its gate")
        caller.send_signal(signal.SIGINT)  # Ctrl-C, or a kernel's interrupt
        out, _ = caller.communicate(timeout=60)
    finally:
        if caller.poll() is None:
            caller.kill()

    assert out.splitlines() == ["interrupted True"]
    metadata(str(store))
    namespace(None)
    try:
        assert Flow("RunMe").latest_run.status == "cancelled"  # type: ignore[union-attr]
    finally:
        from flowtui.client import default_metadata, default_namespace

        default_metadata()
        default_namespace()


WHICH = """
import flowtui
from flowtui import FlowSpec, step


class WhichFlow(FlowSpec):
    @step
    def start(self):
        self.flowtui_file = flowtui.__file__
        self.next(self.end)

    @step
    def end(self):
        pass
"""

FROM_A_CHECKOUT = """
import sys
sys.path.insert(0, sys.argv[1])  # as a notebook started in a checkout finds flowtui
from flowtui import Runner

running = Runner(sys.argv[2], show_output=False, store=sys.argv[3], cwd=sys.argv[4]).run()
print(running.status, running.run.data.flowtui_file)
"""


def test_a_caller_with_flowtui_from_a_checkout_runs_that_flowtui(tmp_path: Path) -> None:
    checkout = Path(__file__).resolve().parents[2]
    flow = tmp_path / "which.py"
    flow.write_text(textwrap.dedent(WHICH))
    script = tmp_path / "caller.py"
    script.write_text(FROM_A_CHECKOUT)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    args = [str(checkout), str(flow), str(tmp_path / "s"), str(elsewhere)]
    done = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["successful", str(checkout / "flowtui" / "__init__.py")]


def test_an_async_run_outlives_the_event_loop_that_started_it(
    flow_file: Path, store: Path, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    runner = Runner(flow_file, store=store)
    started: list[ExecutingRun] = []
    returned = threading.Event()

    async def start() -> None:
        started.append(await runner.async_run(alpha=9, gate=str(go)))

    def loop_of_its_own() -> None:
        asyncio.run(start())  # returns as soon as the run exists, not at its end
        returned.set()

    thread = threading.Thread(target=loop_of_its_own)
    thread.start()
    try:
        assert returned.wait(60), "asyncio.run waited for the run to end"
        (running,) = started
        assert running.status == "running"
        go.touch()
        asyncio.run(running.wait())  # another loop waits for it
        assert running.status == "successful" and running.run.data.x == 18
    finally:
        go.touch()
        thread.join()
        runner.cleanup()


def test_show_output_echoes_the_run_and_wait_can_print_a_stream(
    flow_file: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Runner(flow_file, store=store).run(alpha=11)  # show_output is on by default, as in Metaflow

    echoed = capsys.readouterr()
    assert "start/1 alpha is 11" in echoed.out

    async def printed() -> None:
        async with Runner(flow_file, store=store) as runner:
            running = await runner.async_run(alpha=12)
            await running.wait(stream="stdout")

    asyncio.run(printed())

    lines = capsys.readouterr().out.splitlines()
    assert "start/3 alpha is 12" in lines
    assert lines[-1].startswith("✔ RunMe/2 succeeded")
