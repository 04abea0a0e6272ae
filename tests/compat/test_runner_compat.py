"""`Runner` as Metaflow offers it: the same call through Metaflow's Runner and flowtui's gives the
same artifacts (differential), and `from metaflow import Runner` inside a run is flowtui's."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from differential import Outcome, Sides, compare, needs_metaflow

from flowtui import Runner

# The same keyword arguments on both sides: each parameter type, a dashed name, a list of tags.
KWARGS = {
    "count": 10,
    "ratio": 2.5,
    "label": "two words",
    "enabled": True,
    "typed": -3,
    "limit": 1e-3,
    "config": {"x": None, "y": [1.5, True]},
    "words": "p,q,r",
    "dashed_name": "z",
    "tags": ["from-python"],
}

METAFLOW_RUNNER = """
import json, sys
from metaflow import Runner

file, out, kwargs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with Runner(file, show_output=False).run(**kwargs) as running:
    run = running.run
    answer = {"status": running.status, "run_id": run.id, "tags": sorted(run.user_tags)}
open(out, "w").write(json.dumps(answer))
"""


def _metaflow_runner(sides: Sides, file: Path) -> tuple[Outcome, dict[str, object]]:
    script = sides.workdir / "metaflow_runner.py"
    script.write_text(METAFLOW_RUNNER)
    answer_file = sides.workdir / "metaflow-answer.json"
    ran = subprocess.run(
        [sys.executable, str(script), str(file), str(answer_file), json.dumps(KWARGS)],
        cwd=sides.workdir,
        env=sides.metaflow_env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert ran.returncode == 0, ran.stderr
    answer = json.loads(answer_file.read_text())
    out = Outcome("metaflow", 0, ran.stdout + ran.stderr, run_id=str(answer["run_id"]))
    return sides.metaflow_dump(out, "ParamsFlow"), answer


@pytest.mark.differential
@needs_metaflow
def test_the_same_runner_call_gives_the_same_artifacts_on_both_sides(sides: Sides) -> None:
    file = sides.flow("mf_params")
    mf, mf_answer = _metaflow_runner(sides, file)

    with Runner(
        file, show_output=False, cwd=sides.workdir, env=sides.flowtui_env, store=sides.store
    ).run(**KWARGS) as running:
        ft = Outcome("flowtui", running.returncode or 0, running.stdout + running.stderr)
        started = running.run.id
        ft_answer = {"status": running.status, "tags": sorted(running.run.user_tags)}
    ft = sides.flowtui_dump(ft, "ParamsFlow")
    assert ft.run_id == started  # the store's latest run is the one the Runner started

    assert mf_answer["status"] == ft_answer["status"] == "successful"
    assert mf_answer["tags"] == ft_answer["tags"] == ["from-python"]
    compared = compare(mf, ft)
    assert {"count", "config", "enabled", "dashed", "current_view"} <= compared["start"]
    assert ft.value("start", "config") == {"x": None, "y": [1.5, True]}
    assert ft.value("start", "enabled") is True


INNER = """
from metaflow import FlowSpec, Parameter, step


class InnerFlow(FlowSpec):
    n = Parameter("n", default=1)

    @step
    def start(self):
        self.y = self.n + 100
        self.next(self.end)

    @step
    def end(self):
        pass
"""

OUTER = """
from metaflow import FlowSpec, NBRunner, Runner, step


class OuterFlow(FlowSpec):
    @step
    def start(self):
        with Runner({inner!r}, show_output=False).run(n=5) as running:
            self.inner = (running.status, running.run.data.y, running.run.parent.id)
        self.offered = NBRunner.__module__
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_from_metaflow_import_runner_inside_a_run_starts_a_run_in_the_same_store(
    tmp_path: Path,
) -> None:
    inner = tmp_path / "inner.py"
    inner.write_text(textwrap.dedent(INNER))
    outer = tmp_path / "outer.py"
    outer.write_text(textwrap.dedent(OUTER).format(inner=str(inner)))
    check = subprocess.run(
        [sys.executable, "-m", "flowtui", "check", str(outer)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr

    running = Runner(outer, show_output=False, store=tmp_path / "store").run()

    assert running.status == "successful", running.stderr
    assert running.run["start"].task.data.inner == ("successful", 105, "InnerFlow")
    assert running.run["start"].task.data.offered == "flowtui.client.notebook"
