"""Metaflow's `Config` on flowtui: the same values in steps, decorators and parameter defaults,
the same overrides on the command line, the same artifacts in the client, the same resume
(differential, against real Metaflow); bad input is one sentence (flowtui alone)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
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


# -- bad input: one sentence, naming the config and the fix --------------------------------
FLOW = """
from metaflow import Config, FlowSpec, step

class BadFlow(FlowSpec):
    config = Config("config", default="config.json")
    {extra}

    @step
    def start(self):
        {start}
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def _run(tmp_path: Path, *args: str, extra: str = "", start: str = "pass"):
    file = tmp_path / "flow.py"
    file.write_text(textwrap.dedent(FLOW).format(extra=extra, start=start))
    return subprocess.run(
        [sys.executable, "-m", "flowtui", "run", str(file), "--store", str(tmp_path / "s"), *args],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "FLOWTUI_STORE"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _sentence(ran: subprocess.CompletedProcess[str]) -> str:
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stderr and not (Path(ran.args[3]).parent / "s").exists()
    lines = [line for line in ran.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), ran.stderr
    return lines[0].removeprefix("error: ")


@pytest.mark.parametrize(
    ("files", "args", "extra", "said"),
    [
        (
            {},
            (),
            "",
            "Config 'config': its default file config.json could not be read (no such file",
        ),
        (
            {"config.json": "{}"},
            ("--config", "config", "gone.json"),
            "",
            "Config 'config': gone.json could not be read (no such file); pass an existing "
            "file with --config config PATH.",
        ),
        (
            {"config.json": '{"a": 1,}'},
            (),
            "",
            "Config 'config': config.json is not valid JSON (Expecting property name enclosed "
            "in double quotes, line 1 column 9); fix it, or give the config a parser= for "
            "another format.",
        ),
        (
            {"config.json": "{}", "s.toml": "model = [unclosed"},
            (),
            "settings = Config('settings', default='s.toml', parser='tomllib.loads')",
            "Config 'settings': its parser tomllib.loads raised TOMLDecodeError reading s.toml: ",
        ),
        (
            {"config.json": "{}"},
            ("--config-value", "nope", "{}"),
            "",
            "BadFlow has no config 'nope'; its configs are: config.",
        ),
        (
            {"config.json": "{}"},
            (),
            "token = Config('token', required=True)",
            "Config 'token' is required and has no default; pass --config token PATH or "
            "--config-value token JSON.",
        ),
    ],
    ids=["no-default-file", "no-given-file", "bad-json", "parser-raises", "unknown", "required"],
)
def test_a_config_that_cannot_be_read_is_one_sentence_before_anything_runs(
    tmp_path: Path, files: dict[str, str], args: tuple[str, ...], extra: str, said: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert said in _sentence(_run(tmp_path, *args, extra=extra))


def test_writing_to_a_config_in_a_step_says_it_is_read_only(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"a": {"b": 1}}')
    ran = _run(tmp_path, start="self.config.a.b = 2")
    assert ran.returncode == 1
    assert (
        "TypeError: ConfigValue is immutable: a config is read-only in a flow; copy it with "
        ".to_dict() to change a value" in ran.stdout + ran.stderr
    )
