"""Runs that real Metaflow made, read through Metaflow's own client.

`flowtui runs/logs/artifacts/card view --source metaflow` (or, with the default `--source
auto`, a flow that flowtui has no runs of but Metaflow's local datastore beside the flow file
has) read here. Whatever datastore and metadata service the user configured for Metaflow is
what Metaflow's client uses; flowtui only points Metaflow's *local* datastore at the
`.metaflow/` folder next to the flow file when nothing else was configured.

`metaflow` is imported only here, and only when asked: it is never a dependency of flowtui.
What comes back is in flowtui's shapes (`RunRecord` for the runs table, `MetaflowArtifact`
rows for the artifacts table, card documents for the card renderer), so the same tables and
drawings serve both engines.
"""

from __future__ import annotations

import base64
import glob
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from flowtui.client.errors import MetaflowInvalidPathspec, MetaflowNotFound
from flowtui.errors import UsageError
from flowtui.store.records import RunRecord

METAFLOW_DIRNAME = ".metaflow"
SOURCES = ("auto", "flowtui", "metaflow")
_CARD_DATA = re.compile(r'window\.__MF_DATA__\["[^"]+"\] = "([^"]+)"')


def find_metaflow_root(start: Path | None = None) -> Path | None:
    """The folder holding Metaflow's local datastore (`.metaflow/`), from `start` upwards."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / METAFLOW_DIRNAME).is_dir():
            return folder
    return None


def metaflow_has_flow(flow: str, near: Path | None = None) -> bool:
    """Metaflow's local datastore next to `near` (or the working directory) has runs of `flow`.

    Looks at folders only (no import of Metaflow), for `--source auto`."""
    root = find_metaflow_root(near)
    return root is not None and (root / METAFLOW_DIRNAME / flow).is_dir()


def reads_metaflow(
    source: str, store: str | None, flow: str, run_id: str | None = None, near: Path | None = None
) -> bool:
    """Whether a reader should read Metaflow's runs: asked (`metaflow`), or `auto` and the
    flowtui store has no such flow (or run) while Metaflow's datastore beside it has."""
    if source not in SOURCES:
        raise UsageError(f"--source {source} is not known; use flowtui, metaflow or auto.")
    if source != "auto":
        return source == "metaflow"
    from flowtui.store import Store

    try:
        meta = Store.open(store, create=False).meta
        ours = meta.runs(flow)
        if ours and (run_id is None or any(r.run_id == run_id for r in ours)):
            return False
    except Exception:  # no store, or one that cannot be read: Metaflow may still have it
        pass
    root = find_metaflow_root(near)
    if root is None or not (root / METAFLOW_DIRNAME / flow).is_dir():
        return False
    return run_id is None or (root / METAFLOW_DIRNAME / flow / run_id).is_dir()


def metaflow_run_of(pathspec: str, near: Path | None = None) -> str | None:
    """`Flow/RUN` when `pathspec` (`[Flow/]RUN[/...]`) names a run in Metaflow's local
    datastore beside `near` (or the working directory), else None. Folders only."""
    root = find_metaflow_root(near)
    parts = [p for p in pathspec.strip().strip("/").split("/") if p]
    if root is None or not parts:
        return None
    flows = root / METAFLOW_DIRNAME
    if len(parts) >= 2 and not parts[0].isdigit():
        flow, run_id = parts[0], parts[1]
        return f"{flow}/{run_id}" if (flows / flow / run_id).is_dir() else None
    run_id = parts[0]
    for folder in sorted(flows.glob(f"*/{glob.escape(run_id)}")):
        if folder.is_dir() and not folder.parent.name.startswith("_"):
            return f"{folder.parent.name}/{run_id}"
    return None


def flow_of(pathspec: str) -> tuple[str, str | None]:
    """(flow, run id) of a `Flow/RUN/...` pathspec; ("", None) for a `RUN/...` one."""
    parts = [p for p in pathspec.strip().strip("/").split("/") if p]
    if len(parts) >= 2 and not parts[0].isdigit():
        return parts[0], parts[1]
    return "", None


def metaflow_task_if_asked(source: str, store: str | None, pathspec: str) -> Any:
    """Metaflow's task for `pathspec` when the reader should read Metaflow's runs, else None."""
    flow, run_id = flow_of(pathspec)
    if source == "metaflow" or (flow and reads_metaflow(source, store, flow, run_id)):
        return metaflow_task(pathspec)
    if source not in SOURCES:
        raise UsageError(f"--source {source} is not known; use flowtui, metaflow or auto.")
    return None


