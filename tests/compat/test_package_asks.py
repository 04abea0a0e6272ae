"""@conda / @pypi in a local run: flowtui builds no environment, so before the first task a run
says what each step asks for that this Python lacks, with the pip line that would supply it."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

from tests.compat.test_compat import flowtui_run, latest_end_task

RICH = importlib.metadata.version("rich")
CLOUDPICKLE = importlib.metadata.version("cloudpickle")
HERE = ".".join(map(str, sys.version_info[:3]))


def _notices(out: str) -> list[str]:
    return [line.removeprefix("notice: ") for line in out.splitlines() if "environment" in line]


PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"


def test_each_ask_says_what_this_environment_lacks_and_the_pip_line(tmp_path: Path) -> None:
    ran = flowtui_run(
        tmp_path,
        f"""
        from metaflow import FlowSpec, conda, conda_base, pypi, step

        @conda_base(python="{PYTHON}", libraries={{"rich": ">=1"}})
        class EnvFlow(FlowSpec):
            @conda(packages={{"flowtui-no-such-package": "1.0", "rich": "0.0.1"}})
            @step
            def start(self):
                self.next(self.middle)

            @pypi(packages={{"cloudpickle": ""}})
            @step
            def middle(self):
                self.next(self.off)

            @conda(disabled=True)
            @step
            def off(self):
                self.next(self.end)

            @step
            def end(self):
                self.done = True
        """,
    )
    assert ran.returncode == 0, ran.stderr  # a notice, not a refusal: the run goes on
    assert latest_end_task(tmp_path, "EnvFlow").data.done is True
    assert sorted(_notices(ran.stdout + ran.stderr)) == sorted(
        [
            # the step's own packages over the flow's: rich's pin is the step's
            f"@conda on step 'start' asks for rich 0.0.1 ({RICH} here), "
            "flowtui-no-such-package 1.0 (not installed here); flowtui builds no environment, "
            "so the step runs in this Python: pip install 'rich==0.0.1' "
            "'flowtui-no-such-package==1.0' to run it here.",
            "@pypi on step 'middle' builds no environment in a local run; this Python has "
            f"what it asks for (cloudpickle {CLOUDPICKLE}).",
            # the flow's @conda_base reaches every step without its own @conda but 'off'
            "@conda_base on flow EnvFlow (steps 'middle', 'end') builds no environment in a "
            f"local run; this Python has what it asks for (rich {RICH}).",
        ]
    )


def test_another_python_is_said_once_per_ask(tmp_path: Path) -> None:
    ran = flowtui_run(
        tmp_path,
        """
        from metaflow import FlowSpec, conda_base, step

        @conda_base(python="2.7.15")
        class OldFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    )
    assert ran.returncode == 0, ran.stderr
    assert _notices(ran.stdout + ran.stderr) == [
        "@conda_base on flow OldFlow asks for Python 2.7.15; flowtui builds no environment, "
        f"so its steps run in this Python ({HERE})."
    ]


def test_a_step_missing_a_module_ends_on_installing_it_then_resuming(tmp_path: Path) -> None:
    """The run's last line said 'Fix the code' for a module this Python lacks (a step's
    @conda/@pypi package, say): the fix is to install it where the steps run."""
    ran = flowtui_run(
        tmp_path,
        """
        from metaflow import FlowSpec, conda, step

        class MissingFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.fit)

            @conda(packages={"flowtui-missing-pkg": "1.0"})
            @step
            def fit(self):
                import flowtui_missing_pkg.models  # noqa: F401
                self.next(self.end)

            @step
            def end(self):
                pass
        """,
    )
    assert ran.returncode == 1
    last = ran.stdout.strip().splitlines()
    assert "(1 task done, 1 failed;" in last[-3]  # one task: not "1 tasks"
    assert last[-1].startswith(
        f"Install 'flowtui_missing_pkg' into this Python ({sys.executable}), then: flowtui resume"
    ), last[-1]
