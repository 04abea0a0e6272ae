"""Round two of the differential tests: the names real flows import (S3, profile,
parallel_map, metaflow_config), Parameter(multiple=True), split-switch steps, @project,
Metaflow's run options and the client's answers, run under real Metaflow and flowtui."""

from __future__ import annotations

import socket

import pytest
from differential import Sides, compare, needs_metaflow
from s3server import S3Server, needs_s3, s3_server

from flowtui.client import Run
from flowtui.store import Store

pytestmark = [pytest.mark.differential, needs_metaflow]
__all__ = ["s3_server"]  # the fixture, used by name


@needs_s3
def test_s3_profile_parallel_map_and_config(sides: Sides, s3_server: S3Server) -> None:
    sides.metaflow_env.update(s3_server.env())
    sides.flowtui_env.update(s3_server.env(), METAFLOW_S3_RETRY_COUNT="3")
    sides.metaflow_env["METAFLOW_S3_RETRY_COUNT"] = "3"
    file = sides.flow("mf_s3")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert "all" in compared["start"] and "profile_lines" in compared["start"]
    assert ft.value("start", "config") == ("s3://flows/data", True, 3)
    assert ft.value("start", "got") == ("one.txt", "ROOT/one.txt", True, "first", 5)
    assert ft.value("start", "missing_raises") == "MetaflowS3NotFound"
    assert ft.value("start", "paths_dir") == [
        ("a.txt", "ROOT/dir/a.txt", True, None, 1),
        ("sub", "ROOT/dir/sub/", False, None, None),
    ]
    assert ft.value("start", "profile_lines") == [
        "PROFILE: loading starting",
        "inside",
        "PROFILE: loading completed in Nms",
    ]
    assert ft.value("start", "mapped") == [10, 11, 14, 19, 26, 35]
    assert ft.value("start", "tmp_removed") is True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@needs_s3
