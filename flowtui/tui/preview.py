"""The artifact preview, rendered in a process of its own.

Loading an artifact unpickles it, and unpickling runs code from the user's classes: it may
import their modules, take minutes, eat memory, or crash the interpreter. So the TUI never
does it. It runs

    python -m flowtui.tui.preview STORE PATHSPEC NAME [--width N] [--source metaflow]

which prints the rendered preview (Rich output with ANSI styles) on stdout and exits 0, or
prints one sentence saying why the value cannot be shown and exits 2. `preview_command()`
and `read_preview()` are the TUI's side of that contract. This module imports neither
Textual nor anything of the TUI, so the process starts fast. With `--source metaflow`,
STORE is the folder holding Metaflow's datastore and the value is read by Metaflow's client.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowtui.client.runs import load_value
from flowtui.errors import FlowtuiError

PREVIEW_FAILED = 2
"""Exit code of a preview that printed a sentence instead of a value."""
MAX_OUTPUT = 2_000_000
"""Characters of rendered output the TUI accepts."""
PREVIEW_TIMEOUT = 60.0
"""Seconds a preview may take before it is stopped."""


@dataclass(frozen=True)
class Preview:
    """What the preview process said: a rendering (ANSI text) or a sentence."""

    ok: bool
    text: str


def preview_command(
    store: str, pathspec: str, name: str, width: int, page: int = 0, source: str = "flowtui"
) -> list[str]:
    """The command line that previews artifact `name` of task `pathspec` (`page`: which
    200 items of a long list, tuple, set or mapping; `source`: which engine made the run)."""
    return [
        sys.executable,
        "-m",
        "flowtui.tui.preview",
        store,
        pathspec,
        name,
        "--width",
        str(max(20, width)),
        "--page",
        str(max(0, page)),
        "--source",
        source,
    ]


def read_preview(process: subprocess.CompletedProcess[bytes]) -> Preview:
    """Turn the finished preview process into a `Preview` (a crash is a sentence too)."""
    out = process.stdout[:MAX_OUTPUT].decode("utf-8", errors="replace")
    if process.returncode == 0:
        return Preview(True, out)
    if process.returncode == PREVIEW_FAILED and out.strip():
        return Preview(False, out.strip())
    if process.returncode < 0:
        cause = f"was killed by signal {-process.returncode}"
    else:
        cause = f"exited with code {process.returncode}"
    last = process.stderr.decode("utf-8", errors="replace").strip().splitlines()[-1:]
    detail = f" ({last[0]})" if last else ""
    return Preview(
        False,
        f"The preview process {cause} while loading this value{detail}; "
        "the value may need more memory or a library that crashes here.",
    )


def run_preview(
    store: str,
    pathspec: str,
    name: str,
    width: int,
    page: int = 0,
    *,
    cancelled: Callable[[], bool] = lambda: False,
    timeout: float = PREVIEW_TIMEOUT,
    source: str = "flowtui",
) -> Preview | None:
    """Run the preview process and wait for it (from a worker thread); None when `cancelled()`
    turned true first (the process is killed), a sentence when it took longer than `timeout`.
    `source`: which engine made the run (`metaflow`: `store` is its datastore's folder)."""
    command = preview_command(store, pathspec, name, width, page, source)
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                stdout, stderr = process.communicate(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                if cancelled():
                    return None
                if time.monotonic() > deadline:
                    return Preview(
                        False, f"Loading {name} took longer than {timeout:.0f} s and was stopped."
                    )
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return read_preview(subprocess.CompletedProcess(command, process.returncode, stdout, stderr))


# -- the preview process ------------------------------------------------------------------


def load_artifact(store: str, pathspec: str, name: str, source: str = "flowtui") -> Any:
    """Artifact `name` of task `pathspec`, unpickled (in a preview process only); every
    failure is a `FlowtuiError` sentence. `source="metaflow"`: read by Metaflow's client."""
    if source == "metaflow":
        from flowtui.client.metaflow_state import load_metaflow_value

        return load_metaflow_value(Path(store), pathspec, name)
    return load_value(Path(store), pathspec, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flowtui.tui.preview")
    parser.add_argument("store")
    parser.add_argument("pathspec")
    parser.add_argument("name")
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--page", type=int, default=0)
    parser.add_argument("--source", choices=("flowtui", "metaflow"), default="flowtui")
    args = parser.parse_args(argv)
    # imported here: the frame process (`tui/frame_pages.py`) loads values without them
    from flowtui.client.render import render_to_ansi
    from flowtui.tui.visuals import render_preview

    try:
        value = load_artifact(args.store, args.pathspec, args.name, args.source)
        rendered = render_to_ansi(render_preview(value, args.width, args.page), args.width)
    except FlowtuiError as e:
        sys.stdout.write(str(e))
        return PREVIEW_FAILED
    except Exception as e:  # the value's own __repr__ and friends are user code too
        sys.stdout.write(f"{args.name} could not be rendered: {type(e).__name__}: {e}.")
        return PREVIEW_FAILED
    sys.stdout.write(rendered[:MAX_OUTPUT])
    return 0


if __name__ == "__main__":
    sys.exit(main())
