"""The client as a notebook reads it, under real Metaflow and under flowtui, compared.

One flow (`flows/mf_notebook.py`: a foreach, a branch and its join, a @catch step, a join that
fails until fixed) runs three times on each side: a run that fails (tagged `first`, `second`),
its resume (which succeeds), and a new run that fails (tagged `second`). `client_surface.py`
then reads every run, step, task and artifact back through each side's own client, as a
notebook does, and the answers are compared. Run and task ids differ by design (flowtui
numbers runs 1, 2, 3), so runs are named R1..R3 and tasks by step and foreach index.
"""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from differential import HERE, Outcome, Sides, _flow_name, compare, needs_metaflow

pytestmark = [pytest.mark.differential, needs_metaflow]

Answers = dict[str, Any]

# Answers that differ by design, each said in docs/metaflow-compat.md ("Known differences").
INTENDED = {
    r"\.code$": "run.code: None for a local Metaflow run, the run's source in flowtui",
    r"\.loglines$": "loglines: flowtui's lines carry no timestamp",
    r"\.runtime_name$|system_tags(-kinds)?$": "runtime:dev and metaflow_version: tags",
    r"^R[13](/\w+)?\.origin_pathspec$": "Metaflow says 'Flow/None' for a run never resumed",
    r"/oops\.(data|attr|new)$": "the caught traceback's frames are each runtime's own",
    r"\.exception(-str)?$": "the exception's class and str (its attributes match)",
    r"^R2\.steps(\(\))?$": "a resume's steps: Metaflow orders reused steps by clone time",
    r"^R2/fan\.(task|tasks|iter|new)$": "a resume's reused foreach tasks: Metaflow's clone order",
    r"^R2/(start|fan)\[\w+\]\.(stdout|stderr-has-warn|attempt0\.stdout|loglines-bytes)$": (
        "a reused task's logs (its origin's)"
    ),
    r"^R[13]/join\.child_steps$": "steps that never ran: Metaflow raises MetaflowNotFound",
}


def intended(key: str) -> bool:
    return any(re.search(pattern, key) for pattern in INTENDED)


def same_error(mf: Any, ft: Any) -> bool:
    """Both raise, and flowtui's error is every Metaflow class Metaflow's is; flowtui's may
    also be a KeyError (its not-found errors) or ValueError (bad pathspecs and tags)."""
    if not (isinstance(mf, tuple) and isinstance(ft, tuple) and mf[0] == ft[0] == "raises"):
        return False
    mf_names, ft_names = set(mf[1]), set(ft[1])
    if mf_names == {"KeyError"}:  # a plain KeyError: flowtui's is a named one
        return "KeyError" in ft_names
    return mf_names <= ft_names and ft_names - mf_names <= {"KeyError", "ValueError"}


