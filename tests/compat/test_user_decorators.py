"""User-defined decorators (Metaflow >= 2.16: `user_step_decorator`, `UserStepDecorator`,
`StepMutator`) run under real Metaflow and under flowtui: the same artifacts, the same lines
in each task's log, the same steps skipped, exceptions replaced or swallowed, and decorators a
mutator adds or removes taking effect (flowtui's own @retry/@catch/@timeout/@card too)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from differential import HERE, Sides, compare, needs_metaflow

pytestmark = [pytest.mark.differential, needs_metaflow]


def _answers(script: str, sides: Sides, client: str, pathspec: str) -> Any:
    env = (
        sides.metaflow_env
        if client == "metaflow"
        else {**sides.flowtui_env, "FLOWTUI_STORE": str(sides.store)}
    )
    proc = subprocess.run(
        [sys.executable, str(HERE / script), client, pathspec],
        cwd=sides.workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _logs(sides: Sides, flow: str, run_ids: tuple[str, str], step: str) -> list[str]:
    """The step's stdout on each side (Metaflow's, then flowtui's)."""
    return [
        _answers("log_answers.py", sides, client, f"{flow}/{run_id}/{step}")["stdout"]
        for client, run_id in zip(("metaflow", "flowtui.client"), run_ids, strict=True)
    ]


# A forked task has the runner's class; a spawned one (and a Ray worker) imports the file
# afresh and applies the mutators and --with itself.
START_METHODS = pytest.mark.parametrize("start_method", ["fork", "spawn"])


@START_METHODS
def test_user_step_decorators_run_around_the_step_as_on_metaflow(
    sides: Sides, start_method: str
) -> None:
    sides.flowtui_env["FLOWTUI_START_METHOD"] = start_method
    file = sides.flow("mf_user_step_decorators")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft, by_type=frozenset({"caught"}))

    assert compared["start"] >= {"stamped_before", "stamped_after", "from_step"}
    assert ft.value("start", "stamped_after") == "start after attempt 0"
    # arguments reach the generator (attributes) and the class form's init; join inputs too
    assert ft.value("join", "a_seen") == ("outer:a", "None", {"color": "red", "size": 3})
    assert ft.value("join", "input_count") == 6
    assert ft.value("join", "tag_attributes") == {}
    # a skipped step (USER_SKIP_STEP, or skip_step set by the class form) ran none of its code
    assert ft.value("join", "b_has_never") is False
    assert ft.value("join", "f_has_never") is False
    # a swallowed exception, a replacement callable, a replaced exception @retry and @catch see
    assert ft.value("join", "swallowed") == "c failed"
    assert ft.value("c", "before_raise") == "kept"
    assert ft.value("join", "e_instead") is True
    assert ft.value("join", "caught_type") == "builtins.RuntimeError"
    assert ft.value("join", "caught_message") == "replaced 'k'"
    assert ft.value("join", "d_attempt") == 1

    runs = (mf.run_id, ft.run_id)
    for step in ("start", "a", "b", "c", "e"):
        metaflow_log, flowtui_log = _logs(sides, "StepOnce", runs, step)
        assert metaflow_log == flowtui_log, step
    assert _logs(sides, "StepOnce", runs, "start")[1] == (
        "stamp: before start\nstart: the step itself\nstamp: after start\n"
    )


def test_a_replaced_exception_fails_with_the_users_traceback(sides: Sides) -> None:
    file = sides.flow("mf_user_step_decorators")
    ft = sides.flowtui(file)
    assert ft.code == 0, ft.output
    stderr = _answers("log_answers.py", sides, "flowtui.client", f"StepOnce/{ft.run_id}/d")[
        "stderr"
    ]
    assert 'mf_user_step_decorators.py", line' in stderr
    assert "in replace_error" in stderr and "RuntimeError: replaced 'k'" in stderr
    assert "flowtui/" not in stderr  # none of flowtui's own frames


