"""Values people would rather look at than read, for the preview process (`tui/preview.py`):
a chart of a numeric series (plotext), a picture of an image or a 2-D array (rich-pixels,
half-blocks), a hex dump of bytes, the attributes of an object without a `__repr__`, and a
long container a page at a time. Everything else is `client.render`'s, with the preview's
budget.

Charts and pictures need the `pictures` extra (plotext, rich-pixels, Pillow); without it the
preview says how to get them and shows the rest. Like the preview, this imports no Textual.
"""

from __future__ import annotations

import math
import numbers
from itertools import islice
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from flowtui.client.render import PREVIEW_BUDGET, InertPretty, note, render_value
from flowtui.client.vega import plotted
from flowtui.run.artifacts import inert_text

CHART_HEIGHT = 12
"""Rows of a series' chart."""
CHART_POINTS = 2_000
"""Points of a series drawn at most (a longer one is evenly sampled)."""
PICTURE_ROWS = 32
"""Rows of a picture at most (each row is two pixels tall)."""
HEX_BYTES = 4_096
"""Bytes of a hex dump shown."""
HEX_WIDTH = 16
"""Bytes per line of a hex dump (8 when the view is too narrow for 16)."""
MISSING_EXTRA = "charts and pictures need flowtui's pictures extra: pip install 'flowtui[pictures]'"


