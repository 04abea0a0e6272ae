"""The artifact preview, rendered in a process of its own.

Loading an artifact unpickles it, and unpickling runs code from the user's classes: it may
import their modules, take minutes, eat memory, or crash the interpreter. So the TUI never
does it. It runs

    python -m flowtui.tui.preview STORE PATHSPEC NAME [--width N]

which prints the rendered preview (Rich output with ANSI styles) on stdout and exits 0, or
prints one sentence saying why the value cannot be shown and exits 2. `preview_command()`
and `read_preview()` are the TUI's side of that contract. This module imports neither
Textual nor anything of the TUI, so the process starts fast.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.pretty import Pretty
from rich.table import Table
from rich.text import Text

PREVIEW_FAILED = 2
"""Exit code of a preview that printed a sentence instead of a value."""
MAX_ITEMS = 200
"""Items of a container shown before the rest is summarised."""
MAX_STRING = 100_000
"""Characters of a string shown."""
MAX_OUTPUT = 2_000_000
"""Characters of rendered output the TUI accepts."""
TABLE_ROWS = 50
TABLE_COLUMNS = 20


@dataclass(frozen=True)
class Preview:
    """What the preview process said: a rendering (ANSI text) or a sentence."""

    ok: bool
    text: str


def preview_command(store: str, pathspec: str, name: str, width: int) -> list[str]:
    """The command line that previews artifact `name` of task `pathspec`."""
    return [
        sys.executable,
        "-m",
        "flowtui.tui.preview",
        store,
        pathspec,
        name,
        "--width",
        str(max(20, width)),
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


# -- the preview process ------------------------------------------------------------------


class PreviewError(Exception):
    """The value cannot be shown; the message says why, in one sentence."""


def load_artifact(store_root: Path, pathspec: str, name: str) -> Any:
    """Unpickle artifact `name` of task `pathspec` (only ever called in the preview process)."""
    from flowtui.store import BlobCorruptError, BlobMissingError, Store

    if not (store_root / "metadata.db").is_file():
        raise PreviewError(f"There is no flowtui store at {store_root}.")
    store = Store(store_root, create=False)
    parts = pathspec.split("/")
    task_id = parts[-1]
    if len(parts) != 4 or not task_id.isdigit():
        raise PreviewError(f"{pathspec} is not a task pathspec (Flow/run/step/task).")
    record = next((a for a in store.meta.artifacts(task_id) if a.name == name), None)
    if record is None:
        raise PreviewError(f"Task {pathspec} has no artifact named {name}.")
    run = store.meta.run(parts[1])
    if run is not None and run.file:  # classes defined next to the flow file import from there
        sys.path.insert(0, str(Path(run.file).resolve().parent))
    try:
        # Classes defined in the flow file itself were pickled by value by the runner.
        return store.blobs.get_value(record.hash)
    except BlobMissingError:
        raise PreviewError(
            f"The stored value of {name} ({record.hash[:12]}) is missing from the store; "
            "re-run the step to store it again."
        ) from None
    except BlobCorruptError:
        raise PreviewError(
            f"The stored value of {name} ({record.hash[:12]}) is damaged: its bytes no longer "
            "match their hash; re-run the step to store it again."
        ) from None
    except (ImportError, AttributeError) as e:
        raise PreviewError(
            f"{name} is a {record.type} whose class cannot be imported here ({e}); "
            "load it from the flow's own environment."
        ) from None
    except MemoryError:
        raise PreviewError(f"{name} ({record.type}) is too big to load for a preview.") from None
    except Exception as e:
        raise PreviewError(
            f"{name} ({record.type}) could not be loaded: {type(e).__name__}: {e}."
        ) from None


def render_value(value: Any) -> RenderableType:
    """A readable rendering of any value: tables, summaries, text, or a pretty-print."""
    kind = type(value)
    module = kind.__module__.split(".")[0]
    if isinstance(value, str):
        return render_string(value)
    if module == "pandas" and kind.__name__ == "DataFrame":
        return render_dataframe(value)
    if module == "numpy" and kind.__name__ == "ndarray":
        return render_ndarray(value)
    return render_pretty(value)


def render_string(value: str) -> RenderableType:
    text = Text(value[:MAX_STRING])
    if len(value) > MAX_STRING:
        return Group(text, note(f"showing the first {MAX_STRING:,} of {len(value):,} characters"))
    return text


def render_pretty(value: Any) -> RenderableType:
    pretty = Pretty(value, max_length=MAX_ITEMS, max_string=2_000, max_depth=8, expand_all=False)
    try:
        size = len(value)
    except Exception:
        return pretty
    if isinstance(value, (list, tuple, dict, set, frozenset)) and size > MAX_ITEMS:
        return Group(note(f"{size:,} items; showing the first {MAX_ITEMS}"), pretty)
    return pretty


def render_dataframe(frame: Any) -> RenderableType:
    rows, columns = frame.shape
    table = Table(show_header=True, header_style="bold", show_lines=False)
    table.add_column("", style="dim")
    shown_columns = list(frame.columns[:TABLE_COLUMNS])
    for column in shown_columns:  # names and values are user text: Text, never markup
        table.add_column(Text(f"{column}\n{frame[column].dtype}"), overflow="ellipsis")
    for label, row in frame.head(TABLE_ROWS)[shown_columns].iterrows():
        table.add_row(Text(str(label)), *(Text(str(v)) for v in row.tolist()))
    summary = f"DataFrame: {rows:,} rows, {columns:,} columns"
    if rows > TABLE_ROWS or columns > TABLE_COLUMNS:
        summary += f" (showing {min(rows, TABLE_ROWS)} rows, {min(columns, TABLE_COLUMNS)} columns)"
    return Group(Text(summary, style="bold"), table)


def render_ndarray(array: Any) -> RenderableType:
    import numpy as np

    lines = Text()
    lines.append(f"ndarray  shape {array.shape}  dtype {array.dtype}", style="bold")
    lines.append(f"\n{array.size:,} elements, {array.nbytes:,} bytes")
    if array.size and np.issubdtype(array.dtype, np.number) and not np.iscomplexobj(array):
        finite = array[np.isfinite(array)] if np.issubdtype(array.dtype, np.floating) else array
        if finite.size:
            lines.append(
                f"\nmin {finite.min()!s}  max {finite.max()!s}  "
                f"mean {finite.mean():.6g}  std {finite.std():.6g}"
            )
        if finite.size != array.size:
            lines.append(f"\n{array.size - finite.size:,} NaN or infinite values")
    body = np.array2string(array, threshold=200, edgeitems=5, max_line_width=100)
    return Group(lines, Text(""), Text(body))


def note(message: str) -> Text:
    return Text(f"({message})", style="italic dim")


def render_to_ansi(renderable: RenderableType, width: int) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=True,
        color_system="truecolor",
        highlight=True,
        markup=False,
        emoji=False,
        legacy_windows=False,
    )
    console.print(renderable, crop=False, soft_wrap=False)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flowtui.tui.preview")
    parser.add_argument("store")
    parser.add_argument("pathspec")
    parser.add_argument("name")
    parser.add_argument("--width", type=int, default=100)
    args = parser.parse_args(argv)
    try:
        value = load_artifact(Path(args.store), args.pathspec, args.name)
        rendered = render_to_ansi(render_value(value), args.width)
    except PreviewError as e:
        sys.stdout.write(str(e))
        return PREVIEW_FAILED
    except Exception as e:  # the value's own __repr__ and friends are user code too
        sys.stdout.write(f"{args.name} could not be rendered: {type(e).__name__}: {e}.")
        return PREVIEW_FAILED
    sys.stdout.write(rendered[:MAX_OUTPUT])
    return 0


if __name__ == "__main__":
    sys.exit(main())
