"""`import metaflow` inside flowtui: what resolves, what is noticed, what fails and how.

These run flows through `flowtui run` (a subprocess, as a user would) and read results back
with flowtui's client; none needs real Metaflow except where marked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from differential import needs_metaflow

import flowtui.client
import flowtui.compat as compat
from flowtui.client import Flow, default_metadata, default_namespace, metadata, namespace

ISSUE_NAMES = [
    "FlowSpec",
    "step",
    "Parameter",
    "IncludeFile",
    "JSONType",
    "current",
    "retry",
    "catch",
    "timeout",
    "resources",
    "environment",
    "Flow",
    "Run",
    "Step",
    "Task",
    "DataArtifact",
    "Metaflow",
    "namespace",
    "get_namespace",
    "default_namespace",
    "get_metadata",
    "metadata",
    "kubernetes",
    "batch",
    "conda",
    "conda_base",
    "pypi",
    "pypi_base",
    "card",
    "project",
    "schedule",
    "trigger",
    "trigger_on_finish",
    "secrets",
    "parallel",
]


def flowtui_run(workdir: Path, source: str, env: dict[str, str] | None = None):
    file = workdir / "flow.py"
    file.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, "-m", "flowtui", "run", str(file), "--store", str(workdir / "store")],
        cwd=workdir,
        env={**{k: v for k, v in os.environ.items() if k != "FLOWTUI_STORE"}, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def latest_end_task(workdir: Path, flow: str):
    metadata(str(workdir / "store"))
    namespace(None)
    try:
        run = Flow(flow).latest_run
        assert run is not None
        return run["end"].task
    finally:
        default_namespace()
        default_metadata()


def test_every_name_the_issue_lists_is_offered() -> None:
    missing = [name for name in ISSUE_NAMES if not hasattr(compat, name)]
    assert missing == []


def test_client_names_are_flowtuis_client() -> None:
    for name in compat.CLIENT_NAMES:
        assert getattr(compat, name) is getattr(flowtui.client, name), name


def test_importing_flowtui_never_installs_the_alias() -> None:
    code = (
        "import sys, flowtui, flowtui.cli, flowtui.client, flowtui.engine.runner, "
        "flowtui.tui.app; print('metaflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@needs_metaflow
def test_a_python_session_keeps_real_metaflow() -> None:
    code = (
        "import flowtui, flowtui.compat, flowtui.client; import metaflow, metaflow.exception; "
        "print(metaflow.__file__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "flowtui" not in out.stdout and "metaflow" in out.stdout


def test_metaflow_resolves_to_flowtui_whatever_metaflow_is_installed(tmp_path: Path) -> None:
    impostor = tmp_path / "site" / "metaflow"
    impostor.mkdir(parents=True)
    (impostor / "__init__.py").write_text("raise RuntimeError('another metaflow was imported')\n")
    ran = flowtui_run(
        tmp_path,
        """
        import metaflow
        from metaflow import FlowSpec, current, step

        class AliasFlow(FlowSpec):
            @step
            def start(self):
                import metaflow as inside_task
                self.flowspec_module = FlowSpec.__module__
                self.module_in_task = inside_task.__name__
                self.same = inside_task is metaflow
                self.flow_name = current.flow_name
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
        env={"PYTHONPATH": str(tmp_path / "site")},
    )
    assert ran.returncode == 0, ran.stderr
    data = latest_end_task(tmp_path, "AliasFlow").data
    assert data.flowspec_module == "flowtui.flow.spec"
    assert data.module_in_task == "flowtui.compat"
    assert data.same is True
    assert data.flow_name == "AliasFlow"


