"""Run next to either client: read a flow's runs as a notebook does and dump the answers.

Usage: python client_surface.py metaflow FLOW OUT.pickle RUN_ID...
       python client_surface.py flowtui:STORE FLOW OUT.pickle RUN_ID...

The run ids are the flow's runs, oldest first; the answers name them R1, R2, ... and name
tasks by step and foreach index, so both sides' answers compare whatever their ids.
"""

# ruff: noqa: B023  (each lambda below is called at once, by ask(), inside its loop turn)

from __future__ import annotations

import datetime
import pickle
import re
import sys
from pathlib import Path
from typing import Any

side, flow_name, out, *run_ids = sys.argv[1:]
if side == "metaflow":
    import metaflow as client
else:
    import flowtui.client as client

    client.metadata(side.split(":", 1)[1])

RUNS = {rid: f"R{i}" for i, rid in enumerate(run_ids, 1)}
answers: dict[str, Any] = {}


def _ids(match: re.Match[str]) -> str:
    run = RUNS.get(match.group(1), match.group(1))
    return f"{flow_name}/{run}" + (f"/{match.group(2)}/<task>" if match.group(2) else "")


def norm(value: Any) -> Any:
    """Ids of runs and tasks replaced by R1... and step[index]; times by their type."""
    if isinstance(value, str) and "('" in value:
        return re.sub(rf"{flow_name}/(\w+)(?:/(\w+)/(\w+))?", _ids, value)
    if isinstance(value, str):
        parts = value.split("/")
        if len(parts) >= 2 and parts[0] == flow_name and parts[1] in RUNS:
            parts[1] = RUNS[parts[1]]
            if len(parts) >= 4:
                parts[3] = "<task>"
            return "/".join(parts)
        if type(value) is not str:
            return ("str", type(value).__name__, value[:60])
        return value
    if isinstance(value, (datetime.datetime, datetime.date)):
        return type(value).__name__
    if isinstance(value, (list, tuple)):
        return type(value)(norm(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return sorted(norm(v) for v in value)
    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items()}
    if value is None or isinstance(value, (int, float, bool, bytes)):
        return value
    return ("object", type(value).__name__, str(value)[:60])


def ids(runs: Any) -> list[str]:
    """Runs by their names here, R1..."""
    return [RUNS.get(r.id, r.id) if r is not None else "None" for r in runs]


def ask(key: str, fn: Any) -> None:
    try:
        answers[key] = norm(fn())
    except Exception as e:  # the error is the answer
        answers[key] = ("raises", [c.__name__ for c in type(e).__mro__ if c.__name__ in NAMED])


MD_VALUES = {
    "attempt",
    "attempt_ok",
    "attempt-done",
    "user",
    "ds-type",
    "origin-run-id",
    "script-name",
}
MD_KEYS = MD_VALUES | {"ds-root", "python_version", "runtime"}
NAMED = {
    "MetaflowNotFound",
    "MetaflowNamespaceMismatch",
    "KeyError",
    "MetaflowException",
    "MetaflowInvalidPathspec",
    "AttributeError",
    "ValueError",
    "TypeError",
    "MetaflowTaggingError",
    "StopIteration",
}


def user_tags_of(tags: Any) -> list[str]:
    return sorted(
        t
        for t in tags
        if not t.startswith(("user:", "python_version:", "runtime:", "metaflow_version:"))
    )


def data_repr(text: str) -> tuple[str, list[str]]:
    """`<MetaflowData: a, b>` as its head and its names, sorted (each side orders its own)."""
    head, _, names = text.partition(": ")
    return head, sorted(names.rstrip(">").split(", "))


def public(names: Any) -> list[str]:
    return sorted(n for n in names if not n.startswith("_"))


def tkey(task: Any) -> str:
    return f"{task.parent.id}[{task.index}]" if task is not None else "None"


client.namespace(None)
ask("get_namespace(None)", client.get_namespace)
flow = client.Flow(flow_name)
ask("flow.repr", lambda: repr(flow))
ask("flow.id", lambda: flow.id)
ask("flow.pathspec", lambda: flow.pathspec)
ask("flow.runs", lambda: ids(flow.runs()))
ask("flow.iter", lambda: ids(flow))
ask("flow.len", lambda: len(list(flow)))
ask("flow.runs(first)", lambda: ids(flow.runs("first")))
ask("flow.runs(first,second)", lambda: ids(flow.runs("first", "second")))
ask("flow.latest_run", lambda: ids([flow.latest_run]))
ask("flow.latest_successful_run", lambda: ids([flow.latest_successful_run]))
ask("R1 in flow", lambda: run_ids[0] in flow)
ask("999 in flow", lambda: "999" in flow)
ask("flow[999]", lambda: flow["999"])
ask("Flow(Missing)", lambda: client.Flow("Missing"))
ask("Run(999)", lambda: client.Run(f"{flow_name}/999"))
ask("Run(bad)", lambda: client.Run(flow_name))
ask("flow.parent", lambda: flow.parent)
ask("flow.created_at", lambda: flow.created_at)
ask("flow.tags", lambda: flow.tags)
ask("Metaflow().flows", lambda: sorted(f.id for f in client.Metaflow().flows))
ask("Metaflow() in iter", lambda: sorted(f.id for f in client.Metaflow()))

for rid in run_ids:
    r = RUNS[rid]
    run = client.Run(f"{flow_name}/{rid}")
    ask(f"{r}.repr", lambda: repr(run))
    ask(f"{r}.str", lambda: str(run))
    ask(f"{r}.id", lambda: RUNS[run.id])
    ask(f"{r}.pathspec", lambda: run.pathspec)
    ask(f"{r}.path_components", lambda: [run.path_components[0], RUNS[run.path_components[1]]])
    ask(f"{r}.trigger", lambda: run.trigger)
    ask(f"{r}.parent", lambda: repr(run.parent))
    ask(f"{r}.successful", lambda: run.successful)
    ask(f"{r}.finished", lambda: run.finished)
    ask(f"{r}.finished_at", lambda: run.finished_at)
    ask(f"{r}.created_at", lambda: run.created_at)
    ask(f"{r}.user_tags", lambda: sorted(run.user_tags))
    ask(f"{r}.tags-extra", lambda: user_tags_of(run.tags))
    ask(f"{r}.system_tags-kinds", lambda: sorted({t.split(":")[0] for t in run.system_tags}))
    ask(f"{r}.origin_pathspec", lambda: run.origin_pathspec)
    ask(f"{r}.steps", lambda: [s.id for s in run])
    ask(f"{r}.steps()", lambda: [s.id for s in run.steps()])
    ask(f"{r}.end_task", lambda: tkey(run.end_task))
    ask(f"{r}.end_task.pathspec", lambda: run.end_task.pathspec)
    ask(f"{r}.data.result", lambda: run.data.result)
    ask(f"{r}.data", lambda: run.data is None)
    ask(f"{r}.code", lambda: run.code)
    ask(f"{r}['nope']", lambda: run["nope"])
    ask(f"{r} contains right", lambda: "right" in run)
    ask(f"{r}.is_in_namespace", lambda: run.is_in_namespace())
    ask(f"{r}.sha shared", lambda: run["start"].task["name"].sha == run["end"].task["name"].sha)
    ask(f"{r}.sha differs", lambda: run["start"].task["name"].sha != run["fan"].task["x"].sha)
    for st in list(run):
        s = f"{r}/{st.id}"
        ask(f"{s}.repr", lambda: repr(st))
        ask(f"{s}.id", lambda: st.id)
        ask(f"{s}.new", lambda: [tkey(t) for t in client.Step(st.pathspec)])
        ask(f"{s}.parent", lambda: repr(st.parent))
        ask(f"{s}.task", lambda: tkey(st.task))
        ask(f"{s}.tasks", lambda: [tkey(t) for t in st.tasks()])
        ask(f"{s}.iter", lambda: [tkey(t) for t in st])
        ask(f"{s}.finished_at", lambda: st.finished_at)
        ask(f"{s}.created_at", lambda: st.created_at)
        ask(f"{s}.control_task", lambda: tkey(st.control_task))
        ask(f"{s}.control_tasks", lambda: [tkey(t) for t in st.control_tasks()])
        ask(f"{s}.tags-extra", lambda: user_tags_of(st.tags))
        ask(f"{s}.user_tags", lambda: sorted(st.user_tags))
        ask(f"{s}.parent_steps", lambda: sorted(p.id for p in st.parent_steps))
        ask(f"{s}.child_steps", lambda: sorted(c.id for c in st.child_steps))
        ask(f"{s}.is_in_namespace", lambda: st.is_in_namespace())
        ask(f"{s}.origin_pathspec", lambda: st.origin_pathspec)
        for task in list(st):
            t = f"{r}/{tkey(task)}"
            ask(f"{t}.repr", lambda: repr(task))
            ask(f"{t}.pathspec", lambda: task.pathspec)
            ask(f"{t}.new", lambda: norm(repr(client.Task(task.pathspec).parent)))
            ask(f"{t}.new.index", lambda: client.Task(task.pathspec).index)
            ask(f"{t}.parent", lambda: repr(task.parent))
            ask(f"{t}.index", lambda: task.index)
            ask(f"{t}.successful", lambda: task.successful)
            ask(f"{t}.finished", lambda: task.finished)
            ask(f"{t}.finished_at", lambda: task.finished_at)
            ask(f"{t}.created_at", lambda: task.created_at)
            ask(
                f"{t}.exception",
                lambda: None if task.exception is None else type(task.exception).__name__,
            )
            ask(
                f"{t}.exception-str",
                lambda: None if task.exception is None else str(task.exception)[:200],
            )
            ask(f"{t}.stdout", lambda: task.stdout)
            ask(f"{t}.stderr-has-warn", lambda: "start warns" in task.stderr)
            ask(
                f"{t}.loglines",
                lambda: [(type(ts).__name__, line) for ts, line in task.loglines("stdout")],
            )
            ask(f"{t}.runtime_name", lambda: task.runtime_name)
            ask(f"{t}.current_attempt", lambda: task.current_attempt)
            ask(f"{t}.metadata_dict-keys", lambda: sorted(set(task.metadata_dict) & MD_KEYS))
            ask(
                f"{t}.metadata_dict",
                lambda: {
                    k: RUNS.get(v, v) if k == "origin-run-id" else v
                    for k, v in task.metadata_dict.items()
                    if k in MD_VALUES
                },
            )
            ask(f"{t}.exception.exception", lambda: task.exception.exception)
            ask(
                f"{t}.exception.stacktrace",
                lambda: "join is not fixed yet" in task.exception.stacktrace,
            )
            ask(f"{t}.user_tags", lambda: sorted(task.user_tags))
            ask(f"{t}.has-exception", lambda: task.exception is not None)
            ask(f"{t}.data-repr", lambda: data_repr(repr(task.data)))
            ask(f"{t}.stdout_size", lambda: type(task.stdout_size).__name__)
            ask(
                f"{t}.loglines-bytes",
                lambda: [type(x).__name__ for _, x in task.loglines("stdout", 0)],
            )
            ask(f"{t}.metadata-names", lambda: sorted({m.name for m in task.metadata} & MD_KEYS))
            ask(f"{t}.attempt0.stdout", lambda: client.Task(task.pathspec, attempt=0).stdout)
            ask(f"{t}.attempt0", lambda: client.Task(task.pathspec, attempt=0).current_attempt)
            ask(
                f"{t}.attempt0.artifacts",
                lambda: sorted(
                    a.id for a in client.Task(task.pathspec, attempt=0) if not a.id.startswith("_")
                ),
            )
            if task.parent.id == "flaky":
                for n in (0, 1):
                    ask(
                        f"{t}.attempt{n}.tried",
                        lambda n=n: client.Task(task.pathspec, attempt=n).data.tried,
                    )
            ask(f"{t}.exception.type", lambda: task.exception.type)
            ask(f"{t}.environment_info", lambda: task.environment_info)
            ask(f"{t}.system_tags", lambda: sorted(t.split(":")[0] for t in task.system_tags))
            ask(f"{t}.parent_tasks", lambda: sorted(tkey(p) for p in task.parent_tasks))
            ask(f"{t}.child_tasks", lambda: sorted(tkey(p) for p in task.child_tasks))
            ask(f"{t}.parent_task_pathspecs", lambda: len(list(task.parent_task_pathspecs)))
            ask(
                f"{t}.artifacts-iter",
                lambda: sorted(a.id for a in task if not a.id.startswith("_")),
            )
            ask(
                f"{t}.artifacts-attr",
                lambda: sorted(f for f in task.artifacts._fields if not f.startswith("_")),
            )
            ask(f"{t}.data-dir", lambda: sorted(d for d in dir(task.data) if not d.startswith("_")))
            ask(f"{t}.data.name", lambda: task.data.name)
            ask(f"{t}.data.missing", lambda: task.data.missing)
            ask(f"{t}['missing']", lambda: task["missing"])
            ask(f"{t}.origin_pathspec", lambda: task.origin_pathspec)
            ask(f"{t}.code", lambda: task.code)
            ask(f"{t}.tags-extra", lambda: user_tags_of(task.tags))
            for name in ("x", "xs", "oops", "side", "sides", "result", "items"):
                if name in task:
                    art = task[name]
                    a = f"{t}/{name}"
                    ask(f"{a}.data", lambda: repr(art.data)[:80])
                    ask(f"{a}.id", lambda: art.id)
                    ask(f"{a}.new", lambda: repr(client.DataArtifact(art.pathspec).data)[:80])
                    ask(f"{a}.pathspec", lambda: art.pathspec)
                    ask(f"{a}.sha-type", lambda: type(art.sha).__name__)
                    ask(f"{a}.finished_at", lambda: art.finished_at)
                    ask(f"{a}.created_at", lambda: art.created_at)
                    ask(f"{a}.repr", lambda: repr(art))
                    ask(f"{a}.attr", lambda: repr(getattr(task.artifacts, name).data)[:80])

# tags, last: they change the store
last = client.Run(f"{flow_name}/{run_ids[-1]}")
ask("add_tag", lambda: last.add_tag("added"))
ask("add_tag.user_tags", lambda: sorted(client.Run(f"{flow_name}/{run_ids[-1]}").user_tags))
ask("add_tags", lambda: last.add_tags(["t1", "t2"]))
ask("remove_tag", lambda: last.remove_tag("t1"))
ask("replace_tag", lambda: last.replace_tag("t2", "t3"))
ask("after.user_tags", lambda: sorted(client.Run(f"{flow_name}/{run_ids[-1]}").user_tags))
ask(
    "remove system tag",
    lambda: last.remove_tag(next(t for t in last.system_tags if t.startswith("user:"))),
)
ask(
    "add system tag",
    lambda: last.add_tag(next(t for t in last.system_tags if t.startswith("user:"))),
)
ask("after2.user_tags", lambda: sorted(client.Run(f"{flow_name}/{run_ids[-1]}").user_tags))
ask("flow.runs(added)", lambda: ids(client.Flow(flow_name).runs("added")))
ask("replace_tags", lambda: last.replace_tags(["t3"], ["t4"]))
ask("remove missing tag", lambda: last.remove_tag("never"))
ask("add empty tag", lambda: last.add_tag(""))

ask("default_namespace", lambda: client.default_namespace())
ask("get_namespace()", lambda: client.get_namespace())
ask("Flow in default ns", lambda: repr(client.Flow(flow_name)))
client.namespace("first")  # a namespace is any tag
ask("ns first: runs", lambda: ids(client.Flow(flow_name)))
ask("ns first: latest_run", lambda: ids([client.Flow(flow_name).latest_run]))
ask("ns first: Run(last)", lambda: repr(client.Run(f"{flow_name}/{run_ids[-1]}")))
ask("ns first: Run(first)", lambda: norm(repr(client.Run(f"{flow_name}/{run_ids[0]}"))))
ask("ns first: Metaflow()", lambda: sorted(f.id for f in client.Metaflow()))
client.namespace("user:nobody")
ask("Flow in other ns", lambda: client.Flow(flow_name))
ask("Run in other ns", lambda: client.Run(f"{flow_name}/{run_ids[0]}"))
ask("Task in other ns", lambda: client.Task(f"{flow_name}/{run_ids[0]}/start/1"))
client.namespace(None)

Path(out).write_bytes(pickle.dumps(answers))
