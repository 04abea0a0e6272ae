"""`metaflow.metaflow_config`, for the settings local flows read.

A setting `NAME` is found as Metaflow finds it: the environment variable `METAFLOW_NAME`, then
the project's `.metaflow/config.json` (searched upward from the working directory), then the
user's `$METAFLOW_HOME/config.json` (`config_$METAFLOW_PROFILE.json` with a profile; the home
defaults to `~/.metaflowconfig`), then Metaflow's default for the settings below. A value read
from text takes the default's type (so `METAFLOW_S3_RETRY_COUNT=3` reads as the int 3).
A setting that is neither configured nor listed below is an AttributeError naming it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

# Metaflow's defaults for the settings flows commonly read (None: unset unless configured).
DEFAULTS: dict[str, Any] = {
    "DEFAULT_DATASTORE": "local",
    "DEFAULT_METADATA": "local",
    "DEFAULT_ENVIRONMENT": "local",
    "DEFAULT_PACKAGE_SUFFIXES": ".py,.R,.RDS",
    "DEFAULT_AWS_CLIENT_PROVIDER": "boto3",
    "DEFAULT_SECRETS_BACKEND_TYPE": None,
    "DEFAULT_RUNTIME_LIMIT": 5 * 24 * 60 * 60,
    "USER": None,
    "DATASTORE_SYSROOT_LOCAL": None,
    "DATASTORE_SYSROOT_S3": None,
    "DATASTORE_SYSROOT_AZURE": None,
    "DATASTORE_SYSROOT_GS": None,
    "DATATOOLS_SUFFIX": "data",
    "S3_ENDPOINT_URL": None,
    "S3_VERIFY_CERTIFICATE": None,
    "S3_RETRY_COUNT": 7,
    "S3_WORKER_COUNT": 64,
    "TEMPDIR": ".",
    "SERVICE_URL": None,
    "SERVICE_RETRY_COUNT": 5,
    "SERVICE_AUTH_KEY": None,
    "SERVICE_HEADERS": {},
    "KUBERNETES_NAMESPACE": "default",
    "KUBERNETES_SERVICE_ACCOUNT": None,
    "BATCH_JOB_QUEUE": None,
    "ECS_S3_ACCESS_IAM_ROLE": None,
    "CARD_LOCALROOT": None,
    "DATATOOLS_CLIENT_PARAMS": {},
}
# Settings Metaflow fixes rather than reads.
DATASTORE_LOCAL_DIR = ".metaflow"
LOCAL_CONFIG_FILE = "config.json"
MAX_ATTEMPTS = 6


def _user_config() -> dict[str, Any]:
    home = Path(os.environ.get("METAFLOW_HOME", "~/.metaflowconfig")).expanduser()
    profile = os.environ.get("METAFLOW_PROFILE")
    return _read_json(home / (f"config_{profile}.json" if profile else "config.json"))


def _project_config() -> dict[str, Any]:
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / DATASTORE_LOCAL_DIR).is_dir():
            return _read_json(folder / DATASTORE_LOCAL_DIR / LOCAL_CONFIG_FILE)
    return {}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise ImportError(f"Metaflow's configuration {path} cannot be read: {e}") from None
    return loaded if isinstance(loaded, dict) else {}


def _typed(name: str, value: Any, default: Any) -> Any:
    """A configured value in its default's type, as Metaflow converts it."""
    if default is None or not isinstance(value, str):
        return value
    if isinstance(default, bool):
        return value.lower() not in ("0", "false", "")
    if isinstance(default, list | dict):
        return json.loads(value)
    try:
        return type(default)(value)
    except ValueError:
        raise ValueError(
            f"METAFLOW_{name} must be a {type(default).__name__}, not {value!r}."
        ) from None


_MISSING = object()


def setting(name: str) -> Any:
    """The value of Metaflow setting `name`, or AttributeError when it is not known."""
    key = f"METAFLOW_{name}"
    value: Any = os.environ.get(key, _MISSING)
    if value is _MISSING:
        value = _project_config().get(key, _MISSING)
    if value is _MISSING:
        value = _user_config().get(key, _MISSING)
    if value is not _MISSING:
        return _typed(name, value, DEFAULTS.get(name))
    if name in DEFAULTS:
        return DEFAULTS[name]
    raise AttributeError(
        f"metaflow.metaflow_config.{name} is not configured (set METAFLOW_{name}) and is not "
        "one of the settings flowtui knows a default for."
    )


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    if name == "DATATOOLS_S3ROOT":
        return _root("DATATOOLS_S3ROOT", "DATASTORE_SYSROOT_S3")
    if name == "DATATOOLS_LOCALROOT":
        return _root("DATATOOLS_LOCALROOT", "DATASTORE_SYSROOT_LOCAL")
    return setting(name)


def _root(name: str, sysroot: str) -> str | None:
    """A data-tools root: configured, or the datastore root's `data/` (as in Metaflow)."""
    try:
        return str(setting(name))
    except AttributeError:
        base = setting(sysroot)
        return os.path.join(base, setting("DATATOOLS_SUFFIX")) if base else None