def test_remote_decorators_are_accepted_with_one_notice_per_use(tmp_path: Path) -> None:
    ran = flowtui_run(
        tmp_path,
        """
        import os
        from metaflow import (
            FlowSpec, batch, card, conda, conda_base, environment, kubernetes, parallel,
            project, pypi, pypi_base, resources, schedule, secrets, step, timeout, trigger,
            trigger_on_finish,
        )

        @project(name="demo")
        @schedule(daily=True)
        @trigger(event="data_ready")
        @trigger_on_finish(flow="UpstreamFlow")
        @conda_base(python="3.11")
        @pypi_base(packages={"pandas": "2.2.0"})
        class DecoratedFlow(FlowSpec):
            @kubernetes(cpu=4, memory=16000)
            @batch(gpu=1)
            @conda(packages={"numpy": "1.26"})
            @pypi(packages={"numpy": "1.26"})
            @card
            @secrets(sources=["db-credentials"])
            @resources(cpu=2)
            @timeout(seconds=60)
            @environment(vars={"GREETING": "hi"})
            @step
            def start(self):
                self.greeting = os.environ["GREETING"]
                self.next(self.end)

            @step
            def end(self):
                self.done = True
        """,
    )
    assert ran.returncode == 0, ran.stderr
    notices = [line for line in (ran.stdout + ran.stderr).splitlines() if "no effect" in line]
    noticed = sorted(line.split("@", 1)[1].split(" ", 1)[0] for line in notices)
    # @project is honoured (test_differential_more), @parallel too (test_parallel_gang); @conda
    # and @pypi say what they ask for (test_package_asks)
    assert noticed == sorted(
        [
            "schedule",
            "trigger",
            "trigger_on_finish",
            "kubernetes",
            "batch",
            "secrets",
        ]
    )
    assert any("on flow DecoratedFlow" in line for line in notices)
    data = latest_end_task(tmp_path, "DecoratedFlow").data
    assert (data.greeting, data.done) == ("hi", True)  # @environment is honoured


@pytest.mark.parametrize(
    ("line", "missing"),
    [
        ("from metaflow import Deployer", "metaflow.Deployer"),
        ("from metaflow import NBDeployer", "metaflow.NBDeployer"),
        ("from metaflow.cards import NoSuchComponent", "metaflow.cards.NoSuchComponent"),
        ("import metaflow.plugins.aws", "metaflow.plugins"),
    ],
)
def test_a_name_flowtui_does_not_offer_is_one_sentence(
    tmp_path: Path, line: str, missing: str
) -> None:
    ran = flowtui_run(
        tmp_path,
        f"""
        from metaflow import FlowSpec, step
        {line}

        class MissingFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    )
    assert ran.returncode == 1
    error = [ln for ln in ran.stderr.splitlines() if ln.startswith("error:")]
    assert len(error) == 1
    assert f"flowtui does not offer {missing} locally" in error[0]
    assert "still runs unchanged on Metaflow itself" in error[0]
    assert "flowtui/" not in ran.stderr.replace(str(tmp_path), "")  # no flowtui frames
    assert line.strip() in ran.stderr  # the user's own line is shown


def test_class_constants_are_artifacts_but_methods_and_properties_are_not(tmp_path: Path) -> None:
    ran = flowtui_run(
        tmp_path,
        """
        import functools
        from metaflow import FlowSpec, Parameter, step

        class ConstantsFlow(FlowSpec):
            LIMIT = 3
            LABELS = ("a", "b")
            alpha = Parameter("alpha", default=1)

            class Helper:
                pass

            @property
            def doubled(self):
                return self.LIMIT * 2

            @functools.cached_property
            def cached(self):
                return self.LIMIT + 1

            @classmethod
            def make(cls):
                return cls

            @staticmethod
            def plain():
                return 0

            @step
            def start(self):
                self.seen = (self.doubled, self.cached, self.LIMIT)
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    )
    assert ran.returncode == 0, ran.stderr
    task = latest_end_task(tmp_path, "ConstantsFlow")
    data = task.data
    # `cached` is there because the step cached its value on self (Metaflow 2.19 fails on a
    # cached_property in a flow class: it tries to store the descriptor as a constant)
    assert {a.id for a in task} == {"LIMIT", "LABELS", "alpha", "seen", "cached", "name"}
    assert data.seen == (6, 4, 3)
    assert data.LABELS == ("a", "b")


USER_FLOW = """
from metaflow import FlowSpec, current, step

class WhoFlow(FlowSpec):
    @step
    def start(self):
        self.who = current.username
        self.next(self.end)

    @step
    def end(self):
        pass
"""


@pytest.mark.parametrize(
    ("env", "user"),
    [
        ({"METAFLOW_USER": "carol", "SUDO_USER": "bob", "USER": "alice"}, "carol"),
        ({"METAFLOW_USER": "", "SUDO_USER": "bob", "USER": "alice"}, "bob"),
        ({"METAFLOW_USER": "", "SUDO_USER": "root", "USERNAME": "", "USER": "alice"}, "alice"),
    ],
)
def test_the_user_is_found_as_metaflow_finds_it(tmp_path: Path, env, user) -> None:
    done = flowtui_run(tmp_path, USER_FLOW, env)
    assert done.returncode == 0, done.stderr
    task = latest_end_task(tmp_path, "WhoFlow")
    assert task.data.who == user
    assert f"user:{user}" in task.parent.parent.system_tags  # the namespace a reader sees
