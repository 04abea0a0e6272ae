"""Reading a log file as lines without holding its text: byte offsets of line starts, decoding
one line for the screen, and searching (finding, counting, and listing the lines that hold
a term) the file in chunks. Headless (no Textual): the log
widget (`tui/widgets/logs.py`) draws with it.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate

from rich.style import Style
from rich.text import Text

READ_CHUNK = 1 << 20
"""Bytes read at a time while indexing or searching."""
MAX_LINE_BYTES = 16_384
"""Longer lines are shown cut, with a marker; their bytes are never read in full."""

_CONTROL = re.compile("[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f]")  # C1 too: \x9b is CSI


def decode_log_line(raw: bytes, *, cut: bool = False) -> Text:
    """One raw log line as `Text`: invalid UTF-8 replaced, ANSI colours kept, no markup."""
    line = raw.decode("utf-8", errors="replace").rstrip("\r")
    if "\r" in line:  # a progress bar redrawn in place: keep what the terminal would show
        line = next((part for part in reversed(line.split("\r")) if part), "")
    line = _CONTROL.sub("\ufffd", line.expandtabs(8))
    text = Text.from_ansi(line) if "\x1b" in line else Text(line)
    if "\x1b" in text.plain:  # an escape no colour parser read (ESC c resets a terminal)
        text.plain = text.plain.replace("\x1b", "\ufffd")  # the same length: colours stay
    if cut:
        text.append(" … (line cut)", style=Style(dim=True, italic=True))
    return text


def scan_line_starts(chunk: bytes, base: int) -> tuple[array[int], int]:
    """Offsets of the lines that start inside `chunk` (which begins at file offset `base`).

    Returns the offsets (the byte after each newline) and the longest piece between newlines,
    in bytes. Runs at C speed: no Python loop over lines.
    """
    pieces = chunk.split(b"\n")
    lengths = [len(piece) + 1 for piece in pieces[:-1]]
    starts = array("Q", accumulate(lengths, initial=base))
    del starts[0]
    return starts, max(map(len, pieces))


class LineIndex:
    """Where each line of a file starts, as byte offsets; never the lines themselves."""

    def __init__(self) -> None:
        self.starts: array[int] = array("Q", [0])
        self.end = 0
        self.widest = 0

    def clear(self) -> None:
        self.starts = array("Q", [0])
        self.end = 0
        self.widest = 0

    def extend(self, starts: array[int], end: int, widest: int) -> None:
        self.starts.extend(starts)
        self.end = end
        self.widest = max(self.widest, widest)

    @property
    def line_count(self) -> int:
        """Lines in the file; a last line without its newline yet counts."""
        return len(self.starts) - (self.starts[-1] >= self.end)

    def span(self, line: int) -> tuple[int, int]:
        """Byte range of `line`, without its newline."""
        start = self.starts[line]
        end = self.starts[line + 1] - 1 if line + 1 < len(self.starts) else self.end
        return start, max(start, end)

    def offset_of(self, line: int) -> int:
        """Where `line` starts (the end of the file for a line past the last)."""
        return self.starts[line] if line < len(self.starts) else self.end

    def line_at(self, offset: int) -> int:
        """The line holding byte `offset`."""
        return max(0, bisect_right(self.starts, offset) - 1)


def find_in_file(
    path: str, needle: bytes, start: int, stop: int, *, backwards: bool = False
) -> int | None:
    """Offset of the first (or, backwards, last) case-insensitive match in [start, stop)."""
    needle = needle.lower()
    overlap = len(needle) - 1
    with open(path, "rb") as fh:
        if not backwards:
            pos = start
            while pos < stop:
                fh.seek(pos)
                chunk = fh.read(min(READ_CHUNK + overlap, stop - pos)).lower()
                if not chunk:
                    return None
                hit = chunk.find(needle)
                if hit != -1:
                    return pos + hit
                pos += READ_CHUNK
        else:
            pos = stop
            while pos > start:
                lo = max(start, pos - READ_CHUNK)
                fh.seek(lo)
                chunk = fh.read(min(pos + overlap, stop) - lo).lower()
                hit = chunk.rfind(needle)
                if hit != -1:
                    return lo + hit
                pos = lo
    return None


def _chunks(path: str, needle: bytes, start: int, stop: int) -> Iterator[tuple[int, bytes]]:
    """(offset, lowered bytes) pieces of [start, stop), each overlapping the one before by
    len(needle) - 1 bytes, so a match across a boundary is seen once, in the later piece."""
    overlap = max(0, len(needle) - 1)
    with open(path, "rb") as fh:
        fh.seek(start)
        carry = b""
        pos = start
        while pos < stop:
            chunk = fh.read(min(READ_CHUNK, stop - pos))
            if not chunk:
                return
            yield pos - len(carry), (carry + chunk).lower()
            pos += len(chunk)
            carry = (carry + chunk)[-overlap:] if overlap else b""


def count_in_file(path: str, needle: bytes, start: int, stop: int) -> int:
    """How many case-insensitive matches of `needle` start in [start, stop - len + 1)."""
    needle = needle.lower()
    return sum(piece.count(needle) for _, piece in _chunks(path, needle, start, stop))


def lines_matching(path: str, needle: bytes, index: LineIndex, start: int, stop: int) -> array[int]:
    """The lines (numbers, ascending, each once) holding a case-insensitive match of `needle`
    that starts in [start, stop)."""
    needle = needle.lower()
    pattern = re.compile(re.escape(needle))
    found: array[int] = array("Q")
    for base, piece in _chunks(path, needle, start, stop):
        for match in pattern.finditer(piece):
            line = index.line_at(base + match.start())
            if not found or found[-1] < line:
                found.append(line)
    return found
