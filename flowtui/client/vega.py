"""Vega-Lite specs of a common kind (line, bar, point, histogram) drawn as terminal charts.

Reads the spec's inline data (`data.values`, or a named `datasets` entry as Altair writes it)
and its `x`/`y` (and `color`, for several lines or point series) encodings, and draws with
plotext (the `cards` extra). A spec it cannot draw (layers, facets, concatenations, data by
URL, other marks) gets `None` from `chart_text`, and `describe_chart` says what it is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_LOCK = threading.Lock()  # plotext keeps one global figure
_LINE = ("line", "trail", "area")
_POINT = ("point", "circle", "square", "tick")


def _mark(spec: dict[str, Any]) -> str:
    mark = spec.get("mark")
    if isinstance(mark, dict):
        mark = mark.get("type")
    return str(mark or "")


def _values(spec: dict[str, Any]) -> list[dict[str, Any]] | None:
    data = spec.get("data")
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("values"), list):
        rows = data["values"]
    elif isinstance(data.get("name"), str) and isinstance(spec.get("datasets"), dict):
        rows = spec["datasets"].get(data["name"])
    else:
        return None
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else None


def _field(spec: dict[str, Any], channel: str) -> dict[str, Any]:
    enc = spec.get("encoding")
    value = enc.get(channel) if isinstance(enc, dict) else None
    return value if isinstance(value, dict) else {}


def describe_chart(spec: dict[str, Any]) -> str:
    """One line: the chart's kind, its fields and how many data points it has."""
    if not isinstance(spec, dict):
        return "Vega-Lite chart (spec is not an object)"
    for compound in ("layer", "hconcat", "vconcat", "concat", "facet", "repeat"):
        if compound in spec:
            return f"Vega-Lite {compound} chart (not drawn in the terminal; open --html)"
    values = _values(spec)
    kind = _mark(spec) or "unknown"
    if _is_histogram(spec):
        kind = "histogram"
    fields = [f.get("field") for f in (_field(spec, "y"), _field(spec, "x")) if f.get("field")]
    title = spec.get("title")
    head = f"{title}: " if isinstance(title, str) and title else ""
    count = f", {len(values)} data points" if values is not None else ", data not inline"
    axes = f" of {' by '.join(str(f) for f in fields)}" if fields else ""
    return f"{head}Vega-Lite {kind} chart{axes}{count}"


def _is_histogram(spec: dict[str, Any]) -> bool:
    return _mark(spec) == "bar" and bool(_field(spec, "x").get("bin"))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def plotted(draw: Callable[[Any], bool], width: int, height: int) -> str | None:
    """A chart drawn by `draw(plotext)` on a clean `width` x `height` figure, as text with
    colour codes; None when plotext is missing or `draw` says it drew nothing. The one place
    plotext's global figure is set up (cards and artifact previews both draw here)."""
    try:
        import plotext as plt
    except ImportError:
        return None
    with _LOCK:
        plt.clear_figure()
        plt.plotsize(width, height)
        plt.theme("clear")
        try:
            drawn = draw(plt)
        except (TypeError, ValueError):
            drawn = False
        text = str(plt.build()) if drawn else None
        plt.clear_figure()
    return text


def chart_text(spec: dict[str, Any], width: int, height: int, color: bool) -> str | None:
    """The chart drawn in text, `width` x `height` cells; None when it cannot be drawn."""
    if not isinstance(spec, dict):
        return None
    values = _values(spec)
    mark = _mark(spec)
    x, y = _field(spec, "x").get("field"), _field(spec, "y").get("field")
    if values is None or not x or mark not in (*_LINE, *_POINT, "bar"):
        return None
    text = plotted(
        lambda plt: _draw(plt, spec, values, mark, str(x), str(y) if y else None), width, height
    )
    if text is None or color:
        return text
    import plotext as plt

    return str(plt.uncolorize(text))


def _draw(
    plt: Any, spec: dict[str, Any], rows: list[dict[str, Any]], mark: str, x: str, y: str | None
) -> bool:
    title = spec.get("title")
    if isinstance(title, str):
        plt.title(title)
    if _is_histogram(spec):
        data = [v for v in (_number(r.get(x)) for r in rows) if v is not None]
        if not data:
            return False
        bins = _field(spec, "x").get("bin")
        count = bins.get("maxbins", 10) if isinstance(bins, dict) else 10
        plt.hist(data, bins=int(count))
        plt.xlabel(x)
        return True
    if y is None:
        return False
    if mark == "bar":
        labels = [str(r.get(x)) for r in rows if _number(r.get(y)) is not None]
        heights = [_number(r.get(y)) for r in rows if _number(r.get(y)) is not None]
        if not heights:
            return False
        plt.bar(labels, heights)
        return True
    series_field = _field(spec, "color").get("field")
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row.get(series_field)) if series_field else y, []).append(row)
    plotted = False
    for name, members in groups.items():
        pairs = [(r.get(x), _number(r.get(y))) for r in members]
        pairs = [(a, b) for a, b in pairs if b is not None and a is not None]
        if not pairs:
            continue
        numbers = [_number(a) for a, _ in pairs]
        if all(n is not None for n in numbers):
            ordered = sorted(zip(numbers, pairs, strict=True), key=lambda item: item[0] or 0.0)
            pairs = [pair for _, pair in ordered]
            xs: list[Any] = [n for n, _ in ordered]
        else:
            xs = [str(a) for a, _ in pairs]
        ys = [b for _, b in pairs]
        label = name if series_field else None
        if mark in _LINE:
            plt.plot(xs, ys, label=label)
        else:
            plt.scatter(xs, ys, label=label)
        plotted = True
    plt.xlabel(x)
    plt.ylabel(y)
    return plotted