@START_METHODS
def test_step_mutators_add_and_remove_decorators_and_they_take_effect(
    sides: Sides, start_method: str
) -> None:
    sides.flowtui_env["FLOWTUI_START_METHOD"] = start_method
    file = sides.flow("mf_step_mutators")
    args = ("--with", "everywhere:size=3")
    mf, ft = sides.metaflow(file, *args), sides.flowtui(file, *args)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft, by_type=frozenset({"failure", "timed_out", "fixed_error"}))

    # @retry(times=2) and @catch added, @environment removed: the third attempt succeeds
    assert ft.value("start", "attempt") == 2
    assert ft.value("start", "env_seen") is None
    # @timeout and @catch added: the step stopped after a second, caught as on Metaflow
    assert ft.value("slow", "before_sleep") is True
    assert "after_sleep" not in ft.steps["slow"][()]
    # @retry(times=3) overridden by retry:times=0: one attempt, caught
    assert ft.value("end", "summary") == (
        True,
        "metaflow.plugins.timeout_decorator.TimeoutException",
        "builtins.ValueError",
        "fixed fails on attempt 0",
    )
    assert ft.value("end", "fixed_attempt") == 0
    # a user decorator added by a mutator (by class and by name), and one given with --with
    assert ft.value("slow", "noted") == "slow"
    assert ft.value("end", "everywhere_attributes") == {"size": 3}
    assert compared["end"] >= {"summary", "everywhere_attributes", "noted", "attempt"}

    runs = (mf.run_id, ft.run_id)
    metaflow_log, flowtui_log = _logs(sides, "MutatedFlow", runs, "start")
    assert (
        metaflow_log
        == flowtui_log
        == ("note: start attempt 2\neverywhere: start {'size': 3}\nstart: attempt 2\n")
    )
    # a @card a mutator added is made, on both sides
    cards = [
        _answers("card_ids.py", sides, client, f"MutatedFlow/{run_id}/slow")
        for client, run_id in zip(("metaflow", "flowtui.client"), runs, strict=True)
    ]
    assert cards[0] == cards[1] == [["blank", "added"]]


@pytest.mark.parametrize(
    ("case", "said"),
    [
        ("raise", "RuntimeError: the decorator refuses"),
        (
            "no_yield",
            "@misbehave returned without yielding, so step 'start' cannot run; yield once "
            "where the step runs (or yield USER_SKIP_STEP to skip it).",
        ),
        (
            "twice",
            "@misbehave yielded twice around step 'start'; a user step decorator yields once.",
        ),
    ],
)
def test_a_failing_user_decorator_fails_the_step_on_both_sides(
    sides: Sides, case: str, said: str
) -> None:
    file = sides.flow("mf_user_decorator_fails")
    mf, ft = sides.metaflow(file, "--case", case), sides.flowtui(file, "--case", case)
    assert mf.code != 0 and ft.code != 0
    assert mf.failed_steps == ft.failed_steps == ["start"]
    assert said in ft.output
    assert "flowtui/" not in ft.output  # no frame of flowtui's own
    # the user's own exception keeps its traceback; flowtui's sentence stands alone
    assert ("Traceback (most recent call last)" in ft.output) == (case == "raise")


MISPLACED = """
from metaflow import FlowSpec, step, user_step_decorator


@user_step_decorator
def stamp(step_name, flow, inputs=None):
    yield


class MisplacedFlow(FlowSpec):
    @step
    @stamp
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MisplacedFlow()
"""


def test_a_user_decorator_below_step_is_one_sentence(sides: Sides) -> None:
    # not among flows/ (every flow there runs, on Ray too: tests/ray/test_parity.py)
    file = sides.workdir / "misplaced.py"
    file.write_text(MISPLACED)
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert mf.code != 0 and ft.code != 0
    assert (
        "@stamp is applied to 'start', which is not a step: write it above @step "
        "(@step must be the decorator closest to the function)."
    ) in ft.output


PROFILER = """
from metaflow import user_step_decorator


@user_step_decorator
def my_profile(step_name, flow, inputs, attributes):
    print(f"profiled {step_name} {attributes}")
    flow.profiled = (step_name, dict(attributes))
    yield
"""


