"""A stored card drawn for a terminal (Rich renderables) or as a standalone HTML page.

Headless: used by `flowtui card view`, by the TUI's Cards view, and by `Card.get()`. Markdown
is drawn as Markdown, tables as tables, progress bars as bars, images as pictures (with the
`cards` extra: Pillow and rich-pixels) and Vega-Lite charts of a common kind (line, bar,
point, histogram) as terminal charts (with plotext); anything else is summarised in a line.
Text from user code is never read as Rich markup. The HTML page inlines everything (images as
data URLs, charts as text), so it opens without a network.
"""

from __future__ import annotations

import base64
import html
import io
import json
from typing import Any

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from flowtui.client.vega import chart_text, describe_chart
from flowtui.run.artifacts import inert_text

# -- terminal ------------------------------------------------------------------------------


def card_renderables(document: dict[str, Any], width: int = 80) -> list[RenderableType]:
    """The card, top to bottom, as Rich renderables for a terminal `width` columns wide.
    Every string of it is the user's: its escape codes are written out (`inert_text`), or an
    ESC[2J in a table cell would clear the terminal it is drawn on."""
    document = _inert(document)
    out: list[RenderableType] = []
    title = document.get("title") or ""
    head = Text(f"{document.get('type', 'default')} card", style="bold")
    if document.get("id"):
        head.append(f" {document['id']}", style="bold cyan")
    if title:
        head.append(f" — {title}")
    if not document.get("final"):
        head.append("  (live: the task is still running)", style="yellow")
    out.append(head)
    if document.get("error"):
        out.append(Panel(Text(str(document["error"])), title="card error", border_style="red"))
    for component in document.get("components") or []:
        out.append(component_renderable(component, width))
    for key, label in (("parameters", "Parameters"), ("artifacts", "Artifacts")):
        entries = document.get(key) or []
        if entries:
            out.append(_artifacts_table(entries, label))
    if len(out) == 1:
        out.append(Text("(this card is empty)", style="dim"))
    return out