@pytest.mark.parametrize("trouble", ["wrong endpoint", "no credentials"])
def test_s3_failures_are_metaflows_s3_exception_on_both_sides(
    sides: Sides, s3_server: S3Server, trouble: str
) -> None:
    env = {**s3_server.env(), "METAFLOW_S3_RETRY_COUNT": "0"}
    env["METAFLOW_S3_TRANSIENT_RETRY_COUNT"] = "0"
    if trouble == "wrong endpoint":
        env["METAFLOW_S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"  # nothing listens
    for side in (sides.metaflow_env, sides.flowtui_env):
        side.update(env)
        if trouble == "no credentials":
            for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
                side.pop(name, None)
            side.update(
                AWS_SHARED_CREDENTIALS_FILE=str(sides.workdir / "none"),
                AWS_CONFIG_FILE=str(sides.workdir / "none"),
                AWS_EC2_METADATA_DISABLED="true",
            )
    file = sides.flow("mf_s3_errors")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output
    compare(mf, ft)  # the step caught each failure as MetaflowException on both sides
    for op in ("put", "get", "listed"):
        assert ft.value("start", op) == "MetaflowS3Exception"


MULTIPLE = {"vals", "names", "single", "seen", "total"}


@pytest.mark.parametrize(
    ("args", "seen"),
    [
        ((), ((), ("a", "b"), 0)),
        (
            ("--val", "3", "--val", "4", "--name", "z", "--single", "1", "--single", "2"),
            ((3, 4), ("z",), 2),
        ),
    ],
)
def test_parameter_multiple_takes_every_value(
    sides: Sides, args: tuple[str, ...], seen: tuple[object, ...]
) -> None:
    file = sides.flow("mf_multiple")
    mf, ft = sides.metaflow(file, *args), sides.flowtui(file, *args)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert compared == {"start": MULTIPLE, "end": MULTIPLE | {"kinds"}}
    assert ft.value("start", "seen") == seen
    assert ft.value("end", "kinds") == ["tuple", "tuple"]


def test_parameter_multiple_bad_value_is_rejected_on_both_sides(sides: Sides) -> None:
    file = sides.flow("mf_multiple")
    args = ("--val", "3", "--val", "x")
    mf, ft = sides.metaflow(file, *args), sides.flowtui(file, *args)
    assert mf.code != 0 and ft.code != 0
    assert mf.steps == ft.steps == {}
    assert "'val'" in ft.output and "'x'" in ft.output and "Traceback" not in ft.output


def test_run_options_with_retry_namespace_tags_and_run_id_file(sides: Sides) -> None:
    sides.flowtui_env["USERNAME"] = "tester"  # as Metaflow's side has it
    file = sides.flow("mf_options")
    args = ("--with", "retry:times=1,minutes_between_retries=0", "--namespace", "team:x")
    args += ("--tag", "a", "--tag", "b", "--max-workers", "2")
    run_id_file = sides.workdir / "flowtui-run-id"
    mf = sides.metaflow(file, *args)
    ft = sides.flowtui(file, *args, "--run-id-file", str(run_id_file))
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert compared["join"] == {"attempts", "namespaces", "tags"}
    assert ft.value("join", "attempts") == [0, 1, 0]  # item 2 was retried, by --with retry
    assert ft.value("join", "namespaces") == ("user:tester", "team:x")
    assert ft.value("join", "tags") == ["a", "b"]
    assert run_id_file.read_text() == ft.run_id


@pytest.mark.parametrize("given", ["option", "environment"])
def test_max_num_splits_refuses_a_larger_foreach_on_both_sides(sides: Sides, given: str) -> None:
    file = sides.flow("mf_options")
    if given == "option":
        mf, ft = (
            sides.metaflow(file, "--max-num-splits", "2"),
            sides.flowtui(file, "--max-num-splits", "2"),
        )
    else:  # Metaflow reads its run options from METAFLOW_RUN_<OPTION>; so does flowtui
        sides.metaflow_env["METAFLOW_RUN_MAX_NUM_SPLITS"] = "2"
        sides.flowtui_env["METAFLOW_RUN_MAX_NUM_SPLITS"] = "2"
        mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert mf.code != 0 and ft.code != 0
    assert mf.failed_steps == ft.failed_steps == []  # start succeeded; its foreach is refused
    assert compare(mf, ft) == {"start": {"items"}}
    sentence = "yielded 3 child steps which is more than the current maximum of 2 children"
    assert sentence in mf.output and sentence in ft.output
    assert "Allow them: flowtui resume" in ft.output  # the hint names the width asked for
    assert "--max-num-splits 3" in ft.output


@pytest.mark.parametrize(
    ("metaflow_env", "flowtui_args", "names"),
    [
        ({}, (), ("demo_proj", "user.tester", False, "demo_proj.user.tester.ProjectFlow")),
        (
            {"METAFLOW_BRANCH": "feat_1"},
            ("--branch", "feat_1"),
            ("demo_proj", "test.feat_1", False, "demo_proj.test.feat_1.ProjectFlow"),
        ),
        (
            {"METAFLOW_PRODUCTION": "1"},
            ("--production",),
            ("demo_proj", "prod", True, "demo_proj.prod.ProjectFlow"),
        ),
    ],
)
def test_project_names_branches_and_tags(
    sides: Sides, metaflow_env: dict[str, str], flowtui_args: tuple[str, ...], names: tuple
) -> None:
    sides.metaflow_env.update(metaflow_env)  # Metaflow takes --branch before `run` (or so)
    sides.flowtui_env["USERNAME"] = "tester"
    file = sides.flow("mf_project")
    mf, ft = sides.metaflow(file), sides.flowtui(file, *flowtui_args)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    assert compare(mf, ft) == {"start": {"names"}, "end": {"names"}}
    assert ft.value("start", "names") == names
    assert "no effect" not in ft.output  # @project is honoured, not a notice

    store = Store.open(str(sides.store), create=False)
    try:
        tags = Run(f"ProjectFlow/{ft.run_id}", _store=store, _namespace_check=False).system_tags
    finally:
        store.close()
    assert {"project:demo_proj", f"project_branch:{names[1]}"} <= tags


def test_a_bad_branch_name_is_one_sentence_before_anything_runs(sides: Sides) -> None:
    file = sides.flow("mf_project")
    ft = sides.flowtui(file, "--branch", "Feat-1")
    assert ft.code == 2 and ft.steps == {}
    assert "'Feat-1' must contain only lowercase letters, digits and underscores" in ft.output


def test_client_answers_order_metadata_tags_name_and_catch(sides: Sides) -> None:
    sides.flowtui_env["USERNAME"] = "tester"
    file = sides.flow("mf_client_shapes")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    answers = {"step_order", "task_order", "successful", "metadata", "name_artifact"}
    assert answers | {"system_tags"} <= compared["end"]
    assert ft.value("end", "step_order") == ["end", "join", "work", "start"]
    assert ft.value("end", "task_order") == [3, 2, 1]
    assert ft.value("end", "successful") == [(3, True, True), (2, False, True), (1, True, True)]
    assert ft.value("end", "metadata") == {
        "attempt": "0",
        "attempt_ok": "True",
        "attempt-done": "0",
        "user": "tester",
        "ds-type": "local",
        "origin-run-id": "None",
        "script-name": "mf_client_shapes.py",
    }
    assert ft.value("end", "name_artifact") == ("ClientShapesFlow",) * 2 + (True,)


SWITCH_PARAMS = {"score", "force", "route"}


@pytest.mark.parametrize(("score", "taken"), [("7", "high"), ("3", "low")])
def test_switch_runs_only_the_chosen_case(sides: Sides, score: str, taken: str) -> None:
    file = sides.flow("mf_switch")
    mf, ft = sides.metaflow(file, "--score", score), sides.flowtui(file, "--score", score)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert set(compared) == {"start", taken, "merge", "end"}  # the other case never ran
    assert compared["merge"] == SWITCH_PARAMS | {"verdict", "seen"}
    assert ft.value("merge", "seen") == (taken, taken)


def test_switch_to_an_unknown_case_fails_the_step_on_both_sides(sides: Sides) -> None:
    file = sides.flow("mf_switch")
    mf, ft = sides.metaflow(file, "--force", "middle"), sides.flowtui(file, "--force", "middle")
    assert mf.code != 0 and ft.code != 0
    assert mf.failed_steps == ft.failed_steps == ["start"]
    assert "'middle'" in ft.output and "'high', 'low'" in ft.output


def test_switch_failure_then_resume_takes_the_same_case(sides: Sides) -> None:
    file = sides.flow("mf_switch")
    mf, ft = sides.metaflow(file, "--score", "200"), sides.flowtui(file, "--score", "200")
    assert mf.code != 0 and ft.code != 0
    assert mf.failed_steps == ft.failed_steps == ["high"]

    (sides.workdir / "fixed").touch()
    mf, ft = sides.metaflow(file, command="resume"), sides.flowtui(file, command="resume")
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert set(compared) == {"start", "high", "merge", "end"}
    assert ft.value("merge", "seen") == ("high", "high")


TYPED_DEFAULTS = {"whole", "ratio", "epochs", "rounded", "off", "on", "kept"}


def test_a_default_of_another_type_is_converted_by_the_declared_type(sides: Sides) -> None:
    """`type=int, default="5"` is 5 (it was the string "5"), `type=float, default=3` is 3.0,
    `type=bool, default="false"` is False (the string was truthy: the wrong branch ran)."""
    file = sides.flow("mf_typed_defaults")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert compared == {
        "start": TYPED_DEFAULTS | {"branch"},
        "end": TYPED_DEFAULTS | {"branch", "doubled"},
    }
    assert ft.value("start", "branch") == "off" and ft.value("end", "doubled") == 10
    assert ft.value("start", "epochs") == 3.0 and type(ft.value("start", "epochs")) is float


CURRENT_NAMES = {"names", "names_type", "tags_type", "tags", "has_a", "has_c", "union", "count"}


@pytest.mark.parametrize("tags", [(), ("--tag", "b", "--tag", "a", "--tag", "a")])
def test_current_parameter_names_and_tags_read_as_metaflows(
    sides: Sides, tags: tuple[str, ...]
) -> None:
    file = sides.flow("mf_current_names")
    (sides.workdir / "data").mkdir()
    (sides.workdir / "data" / "notes.txt").write_text("notes\n")  # what its IncludeFile reads
    mf, ft = sides.metaflow(file, *tags), sides.flowtui(file, *tags)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert set(compared) == {"start", "each", "join", "end"}
    assert all(names >= CURRENT_NAMES for names in compared.values())
    # the flow's parameters by attribute name, sorted (IncludeFile and inherited ones too)
    assert ft.value("end", "names") == ["alpha_beta", "conf", "inherited", "notes", "zeta"]
    assert ft.value("end", "tags_type") == "set"  # the run's own tags, each once
    assert ft.value("end", "union") == (["a", "b", "z"] if tags else ["z"])


def test_class_constants_pass_through_joins_that_merge_nothing(sides: Sides) -> None:
    file = sides.flow("mf_constants")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    constants = {"LIMIT", "WORDS", "scale"}
    assert all(names >= constants for names in compared.values()), compared
    assert ft.value("end", "LIMIT") == 5  # through both joins, as an artifact the client reads
    assert ft.value("end", "seen") == (5, ("a", "b"), 2)
