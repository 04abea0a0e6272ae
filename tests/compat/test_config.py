"""Metaflow's `Config` on flowtui: the same values in steps, decorators and parameter defaults,
the same overrides on the command line, the same artifacts in the client, the same resume
(differential, against real Metaflow). Bad input and the other ways a run starts:
tests/test_cli_configs.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from differential import Sides, compare, needs_metaflow

from flowtui.client import Run
from flowtui.store import Store

pytestmark = [pytest.mark.differential, needs_metaflow]

CONFIG = {"alpha": 3, "cpu": 1, "retries": 1, "greeting": "hello", "project": "cfg_proj"}
SETTINGS = '[model]\nname = "small"\nlayers = [1, 2]\n'
# What the flow stores in both steps, whichever configs it was given.
STORED = {
    "alpha", "beta", "attempts", "greeting", "seen", "nested", "model", "parsed", "project",
    "parameter_names", "kinds", "copy", "whole", "refused",
    "config", "settings", "defaults", "computed", "lines", "text",
}  # fmt: skip


def _config_files(sides: Sides) -> Path:
    (sides.workdir / "config.json").write_text(json.dumps(CONFIG))
    (sides.workdir / "settings.toml").write_text(SETTINGS)
    return sides.flow("mf_config")


def test_configs_read_the_same_in_steps_decorators_and_parameter_defaults(sides: Sides) -> None:
    file = _config_files(sides)
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)
    assert compared["start"] == STORED
    assert compared["end"] == STORED | {"at_end"}
    # a parameter's default from a config and from config_expr; the step reads the config
    assert ft.value("start", "seen") == (3, 4, 3, "hello")
    # @retry(times=config.retries) ran it twice; @environment(vars=) and @project took theirs
    assert ft.value("start", "attempts") == 1
    assert ft.value("start", "greeting") == "hello"
    assert ft.value("start", "project") == "cfg_proj"
    # a TOML file by parser="tomllib.loads", a callable parser, plain=True, a computed default
    assert ft.value("start", "model") == "small"
    assert ft.value("start", "parsed") == ({"A": "1", "B": "TWO"}, "as it is")
    assert ft.value("start", "nested") == (3, [1, 2], {"for": "computed"})
    # read-only: a ConfigValue (a dict too) that refuses changes, and the attribute too
    assert ft.value("start", "kinds") == ("ConfigValue", True)
    assert ft.value("start", "refused") == ["TypeError"] * 3 + ["AttributeError"]
    # configs are parameters, as in Metaflow
    assert "config" in ft.value("start", "parameter_names")


def test_config_and_config_value_on_the_command_line_replace_the_defaults(sides: Sides) -> None:
    file = _config_files(sides)
    other = {**CONFIG, "alpha": 10, "greeting": "hi there", "project": "other_proj"}
    (sides.workdir / "other.json").write_text(json.dumps(other))
    given = ("--config", "config", "other.json", "--config-value", "lines", "x=y")
    mf, ft = sides.metaflow(file, leading=given), sides.flowtui(file, *given)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)
    assert compared["start"] == STORED
    assert ft.value("start", "seen") == (10, 11, 10, "hi there")  # the defaults follow
    assert ft.value("start", "greeting") == "hi there"
    assert ft.value("start", "project") == "other_proj"
    assert ft.value("start", "lines") == {"X": "Y"}
    assert ft.value("end", "at_end") == (10, [1, 2])


def test_the_client_reads_a_config_as_a_plain_dict(sides: Sides) -> None:
    file = _config_files(sides)
    ft = sides.flowtui(file, "--config-value", "config", json.dumps({**CONFIG, "alpha": 7}))
    assert ft.code == 0, ft.output
    store = Store.open(str(sides.store), create=False)
    try:
        task = Run(f"ConfigFlow/{ft.run_id}", _store=store, _namespace_check=False)["end"].task
        value = task["config"].data
        assert type(value) is dict  # as Metaflow stores it, for any client to read
        assert value["alpha"] == 7 and task.data.settings == {
            "model": {"name": "small", "layers": [1, 2]}
        }
    finally:
        store.close()


def test_resume_keeps_the_resumed_runs_configs(sides: Sides) -> None:
    file = _config_files(sides)
    given = ("--config-value", "config", json.dumps({**CONFIG, "alpha": 7}))
    (sides.workdir / "fail-end").write_text("")
    mf, ft = sides.metaflow(file, leading=given), sides.flowtui(file, *given)
    assert mf.failed_steps == ft.failed_steps == ["end"], mf.output + ft.output

    (sides.workdir / "fail-end").unlink()
    mf, ft = sides.metaflow(file, command="resume"), sides.flowtui(file, command="resume")
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output
    compared = compare(mf, ft)
    assert "at_end" in compared["end"]
    assert ft.value("end", "at_end") == (7, [1, 2])  # not the file's alpha, 3

    again = sides.flowtui(file, *given, command="resume")
    assert again.code == 2
    assert "cannot be given to a resume, which keeps the resumed run's configs" in again.output


@pytest.mark.parametrize(
    ("variables", "values"),
    [
        ({}, (1, 2, 1, "quiet")),
        (
            {
                "METAFLOW_FLOW_CONFIG_VALUE": json.dumps(
                    {"limits": {"top": 5}, "env": {"vars": {"SHOUT": "hey"}}}
                )
            },
            (5, 6, 5, "hey"),
        ),
    ],
    ids=["defaults", "from-the-variable"],
)
def test_configs_from_metaflows_variable_reach_decorators_and_parameter_defaults(
    sides: Sides, variables: dict[str, str], values: tuple
) -> None:
    sides.metaflow_env.update(variables)
    sides.flowtui_env.update(variables)
    file = sides.flow("mf_config_env")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output
    assert "values" in compare(mf, ft)["start"]
    assert ft.value("start", "values") == values


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_mutators_read_the_configs_given_on_the_command_line(
    sides: Sides, start_method: str
) -> None:
    sides.flowtui_env["FLOWTUI_START_METHOD"] = start_method
    file = sides.flow("mf_config_mutator")
    given = ("--config-value", "settings", json.dumps({"mode": "slow", "levels": [3]}))
    mf, ft = sides.metaflow(file, leading=given), sides.flowtui(file, *given)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output
    compared = compare(mf, ft)
    assert compared["end"] == {"saw", "size", "settings", "mode", "levels"}
    # a FlowMutator's @environment from mutable_flow.configs, a StepMutator's from
    # mutable_step.flow.configs; mutable_flow.parameters has no configs
    assert (ft.value("end", "mode"), ft.value("end", "levels")) == ("slow", "[3]")
    assert ft.value("end", "saw") == "size"