def _inert(value: Any) -> Any:
    """`value` (a card's JSON) with the control characters of its strings written out."""
    if isinstance(value, str):
        return inert_text(value)
    if isinstance(value, dict):
        return {key: _inert(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_inert(item) for item in value]
    return value


def component_renderable(component: Any, width: int = 80) -> RenderableType:
    if not isinstance(component, dict):
        return Text(str(component))
    kind = component.get("type")
    if kind == "markdown":
        return Markdown(str(component.get("source") or "").strip("\n"))
    if kind == "table":
        return _table(component, width)
    if kind == "image":
        return _image(component, width)
    if kind == "progressBar":
        return _progress(component, width)
    if kind == "vegaChart":
        return _chart(component, width)
    if kind == "log":
        return Panel(Text(str(component.get("data") or "")), border_style="red", expand=False)
    if kind == "artifacts":
        return _artifacts(component)
    if kind in ("title", "subtitle"):
        return Text(str(component.get("text") or ""), style="bold")
    if kind == "pythonCode":
        return Syntax(str(component.get("data") or ""), "python", word_wrap=True)
    if kind == "valueBox":
        return _value_box(component)
    if kind in ("section", "page"):
        parts = [component_renderable(c, width) for c in component.get("contents") or []]
        return Group(*parts)
    return Text(f"[{kind} component] " + _short_json(component), style="dim")


def _short_json(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell(value: Any, width: int) -> RenderableType:
    if isinstance(value, dict) and "type" in value:
        if value["type"] == "image":
            return Text(f"[image {value.get('label') or ''}]".replace(" ]", "]"), style="dim")
        return component_renderable(value, max(20, width // 2))
    return Text("" if value is None else str(value))


def _table(component: dict[str, Any], width: int) -> RenderableType:
    columns = list(component.get("columns") or [])
    table = Table(show_lines=False, expand=False, show_header=bool(columns))
    rows = [row for row in component.get("data") or [] if row]
    count = max([len(columns), *(len(r) for r in rows)])
    if count == 0:
        return Text("(empty table)", style="dim")
    for i in range(count):
        header = Text(str(columns[i])) if i < len(columns) else ""  # a name, never markup
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(v, width) for v in row))
    return table


def _image(component: dict[str, Any], width: int) -> RenderableType:
    label = str(component.get("label") or "")
    picture = image_pixels(str(component.get("src") or ""), width)
    caption = Text(label, style="italic") if label else Text("")
    if picture is None:
        return Text(f"[image {label}]".replace(" ]", "]") + _image_hint(), style="dim")
    return Group(picture, caption)


def _image_hint() -> str:
    try:
        import PIL  # noqa: F401
        import rich_pixels  # noqa: F401
    except ImportError:
        return "  (pip install 'flowtui[cards]' to see pictures)"
    return ""


def image_bytes(src: str) -> bytes | None:
    if not src.startswith("data:image/") or "," not in src:
        return None
    try:
        return base64.b64decode(src.split(",", 1)[1])
    except ValueError:
        return None


def image_pixels(src: str, width: int) -> RenderableType | None:
    """The image as half-block pixels, at most `width` columns wide (None if unavailable)."""
    data = image_bytes(src)
    if data is None:
        return None
    try:
        from PIL import Image as PILImage
        from rich_pixels import HalfcellRenderer, Pixels
    except ImportError:
        return None
    try:
        with PILImage.open(io.BytesIO(data)) as img:
            img = img.convert("RGBA")
            cols = max(1, min(width, 100, max(img.width, 16)))  # tiny images scaled up
            rows = max(2, round(img.height * cols / img.width))
            img = img.resize((cols, rows))
            return Pixels.from_image(img, renderer=HalfcellRenderer())
    except Exception:
        return None


def _progress(component: dict[str, Any], width: int) -> RenderableType:
    total = float(component.get("max") or 0) or 1.0
    value = float(component.get("value") or 0)
    line = Text()
    if component.get("label"):
        line.append(str(component["label"]) + "  ", style="bold")
    unit = f" {component['unit']}" if component.get("unit") else ""
    line.append(f"{_num(value)}/{_num(total)}{unit}  {100 * value / total:.0f}%")
    if component.get("details"):
        line.append("  " + str(component["details"]), style="dim")
    bar = ProgressBar(total=total, completed=min(value, total), width=max(10, min(width, 60)))
    return Group(line, bar, Text(""))


def _value_box(component: dict[str, Any]) -> RenderableType:
    body = Text(str(component.get("value", "")), style="bold")
    if component.get("subtitle"):
        body.append("\n" + str(component["subtitle"]), style="dim")
    if component.get("change_indicator"):
        body.append("\n" + str(component["change_indicator"]))
    title = component.get("title")
    return Panel(body, title=Text(str(title)) if title else None, expand=False)


def _num(value: float) -> str:
    return f"{value:g}"


def _chart(component: dict[str, Any], width: int) -> RenderableType:
    spec = component.get("spec") or {}
    drawn = chart_text(spec, width=max(30, min(width, 100)), height=16, color=True)
    if drawn is None:
        return Text("[chart] " + describe_chart(spec), style="dim")
    return Group(Text.from_ansi(drawn), Text(describe_chart(spec), style="dim"))


def _artifacts(component: dict[str, Any]) -> RenderableType:
    parts: list[RenderableType] = []
    for entry in component.get("data") or []:
        head = Text()
        if entry.get("name"):
            head.append(str(entry["name"]) + " ", style="bold")
        head.append(str(entry.get("type") or ""), style="dim")
        parts.append(Group(head, Text(str(entry.get("data") or ""))))
    return Group(*parts)


def _artifacts_table(entries: list[dict[str, Any]], label: str) -> RenderableType:
    table = Table(title=label, title_justify="left", expand=False)
    for name in ("name", "type", "value"):
        table.add_column(name, overflow="fold")
    for entry in entries:
        table.add_row(
            Text(str(entry.get("name") or "")),
            Text(str(entry.get("type") or ""), style="dim"),
            Text(str(entry.get("data") or "")),
        )
    return table


def card_text(document: dict[str, Any], width: int = 80, color: bool = False) -> str:
    """The card as terminal text (what `flowtui card view` prints)."""
    from rich.console import Console

    console = Console(
        width=width,
        file=io.StringIO(),
        force_terminal=color,
        color_system="truecolor" if color else None,
    )
    for renderable in card_renderables(document, width):
        console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


# -- HTML ----------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1d1d1f}
h1{font-size:1.3rem} table{border-collapse:collapse;margin:1rem 0}
td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}
pre{background:#f5f5f7;padding:.6rem;overflow:auto} .log{border-left:4px solid #d33}
.dim{color:#777} progress{width:20rem} figure{margin:1rem 0}
.box{display:inline-block;border:1px solid #ccc;border-radius:.4rem;padding:.6rem 1rem}
"""


def card_html(document: dict[str, Any]) -> str:
    """A standalone page: inline style, images as data URLs, no scripts, no network."""
    esc = html.escape
    title = document.get("title") or f"{document.get('type', 'default')} card"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(str(title))} · {esc(str(document.get('pathspec') or ''))}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{esc(str(title))}</h1>",
        f'<p class="dim">{esc(str(document.get("pathspec") or ""))}</p>',
    ]
    if document.get("error"):
        parts.append(f'<pre class="log">{esc(str(document["error"]))}</pre>')
    parts += [component_html(c) for c in document.get("components") or []]
    for key, label in (("parameters", "Parameters"), ("artifacts", "Artifacts")):
        entries = document.get(key) or []
        if entries:
            rows = "".join(
                f"<tr><td>{esc(str(e.get('name') or ''))}</td><td>{esc(str(e.get('type')))}</td>"
                f"<td><pre>{esc(str(e.get('data') or ''))}</pre></td></tr>"
                for e in entries
            )
            parts.append(
                f"<h2>{label}</h2><table><tr><th>name</th><th>type</th><th>value</th></tr>"
                f"{rows}</table>"
            )
    parts.append("</body></html>")
    return "\n".join(parts)


def component_html(component: Any) -> str:
    esc = html.escape
    if not isinstance(component, dict):
        return esc(str(component))
    kind = component.get("type")
    if kind == "markdown":
        from markdown_it import MarkdownIt

        # raw HTML in the text is escaped, not passed through
        return str(MarkdownIt("commonmark", {"html": False}).render(component.get("source") or ""))
    if kind == "table":
        head = "".join(f"<th>{esc(str(c))}</th>" for c in component.get("columns") or [])
        rows = "".join(
            "<tr>" + "".join(f"<td>{_cell_html(v)}</td>" for v in row) + "</tr>"
            for row in component.get("data") or []
            if row
        )
        return f"<table>{'<tr>' + head + '</tr>' if head else ''}{rows}</table>"
    if kind == "image":
        src = str(component.get("src") or "")
        if not src.startswith("data:image/"):
            return '<p class="dim">[image]</p>'
        label = esc(str(component.get("label") or ""))
        clean = src.replace("\n", "").replace(", ", ",", 1)
        return (
            f'<figure><img src="{esc(clean)}" alt="{label}" style="max-width:100%">'
            f"<figcaption>{label}</figcaption></figure>"
        )
    if kind == "progressBar":
        value, total = component.get("value") or 0, component.get("max") or 100
        label = esc(str(component.get("label") or ""))
        unit = esc(str(component.get("unit") or ""))
        details = esc(str(component.get("details") or ""))
        return (
            f'<p><b>{label}</b> <progress value="{esc(str(value))}" max="{esc(str(total))}">'
            f"</progress> {esc(str(value))}/{esc(str(total))} {unit} "
            f'<span class="dim">{details}</span></p>'
        )
    if kind == "vegaChart":
        spec = component.get("spec") or {}
        drawn = chart_text(spec, width=90, height=20, color=False)
        chart = f"<pre>{esc(drawn)}</pre>" if drawn else ""
        return (
            f"<figure>{chart}<figcaption>{esc(describe_chart(spec))}</figcaption>"
            f"<details><summary>Vega-Lite spec</summary><pre>"
            f"{esc(json.dumps(spec, indent=2, default=str))}</pre></details></figure>"
        )
    if kind == "pythonCode":
        return f"<pre>{esc(str(component.get('data') or ''))}</pre>"
    if kind == "valueBox":
        parts = [
            f"<b>{esc(str(component.get(k)))}</b>" if k == "value" else esc(str(component[k]))
            for k in ("title", "value", "subtitle", "change_indicator")
            if component.get(k) is not None
        ]
        return '<div class="box">' + "<br>".join(parts) + "</div>"
    if kind == "log":
        return f'<pre class="log">{esc(str(component.get("data") or ""))}</pre>'
    if kind == "artifacts":
        return "".join(
            f'<p><b>{esc(str(e.get("name") or ""))}</b> <span class="dim">'
            f"{esc(str(e.get('type') or ''))}</span></p><pre>{esc(str(e.get('data') or ''))}</pre>"
            for e in component.get("data") or []
        )
    if kind in ("section", "page"):
        return "".join(component_html(c) for c in component.get("contents") or [])
    return f'<pre class="dim">[{esc(str(kind))}] {esc(_short_json(component))}</pre>'


def _cell_html(value: Any) -> str:
    if isinstance(value, dict) and "type" in value:
        return component_html(value)
    return html.escape("" if value is None else str(value))
