"""The same Metaflow-written flows, run under real Metaflow and under flowtui, compared.

Each test runs a file from `flows/` on both sides (command line, subprocess), reads every
artifact of every successful task back through each side's store, and fails on any
difference (`compare`). Each test also states which artifacts it compared, per step.
Metaflow's own bookkeeping artifacts (`name` and `_`-prefixed ones) are not compared.
"""

from __future__ import annotations

import pytest
from differential import Sides, compare, needs_metaflow

pytestmark = [pytest.mark.differential, needs_metaflow]


def test_branches_merge_artifacts(sides: Sides) -> None:
    file = sides.flow("mf_branches")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft, by_type=frozenset({"token"}))

    start = {"GREETING", "shared", "score", "token"}
    assert compared == {
        "start": start,
        "left": start | {"only_left", "same_both"},
        "right": start | {"only_right", "same_both"},
        "join": start | {"only_left", "only_right", "same_both", "left_score"},
        "end": start | {"only_left", "only_right", "same_both", "left_score", "summary"},
    }
    assert ft.value("join", "score") == 2  # the join's own value, not merged
    assert ft.value("end", "summary") == (2, "L", b"R", (1, "x"))


def test_merge_conflict_fails_the_join_on_both_sides(sides: Sides) -> None:
    file = sides.flow("mf_merge_conflict")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert mf.code != 0 and ft.code != 0
    assert mf.failed_steps == ft.failed_steps == ["join"]
    assert "value" in ft.output  # the message names the conflicting artifact

    compared = compare(mf, ft)

    assert compared == {"left": {"value"}, "right": {"value"}}


def test_nested_foreach_input_index_and_join_order(sides: Sides) -> None:
    file = sides.flow("mf_nested_foreach")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    group = {"groups", "group", "group_index", "sizes"}
    assert compared == {
        "start": {"groups"},
        "per_group": group,
        "per_size": group | {"cell", "cell_index", "stack"},
        "join_sizes": {"cells", "group", "group_index"},
        "join_groups": {"all_cells", "groups_seen"},
        "end": {"all_cells", "groups_seen", "count"},
    }
    assert sorted(ft.steps["per_size"]) == [(g, s) for g in range(3) for s in range(g + 2)]
    assert ft.value("end", "all_cells") == [
        ["a0", "a1"],
        ["b0", "b1", "b2"],
        ["c0", "c1", "c2", "c3"],
    ]


PARAMS = {"count", "ratio", "label", "enabled", "typed", "limit", "config", "words", "dashed"}


def test_parameter_defaults(sides: Sides) -> None:
    file = sides.flow("mf_params")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert compared == {
        "start": PARAMS | {"types", "doubled", "current_view"},
        "end": PARAMS | {"types", "doubled", "current_view", "seen_in_end"},
    }
    assert ft.value("start", "types") == [
        "int",
        "float",
        "str",
        "bool",
        "int",
        "NoneType",
        "dict",
        "list",
        "str",
    ]


def test_parameter_command_line_overrides(sides: Sides) -> None:
    file = sides.flow("mf_params")
    args = [
        "--count",
        "10",
        "--ratio",
        "2",
        "--label",
        "two words",
        "--enabled",
        "yes",
        "--typed=-3",
        "--limit",
        "1e-3",
        "--config",
        '{"x": null, "y": [1.5, true]}',
        "--words",
        "p,q,r",
        "--dashed-name",
        "z",
    ]
    mf, ft = sides.metaflow(file, *args), sides.flowtui(file, *args)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert compared["start"] == PARAMS | {"types", "doubled", "current_view"}
    assert ft.value("start", "config") == {"x": None, "y": [1.5, True]}
    assert ft.value("start", "words") == ["p", "q", "r"]


@pytest.mark.parametrize("word", ["false", "F", "0", "no"])
def test_bool_parameter_words(sides: Sides, word: str) -> None:
    file = sides.flow("mf_params")
    mf, ft = sides.metaflow(file, "--enabled", word), sides.flowtui(file, "--enabled", word)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output
    assert mf.value("start", "enabled") is ft.value("start", "enabled") is False


