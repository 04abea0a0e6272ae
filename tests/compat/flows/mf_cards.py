"""Cards: the default and the blank card, every kind of component, ids, dynamic updates."""

import struct
import zlib

from metaflow import FlowSpec, card, current, step
from metaflow.cards import (
    Artifact,
    Error,
    Image,
    Markdown,
    ProgressBar,
    PythonCode,
    Table,
    ValueBox,
    VegaChart,
)


def png(width, height, rgb):
    """A solid-colour PNG, made from its specification (no imaging library needed)."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


CHART = {
    "mark": "line",
    "data": {"values": [{"x": 1, "y": 2}, {"x": 2, "y": 5}, {"x": 3, "y": 4}]},
    "encoding": {
        "x": {"field": "x", "type": "quantitative"},
        "y": {"field": "y", "type": "quantitative"},
    },
}


class CardsFlow(FlowSpec):
    @card(type="blank", id="report", options={"title": "Report"})
    @card
    @step
    def start(self):
        print("drawing the cards")
        self.alpha = 3
        self.words = ["a", "b"]
        current.card.append(Markdown("# Default card\nwith *text*"))
        report = current.card["report"]
        report.append(Markdown("plain paragraph"))
        report.append(Table([["a", 1], ["b", Artifact({"k": [1, 2]})]], headers=["name", "value"]))
        report.append(Image(png(4, 2, (200, 30, 30)), "red"))
        report.append(ProgressBar(max=10, label="steps", value=0, unit="it"), id="bar")
        report.append(Error(ValueError("bad value"), "It failed"))
        report.append(VegaChart(CHART))
        report.append(Artifact([1, 2, 3], "numbers"))
        report.append(ValueBox(title="Accuracy", value=0.93, change_indicator="up 2%"))
        report.append(PythonCode(code_string="print('hi')"))
        for i in range(1, 4):
            current.card["report"].components["bar"].update(i, metadata=f"{i} done")
            current.card["report"].refresh()
        self.next(self.end)

    @card(type="blank", id="pictures")
    @card(type="blank")
    @step
    def end(self):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import pandas as pd
        from PIL import Image as PILImage

        df = pd.DataFrame(
            {
                "n": [1, 2, 3, 4, 5, 6],
                "s": ["x", "y", None, "w", "v", "u" * 40],
                "f": [0.5, 1.5, float("nan"), 3.5, 4.5, 5.5],
                "b": [True, False, True, True, False, True],
                "when": pd.to_datetime([f"2024-01-0{d} 12:30" for d in range(1, 7)]),
                "kind": pd.Categorical(["a", "b", "a", "c", "b", "a"]),
            }
        )
        pictures = current.card["pictures"]
        pictures.append(Image.from_pil_image(PILImage.new("RGB", (6, 4), (10, 200, 30)), "pil"))
        figure, axes = plt.subplots(figsize=(2, 1.5), dpi=40)
        axes.plot([1, 2, 3], [3, 1, 2])
        pictures.append(Image.from_matplotlib(figure, "plot"))
        current.card.extend([Table.from_dataframe(df), Markdown("after")])
        current.card.append(Markdown("gone"))
        current.card.clear()
        # a copy: Metaflow converts the frame it is given in place when truncate=False
        current.card.append(Table.from_dataframe(df.copy(), truncate=False))
        current.card.append(Table.from_dataframe(df))


if __name__ == "__main__":
    CardsFlow()
