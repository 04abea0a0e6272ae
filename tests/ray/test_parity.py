"""The same flows on `--executor ray` and locally give the same artifacts (byte for byte)."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

from conftest import RayFlows

from flowtui.store import Store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
COMPAT = sorted((ROOT / "tests" / "compat" / "flows").glob("mf_*.py"))

# Compared by type: mf_branches stores random.random(); mf_current_objects stores client
# objects, which pickle the store they were read from (each side has its own store).
BY_TYPE = {"token", "task_obj", "run_obj"}
# {step: {foreach indices: {artifact: hash}}}, and the steps whose tasks failed
Artifacts = dict[str, dict[tuple[int, ...], dict[str, str]]]


def _artifacts(store: Store, flow: str) -> tuple[Artifacts, list[str]]:
    meta = store.meta
    runs = meta.runs(flow)
    assert runs, f"{flow} has no run in {store.root}"
    run = runs[0]
    out: Artifacts = {}
    failed = []
    for task in meta.tasks(run.run_id):
        if task.status == "failed":
            failed.append(task.step)
        if task.status != "succeeded":
            continue
        key = tuple(int(entry[0]) for entry in task.foreach_stack)
        out.setdefault(task.step, {})[key] = {
            a.name: a.type if a.name in BY_TYPE else a.hash for a in meta.artifacts(task.task_id)
        }
    return out, sorted(failed)


def _flow_name(file: Path) -> str:
    """The file's last class: the flow it runs (a base flow comes before it)."""
    tree = ast.parse(file.read_text())
    return [n.name for n in tree.body if isinstance(n, ast.ClassDef)][-1]


def _run_all(ray_flows: RayFlows, side: str, files: list[Path]) -> dict[str, subprocess.Popen]:
    """Run every file on one side (the same folder, a store per side), all at once."""
    folder = ray_flows.root / "flows"
    if not folder.exists():
        shutil.copytree(ROOT / "tests" / "compat" / "flows", folder)
        for example in EXAMPLES:
            shutil.copy(example, folder / example.name)
        data = folder / "data"  # what mf_include reads
        data.mkdir()
        (data / "notes.txt").write_text("first line\nsecond line\n")
        (data / "blob.bin").write_bytes(bytes(range(256)))
        (folder / "default.txt").write_text("mf_env_params' IncludeFile default\n")
        (folder / "config.json").write_text(  # what mf_config reads
            '{"alpha": 3, "cpu": 1, "retries": 1, "greeting": "hello", "project": "cfg_proj"}'
        )
        (folder / "settings.toml").write_text('[model]\nname = "small"\nlayers = [1, 2]\n')
    side_flows = RayFlows(folder, ray_flows.cluster)
    side_flows.store_path = folder / f"store-{side}"
    # Each Ray run starts its own workers (a second or more each): a few runs at a time
    # keep the two-core machine from thrashing.
    at_once = 3 if side == "ray" else len(files)
    procs: dict[str, subprocess.Popen] = {}
    for i in range(0, len(files), at_once):
        batch = files[i : i + at_once]
        for f in batch:
            procs[f.name] = side_flows.start("run", f.name, "-q", executor=side)
        for f in batch:
            procs[f.name].communicate(timeout=600)
    return procs


def test_every_example_and_compat_flow_gives_the_same_artifacts_on_ray_and_locally(
    ray_flows: RayFlows,
) -> None:
    # the reader flow reads BranchesFlow's latest run: run it after the rest
    first = [f for f in [*EXAMPLES, *COMPAT] if f.name != "mf_reader.py"]
    later = [f for f in COMPAT if f.name == "mf_reader.py"]
    codes = {}
    for side in ("local", "ray"):
        procs = _run_all(ray_flows, side, first)
        procs.update(_run_all(ray_flows, side, later))
        codes[side] = {name: proc.returncode for name, proc in procs.items()}
    assert codes["ray"] == codes["local"]
    assert codes["local"]["hello.py"] == 0  # the runs really ran

    local = Store(ray_flows.root / "flows" / "store-local", create=False)
    ray = Store(ray_flows.root / "flows" / "store-ray", create=False)
    compared = 0
    for file in [*first, *later]:
        flow = _flow_name(file)
        mine, theirs = _artifacts(ray, flow), _artifacts(local, flow)
        if mine[1]:  # a failed run: siblings in flight when the failure landed finish or are
            # cancelled as timing has it (on either executor): compare the tasks both ran
            assert mine[1] == theirs[1], f"{file.name}: different steps failed"
            mine = (_common(mine[0], theirs[0]), mine[1])
            theirs = (_common(theirs[0], mine[0]), theirs[1])
        assert mine == theirs, f"{file.name}: artifacts differ between ray and local"
        compared += sum(len(arts) for tasks in mine[0].values() for arts in tasks.values())
        on_ray = {ray.meta.task_metadata(t.task_id)[0]["executor"] for t in _tasks(ray, flow)}
        assert on_ray == {"ray"}
    assert compared > 100


def _common(these: Artifacts, those: Artifacts) -> Artifacts:
    """`these` restricted to the tasks `those` also has."""
    return {
        step: {key: arts for key, arts in tasks.items() if key in those.get(step, {})}
        for step, tasks in these.items()
    }


def _tasks(store: Store, flow: str) -> list:
    run = store.meta.runs(flow)[0]
    return [t for t in store.meta.tasks(run.run_id) if t.status in ("succeeded", "failed")]