def test_bad_parameter_value_is_rejected_on_both_sides(sides: Sides) -> None:
    file = sides.flow("mf_params")
    mf, ft = sides.metaflow(file, "--count", "ten"), sides.flowtui(file, "--count", "ten")
    assert mf.code != 0 and ft.code != 0
    assert mf.steps == ft.steps == {}  # nothing ran
    assert "count" in ft.output and "Traceback" not in ft.output


def test_include_file_relative_to_working_directory(sides: Sides) -> None:
    file = sides.flow("mf_include")  # lives in flows/; data/ is beside the working directory
    data = sides.workdir / "data"
    data.mkdir()
    (data / "notes.txt").write_text("first line\nsecond line\n")
    (data / "blob.bin").write_bytes(bytes(range(256)))
    (data / "other.txt").write_text("another file\n")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    included = {"notes", "blob", "lines", "blob_size"}
    assert compared == {"start": included, "end": included | {"first_line"}}
    assert ft.value("start", "blob") == bytes(range(256))

    mf, ft = (side(file, "--notes", "data/other.txt") for side in (sides.metaflow, sides.flowtui))
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output
    compare(mf, ft)
    assert ft.value("end", "first_line") == "another file"


def test_retry_and_catch(sides: Sides) -> None:
    file = sides.flow("mf_retry_catch")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert compared == {  # start sets nothing
        "flaky": {"attempt_seen"},
        "risky": {"before_error", "risky_error"},
        "calm": {"calm_attempt", "calm_error"},
        "stubborn": {"stubborn_attempt", "stubborn_error"},
        "join": {
            "flaky_attempt",
            "risky_type",
            "risky_message",
            "risky_before",
            "calm_error_is_none",
            "stubborn_attempt",
            "stubborn_message",
        },
        "end": compared["join"],
    }
    assert ft.value("join", "flaky_attempt") == 1
    assert ft.value("join", "risky_type") == "builtins.ValueError"
    assert ft.value("join", "risky_message") == "bad value 42"
    assert ft.value("join", "calm_error_is_none") is True
    assert ft.value("join", "stubborn_attempt") == 1  # caught only after the retry


def test_flow_reads_another_flows_run_through_the_client(sides: Sides) -> None:
    branches, reader = sides.flow("mf_branches"), sides.flow("mf_reader")
    assert sides.metaflow(branches).code == 0
    assert sides.flowtui(branches).code == 0
    mf, ft = sides.metaflow(reader), sides.flowtui(reader)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    read = {"read_summary", "read_score", "read_steps"}
    assert compared == {"start": read, "end": read}
    assert ft.value("start", "read_summary") == (2, "L", b"R", (1, "x"))


def test_failure_then_resume(sides: Sides) -> None:
    file = sides.flow("mf_resume")
    workers = ("--max-workers", "4")  # every item starts at once on both sides
    mf, ft = sides.metaflow(file, *workers), sides.flowtui(file, *workers)
    assert mf.code != 0 and ft.code != 0
    assert mf.failed_steps == ft.failed_steps == ["work"]
    compared = compare(mf, ft)
    assert compared == {"start": {"items"}, "work": {"items", "square"}}
    assert sorted(ft.steps["work"]) == [(0,), (2,)]  # item 2 (index 1) failed

    (sides.workdir / "fixed").touch()
    (sides.workdir / "start_runs.txt").unlink()
    mf, ft = sides.metaflow(file, command="resume"), sides.flowtui(file, command="resume")
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert compared == {
        "start": {"items"},
        "work": {"items", "square"},
        "join": {"squares"},
        "end": {"squares", "total"},
    }
    assert ft.value("end", "total") == 14
    assert not (sides.workdir / "start_runs.txt").exists()  # start was reused, not re-run