def load_metaflow(near: Path | None = None) -> ModuleType:
    """Metaflow's client, with its local datastore found next to `near` if none is set."""
    if "METAFLOW_DATASTORE_SYSROOT_LOCAL" not in os.environ:
        root = find_metaflow_root(near)
        if root is not None:
            os.environ["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = str(root)
    try:
        import metaflow
    except ImportError:
        raise UsageError(
            "Reading Metaflow's runs needs the metaflow package; install it "
            "(pip install metaflow) or leave out --source metaflow."
        ) from None
    if getattr(metaflow, "__name__", "") != "metaflow" or not hasattr(metaflow, "namespace"):
        raise UsageError("The metaflow module here is not Metaflow's; run outside a flowtui run.")
    metaflow.namespace(None)
    root = find_metaflow_root(near)
    if root is not None and metaflow.get_metadata().startswith("local"):
        # Metaflow reads its settings once, at import: a long-lived reader (the TUI) points
        # the local metadata at this flow's datastore on every call.
        metaflow.metadata(f"local@{root}")
    return metaflow


def _not_found(what: str, error: Exception) -> MetaflowNotFound:
    return MetaflowNotFound(
        f"Metaflow has no {what} ({error}); check the name, or Metaflow's settings "
        "(METAFLOW_DEFAULT_METADATA, METAFLOW_DATASTORE_SYSROOT_LOCAL)."
    )


def _timestamp(value: Any) -> float | None:
    return value.timestamp() if value is not None else None


def task_outcome(task: Any) -> tuple[str, int, float | None, float | None]:
    """(status, attempt, started, finished) of a Metaflow task, from its metadata alone (no
    artifact is unpickled): the latest attempt's `attempt_ok` says succeeded or failed; an
    attempt started after the last outcome is still running."""
    latest: dict[str, Any] = {}
    for entry in sorted(task.metadata, key=lambda m: m.created_at):
        latest[entry.name] = entry
    started, outcome = latest.get("attempt"), latest.get("attempt_ok")
    attempt = int(started.value) if started is not None and str(started.value).isdigit() else 0
    begun = started.created_at / 1000 if started is not None else _timestamp(task.created_at)
    if outcome is not None and (started is None or outcome.created_at >= started.created_at):
        status = "succeeded" if str(outcome.value) == "True" else "failed"
        return status, attempt, begun, outcome.created_at / 1000
    return "running", attempt, begun, None


def run_outcome(run: Any) -> tuple[str, float | None, str | None]:
    """(status, finished, the failed task's pathspec) of a Metaflow run: succeeded when its
    `end` task did, failed when a task's last attempt failed, else running (a local run killed
    outright stays running: Metaflow's local metadata has no heartbeat to tell)."""
    try:
        end = next(iter(run["end"]), None)
    except KeyError:
        end = None
    if end is not None:
        status, _, _, finished = task_outcome(end)
        if status == "succeeded":
            return status, finished, None
    failed = [
        (outcome[3] or 0.0, task.pathspec)
        for step in run
        for task in step
        if (outcome := task_outcome(task))[0] == "failed"
    ]
    if not failed:
        return "running", None, None
    return "failed", max(f for f, _ in failed), min(failed)[1]


def metaflow_run_record(flow: str, run: Any) -> RunRecord:
    """One run that Metaflow made, as a row of flowtui's runs table."""
    status, finished, failed = run_outcome(run)
    system = tuple(sorted(run.system_tags))
    user = next((t.split(":", 1)[1] for t in system if t.startswith("user:")), "")
    return RunRecord(
        flow=flow,
        run_id=str(run.id),
        status=status,
        kind="run",
        created=_timestamp(run.created_at) or 0.0,
        finished=finished,
        file="",
        params={},
        origin_run_id=None,
        resume_step=None,
        user=user,
        tags=tuple(sorted(run.user_tags)),
        system_tags=system,
        error=f"{failed}: the task failed" if failed else None,
        source="metaflow",
    )


def metaflow_runs(flow: str, near: Path | None = None) -> list[RunRecord]:
    """The flow's runs that Metaflow made, newest first, as rows of flowtui's runs table."""
    mf = load_metaflow(near)
    from metaflow.exception import MetaflowNotFound as NotFound

    try:
        runs = list(mf.Flow(flow))
    except NotFound as e:
        raise _not_found(f"flow {flow}", e) from None
    records = [metaflow_run_record(flow, run) for run in runs]
    return sorted(records, key=lambda r: r.created, reverse=True)


def metaflow_task(pathspec: str, near: Path | None = None) -> Any:
    """Metaflow's `Task` for `Flow/RUN/STEP[/TASK]` (a step must have one task, or name one)."""
    parts = [p for p in pathspec.strip().strip("/").split("/") if p]
    if len(parts) not in (3, 4):
        raise MetaflowInvalidPathspec(
            f"{pathspec!r} is not a task pathspec of a Metaflow run; write Flow/RUN/STEP[/TASK] "
            "(Metaflow's run ids are not unique across flows, so the flow is needed)."
        )
    mf = load_metaflow(near)
    from metaflow.exception import MetaflowNotFound as NotFound

    try:
        if len(parts) == 4:
            return mf.Task("/".join(parts))
        tasks = list(mf.Step("/".join(parts)))
    except NotFound as e:
        raise _not_found(pathspec, e) from None
    if len(tasks) == 1:
        return tasks[0]
    ids = ", ".join(sorted(t.id for t in tasks)[:10])
    raise MetaflowNotFound(
        f"Step {pathspec} has {len(tasks)} tasks; name one as {pathspec}/TASK, from: {ids}."
    )


def metaflow_log(task: Any, stream: str) -> bytes:
    """The task's stdout or stderr, as Metaflow stored it."""
    text = task.stdout if stream == "stdout" else task.stderr
    return (text or "").encode()


@dataclass(frozen=True)
class MetaflowArtifact:
    """One artifact of a Metaflow task, as a row of the artifacts table."""

    id: str
    type: str
    size: int | None
    repr: str
    value: Any


def metaflow_artifacts(task: Any) -> list[MetaflowArtifact]:
    """The task's artifacts (Metaflow's own `name` and `_` ones left out), values loaded."""
    out = []
    for artifact in task:
        if artifact.id.startswith("_") or artifact.id == "name":
            continue
        try:
            value = artifact.data
            from flowtui.run.artifacts import short_repr, type_name

            kind, text = type_name(value), short_repr(value)
        except Exception as e:  # unpickling runs arbitrary code
            value, kind, text = None, "?", f"<cannot be loaded here: {type(e).__name__}: {e}>"
        out.append(MetaflowArtifact(artifact.id, kind, None, text, value))
    return sorted(out, key=lambda a: a.id)


def metaflow_artifacts_view(task: Any, name: str | None, width: int) -> Any:
    """What `flowtui artifacts` prints for a Metaflow task: the table, or one value."""
    from flowtui.client.render import render_value
    from flowtui.client.tables import artifacts_table

    artifacts = metaflow_artifacts(task)
    if name is None:
        return artifacts_table(artifacts, width)
    chosen = next((a for a in artifacts if a.id == name), None)
    if chosen is None:
        names = ", ".join(a.id for a in artifacts) or "none"
        raise MetaflowNotFound(
            f"Metaflow task {task.pathspec} has no artifact {name!r}; its artifacts: {names}."
        )
    return render_value(chosen.value, hint=f'Task("{task.pathspec}").data.{name}')


def metaflow_cards(task: Any) -> list[dict[str, Any]]:
    """The task's Metaflow cards, as flowtui card documents (for the same drawing)."""
    from metaflow.cards import get_cards

    return [metaflow_card_document(card, task.pathspec) for card in get_cards(task)]


def metaflow_card_document(card: Any, pathspec: str) -> dict[str, Any]:
    """A Metaflow card's embedded data, regrouped as a flowtui card document."""
    document: dict[str, Any] = {
        "type": card.type,
        "id": card.id,
        "title": "",
        "pathspec": pathspec,
        "final": True,
        "components": [],
        "artifacts": [],
        "parameters": [],
        "error": None,
    }
    found = _CARD_DATA.search(card.get() or "")
    if found is None:
        document["error"] = (
            "This Metaflow card holds no data flowtui can draw; open it in Metaflow."
        )
        return document
    data = json.loads(base64.b64decode(found.group(1)))
    for page in (c for c in data.get("components", []) if c.get("type") == "page"):
        if card.type == "blank":
            document["title"] = page.get("title") or ""
        for section in page.get("contents", []):
            title = section.get("title")
            contents = section.get("contents", [])
            if title is None:
                document["components"] += contents
            elif title == "Artifacts":
                for listing in contents:
                    document["artifacts"] += listing.get("data", [])
    return document
