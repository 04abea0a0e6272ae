"""Cards drawn for the terminal: Vega-Lite charts of the common kinds drawn, others summarised;
user text never read as markup."""

from __future__ import annotations

from flowtui.client.card_render import card_text, component_html
from flowtui.client.vega import chart_text, describe_chart

POINTS = [{"x": i, "y": i * i, "group": "even" if i % 2 == 0 else "odd"} for i in range(8)]


def spec(mark: object, **encoding: object) -> dict[str, object]:
    return {"mark": mark, "data": {"values": POINTS}, "encoding": encoding}


X = {"field": "x", "type": "quantitative"}
Y = {"field": "y", "type": "quantitative"}


def test_line_point_bar_and_histogram_are_drawn() -> None:
    line = chart_text(spec("line", x=X, y=Y), width=60, height=12, color=False)
    assert line is not None and "49.0" in line  # the y axis reaches the largest value
    point = chart_text(spec({"type": "point"}, x=X, y=Y), width=60, height=12, color=False)
    assert point is not None and point != line
    bar = chart_text(
        spec("bar", x={"field": "group", "type": "nominal"}, y=Y), width=60, height=12, color=False
    )
    assert bar is not None and "even" in bar and "odd" in bar
    hist = spec("bar", x={**X, "bin": {"maxbins": 4}}, y={"aggregate": "count"})
    assert chart_text(hist, width=60, height=12, color=False) is not None
    assert describe_chart(hist) == "Vega-Lite histogram chart of x, 8 data points"


def test_one_line_per_series_of_a_colour_field() -> None:
    drawn = chart_text(
        spec("line", x=X, y=Y, color={"field": "group"}), width=60, height=12, color=False
    )
    assert drawn is not None and "even" in drawn and "odd" in drawn  # the legend


def test_other_charts_are_summarised_not_drawn() -> None:
    layered = {"layer": [spec("line", x=X, y=Y), spec("point", x=X, y=Y)]}
    by_url = {"mark": "line", "data": {"url": "data.csv"}, "encoding": {"x": X, "y": Y}}
    arc = spec("arc", theta=Y)
    for chart in (layered, by_url, arc):
        assert chart_text(chart, width=60, height=12, color=False) is None
    assert "layer chart (not drawn" in describe_chart(layered)
    assert describe_chart(by_url).endswith("data not inline")
    text = card_text(
        {
            "type": "blank",
            "final": True,
            "components": [{"type": "vegaChart", "id": "v", "spec": arc}],
        }
    )
    assert "[chart] Vega-Lite arc chart, 8 data points" in text


def test_user_text_is_never_markup_in_the_terminal_or_the_page() -> None:
    document = {
        "type": "blank",
        "final": True,
        "title": "[red]title[/red]",
        "components": [
            {"type": "log", "data": "[bold]boom[/bold]", "id": "l"},
            {"type": "table", "columns": ["[i]c[/i]"], "data": [["[b]x[/b]"]], "id": "t"},
            {"type": "markdown", "source": "<script>alert(1)</script> *hi*", "id": "m"},
        ],
    }
    text = card_text(document)
    assert "[red]title[/red]" in text and "[bold]boom[/bold]" in text and "[b]x[/b]" in text
    page = component_html(document["components"][2])
    assert "<script>" not in page and "&lt;script&gt;" in page and "<em>hi</em>" in page


def test_a_tables_column_names_are_never_markup() -> None:
    """A DataFrame's column "[b]col[/b]" in a card's table read as "col" in bold: Rich
    parses a column's header given as a string."""
    document = {
        "type": "blank",
        "final": True,
        "components": [
            {"type": "table", "columns": ["", "[b]col[/b]"], "data": [[0, "v"]], "id": "t"},
        ],
    }
    assert "[b]col[/b]" in card_text(document, width=60)


def test_a_table_without_column_names_draws_no_header_row() -> None:
    """`Table(rows)` with no headers (Metaflow's page draws none) was drawn under an empty
    header row and its rule, two lines of nothing above the data."""
    document = {
        "type": "blank",
        "final": True,
        "components": [{"type": "table", "data": [["rabbit", "19/19"]], "id": "t"}],
    }
    lines = [line for line in card_text(document, width=60).splitlines() if line.strip()]
    top = next(i for i, line in enumerate(lines) if line.lstrip()[:1] in ("┏", "┌"))
    assert "rabbit" in lines[top + 1]  # the first row right under the top border
    assert not any("┡" in line or "┃" in line for line in lines)  # no header row nor rule
