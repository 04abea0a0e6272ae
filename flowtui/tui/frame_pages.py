"""A DataFrame served a window of rows at a time, by a process of its own.

Unpickling a DataFrame runs user code, and a frame may hold millions of rows: the TUI holds
neither. It starts

    python -m flowtui.tui.frame_pages STORE PATHSPEC NAME [--source metaflow]

which loads the value once, keeps it, and talks JSON lines: first, unasked, the frame's shape
(`FrameShape`: rows, columns, dtypes, widths from a sample) or one sentence; then, for each
request `{"start": S, "count": C, "sort": [column, descending] | null}`, those rows of the
frame in that order (`FrameRows`), or one sentence saying why that order cannot be made.
Sorting is done here, over every row (stable; NaN last), and the last order is kept, so the
next page of a sorted million rows costs what a page of the frame's own order costs.

`FrameSession` is the TUI's side: one process per frame shown, requests one at a time from
worker threads, the process killed when the frame is closed. Like `tui/preview.py`, this
module imports neither Textual nor pandas (the process imports pandas only by unpickling).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from flowtui.errors import FlowtuiError

MAX_COLUMNS = 200
"""Columns served at most (a wider frame says how many more it has)."""
MAX_CELL = 200
"""Characters of one cell's text sent at most."""
MAX_WIDTH = 32
"""Cells a column is drawn at most (a longer value ends with "…")."""
SAMPLE_ROWS = 200
"""Rows from each end of the frame whose cells size the columns."""
TIMEOUT = 60.0
"""Seconds the frame's process may take to answer (loading, or sorting a huge frame)."""
NOT_A_FRAME = "not-a-frame"
"""The `kind` of a `FrameError` for a value that is not a DataFrame (preview it instead)."""

# control characters are drawn as their Unicode pictures: a cell stays one line, inert; the C1
# ones (\x9b is CSI to a terminal reading them) have none, and read as a replacement character
_INERT = (
    {code: 0x2400 + code for code in range(32)}
    | {0x7F: 0x2421}
    | dict.fromkeys(range(0x80, 0xA0), 0xFFFD)
)


@dataclass(frozen=True)
class FrameShape:
    """What the frame is: its size, its (served) columns and how wide to draw them."""

    rows: int
    columns: tuple[str, ...]
    dtypes: tuple[str, ...]
    numeric: tuple[bool, ...]
    widths: tuple[int, ...]
    index_name: str
    index_width: int
    total_columns: int

    @property
    def hidden_columns(self) -> int:
        """Columns of the frame past the `MAX_COLUMNS` served."""
        return self.total_columns - len(self.columns)


@dataclass(frozen=True)
class FrameRows:
    """Rows `start`… of the frame in the order `sort`: each row its index label, then cells."""

    start: int
    rows: tuple[tuple[str, ...], ...]
    sort: tuple[int, bool] | None


@dataclass(frozen=True)
class FrameError:
    """One sentence instead of an answer (`kind`: `NOT_A_FRAME`, `sort` or `failed`)."""

    sentence: str
    kind: str = "failed"