def test_with_names_a_user_decorator_the_file_never_imports(sides: Sides) -> None:
    file = sides.flow("mf_two_steps")
    (file.parent / "myprofiler.py").write_text(PROFILER)  # beside the flow, as Metaflow's docs
    args = ("--with", "myprofiler.my_profile:level=2")
    mf, ft = sides.metaflow(file, *args), sides.flowtui(file, *args)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert ft.value("end", "profiled") == ("end", {"level": 2})
    assert "profiled" in compared["start"] and "profiled" in compared["end"]
    metaflow_log, flowtui_log = _logs(sides, "TwoStepsFlow", (mf.run_id, ft.run_id), "start")
    assert "profiled start {'level': 2}\n" in flowtui_log
    assert metaflow_log == flowtui_log


BROKEN_MUTATOR = """
from metaflow import FlowSpec, StepMutator, step


class Broken(StepMutator):
    def mutate(self, mutable_step):
        limits = {}
        mutable_step.add_decorator("retry", deco_kwargs={"times": limits["retries"]})


class BrokenMutatorFlow(FlowSpec):
    @Broken
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BrokenMutatorFlow()
"""


def test_a_mutator_that_raises_stops_the_run_naming_it_with_the_users_traceback(
    sides: Sides,
) -> None:
    file = sides.workdir / "broken_mutator.py"
    file.write_text(BROKEN_MUTATOR)
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert mf.code != 0 and ft.code != 0
    assert "KeyError: 'retries'" in mf.output
    assert (
        "error: broken_mutator.py: @Broken on step 'start' raised KeyError in mutate(): "
        "'retries'; fix it in the file."
    ) in ft.output
    assert 'broken_mutator.py", line 8, in mutate' in ft.output  # the user's line
    assert "flowtui/" not in ft.output
    assert not ft.steps  # nothing ran


@START_METHODS
def test_flow_mutators_change_steps_parameters_and_flow_decorators_as_on_metaflow(
    sides: Sides, start_method: str
) -> None:
    sides.flowtui_env.update(FLOWTUI_START_METHOD=start_method, USERNAME="tester")
    file = sides.flow("mf_flow_mutators")
    mf, ft = sides.metaflow(file, "--alpha", "0.75"), sides.flowtui(file, "--alpha", "0.75")
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    # pre_mutate: a parameter added (given on the command line) and one removed, the
    # parameters it saw, @project added; mutate: @environment added to start (as @project is)
    assert ft.value("start", "values") == (0.75, 2, "alpha,beta", False)
    assert ft.value("end", "parameter_names") == ["alpha", "beta", "known"]
    assert ft.value("start", "project") == "knobs_proj"
    assert ft.value("start", "knob") == "on"
    # the base flow's mutator: @retry on every step, then the user decorator's fallback
    assert ft.value("flaky", "attempt") == 1
    assert ft.value("end", "failure_message") == "ValueError: attempt 1 fails"
    assert compared["end"] >= {"values", "parameter_names", "failure_message", "project"}
    metaflow_log, flowtui_log = _logs(sides, "KnobsFlow", (mf.run_id, ft.run_id), "flaky")
    assert metaflow_log == flowtui_log == "fallback: flaky failed on attempt 1: attempt 1 fails\n"


LATE_PARAMETER = """
from metaflow import FlowMutator, FlowSpec, Parameter, step


class Late(FlowMutator):
    def mutate(self, mutable_flow):
        mutable_flow.add_parameter("late", Parameter("late", default=1))


@Late
class LateFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    LateFlow()
"""

MUTATOR_ON_A_STEP = """
from metaflow import FlowMutator, FlowSpec, step


class Whole(FlowMutator):
    pass


class OnAStepFlow(FlowSpec):
    @Whole
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    OnAStepFlow()
"""


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            LATE_PARAMETER,
            "error: flow.py: Late adds parameter 'late' in mutate(); a flow's parameters and "
            "flow decorators change only in pre_mutate().",
        ),
        (
            MUTATOR_ON_A_STEP,
            "@Whole is a FlowMutator, applied to 'start', which is not a flow: write it above "
            "the flow's class (class MyFlow(FlowSpec)); a StepMutator changes one step.",
        ),
    ],
    ids=["a parameter added in mutate", "a flow mutator on a step"],
)
def test_a_flow_mutator_misused_is_one_sentence(sides: Sides, text: str, said: str) -> None:
    file = sides.workdir / "flow.py"
    file.write_text(text)
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert mf.code != 0 and ft.code != 0
    assert said in ft.output
    assert not ft.steps  # nothing ran
