"""Metaflow's own core test suite, run against flowtui: a conformance table.

    python bench/metaflow_core.py PATH/TO/metaflow/test/core [--tests A,B] [--graphs X,Y] [-j 2]

Metaflow checks itself with test templates (`test/core/tests/*.py`) woven into graph shapes
(`test/core/graphs/*.json`) by its formatter (`metaflow_test/formatter.py`). This script reads
and executes that code from the checkout given (nothing of it is copied into this repository):
for every valid (graph, test) pair it writes the flow with Metaflow's own formatter, runs it
with `flowtui run` (then `flowtui resume` for the resume tests, as `run_tests.py` drives them),
and runs the test's own `check_results(flow, checker)` with a checker over flowtui's client
(`FlowtuiCheck` below: `MetadataCheck`'s method names and namespace checks). The context is
`contexts.json`'s "python3-all-local": its env and run options, its disabled tests skipped.
Metaflow's CLI checker (`CliCheck`, Metaflow's own `dump`/`logs` commands) is not run.

Two things of the harness are adapted, in the temporary copy only, and said here:
- the formatter's import line names every Metaflow name a test might use (`Config`,
  `FlowMutator`, ...); names the generated flow never uses are dropped from it, as a user's
  own file would not import them (a test that does use one is skipped, naming it);
- `metaflow_test/__init__.py` imports `CardNotPresentException` from Metaflow's card plugin
  internals, which flowtui does not offer (`metaflow.plugins`); in flowtui's tasks that import
  falls back to flowtui's own card error.

Prints one row per case: passed, failed (the first line of why) or skipped (why), then the
totals. At most two cases run at once (`-j 1` or `-j 2`). Not a CI test: it needs a Metaflow
checkout and Metaflow installed (for the formatter and for the `flow` object `check_results`
receives, which is Metaflow's FlowSpec built with `use_cli=False`).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONTEXT = "python3-all-local"
RUN_TIMEOUT = 600.0

# Tests that need Metaflow-only machinery, with the reason; not run.
_TEST_CARDS = (
    "needs Metaflow's internal test card types (metaflow.plugins.cards.card_modules.test_cards)"
)
_UBF = (
    "needs Metaflow's internal unbounded-foreach test decorator (unbounded_test_foreach_internal)"
)
NEEDS_METAFLOW: dict[str, str] = {
    "ExtensionsTest": "needs Metaflow's extension mechanism (metaflow_extensions/test_org)",
    "FlowOptionsTest": "needs Metaflow's extension mechanism (metaflow_extensions/test_org)",
    "BasicUnboundedForeachTest": _UBF,
    "NestedUnboundedForeachTest": _UBF,
    "BasicUnboundedForeachResumeTest": _UBF,
    "ResumeUBFJoinTest": _UBF,
    "SecretsDecoratorTest": "@secrets has no effect in flowtui (docs/metaflow-compat.md); the "
    "test also reads self._graph, Metaflow's internal graph",
    **dict.fromkeys(
        (
            "CardComponentRefreshTest",
            "CardWithRefreshTest",
            "CardDecoratorBasicTest",
            "CardErrorTest",
            "CardImportTest",
            "CardResumeTest",
            "CardTimeoutTest",
            "CardsWithIdTest",
            "DefaultEditableCardTest",
            "DefaultEditableCardWithCustomizeTest",
            "DefaultEditableCardWithIdTest",
            "MultipleCardDecoratorTest",
            "CardExtensionsImportTest",
        ),
        _TEST_CARDS,
    ),
}
# Graphs whose shape flowtui does not run, with the reason.
GRAPH_SKIPS = {
    "recursive_switch": "a switch that loops back is not supported (docs/metaflow-compat.md)",
    "recursive_switch_inside_foreach": "a switch that loops back is not supported "
    "(docs/metaflow-compat.md)",
}

# Names in the formatter's import line that flowtui does not offer (see the module docstring).
_IMPORT_LINE_PREFIX = "from metaflow import Config, config_expr"

_CARD_EXCEPTION_IMPORT = "from metaflow.plugins.cards.exception import CardNotPresentException"
_CARD_EXCEPTION_FALLBACK = textwrap.dedent(
    """\
    try:
        from metaflow.plugins.cards.exception import CardNotPresentException
    except ImportError:  # flowtui's tasks: no metaflow.plugins (bench/metaflow_core.py)
        class CardNotPresentException(Exception):
            pass
    """
)


@dataclass
class Case:
    test: str
    graph: str
    formatter: Any
    skip: str = ""


@dataclass
class Outcome:
    case: Case
    status: str  # passed / failed / skipped
    why: str = ""
    seconds: float = 0.0
    detail: str = ""


def load_cases(core: Path, tests: set[str], graphs: set[str]) -> tuple[list[Case], dict]:
    """Every valid (graph, test) pair, in run_tests.py's order, with its skip reason if any."""
    sys.path.insert(0, str(core))
    sys.path.insert(0, str(core / "tests"))
    from metaflow_test import MetaflowTest  # type: ignore[import-not-found]
    from metaflow_test.formatter import FlowFormatter  # type: ignore[import-not-found]

    contexts = json.loads((core / "contexts.json").read_text())
    context = next(c for c in contexts["contexts"] if c["name"] == CONTEXT)
    disabled = set(context.get("disabled_tests", []))

    found = []
    for testfile in sorted(os.listdir(core / "tests")):
        if not testfile.endswith(".py") or testfile.startswith("."):
            continue
        mod = importlib.import_module(testfile[:-3])
        for name in dir(mod):
            obj = getattr(mod, name)
            if (
                name != "MetaflowTest"
                and isinstance(obj, type)
                and issubclass(obj, MetaflowTest)
                and obj.__module__ == mod.__name__
            ):
                found.append(obj())
    found.sort(key=lambda t: (t.PRIORITY, type(t).__name__))

    graph_specs = []
    for graphfile in sorted(os.listdir(core / "graphs")):
        if graphfile.endswith(".json") and not graphfile.startswith("."):
            graph_specs.append(json.loads((core / "graphs" / graphfile).read_text()))

    cases = []
    for test in found:
        name = type(test).__name__
        if tests and name.lower() not in tests:
            continue
        for spec in graph_specs:
            if graphs and spec["name"].lower() not in graphs:
                continue
            formatter = FlowFormatter(spec, test)
            if not formatter.valid:
                continue
            case = Case(name, spec["name"], formatter)
            if name in disabled:
                case.skip = f"disabled in contexts.json's {CONTEXT}"
            elif name in NEEDS_METAFLOW:
                case.skip = NEEDS_METAFLOW[name]
            elif spec["name"] in GRAPH_SKIPS:
                case.skip = GRAPH_SKIPS[spec["name"]]
            else:
                unoffered = _unoffered_names_used(formatter.flow_code)
                if unoffered:
                    case.skip = "uses " + ", ".join(unoffered) + ", which flowtui does not offer"
            cases.append(case)
    return cases, context


