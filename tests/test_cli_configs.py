"""A flow's `Config`s from the command line: a config that cannot be read is one sentence
before anything runs; `--help` lists them; `python FILE --config ... run` passes them on; a
spawned task and a spin see the run's values, not the files' (tests/compat/test_config.py
checks the values against real Metaflow)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flowtui.client import Run
from flowtui.store import Store

ROOT = Path(__file__).resolve().parent.parent
MF_CONFIG = ROOT / "tests" / "compat" / "flows" / "mf_config.py"
CONFIG = {"alpha": 3, "cpu": 1, "retries": 0, "greeting": "hello", "project": "cfg_proj"}


def flowtui(
    cwd: Path, *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "FLOWTUI_STORE"}
    return subprocess.run(
        [sys.executable, "-m", "flowtui", *map(str, args)],
        cwd=cwd,
        env={**environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


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
    return flowtui(tmp_path, "run", file, "--store", tmp_path / "s", *args)


def _sentence(ran: subprocess.CompletedProcess[str]) -> str:
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stderr
    store = Path(ran.args[4]).parent / "s"
    if store.exists():  # nothing ran: no run is recorded
        opened = Store.open(str(store), create=False)
        try:
            assert opened.meta.runs("BadFlow") == []
        finally:
            opened.close()
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
        (
            {"config.json": "{}"},
            (),
            "again = Config('config', default_value={})",
            "Two configs of BadFlow are named 'config' (config and again); give each config "
            "its own name.",
        ),
    ],
    ids=[
        "no-default-file",
        "no-given-file",
        "bad-json",
        "parser-raises",
        "unknown",
        "required",
        "same-name",
    ],
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


def test_both_a_file_and_a_value_for_one_config_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    said = _sentence(
        _run(tmp_path, "--config", "config", "config.json", "--config-value", "config", "{}")
    )
    assert said == (
        "Config 'config' was given both a file (--config) and a value (--config-value); give "
        "one of them."
    )


def test_config_missing_its_words_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    assert _sentence(_run(tmp_path, "--config", "config")) == (
        "--config takes two words: --config NAME PATH."
    )


# -- the ways a run starts -----------------------------------------------------------------
@pytest.fixture
def config_flow(tmp_path: Path) -> Path:
    """mf_config (a Metaflow file) beside its config files, in a folder of its own."""
    shutil.copy(MF_CONFIG, tmp_path / "flow.py")
    (tmp_path / "config.json").write_text(json.dumps(CONFIG))
    (tmp_path / "settings.toml").write_text('[model]\nname = "small"\nlayers = [1, 2]\n')
    return tmp_path / "flow.py"


def _start_artifact(store: Path, run_id: str, name: str, step: str = "start") -> object:
    opened = Store.open(str(store), create=False)
    try:
        run = Run(f"ConfigFlow/{run_id}", _store=opened, _namespace_check=False)
        return run[step].task[name].data
    finally:
        opened.close()


def test_help_lists_the_flows_configs_beside_its_parameters(config_flow: Path) -> None:
    ran = flowtui(config_flow.parent, "run", config_flow, "--help", env={"COLUMNS": "200"})
    assert ran.returncode == 0, ran.stderr
    out = ran.stdout
    assert "ConfigFlow's configs (give them after FILE: --config NAME PATH, a file, or" in out
    assert "config  The main settings.; default: 'config.json'" in out
    assert "settings  default: 'settings.toml'" in out
    # the parameters are still listed, a default from a config as what it is worked out from
    assert "--alpha VALUE  default: config.alpha (worked out when the run starts)" in out
    assert "--config VALUE" not in out  # a config is not a parameter


SPAWNED = """
from flowtui import Config, FlowSpec, step

class SpawnFlow(FlowSpec):
    config = Config("config", default="config.json")
    DOUBLE = config.alpha * 2  # computed as the class body runs, in each process

    @step
    def start(self):
        self.seen = (self.DOUBLE, self.config.alpha)
        self.next(self.end)

    @step
    def end(self):
        self.at_end = self.DOUBLE
"""


def test_a_spawned_task_sees_the_values_the_run_read_not_the_files(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(SPAWNED)
    (tmp_path / "config.json").write_text('{"alpha": 3}')
    ran = flowtui(
        tmp_path,
        "run", "flow.py", "--store", "s", "--run-id-file", "id",
        "--config-value", "config", '{"alpha": 7}',
        env={"FLOWTUI_START_METHOD": "spawn"},
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    opened = Store.open(str(tmp_path / "s"), create=False)
    try:
        run = Run(f"SpawnFlow/{(tmp_path / 'id').read_text().strip()}", _store=opened)
        assert run["start"].task.data.seen == (14, 7)  # not config.json's 3
        assert run["end"].task.data.at_end == 14
    finally:
        opened.close()


def test_a_spin_runs_with_the_configs_of_the_run_it_spins(config_flow: Path) -> None:
    folder = config_flow.parent
    given = json.dumps({**CONFIG, "alpha": 7})
    ran = flowtui(
        folder, "run", config_flow, "--store", folder / "s", "--config-value", "config", given
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    spun = flowtui(
        folder, "spin", config_flow, "start", "--store", folder / "s", "--run-id-file",
        folder / "spin-id", "--persist",
    )  # fmt: skip
    assert spun.returncode == 0, spun.stdout + spun.stderr
    spin_id = (folder / "spin-id").read_text().strip()
    assert _start_artifact(folder / "s", spin_id, "seen") == (7, 8, 7, "hello")


def test_python_file_passes_metaflows_leading_config_options_on(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(
        MF_CONFIG.read_text().replace("from metaflow import", "from flowtui.compat import")
    )
    (tmp_path / "config.json").write_text(json.dumps(CONFIG))
    (tmp_path / "settings.toml").write_text('[model]\nname = "small"\nlayers = [1, 2]\n')
    given = json.dumps({**CONFIG, "alpha": 9})
    ran = subprocess.run(
        [
            sys.executable, "flow.py", "--config-value", "config", given, "run",
            "--store", "s", "--run-id-file", "id",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    run_id = (tmp_path / "id").read_text().strip()
    assert _start_artifact(tmp_path / "s", run_id, "seen") == (9, 10, 9, "hello")