# -- the frame's process ------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """How one cell (or index label) reads: floats to 10 significant digits (NaN as pandas
    writes it), any text kept
    on one line with its control characters made visible, cut at `MAX_CELL` characters."""
    if isinstance(value, float):
        text = "NaN" if value != value else f"{value:.10g}"
    elif isinstance(value, str):
        text = value
    else:
        try:
            text = str(value)
        except Exception as e:  # a cell's __str__ is user code
            text = f"<str failed: {type(e).__name__}>"
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - 1] + "…"
    return text.translate(_INERT)


def describe_shape(frame: Any) -> FrameShape:
    """The shape of `frame`, its columns sized by the header and the first and last rows."""
    total_rows, total_columns = frame.shape
    shown = frame.iloc[:, :MAX_COLUMNS]
    names = tuple(cell_text(c) for c in shown.columns)
    dtypes = tuple(str(t) for t in shown.dtypes)
    numeric = tuple(t.kind in "iufc" for t in shown.dtypes)
    ends = [*range(min(SAMPLE_ROWS, total_rows))]
    ends += range(max(len(ends), total_rows - SAMPLE_ROWS), total_rows)
    sample = shown.iloc[ends]
    widths = []
    for position, (name, dtype) in enumerate(zip(names, dtypes, strict=True)):
        cells = (len(cell_text(v)) for v in sample.iloc[:, position].tolist())
        widths.append(min(MAX_WIDTH, max(len(name) + 2, len(dtype), 3, *cells)))
    given = [name for name in frame.index.names if name is not None]
    index_name = cell_text(", ".join(str(name) for name in given))
    labels = (len(cell_text(v)) for v in sample.index.tolist())
    index_width = min(MAX_WIDTH, max(len(index_name), 1, *labels))
    return FrameShape(
        total_rows, names, dtypes, numeric, tuple(widths), index_name, index_width, total_columns
    )


class FrameServer:
    """The frame, and the order of its rows the last request asked for."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame
        self.sort: tuple[int, bool] | None = None
        self.order: Any = None  # row positions in `sort`'s order (None: the frame's own)

    def ordered(self, sort: tuple[int, bool] | None) -> FrameError | None:
        """Put the rows in the order `sort` (column position, descending); a sentence when
        that column's values cannot be ordered."""
        if sort == self.sort:
            return None
        if sort is None:
            self.sort, self.order = None, None
            return None
        column, descending = sort
        values = self.frame.iloc[:, column].reset_index(drop=True)
        try:
            ordered = values.sort_values(
                ascending=not descending, kind="stable", na_position="last"
            )
        except TypeError:
            kinds = sorted({type(v).__name__ for v in values.dropna().tolist()})
            name = cell_text(self.frame.columns[column])
            return FrameError(
                f"Column {name} holds values of types that cannot be ordered together "
                f"({', '.join(kinds)}); the rows keep their order.",
                "sort",
            )
        self.sort, self.order = sort, ordered.index.to_numpy()
        return None

    def rows(self, start: int, count: int, sort: tuple[int, bool] | None) -> FrameRows | FrameError:
        problem = self.ordered(sort)
        if problem is not None:
            return problem
        total = len(self.frame)
        start = max(0, min(start, total))
        stop = min(total, start + max(0, count))
        positions = self.order[start:stop] if self.order is not None else slice(start, stop)
        part = self.frame.iloc[positions, :MAX_COLUMNS]
        labels = [cell_text(v) for v in part.index.tolist()]
        columns = [[cell_text(v) for v in part.iloc[:, c].tolist()] for c in range(part.shape[1])]
        rows = tuple((label, *(column[r] for column in columns)) for r, label in enumerate(labels))
        return FrameRows(start, rows, self.sort)


def serve(frame: Any, requests: IO[str], replies: IO[str]) -> None:
    """Answer `requests` (JSON lines) on `replies` until the TUI closes the pipe."""
    server = FrameServer(frame)
    _say(replies, {"shape": describe_shape(frame).__dict__})
    for line in requests:
        request = json.loads(line)
        sort = request.get("sort")
        answer = server.rows(
            int(request["start"]),
            int(request["count"]),
            (int(sort[0]), bool(sort[1])) if sort is not None else None,
        )
        if isinstance(answer, FrameError):
            _say(replies, {"error": answer.sentence, "kind": answer.kind})
        else:
            _say(replies, {"start": answer.start, "rows": answer.rows, "sort": answer.sort})


def _say(replies: IO[str], message: dict[str, Any]) -> None:
    replies.write(json.dumps(message) + "\n")
    replies.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flowtui.tui.frame_pages")
    parser.add_argument("store")
    parser.add_argument("pathspec")
    parser.add_argument("name")
    parser.add_argument("--source", choices=("flowtui", "metaflow"), default="flowtui")
    args = parser.parse_args(argv)
    # The replies get their own copy of stdout; whatever user code prints goes to stderr.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    from flowtui.tui.preview import load_artifact

    try:
        value = load_artifact(args.store, args.pathspec, args.name, args.source)
    except FlowtuiError as e:
        _say(replies, {"error": str(e), "kind": "failed"})
        return 2
    except Exception as e:  # unpickling is user code
        _say(replies, {"error": f"{args.name} could not be loaded: {type(e).__name__}: {e}."})
        return 2
    kind = type(value)
    if kind.__module__.split(".")[0] != "pandas" or kind.__name__ != "DataFrame":
        _say(replies, {"error": f"{args.name} is not a DataFrame.", "kind": NOT_A_FRAME})
        return 2
    serve(value, sys.stdin, replies)
    return 0


