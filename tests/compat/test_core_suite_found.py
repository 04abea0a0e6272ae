"""Differences Metaflow's own core suite found (bench/metaflow_core.py), each pinned by a
small flow of ours run under real Metaflow and under flowtui and compared."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from differential import Sides, compare, needs_metaflow

HERE = Path(__file__).parent

pytestmark = [pytest.mark.differential, needs_metaflow]


def test_a_class_constant_cannot_be_set_in_a_step(sides: Sides) -> None:
    file = sides.flow("mf_constant_readonly")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert ft.value("start", "tried") == ft.value("middle", "tried_again") == "refused"
    assert ft.value("end", "LIMIT") == 5
    assert compared["middle"] >= {"tried", "tried_again", "seen", "LIMIT", "labels"}


def test_a_failed_merge_artifacts_merges_nothing_and_raises_metaflows_errors(
    sides: Sides,
) -> None:
    file = sides.flow("mf_merge_failed")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert ft.value("join", "same_after_failure") is False
    assert [ft.value("join", n) for n in ("failed_merge", "both_options", "missing")] == [
        "unhandled",
        "metaflow",
        "missing",
    ]
    assert ft.value("end", "not_a_join") == "metaflow"
    assert compared["join"] >= {"failed_merge", "same_after_failure", "merged", "step_seen"}


def test_parameters_are_read_from_metaflow_run_variables(sides: Sides) -> None:
    (sides.workdir / "default.txt").write_text("the default file")
    (sides.workdir / "given.txt").write_text("the file named in the environment")
    env = {
        "METAFLOW_RUN_ALPHA": "7",
        "METAFLOW_RUN_FLAG": "False",
        "METAFLOW_RUN_DASHED_NAME": "from env",
        "METAFLOW_RUN_NOTES": "given.txt",
    }
    sides.metaflow_env.update(env)
    sides.flowtui_env.update(env)
    file = sides.flow("mf_env_params")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert ft.value("start", "seen") == (
        7,
        False,
        "from env",
        "kept",
        "the file named in the environment",
    )
    assert "seen" in compared["start"]


def _answers(script: str, sides: Sides, client: str, pathspec: str, env: dict[str, str]) -> Any:
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


def test_tags_change_and_filter_as_metaflows_client_does(sides: Sides) -> None:
    file = sides.flow("mf_two_steps")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    ft_env = {**sides.flowtui_env, "FLOWTUI_STORE": str(sides.store)}
    mf_answers = _answers(
        "tag_answers.py", sides, "metaflow", f"TwoStepsFlow/{mf.run_id}", sides.metaflow_env
    )
    ft_answers = _answers(
        "tag_answers.py", sides, "flowtui.client", f"TwoStepsFlow/{ft.run_id}", ft_env
    )

    assert ft_answers == mf_answers
    assert ft_answers["a_run_keeps_what_its_change_left"] is True
    assert ft_answers["tasks_with_a_tag_the_run_lacks"] == 0
    assert ft_answers["after_replace_tags"] == ["BBB", "CCC", "ab"]


def test_every_attempt_is_in_a_tasks_metadata_and_external_command_failed_is_offered(
    sides: Sides,
) -> None:
    file = sides.flow("mf_retry_attempts")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    pathspec = "RetryAttemptsFlow/{}"
    ft_env = {**sides.flowtui_env, "FLOWTUI_STORE": str(sides.store)}
    mf_answers = _answers(
        "retry_answers.py", sides, "metaflow", pathspec.format(mf.run_id), sides.metaflow_env
    )
    ft_answers = _answers(
        "retry_answers.py", sides, "flowtui.client", pathspec.format(ft.run_id), ft_env
    )

    assert ft_answers == mf_answers
    assert ft_answers["attempts"] == ["0", "1", "2"]
    assert ft_answers["caught_type"] == "metaflow.exception.ExternalCommandFailed"


def test_a_caught_timeout_has_metaflows_type_name(sides: Sides) -> None:
    file = sides.flow("mf_timeout_caught")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft, by_type=frozenset({"ex"}))

    assert ft.value("end", "caught_type") == "metaflow.plugins.timeout_decorator.TimeoutException"
    assert compared["end"] >= {"caught_type", "before"}


def test_a_reused_tasks_metadata_is_its_origins_and_names_the_origin_task(
    sides: Sides,
) -> None:
    file = sides.flow("mf_resume")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert mf.code != 0 and ft.code != 0
    (sides.workdir / "fixed").touch()
    mf, ft = sides.metaflow(file, command="resume"), sides.flowtui(file, command="resume")
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    ft_env = {**sides.flowtui_env, "FLOWTUI_STORE": str(sides.store)}
    mf_answers = _answers(
        "clone_answers.py", sides, "metaflow", f"ResumeFlow/{mf.run_id}", sides.metaflow_env
    )
    ft_answers = _answers(
        "clone_answers.py", sides, "flowtui.client", f"ResumeFlow/{ft.run_id}", ft_env
    )

    assert ft_answers == mf_answers
    assert ft_answers["reused_names_its_origin_task"] is True
    assert all(ft_answers["reused_has_its_origins_metadata"].values())


def test_metaflows_foreach_frames_and_current_step_are_readable_in_a_step(
    sides: Sides,
) -> None:
    file = sides.flow("mf_foreach_frames")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert ft.value("inner", "frames", (1, 2)) == [
        ("outer", "letters", 2, 1),
        ("inner", "numbers", 3, 2),
    ]
    assert ft.value("inner", "lineage", (0, 0)) == ("start", "inner")
    assert compared["inner"] >= {"frames", "values", "lineage"}
    assert "frames" in compared["end"]


def test_catch_keeps_going_when_the_tasks_process_keeps_dying(sides: Sides) -> None:
    file = sides.flow("mf_catch_killed")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft, by_type=frozenset({"ex"}))

    assert ft.value("end", "caught") == (
        "metaflow.plugins.catch_decorator.FailureHandledByCatch",
        "Task execution kept failing over 2 attempts. Your code did not raise an exception. "
        "Something in the execution environment caused the failure.",
    )
    assert ft.value("end", "got_past") is False
    assert compared["end"] >= {"caught", "got_past", "kept"}
    ft_env = {**sides.flowtui_env, "FLOWTUI_STORE": str(sides.store)}
    attempts = _answers(
        "attempt_answers.py", sides, "flowtui.client", f"CatchKilledFlow/{ft.run_id}/die", ft_env
    )
    mf_attempts = _answers(
        "attempt_answers.py",
        sides,
        "metaflow",
        f"CatchKilledFlow/{mf.run_id}/die",
        sides.metaflow_env,
    )
    assert attempts == mf_attempts == ["0", "1", "2"]  # two that died, then the fallback


def test_a_segmentation_fault_is_said_in_the_tasks_stderr(sides: Sides) -> None:
    file = sides.flow("mf_segfault")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert mf.code != 0 and ft.code != 0

    ft_env = {**sides.flowtui_env, "FLOWTUI_STORE": str(sides.store)}
    for client, run_id, env in (
        ("metaflow", mf.run_id, sides.metaflow_env),
        ("flowtui.client", ft.run_id, ft_env),
    ):
        logs = _answers("log_answers.py", sides, client, f"SegfaultFlow/{run_id}/start", env)
        assert "Crash and burn!" in logs["stdout"], client
        assert "Task failed with a segmentation fault." in logs["stderr"], client


def test_current_run_and_task_are_client_objects_kept_as_artifacts(sides: Sides) -> None:
    file = sides.flow("mf_current_objects")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft, by_type=frozenset({"task_obj", "run_obj"}))

    assert ft.value("end", "seen") == (True, "start", True, "start", "Run")
    assert compared["end"] == {"seen", "task_obj", "run_obj"}


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"METAFLOW_BRANCH": "feat_2"}, ("demo_proj", "test.feat_2", False)),
        ({"METAFLOW_PRODUCTION": "True"}, ("demo_proj", "prod", True)),
    ],
)
def test_project_branch_and_production_are_read_from_the_environment(
    sides: Sides, env: dict[str, str], names: tuple[str, str, bool]
) -> None:
    sides.metaflow_env.update(env)
    sides.flowtui_env.update(env, USERNAME="tester")
    file = sides.flow("mf_project")
    mf, ft = sides.metaflow(file), sides.flowtui(file)  # neither is given --branch
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    assert compare(mf, ft) == {"start": {"names"}, "end": {"names"}}
    assert ft.value("start", "names")[:3] == names


def test_a_computed_default_gets_its_context_and_current_once(sides: Sides) -> None:
    sides.metaflow_env["METAFLOW_USER"] = sides.flowtui_env["METAFLOW_USER"] = "tester"
    file = sides.flow("mf_computed_default")
    mf = sides.metaflow(file)
    (sides.workdir / "who_calls.txt").unlink()
    ft = sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert ft.value("start", "seen") == (
        "ComputedDefaultFlow|who|tester|computed_defaults",
        {"a": [8]},
    )
    assert ft.value("start", "calls") == 1
    assert compared["start"] >= {"seen", "calls", "who", "numbers"}