class Notebook:
    """Runs of one flow on both sides (each `(args, command, fixed)` in turn, `fixed`: whether
    the file `fixed` exists), each side's outcomes, and both sides' answers."""

    def __init__(
        self, workdir: Path, flow: str, runs: list[tuple[list[str], str, bool]], failing: list[bool]
    ) -> None:
        sides = Sides(workdir)
        sides.flowtui_env["USERNAME"] = sides.metaflow_env["USERNAME"] = "tester"
        sides.flowtui_env["USER"] = sides.metaflow_env["USER"] = "tester"
        file = sides.flow(flow)
        self.flow = _flow_name(file)
        fixed = workdir / "fixed"
        self.outcomes: dict[str, list[Outcome]] = {"metaflow": [], "flowtui": []}
        for args, command, is_fixed in runs:
            if is_fixed:
                fixed.touch()
            else:
                fixed.unlink(missing_ok=True)
            self.outcomes["metaflow"].append(sides.metaflow(file, *args, command=command))
            self.outcomes["flowtui"].append(sides.flowtui(file, *args, command=command))
        codes = {side: [o.code != 0 for o in outs] for side, outs in self.outcomes.items()}
        assert codes == {"metaflow": failing, "flowtui": failing}, [
            o.output[-2000:] for outs in self.outcomes.values() for o in outs
        ]
        self.answers = {
            "metaflow": self._read(sides, "metaflow", sides.metaflow_env),
            "flowtui": self._read(sides, f"flowtui:{sides.store}", sides.flowtui_env),
        }

    def _read(self, sides: Sides, side: str, env: dict[str, str]) -> Answers:
        name = side.split(":")[0]
        out = sides.workdir / f"{name}-answers.pickle"
        ids = [o.run_id for o in self.outcomes[name]]
        proc = subprocess.run(
            [sys.executable, str(HERE / "client_surface.py"), side, self.flow, str(out), *ids],
            cwd=sides.workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        answers: Answers = pickle.loads(out.read_bytes())
        return answers

    def differences(self, *keys: str) -> list[str]:
        mf, ft = self.answers["metaflow"], self.answers["flowtui"]
        out = []
        for key in keys or sorted(set(mf) | set(ft)):
            a, b = mf.get(key, "<not asked>"), ft.get(key, "<not asked>")
            if a != b and not same_error(a, b):
                out.append(f"{key}: metaflow {a!r} != flowtui {b!r}")
        return out


@pytest.fixture(scope="module")
def notebook(tmp_path_factory: pytest.TempPathFactory) -> Notebook:
    """A failed run tagged first and second, its resume (succeeds), a failed run tagged
    second."""
    runs = [
        (["--tag", "first", "--tag", "second"], "run", False),
        ([], "resume", True),
        (["--tag", "second"], "run", False),
    ]
    return Notebook(tmp_path_factory.mktemp("notebook"), "mf_notebook", runs, [True, False, True])


@pytest.fixture(scope="module")
def edges(tmp_path_factory: pytest.TempPathFactory) -> Notebook:
    """One run: a step @retry runs twice, an end step whose exception @catch caught."""
    return Notebook(
        tmp_path_factory.mktemp("edges"), "mf_retry_catch_end", [([], "run", False)], [False]
    )


@pytest.mark.parametrize("which", ["notebook", "edges"])
def test_every_answer_a_notebook_reads_matches_metaflow(
    which: str, request: pytest.FixtureRequest
) -> None:
    """Flow, Run, Step, Task and DataArtifact, on every run, step and task: only the answers
    that differ by design (INTENDED, documented) may differ."""
    book: Notebook = request.getfixturevalue(which)
    problems = [p for p in book.differences() if not intended(p.split(":")[0])]
    assert not problems, "\n".join(problems)
    assert len(book.answers["metaflow"]) > 150  # it read the whole surface


def test_a_run_whose_end_step_was_caught_is_not_successful(edges: Notebook) -> None:
    """Metaflow's run is successful when its end task is: an end step whose exception @catch
    caught makes a finished run that is not successful, and not the latest successful one
    (flowtui said successful, and gave it as latest_successful_run)."""
    keys = ["R1.successful", "R1.finished", "flow.latest_successful_run", "flow.latest_run"]
    assert not edges.differences(*keys)
    ft = edges.answers["flowtui"]
    assert (ft["R1.successful"], ft["R1.finished"]) == (False, True)
    assert ft["flow.latest_successful_run"] == ["None"]


def test_a_retried_tasks_attempts_read_as_metaflows(edges: Notebook) -> None:
    """`Task(pathspec, attempt=0)` reads the first attempt's logs (flowtui: TypeError), the
    latest is `current_attempt` 1 with metadata attempt '1'; `task.metadata` is Metaflow's list
    of Metadata, `stdout_size` an int (both AttributeError before)."""
    task = "R1/flaky[None]"
    keys = ["attempt0.stdout", "attempt0", "current_attempt", "stdout", "metadata_dict"]
    keys += ["metadata-names", "stdout_size"]
    assert not edges.differences(*(f"{task}.{k}" for k in keys))
    ft = edges.answers["flowtui"]
    assert (ft[f"{task}.attempt0.stdout"], ft[f"{task}.stdout"]) == ("attempt 0\n", "attempt 1\n")
    assert ft[f"{task}.metadata_dict"]["attempt"] == "1"


def test_a_retried_tasks_earlier_attempt_keeps_its_own_artifacts(edges: Notebook) -> None:
    """`Task(pathspec, attempt=0).data` is what the first attempt stored, before @retry ran
    the task again (flowtui kept only the last attempt's: attempt 0 read attempt 1's)."""
    task = "R1/flaky[None]"
    keys = ["attempt0.tried", "attempt1.tried", "attempt0.artifacts"]
    assert not edges.differences(*(f"{task}.{k}" for k in keys))
    ft = edges.answers["flowtui"]
    assert (ft[f"{task}.attempt0.tried"], ft[f"{task}.attempt1.tried"]) == (0, 1)


def test_an_exceptions_type_is_module_qualified_and_absent_things_are_none(
    notebook: Notebook, edges: Notebook
) -> None:
    """`task.exception.type` names the class with its module, as Metaflow's wrapper does
    (`builtins.RuntimeError`; flowtui said `RuntimeError`); `Task.environment_info` and
    `Run.trigger` are None for a run with no environment package nor trigger (flowtui:
    AttributeError)."""
    book = {**notebook.answers["flowtui"]}
    keys = [
        k
        for k in notebook.answers["metaflow"]
        if k.endswith((".exception.type", ".environment_info", ".trigger"))
    ]
    assert keys and not notebook.differences(*keys)
    assert not edges.differences(
        *(k for k in edges.answers["metaflow"] if k.endswith(".exception.type"))
    )
    assert book["R1/join[None].exception.type"] == "builtins.RuntimeError"


def test_steps_know_their_parent_and_child_steps(notebook: Notebook, edges: Notebook) -> None:
    """`Step.parent_steps` / `child_steps` (AttributeError before)."""
    keys = [
        f"R2/{s}.{a}"
        for s in ("start", "fan", "split", "join", "end")
        for a in ("parent_steps", "child_steps")
    ]
    assert not notebook.differences(*keys)
    assert not edges.differences("R1/flaky.parent_steps", "R1/flaky.child_steps")
    ft = notebook.answers["flowtui"]
    assert (ft["R2/join.parent_steps"], ft["R2/split.child_steps"]) == (["left", "right"],) * 2


def test_a_failed_task_is_not_finished(notebook: Notebook) -> None:
    """Metaflow's failed task is neither successful nor finished (it was finished in flowtui),
    a @catch-caught one is finished but not successful; both have a finished_at."""
    attrs = ("successful", "finished", "finished_at", "exception.exception")
    keys = [f"{r}/{s}[None].{a}" for r in ("R1", "R3") for s in ("join", "left") for a in attrs]
    assert not notebook.differences(*keys)
    ft = notebook.answers["flowtui"]
    assert (ft["R1/join[None].finished"], ft["R1/join[None].finished_at"]) == (False, "datetime")
    assert (ft["R1/left[None].finished"], ft["R1/left[None].successful"]) == (True, False)


def test_a_foreach_steps_task_is_the_one_metaflow_gives(notebook: Notebook) -> None:
    """`run["fan"].task` in a foreach: the first task iterating the step gives (the latest),
    as in Metaflow; flowtui gave the first one (index 0)."""
    assert not notebook.differences("R1/fan.task", "R3/fan.task", "R1/fan.tasks")
    assert notebook.answers["flowtui"]["R1/fan.task"] == "fan[2]"


def test_a_caught_task_a_resume_reused_is_still_not_successful(notebook: Notebook) -> None:
    """The resume reuses the @catch-caught `left`: Metaflow still says not successful
    (flowtui said successful), and both give its origin."""
    keys = ("successful", "finished", "origin_pathspec", "metadata_dict")
    assert not notebook.differences(*(f"R2/left[None].{k}" for k in keys))
    ft = notebook.answers["flowtui"]
    assert ft["R2/left[None].successful"] is False
    assert ft["R2/left[None].origin_pathspec"] == "NotebookFlow/R1/left/<task>"


def test_metaflows_attributes_exist_on_every_object(notebook: Notebook) -> None:
    """Attributes every Metaflow object has that flowtui lacked (AttributeError before)."""
    keys = [
        "flow.parent",
        "flow.created_at",
        "flow.tags",
        "R1.is_in_namespace",
        "replace_tags",
        "after2.user_tags",
    ]
    for run in ("R1", "R2"):
        for step in ("start", "fan", "join"):
            keys += [f"{run}/{step}.{a}" for a in ("created_at", "control_task", "control_tasks")]
            keys += [f"{run}/{step}.{a}" for a in ("tags-extra", "user_tags", "is_in_namespace")]
        keys += [f"{run}/start[None].{a}" for a in ("user_tags", "metadata_dict")]
    keys += ["R2/fan.origin_pathspec", "R2/join.origin_pathspec"]
    assert not notebook.differences(*keys)
    ft = notebook.answers["flowtui"]
    assert ft["R2/start[None].code"][:2] == ("str", "RunCode")  # Run.code's, on the task
    assert ft["R1/fan[0].data-repr"] == ("<MetaflowData", ["items", "name", "x"])  # a cell's
    assert ft["R1/start[None].runtime_name"] == "run"  # its runtime: tag
    assert ft["R3/join[None].exception.exception"] == "join is not fixed yet"
    assert ft["R3/join[None].exception.stacktrace"] is True


def test_errors_are_metaflows_and_tags_are_checked_as_metaflow_checks_them(
    notebook: Notebook,
) -> None:
    """Every error the client raises is a MetaflowException; a namespace mismatch is not a
    MetaflowNotFound; an empty tag is refused and a system tag cannot be removed, with
    MetaflowTaggingError (flowtui: a KeyError, a NotFound, an empty tag added, ValueError)."""
    keys = [
        "Flow(Missing)",
        "Run(999)",
        "Run(bad)",
        "Flow in other ns",
        "Run in other ns",
        "Task in other ns",
        "remove system tag",
        "add empty tag",
    ]
    assert not notebook.differences(*keys)
    names = notebook.answers["flowtui"]["Run in other ns"][1]
    assert "MetaflowException" in names and "MetaflowNotFound" not in names


def test_metaflow_exceptions_are_importable_and_caught_inside_a_run(sides: Sides) -> None:
    """`from metaflow.exception import ...` in a flow file (flowtui refused the import: the
    run failed at once), and the client's errors caught by those names inside a step."""
    file = sides.flow("mf_client_errors")
    mf, ft = sides.metaflow(file), sides.flowtui(file)
    assert (mf.code, ft.code) == (0, 0), mf.output + ft.output

    compared = compare(mf, ft)

    assert compared == {"start": {"caught"}, "end": {"caught"}}
    assert ft.value("end", "caught") == {
        "flow": ("not found", True),
        "run": ("not found", True),
        "other namespace": ("mismatch", True),
    }