# -- the TUI's side -----------------------------------------------------------------------


def frame_command(store: str, pathspec: str, name: str, source: str = "flowtui") -> list[str]:
    """The command line that serves artifact `name` of task `pathspec` a window at a time."""
    module = "flowtui.tui.frame_pages"
    return [sys.executable, "-m", module, store, pathspec, name, "--source", source]


class FrameSession:
    """One frame's process: its shape, then windows of its rows, one request at a time."""

    def __init__(self, store: str, pathspec: str, name: str, source: str = "flowtui") -> None:
        self.name = name
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed when the process is reaped)
        self.process = subprocess.Popen(
            frame_command(store, pathspec, name, source),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
        )
        self._lock = threading.Lock()
        self._buffer = bytearray()
        self.closed = False

    def shape(self, cancelled: Callable[[], bool] = lambda: False) -> FrameShape | FrameError:
        """The frame's shape, once it is loaded (a sentence when it cannot be)."""
        with self._lock:
            reply = self._reply(cancelled)
        if isinstance(reply, FrameError):
            return reply
        if "shape" not in reply:
            return FrameError(str(reply.get("error")), str(reply.get("kind", "failed")))
        fields = reply["shape"]
        for key in ("columns", "dtypes", "numeric", "widths"):
            fields[key] = tuple(fields[key])
        return FrameShape(**fields)

    def rows(self, start: int, count: int, sort: tuple[int, bool] | None) -> FrameRows | FrameError:
        """Rows `start`…`start + count` in the order `sort` (sorting first when it is new)."""
        request = {"start": start, "count": count, "sort": list(sort) if sort else None}
        with self._lock:
            try:
                assert self.process.stdin is not None
                self.process.stdin.write((json.dumps(request) + "\n").encode())
                self.process.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                return self._gone()
            reply = self._reply(lambda: False)
        if isinstance(reply, FrameError):
            return reply
        if "error" in reply:
            return FrameError(str(reply["error"]), str(reply.get("kind", "failed")))
        shown = tuple(tuple(row) for row in reply["rows"])
        sorted_by = reply["sort"]
        return FrameRows(
            int(reply["start"]), shown, (sorted_by[0], sorted_by[1]) if sorted_by else None
        )

    def close(self) -> None:
        """Stop the process (from any thread, without waiting: a request waiting on it
        returns within a tenth of a second, and the pipes are closed after it)."""
        self.closed = True
        if self.process.poll() is None:
            self.process.kill()
        threading.Thread(target=self._reap, daemon=True).start()

    def _reap(self) -> None:
        self.process.wait()
        with self._lock:
            for stream in (self.process.stdin, self.process.stdout, self._errors):
                try:
                    if stream is not None:
                        stream.close()
                except OSError:
                    pass

    def _reply(self, cancelled: Callable[[], bool]) -> dict[str, Any] | FrameError:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + TIMEOUT
        while b"\n" not in self._buffer:
            if cancelled() or self.closed:
                return FrameError("closed")
            if time.monotonic() > deadline:
                return FrameError(
                    f"{self.name} took longer than {TIMEOUT:.0f} s to answer and was stopped."
                )
            try:
                ready, _, _ = select.select([fd], [], [], 0.1)
                chunk = os.read(fd, 1 << 20) if ready else None
            except (OSError, ValueError):
                return self._gone()
            if chunk == b"":
                return self._gone()
            if chunk:
                self._buffer += chunk
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        message: dict[str, Any] = json.loads(line)
        return message

    def _gone(self) -> FrameError:
        if self.closed:
            return FrameError("closed")
        code = self.process.wait()
        cause = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        self._errors.seek(0)
        last = self._errors.read()[-2000:].decode("utf-8", "replace").strip().splitlines()[-1:]
        detail = f" ({last[0]})" if last else ""
        return FrameError(
            f"The process showing {self.name} {cause}{detail}; "
            "the frame may need more memory than is free."
        )


if __name__ == "__main__":
    sys.exit(main())