def render_preview(value: Any, width: int = 100, page: int = 0) -> RenderableType:
    """The preview of `value` in a pane `width` columns wide (`page` of a long container)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return render_hex(value, width)
    picture = picture_source(value)
    if picture is not None:
        kind = type(value)
        if kind.__module__.split(".")[0] == "numpy":  # the picture, then the numbers
            return Group(render_picture(picture, width), Text(""), render_value(value))
        title = Text(f"image {picture.size[0]} x {picture.size[1]} pixels", style="bold")
        return Group(title, Text(""), render_picture(picture, width))
    if has_default_repr(value):
        return render_attributes(value, PREVIEW_BUDGET.max_items)
    body = render_page(value, page)
    series = numeric_series(value)
    return Group(render_chart(series, width), body) if series is not None else body


def render_page(value: Any, page: int) -> RenderableType:
    """`value` as `client.render` shows it, or page `page` of a container past the budget."""
    items = PREVIEW_BUDGET.max_items
    if not isinstance(value, (list, tuple, dict, set, frozenset)) or len(value) <= items:
        return render_value(value, PREVIEW_BUDGET)
    size = len(value)
    pages = -(-size // items)
    page = max(0, min(page, pages - 1))
    first = page * items
    shown: Any
    if isinstance(value, dict):
        shown = dict(islice(value.items(), first, first + items))
    elif isinstance(value, (set, frozenset)):
        shown = set(islice(value, first, first + items))
    else:
        shown = value[first : first + items]
    last = min(size, first + items)
    heading = f"{size:,} items; items {first:,} to {last - 1:,} (page {page + 1} of {pages}, [ ])"
    return Group(note(heading), render_value(shown, PREVIEW_BUDGET))


def numeric_series(value: Any) -> list[float] | None:
    """The numbers of a list/tuple of real numbers, a 1-D numeric array or a numeric pandas
    Series (at least two of them), else None."""
    kind = type(value)
    module = kind.__module__.split(".")[0]
    items: Any
    if isinstance(value, (list, tuple)):
        items = value
        if len(items) < 2 or not all(_real(v) for v in items):
            return None
    elif module == "numpy" and kind.__name__ == "ndarray":
        if value.ndim != 1 or value.size < 2 or value.dtype.kind not in "iuf":
            return None
        items = value.tolist()
    elif module == "pandas" and kind.__name__ == "Series":
        if len(value) < 2 or value.dtype.kind not in "iuf":
            return None
        items = value.tolist()
    else:
        return None
    return [float(v) for v in items]


def _real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def render_chart(series: list[float], width: int) -> RenderableType:
    """A line chart of `series` (finite values; sampled down to `CHART_POINTS`)."""
    step = max(1, math.ceil(len(series) / CHART_POINTS))
    xs = list(range(0, len(series), step))
    ys = [series[x] for x in xs]
    finite = [(x, y) for x, y in zip(xs, ys, strict=True) if math.isfinite(y)]
    if len(finite) < 2:
        return Text("(too few finite values to chart)", style="italic dim")

    def draw(plt: Any) -> bool:
        plt.plot([x for x, _ in finite], [y for _, y in finite], marker="braille")
        return True

    text = plotted(draw, max(20, width - 2), CHART_HEIGHT)
    if text is None:
        return Text(f"({MISSING_EXTRA})", style="italic dim")
    return Text.from_ansi(text, no_wrap=True, overflow="crop")


def picture_source(value: Any) -> Any | None:
    """A PIL image for `value` when it is a picture: a PIL image, a uint8 HxWx3 (or x4)
    array, or a 2-D numeric array (scaled to grey levels); else None."""
    kind = type(value)
    module = kind.__module__.split(".")[0]
    if module == "PIL" and hasattr(value, "convert") and hasattr(value, "size"):
        return value.convert("RGB")
    if module != "numpy" or kind.__name__ != "ndarray" or value.size == 0:
        return None
    try:
        from PIL import Image
    except ImportError:
        return None
    import numpy as np

    if value.ndim == 3 and value.shape[2] in (3, 4) and value.dtype == np.uint8:
        return Image.fromarray(value[:, :, :3], "RGB")
    if value.ndim == 2 and value.dtype.kind in "iuf":
        data = np.nan_to_num(value.astype(float), nan=0.0, posinf=0.0, neginf=0.0)
        low, high = float(data.min()), float(data.max())
        scaled = (data - low) / (high - low) * 255 if high > low else np.zeros_like(data)
        return Image.fromarray(scaled.astype(np.uint8), "L").convert("RGB")
    return None


def render_picture(image: Any, width: int) -> RenderableType:
    """`image` in half-blocks, scaled (keeping its shape) to at most `width` columns."""
    try:
        from rich_pixels import HalfcellRenderer, Pixels
    except ImportError:
        return Text(f"({MISSING_EXTRA})", style="italic dim")
    columns, rows = image.size
    scale = min(1.0, max(1, width - 2) / columns, PICTURE_ROWS * 2 / rows)
    size = (max(1, round(columns * scale)), max(2, round(rows * scale)))
    return Pixels.from_image(image.resize(size), renderer=HalfcellRenderer())


def render_hex(value: bytes | bytearray | memoryview, width: int = 100) -> RenderableType:
    """A hex dump: offset, 16 (or 8) bytes in hex, and the same bytes as ASCII (dots for
    the rest), each line fitting in `width` columns."""
    data = bytes(value[:HEX_BYTES])
    per_line = HEX_WIDTH if width >= 4 * HEX_WIDTH + 13 else HEX_WIDTH // 2
    text = Text(f"{type(value).__name__}, {len(value):,} bytes\n", style="bold", no_wrap=True)
    for offset in range(0, len(data), per_line):
        chunk = data[offset : offset + per_line]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        ascii_ = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        text.append(f"{offset:08x}  ", style="dim")
        text.append(f"{hexes:<{per_line * 3 - 1}}  ")
        text.append(f"|{ascii_}|\n", style="dim")
    if len(value) > HEX_BYTES:
        text.append(f"(showing the first {HEX_BYTES:,} bytes)", style="italic dim")
    return text


def has_default_repr(value: Any) -> bool:
    """`value`'s class keeps `object.__repr__` (which says only where it is in memory)."""
    return type(value).__repr__ is object.__repr__ and hasattr(value, "__dict__")


def render_attributes(value: Any, limit: int) -> RenderableType:
    """The attributes of an object without a `__repr__`: name, type, short repr."""
    kind = type(value)
    attributes = sorted(vars(value).items())
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("attribute")
    table.add_column("type", style="dim")
    table.add_column("value", overflow="ellipsis", no_wrap=True)
    for name, attribute in attributes[:limit]:
        shown = InertPretty(attribute, max_length=20, max_string=200, max_depth=2)
        table.add_row(Text(inert_text(name)), Text(type(attribute).__name__), shown)
    title = Text(f"{kind.__module__}.{kind.__qualname__}, {len(attributes)} attributes", "bold")
    return Group(title, table)
