"""How an artifact's value reads in the terminal: one renderer for `flowtui artifacts` and the
TUI's preview, each with its own size budget.

Strings show as text, DataFrames as tables, arrays with their shape and statistics, anything
else pretty-printed. Text that comes from the value (strings, reprs, column names) is never
read as Rich markup.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.pretty import Pretty, pretty_repr
from rich.table import Table
from rich.text import Text

from flowtui.run.artifacts import inert_text


class InertPretty(Pretty):
    """Rich's `Pretty`, except that a repr's control characters are written out: Rich reads
    escape codes in a repr as styles, so a class's repr could colour, hide (ESC[8m) or drop
    (ESC[2J) its own text in the preview."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        shown = pretty_repr(
            self._object,
            max_width=options.max_width - self.margin,
            indent_size=self.indent_size,
            max_length=self.max_length,
            max_string=self.max_string,
            max_depth=self.max_depth,
            expand_all=self.expand_all,
        )
        text = Text(
            inert_text(shown),
            justify=self.justify or options.justify,
            overflow=self.overflow or options.overflow,
            no_wrap=options.no_wrap if self.no_wrap is None else self.no_wrap,
            style="pretty",
        )
        if not text:
            text = Text(f"{type(self._object)}.__repr__ returned empty string", "dim italic")
        yield self.highlighter(text)


@dataclass(frozen=True)
class RenderBudget:
    """How much of a value is shown before the rest is summarised."""

    max_items: int = 200  # items of a container
    max_string: int = 5_000  # characters of a string
    table_rows: int = 50  # rows of a DataFrame
    table_columns: int = 20
    quote_strings: bool = True  # a string as Python writes it ('B'), or as plain text


#: The CLI prints to a terminal's scrollback: strings are cut sooner.
CLI_BUDGET = RenderBudget()
#: The TUI's preview pane scrolls: it shows more of a string, as text.
PREVIEW_BUDGET = RenderBudget(max_string=100_000, quote_strings=False)


def render_value(
    value: Any, budget: RenderBudget = CLI_BUDGET, *, hint: str | None = None
) -> RenderableType:
    """A readable rendering of any value; `hint` (how to load it whole) ends a cut's note."""
    kind = type(value)
    module = kind.__module__.split(".")[0]
    if isinstance(value, str) and not budget.quote_strings:
        return render_string(value, budget, hint)
    if module == "pandas" and kind.__name__ == "DataFrame":
        return render_dataframe(value, budget)
    if module == "numpy" and kind.__name__ == "ndarray":
        return render_ndarray(value)
    return render_pretty(value, budget, hint)


def render_string(value: str, budget: RenderBudget, hint: str | None = None) -> RenderableType:
    text = Text(inert_text(value[: budget.max_string]))
    if len(value) > budget.max_string:
        shown = f"showing the first {budget.max_string:,} of {len(value):,} characters"
        return Group(text, note(shown, hint))
    return text


def render_pretty(value: Any, budget: RenderBudget, hint: str | None = None) -> RenderableType:
    pretty = InertPretty(
        value,
        max_length=budget.max_items,
        max_string=min(2_000, budget.max_string),
        max_depth=8,
        expand_all=False,
        overflow="fold",
    )
    try:
        size = len(value)
    except Exception:  # len() of a user type may raise anything
        return pretty
    if isinstance(value, (list, tuple, dict, set, frozenset)) and size > budget.max_items:
        return Group(note(f"{size:,} items; showing the first {budget.max_items}", hint), pretty)
    if _cut_inside(value, budget.max_items):
        shown = f"a collection inside holds more than {budget.max_items} items; showing the first"
        return Group(note(f"{shown} {budget.max_items} of each", hint), pretty)
    return pretty


_CONTAINERS = (list, tuple, dict, set, frozenset)


def _cut_inside(value: Any, max_items: int, depth: int = 8, budget: int = 20_000) -> bool:
    """Whether the preview cuts a collection nested in `value` (a dict of long lists: each
    list was shown to its first items with no word that the rest exists). Looks at no more
    than `budget` values, as far down as the preview goes."""
    stack = [(value, 0)]
    while stack and budget > 0:
        item, level = stack.pop()
        budget -= 1
        if not isinstance(item, _CONTAINERS) or level >= depth:
            continue
        if level and len(item) > max_items:
            return True
        inner = item.values() if isinstance(item, dict) else item
        stack.extend((child, level + 1) for child in itertools.islice(inner, max_items))
    return False


def render_dataframe(frame: Any, budget: RenderBudget) -> RenderableType:
    rows, columns = frame.shape
    table = Table(show_header=True, header_style="bold", show_lines=False)
    table.add_column("", style="dim")
    shown_columns = list(frame.columns[: budget.table_columns])
    for column in shown_columns:  # names and values are user text: Text, never markup
        table.add_column(Text(f"{column}\n{frame[column].dtype}"), overflow="ellipsis")
    for label, row in frame.head(budget.table_rows)[shown_columns].iterrows():
        table.add_row(Text(str(label)), *(Text(str(v)) for v in row.tolist()))
    summary = f"DataFrame: {rows:,} rows, {columns:,} columns"
    if rows > budget.table_rows or columns > budget.table_columns:
        summary += (
            f" (showing {min(rows, budget.table_rows)} rows, "
            f"{min(columns, budget.table_columns)} columns)"
        )
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


def note(message: str, hint: str | None = None) -> Text:
    if hint:
        message += f"; the whole value: {hint}"
    return Text(f"({message})", style="italic dim")


def render_to_ansi(renderable: RenderableType, width: int) -> str:
    """`renderable` as text with ANSI styles, `width` columns wide."""
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