# Names of the formatter's import line flowtui does not offer (none today: Config, the user
# decorators and mutators are offered); a generated flow using one is skipped, naming it.
_NOT_OFFERED: tuple[str, ...] = ()


def _names_used(code: str) -> set[str]:
    tree = ast.parse(code)
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
    return used


def _unoffered_names_used(code: str) -> list[str]:
    used = _names_used(code)
    return [n for n in _NOT_OFFERED if n in used]


def flow_code_for_flowtui(code: str) -> str:
    """The generated flow with the import line naming only what the flow uses."""
    used = _names_used(code)
    lines = code.split("\n")
    for i, line in enumerate(lines):
        if line.startswith(_IMPORT_LINE_PREFIX):
            names = [n.strip() for n in line[len("from metaflow import ") :].split(",")]
            keep = [n for n in names if n in used]
            lines[i] = "from metaflow import " + ", ".join(keep) if keep else ""
            break
    return "\n".join(lines)


def prepare(case: Case, core: Path, workdir: Path) -> None:
    f = case.formatter
    (workdir / "test_flow.py").write_text(flow_code_for_flowtui(f.flow_code))
    (workdir / "check_flow.py").write_text(f.check_code)
    shutil.copytree(core / "metaflow_test", workdir / "metaflow_test")
    init = workdir / "metaflow_test" / "__init__.py"
    text = init.read_text()
    if _CARD_EXCEPTION_IMPORT in text:
        init.write_text(text.replace(_CARD_EXCEPTION_IMPORT + "\n", _CARD_EXCEPTION_FALLBACK, 1))
    for name in f.copy_files:
        shutil.copy2(core / "tests" / name, workdir / name)


