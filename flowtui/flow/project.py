"""`@project`, as Metaflow applies it to a local run.

The flow's class carries the project's name; a run is on a branch: `user.<user>` by default,
`test.<branch>` with `--branch`, `prod` with `--production` (`prod.<branch>` with both). The
run is tagged `project:<name>` and `project_branch:<branch>` (system tags), and its tasks see
`current.project_name`, `branch_name`, `is_production` and `project_flow_name`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from flowtui.flow.decorators import _bare_or_called, step_decorators

_INVALID = re.compile(r"[^a-z0-9_]")
_MAX_LEN = 128


class ProjectError(ValueError):
    """A project or branch name Metaflow would refuse; the message says which and why."""


@dataclass(frozen=True)
class ProjectInfo:
    project_name: str
    branch_name: str
    is_production: bool
    project_flow_name: str

    @property
    def system_tags(self) -> tuple[str, ...]:
        return (f"project:{self.project_name}", f"project_branch:{self.branch_name}")


def project(cls: Any = None, *, name: str | None = None, **kwargs: Any) -> Any:
    """Put the flow in project `name` (`@project(name="fraud")`)."""

    return _bare_or_called("project", cls, {"name": name, **kwargs})


def _valid(what: str, value: str) -> None:
    if _INVALID.search(value):
        raise ProjectError(
            f"The {what} {value!r} must contain only lowercase letters, digits and underscores."
        )
    if len(value) > _MAX_LEN:
        raise ProjectError(f"The {what} must be shorter than {_MAX_LEN} characters.")


def project_of(cls: type, *, branch: str | None, production: bool, user: str) -> ProjectInfo | None:
    """The run's project and branch, or None when the flow has no `@project`."""
    found = [d for d in step_decorators(cls) if d.name == "project"]
    if not found:
        return None
    args = found[-1].args
    name = args.get("name")
    if not name:
        raise ProjectError("@project needs a name; write @project(name='some_name').")
    _valid("@project name", name)
    branch = branch or args.get("branch")
    production = production or bool(args.get("production"))
    if branch:
        _valid("branch name", branch)
        branch_name = f"{'prod' if production else 'test'}.{branch}"
    elif production:
        branch_name = "prod"
    else:
        branch_name = f"user.{os.environ.get('METAFLOW_OWNER', user)}"
    flow_name = cls.__name__
    return ProjectInfo(name, branch_name, production, f"{name}.{branch_name}.{flow_name}")
