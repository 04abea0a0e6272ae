"""Answers shaped as Metaflow's client gives them, for the expressions users port unchanged:
`task.metadata_dict` and `run.code`. (`Task.successful`, `system_tags` and the `name`
artifact are answered where they live.)"""

from __future__ import annotations

import platform
from pathlib import Path

from flowtui.store import Store
from flowtui.store.records import RunRecord, TaskRecord


def task_metadata_dict(record: TaskRecord, run: RunRecord | None, store: Store) -> dict[str, str]:
    """The task's metadata, by the names Metaflow's local runs record (values as text).

    `attempt` is the latest attempt (from 0); `attempt_ok` says whether it succeeded, and
    `attempt-done` is the attempt that finished (set once one has); `ds-type` is `local` and
    `ds-root` the store's directory; `runtime` is the run's kind (run, resume, spin). Where the
    latest recorded attempt ran: `executor`, `hostname`, `worker-pid`, and on Ray `node-id`;
    what it used, where the OS measured it (local runs on Linux): `peak-rss` (bytes) and
    `cpu-time` (seconds), flowtui's own keys (`run/usage.py`).
    """
    attempts = store.meta.attempts(record.task_id)
    latest = attempts[-1] if attempts else None
    ran_in = run  # a task a resume reused has the metadata of the run it ran in, as Metaflow's
    if record.origin_pathspec:
        ran_in = store.meta.run(record.origin_pathspec.split("/")[1]) or run
    out = {
        "script-name": Path(ran_in.file).name if ran_in else "",
        "python_version": platform.python_version(),
        "runtime": ran_in.kind if ran_in else "",
        "user": ran_in.user if ran_in else "",
        "ds-type": "local",
        "ds-root": str(store.root),
        "origin-run-id": str(run.origin_run_id) if run else "None",
    }
    if latest is not None:
        out["attempt"] = str(latest.attempt)
        if latest.finished is not None:
            out["attempt_ok"] = str(latest.status == "succeeded")
            out["attempt-done"] = str(latest.attempt)
    if record.origin_pathspec:  # a task a resume reused: the task that ran, as Metaflow's
        out["origin-task-id"] = record.origin_pathspec.rsplit("/", 1)[-1]
    where = store.meta.task_metadata(record.task_id)
    if where:
        out.update(where[max(where)])
    return out


class RunCode(str):
    """`run.code`: the flow file's source as the run started it (a `str`), with the attributes
    of Metaflow's code package: `.flowspec` (the same text), `.script_name`, `.path`, `.info`.

    Metaflow answers `None` for a local run without a code package; flowtui keeps every run's
    source, so it answers with it (docs/metaflow-compat.md says so)."""

    script_name: str
    path: str

    def __new__(cls, source: str, file: str) -> RunCode:
        code = super().__new__(cls, source)
        code.script_name = Path(file).name
        code.path = file
        return code

    @property
    def flowspec(self) -> str:
        return str(self)

    @property
    def info(self) -> dict[str, str]:
        return {"script": self.script_name}

    @property
    def tarball(self) -> None:
        """Metaflow's code-package tarball; a local run has none."""
        return None