def _env(context: dict, core: Path, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("METAFLOW_", "FLOWTUI_"))}
    env.update({k: v.format(nonce="flowtui") for k, v in context["env"].items()})
    env.update(
        {
            "LANG": "en_US.UTF-8",
            "LC_ALL": "en_US.UTF-8",
            "PYTHONIOENCODING": "utf_8",
            "FLOWTUI_STORE": str(workdir / ".flowtui"),
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(workdir), os.environ.get("PYTHONPATH", "")) if p
            ),
        }
    )
    return env


def _flowtui_cmd(mode: str, context: dict, extra: list[str]) -> list[str]:
    # Metaflow's top options name its backends (--metadata, --datastore, --environment,
    # --event-logger, --no-pylint): flowtui has one local store and no such choices. Only
    # --quiet means something here. Run options go before the file, as flowtui reads them.
    cmd = [sys.executable, "-B", "-m", "flowtui", mode]
    if "--quiet" in context["top_options"]:
        cmd.append("--quiet")
    cmd += list(context["run_options"])
    cmd += ["--run-id-file", "run-id", "test_flow.py"]
    return cmd + extra


def _first_line(text: str) -> str:
    """The line of a failed command's output that says why (a traceback's last line)."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    for i, ln in enumerate(lines):
        if ln.startswith("error:"):  # flowtui's own sentence, and its first detail
            return (ln + (" " + lines[i + 1] if ln.endswith(":") and i + 1 < len(lines) else ""))[
                :240
            ]
    for ln in reversed(lines):
        if re.match(r"^[\w.]*(Error|Exception|Failed|Interrupt|Exit)\b", ln):
            return ln[:240]
    return (lines[-1] if lines else "(no output)")[:240]


def run_case(case: Case, core: Path, context: dict, keep: bool) -> Outcome:
    if case.skip:
        return Outcome(case, "skipped", case.skip)
    f = case.formatter
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix=f"mfcore_{case.test}_{case.graph}_"))
    env = _env(context, core, workdir)
    try:
        prepare(case, core, workdir)

        def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                cmd,
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )

        proc = run(_flowtui_cmd("run", context, []))
        if proc.returncode:
            if f.should_fail:
                pass
            elif f.should_resume:
                proc = run(
                    _flowtui_cmd("resume", context, [f.resume_step] if f.resume_step else [])
                )
                if proc.returncode:
                    out = proc.stdout + proc.stderr
                    return Outcome(case, "failed", "resume: " + _first_line(out), detail=out)
            else:
                out = proc.stdout + proc.stderr
                return Outcome(case, "failed", "run: " + _first_line(out), detail=out)
        elif f.should_fail:
            return Outcome(case, "failed", "the flow should have failed but did not")

        run_id = (workdir / "run-id").read_text().strip()
        check = subprocess.run(
            [sys.executable, "-B", __file__, "--check", str(core), f.flow_name, run_id],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        if check.returncode:
            out = check.stderr + check.stdout
            return Outcome(case, "failed", "check: " + _first_line(out), detail=out)
        return Outcome(case, "passed")
    except subprocess.TimeoutExpired as e:
        return Outcome(case, "failed", f"timed out after {e.timeout:.0f} s")
    except Exception as e:  # the runner's own trouble: reported as the case's failure
        return Outcome(case, "failed", f"runner: {type(e).__name__}: {e}")
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
        elif case.skip == "":
            print(f"  kept {workdir}", file=sys.stderr)
        _ = started


# ---- the checker, in its own process (--check) -------------------------------------------


def check_main(core: str, flow_name: str, run_id: str) -> int:
    sys.path.insert(0, os.getcwd())
    sys.path.insert(1, core)
    import metaflow  # real Metaflow: the `flow` object check_results receives is Metaflow's
    from metaflow_test import (  # type: ignore[import-not-found]
        AssertArtifactFailed,
        AssertLogFailed,
        MetaflowCheck,
        assert_equals,
        assert_exception,
        truncate,
    )

    import flowtui.client as ftc

    test_flow = importlib.import_module("test_flow")
    flow = getattr(test_flow, flow_name)(use_cli=False)

    # The client names a check imports from metaflow are flowtui's: the runs are flowtui's.
    for name in (
        "Flow",
        "Run",
        "Step",
        "Task",
        "DataArtifact",
        "namespace",
        "get_namespace",
        "default_namespace",
    ):
        setattr(metaflow, name, getattr(ftc, name))

    class FlowtuiCheck(MetaflowCheck):
        """MetadataCheck's methods, reading the run through flowtui's client."""

        def __init__(self, flow: Any) -> None:
            self.flow = flow
            self._run_id = run_id
            self.run = ftc.Flow(flow.name)[run_id]
            expected_steps = {step.name for step in flow}
            actual_steps = {step.id for step in self.run}
            assert actual_steps.issubset(expected_steps), (
                f"Executed steps {actual_steps} not a subset of flow steps {expected_steps}"
            )
            self._test_namespace()

        @property
        def run_id(self) -> str:
            return self._run_id

        def _test_namespace(self) -> None:
            assert_equals("user:{}".format(os.environ.get("METAFLOW_USER")), ftc.get_namespace())
            assert_equals(True, self.run_id in [run.id for run in ftc.Flow(self.flow.name)])
            ftc.namespace("user:nobody")
            assert_equals(ftc.get_namespace(), "user:nobody")
            assert_exception(
                lambda: ftc.Flow(self.flow.name)[self.run_id], ftc.MetaflowNamespaceMismatch
            )
            ftc.namespace(None)
            assert_equals(ftc.get_namespace(), None)
            ftc.Flow(self.flow.name)[self.run_id]
            ftc.default_namespace()

        def get_run(self) -> Any:
            return self.run

        def assert_artifact(self, step: str, name: str, value: Any, fields: Any = None) -> bool:
            for task, artifacts in self.artifact_dict(step, name).items():
                if name not in artifacts:
                    raise AssertArtifactFailed(
                        f"Task '{task}' expected {name}={truncate(value)} but the key was not found"
                    )
                artifact = artifacts[name]
                if fields:
                    for field, v in fields.items():
                        data = json.loads(artifact) if isinstance(artifact, str) else artifact
                        if not isinstance(data, dict):
                            raise AssertArtifactFailed(
                                f"Task '{task}' expected {name} to be a dictionary "
                                f"(got {type(data)})"
                            )
                        if data.get(field, None) != v:
                            raise AssertArtifactFailed(
                                f"Task '{task}' expected {name}[{field}]={truncate(v)!r} "
                                f"but got {name}[{field}]={data.get(field)}"
                            )
                elif artifact != value:
                    raise AssertArtifactFailed(
                        f"Task '{task}' expected {name}={truncate(value)!r} "
                        f"but got {name}={truncate(artifact)}"
                    )
            return True

        def artifact_dict(self, step: str, name: str) -> dict:
            return {task.id: {name: task[name].data} for task in self.run[step]}

        def artifact_dict_if_exists(self, step: str, name: str) -> dict:
            return {task.id: {name: task[name].data} for task in self.run[step] if name in task}

        def assert_log(self, step: str, logtype: str, value: str, exact_match: bool = True) -> bool:
            log_value = self.get_log(step, logtype)
            if log_value == value or (not exact_match and value in log_value):
                return True
            raise AssertLogFailed(
                f"Step '{step}' expected task.{logtype}='{value!r}' "
                f"but got task.{logtype}='{log_value!r}'"
            )

        def get_log(self, step: str, logtype: str) -> str:
            return "".join(getattr(task, logtype) for task in self.run[step])

        def get_card(self, step: str, task: str, card_type: Any, card_id: Any = None) -> Any:
            from flowtui.flow.cards import get_cards

            return get_cards(self.run[step][task], type=card_type, id=card_id)

        def list_cards(self, step: str, task: str, card_type: Any = None) -> Any:
            try:
                cards = self.get_card(step, task, card_type)
            except Exception:
                return None
            if cards is None:
                return None
            data: dict[str, Any] = {"pathspec": self.run[step][task].pathspec, "cards": []}
            for card in cards:
                data["cards"].append(
                    {
                        "hash": card.hash,
                        "id": card.id,
                        "type": card.type,
                        "filename": getattr(card, "path", "").split("/")[-1],
                    }
                )
            return data

        def assert_card(
            self,
            step: str,
            task: str,
            card_type: Any,
            value: Any,
            card_hash: Any = None,
            card_id: Any = None,
            exact_match: bool = True,
        ) -> bool:
            try:
                cards = self.get_card(step, task, card_type, card_id=card_id)
            except Exception:
                cards = None
            card_data = None
            if cards is not None and len(cards) > 0:
                if card_hash is None:
                    card_data = cards[0].get()
                else:
                    chosen = [c for c in cards if card_hash in c.hash]
                    card_data = chosen[0].get() if chosen else None
            if (exact_match and card_data != value) or (
                not exact_match and (card_data is None or value not in card_data)
            ):
                raise AssertionError(
                    f"Task '{self.run_id}/{step}' expected {card_type} card with content "
                    f"'{truncate(value)}' but got '{truncate(card_data)}'"
                )
            return True

        def get_card_data(
            self, step: str, task: str, card_type: Any, card_id: Any = None
        ) -> tuple[bool, Any]:
            try:
                cards = self.get_card(step, task, card_type, card_id=card_id)
            except Exception:
                return False, None
            if cards is None or len(cards) == 0:
                return False, None
            if card_id is None:
                return True, cards[0].get_data()
            for card in cards:
                if card.id == card_id:
                    return True, card.get_data()
            return False, None

        def get_user_tags(self) -> Any:
            return self.run.user_tags

        def get_system_tags(self) -> Any:
            return self.run.system_tags

        def add_tag(self, tag: str) -> Any:
            return self.run.add_tag(tag)

        def add_tags(self, tags: Any) -> Any:
            return self.run.add_tags(tags)

        def remove_tag(self, tag: str) -> Any:
            return self.run.remove_tag(tag)

        def remove_tags(self, tags: Any) -> Any:
            return self.run.remove_tags(tags)

        def replace_tag(self, old: str, new: str) -> Any:
            return self.run.replace_tag(old, new)

        def replace_tags(self, old: Any, new: Any) -> Any:
            return self.run.replace_tags(old, new)

    check_flow = importlib.import_module("check_flow")
    try:
        check_flow.check_results(flow, FlowtuiCheck(flow))
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


# ---- the table ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--check"]:
        return check_main(*argv[1:4])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("core", type=Path, help="an extracted metaflow/test/core folder")
    parser.add_argument("--tests", default="", help="comma-separated test classes (default: all)")
    parser.add_argument("--graphs", default="", help="comma-separated graph names (default: all)")
    parser.add_argument("-j", "--jobs", type=int, default=2, choices=(1, 2))
    parser.add_argument("--keep", action="store_true", help="keep each case's folder")
    parser.add_argument("-v", "--verbose", action="store_true", help="print a failure's output")
    parser.add_argument("--json", type=Path, help="also write the outcomes to this JSON file")
    args = parser.parse_args(argv)
    core = args.core.resolve()
    if not (core / "metaflow_test" / "formatter.py").is_file():
        print(f"error: {core} is not Metaflow's test/core folder (no metaflow_test/formatter.py).")
        return 2

    def parse(x: str) -> set[str]:
        return {t.strip().lower() for t in x.split(",") if t.strip()}

    cases, context = load_cases(core, parse(args.tests), parse(args.graphs))
    started = time.monotonic()
    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_case, c, core, context, args.keep) for c in cases]
        for fut in futures:
            t0 = time.monotonic()
            o = fut.result()
            o.seconds = time.monotonic() - t0
            outcomes.append(o)
            print(f"{o.status:8} {o.case.test:42} {o.case.graph:34} {o.why}", flush=True)
            if args.verbose and o.detail:
                print(textwrap.indent(o.detail.rstrip()[-4000:], "    | "), flush=True)

    counts = {s: sum(o.status == s for o in outcomes) for s in ("passed", "failed", "skipped")}
    print(
        f"\n{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped "
        f"of {len(outcomes)} cases ({time.monotonic() - started:.0f} s)"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {"test": o.case.test, "graph": o.case.graph, "status": o.status, "why": o.why}
                    for o in outcomes
                ],
                indent=1,
                ensure_ascii=False,
            )
        )
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
