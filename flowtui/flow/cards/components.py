"""Card components, with the names and arguments of `metaflow.cards`.

Each component's `render()` gives a plain, JSON-ready dict in the shape Metaflow stores for the
same component (`{"type": "markdown", "source": ..., "id": ...}`), so a card stored here holds
the same data a Metaflow card would, and the differential tests compare them. Rendering for a
terminal or a web page happens elsewhere (`flowtui.client.card_render`), from these dicts.
"""

from __future__ import annotations

import base64
import io
import json
import pprint
import reprlib
import textwrap
import traceback
import uuid
from typing import Any

_REPR = reprlib.Repr()
_REPR.maxarray = _REPR.maxstring = _REPR.maxother = 100
_REPR.maxtuple = _REPR.maxlist = 100
_REPR.maxlevel = 3

_IMAGE_FAIL = "[IMAGE_RENDER FAIL]: "


def type_label(value: Any) -> str:
    """`dict`, `numpy.ndarray`: the class's module-qualified name (builtins bare)."""
    cls = type(value)
    name = cls.__qualname__
    if cls.__module__ not in (None, "builtins"):
        name = f"{cls.__module__}.{name}"
    return "pandas.core.frame.DataFrame" if name == "pandas.DataFrame" else name


def readable(value: Any) -> str:
    """A value as a card shows it: a short repr, pretty-printed when it was not cut short."""
    short = _REPR.repr(value)
    if "..." in short:
        return short
    try:
        return pprint.pformat(value, indent=2, width=50, compact=True)
    except Exception:
        return short


def artifact_entry(value: Any, name: str | None, *, compressed: bool = True) -> dict[str, Any]:
    """One artifact as the `artifacts` component lists it."""
    try:
        data = readable(value) if compressed else pprint.pformat(value, indent=2, width=80)
    except Exception as e:
        data = f"<repr failed: {type(e).__name__}>"
    return {
        "type": type_label(value),
        "data": data,
        "large_object": False,
        "supported_type": False,
        "only_repr": compressed,
        "name": None if name is None else str(name),
    }


def log_component(text: str, component_id: str | None = None) -> dict[str, Any]:
    return {"type": "log", "data": text, "id": component_id or _new_id("logcomponent")}


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:6]}"


class MetaflowCardComponent:
    """The base of every card component: an id, `render()` and `update()`."""

    REALTIME_UPDATABLE = False
    _component_id: str | None = None

    @property
    def component_id(self) -> str | None:
        return self._component_id

    @component_id.setter
    def component_id(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Component ID must be a string")
        self._component_id = value

    def _ensure_id(self) -> str:
        if self._component_id is None:
            self._component_id = _new_id(type(self).__name__.lower())
        return self._component_id

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Components that cannot change after they are added ignore updates."""

    def render(self) -> dict[str, Any]:
        raise NotImplementedError

    def safe_render(self) -> dict[str, Any]:
        """`render()`, or a `log` component saying why it failed (a card never fails a task)."""
        try:
            out = self.render()
            json.dumps(out)
            return out
        except Exception:
            return log_component(
                f"Render failed of component named `{type(self).__name__}`\n\n"
                + traceback.format_exc()
            )


UserComponent = MetaflowCardComponent


def render_value(value: Any, *, in_table: bool = False) -> Any:
    """A table cell: a component renders itself, plain JSON values stay, others are hidden."""
    if isinstance(value, VegaChart):
        value._inside_table = in_table
    if isinstance(value, MetaflowCardComponent):
        return value.safe_render()
    if value is None or isinstance(value, (str, bool, int, float, dict, list, tuple)):
        return value
    return "<object>"


class Markdown(MetaflowCardComponent):
    """Text in Markdown; common leading indentation is removed."""

    REALTIME_UPDATABLE = True

    def __init__(self, text: str | None = None) -> None:
        self._text = None if text is None else textwrap.dedent(text)

    def update(self, text: str | None = None) -> None:
        self._text = None if text is None else textwrap.dedent(text)

    def render(self) -> dict[str, Any]:
        source = self._text
        if source is not None and not source.startswith("#"):
            source = "\n" + source  # as Metaflow stores it
        return {"type": "markdown", "source": source, "id": self._ensure_id()}


class Artifact(MetaflowCardComponent):
    """Any Python value, pretty-printed (cut short unless `compressed=False`)."""

    REALTIME_UPDATABLE = True

    def __init__(self, artifact: Any, name: str | None = None, compressed: bool = True) -> None:
        self._artifact = artifact
        self._name = name
        self._compressed = compressed

    def update(self, artifact: Any) -> None:
        self._artifact = artifact

    def render(self) -> dict[str, Any]:
        entry = artifact_entry(self._artifact, self._name, compressed=self._compressed)
        return {"type": "artifacts", "data": [entry], "id": self._ensure_id()}


class Table(MetaflowCardComponent):
    """Rows of cells: text, numbers or other components; `Table.from_dataframe(df)`."""

    REALTIME_UPDATABLE = True

    def __init__(
        self,
        data: list[list[Any]] | None = None,
        headers: list[str] | None = None,
        disable_updates: bool = False,
    ) -> None:
        data = data or [[]]
        self._headers = headers if isinstance(headers, list) else []
        ok_rows = isinstance(data, list) and bool(data) and isinstance(data[0], list)
        self._data: list[list[Any]] = data if ok_rows else [[]]
        if disable_updates:
            self.REALTIME_UPDATABLE = False

    @classmethod
    def from_dataframe(cls, dataframe: Any = None, truncate: bool = True) -> Table:
        """A table of a pandas DataFrame: its index first; the first 5 rows if `truncate`."""
        if type_label(dataframe) != "pandas.core.frame.DataFrame":
            return cls(
                headers=[f"Object type {type_label(dataframe)} not supported"],
                disable_updates=True,
            )
        headers, rows = _dataframe_rows(dataframe, truncate)
        return cls(data=rows, headers=headers, disable_updates=True)

    def render(self) -> dict[str, Any]:
        rows = [[render_value(cell, in_table=True) for cell in row] for row in self._data]
        return {
            "type": "table",
            "columns": self._headers,
            "data": rows,
            "vertical": False,
            "id": self._ensure_id(),
        }


def _dataframe_rows(df: Any, truncate: bool) -> tuple[list[str], list[list[Any]]]:
    shown = df.head() if truncate else df
    columns = [_column_values(shown[name]) for name in shown.columns]
    index = _column_values(shown.index.to_series())
    rows = [[idx, *(col[i] for col in columns)] for i, idx in enumerate(index)]
    return ["", *(str(c) for c in df.columns)], rows


def _column_values(column: Any) -> list[Any]:
    """A DataFrame column as a card shows it: numbers and booleans as they are, missing
    values as "null", dates as ISO text, anything else as text of at most 30 characters."""
    kind = str(column.dtype)
    try:
        if kind in ("int64", "float64", "bool"):
            return column.fillna("null").tolist()
        if "datetime64" in kind:
            return column.dt.strftime("%Y-%m-%dT%H:%M:%S%Z").tolist()
        if "timedelta" in kind:
            return column.dt.total_seconds().tolist()
        if kind in ("object", "category") or not any(
            k in kind for k in ("complex", "interval", "period")
        ):
            column = column.fillna("null") if kind != "category" else column
            text = column.astype("string")
            if len(text) and text.str.len().max() > 30:
                text = text.str.slice(0, 30) + "..."
            return text.tolist()
        return column.astype("string").tolist()
    except (TypeError, ValueError):
        return [f"Unsupported type: {kind}"] * len(column)


def image_kind(data: bytes) -> str | None:
    """png, jpeg, gif or webp, from the first bytes; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[6:10] in (b"JFIF", b"Exif") or data.startswith(b"\xff\xd8\xff\xdb"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    return None


def image_data_url(data: bytes) -> str | None:
    kind = image_kind(data)
    if kind is None:
        return None
    return f"data:image/{kind};base64, " + base64.encodebytes(data).decode()


class Image(MetaflowCardComponent):
    """A picture: PNG/JPEG/GIF/WebP bytes, a data URL, `from_pil_image`, `from_matplotlib`."""

    def __init__(self, src: Any = None, label: str | None = None, disable_updates: bool = True):
        self.REALTIME_UPDATABLE = not disable_updates
        self._set(src, label)

    def _set(self, src: Any, label: str | None) -> None:
        self._label = label
        self._src: str | None = None
        self._error: str | None = None
        if src is None:
            self._error = _IMAGE_FAIL + "`Image` Component `src` cannot be `None`"
        elif isinstance(src, str):
            if "data:image/" in src:
                self._src = src
            else:
                self._error = (
                    _IMAGE_FAIL + "The `Image` `src` argument should be of type `bytes` or "
                    f"valid image base64 string\n\nString {src} is invalid base64 string"
                )
        elif isinstance(src, bytes):
            self._src = image_data_url(src)
            if self._src is None:
                self._error = _IMAGE_FAIL + "Bytes not parsable as image"
        else:
            self._error = (
                _IMAGE_FAIL + "The `Image` `src` argument should be of type `bytes` or valid "
                f"image base64 string\n\nType of {type(src)} is invalid"
            )

    @classmethod
    def from_pil_image(
        cls, pilimage: Any, label: str | None = None, disable_updates: bool = False
    ) -> Image:
        """An image of a PIL image (saved as PNG)."""
        try:
            return cls(_pil_png(pilimage), label, disable_updates)
        except Exception as e:
            img = cls(None, label, disable_updates)
            img._error = _IMAGE_FAIL + f"PIL Image Not Parsable\n\n{e!r}"
            return img

    @classmethod
    def from_matplotlib(
        cls, plot: Any, label: str | None = None, disable_updates: bool = False
    ) -> Image:
        """An image of a matplotlib figure or axes (saved as PNG; the figure is closed)."""
        try:
            return cls(_matplotlib_png(plot), label, disable_updates)
        except Exception as e:
            img = cls(None, label, disable_updates)
            img._error = _IMAGE_FAIL + f"Matplotlib plot's image is not parsable\n\n{e!r}"
            return img

    def update(self, image: Any, label: str | None = None) -> None:
        if not self.REALTIME_UPDATABLE:
            return
        label = label if label is not None else self._label
        kind = type_label(image)
        if isinstance(image, (bytes, str)):
            self._set(image, label)
        elif kind.startswith("PIL"):
            self._set(_pil_png(image), label)
        else:
            self._set(_matplotlib_png(image), label)

    def render(self) -> dict[str, Any]:
        if self._error is not None or self._src is None:
            return log_component((self._error or "") + "\n\n", self._ensure_id())
        return {"type": "image", "src": self._src, "label": self._label, "id": self._ensure_id()}


def _pil_png(pilimage: Any) -> bytes:
    buffer = io.BytesIO()
    pilimage.save(buffer, format="PNG")
    return buffer.getvalue()


def _matplotlib_png(plot: Any) -> bytes:
    figure = plot if type_label(plot) == "matplotlib.figure.Figure" else plot.get_figure()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="PNG")
    import matplotlib.pyplot as plt

    plt.close(figure)
    return buffer.getvalue()


class Error(MetaflowCardComponent):
    """An exception, shown with a title."""

    def __init__(self, exception: BaseException, title: str | None = None) -> None:
        self._exception = exception
        self._title = title

    def render(self) -> dict[str, Any]:
        return log_component(f"{self._title}\n\n{self._exception!r}")


class ProgressBar(MetaflowCardComponent):
    """A bar from 0 to `max`; `update(value, metadata=...)` moves it (then `refresh()`)."""

    REALTIME_UPDATABLE = True

    def __init__(
        self,
        max: int = 100,
        label: str | None = None,
        value: int = 0,
        unit: str | None = None,
        metadata: str | None = None,
    ) -> None:
        self._max, self._label, self._value = max, label, value
        self._unit, self._metadata = unit, metadata

    def update(self, new_value: int, metadata: str | None = None) -> None:
        self._value = new_value
        if metadata is not None:
            self._metadata = metadata

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "progressBar",
            "id": self._ensure_id(),
            "max": self._max,
            "value": self._value,
        }
        if self._label:
            out["label"] = self._label
        if self._unit:
            out["unit"] = self._unit
        if self._metadata:
            out["details"] = self._metadata
        return out


class VegaChart(MetaflowCardComponent):
    """A Vega-Lite chart from its spec (a dict, or an Altair chart)."""

    REALTIME_UPDATABLE = True

    def __init__(self, spec: dict[str, Any], show_controls: bool = False) -> None:
        self._spec = spec
        self._show_controls = show_controls
        self._inside_table = False

    @classmethod
    def from_altair_chart(cls, altair_chart: Any) -> VegaChart:
        return cls(spec=altair_chart.to_dict())

    def update(self, spec: Any = None) -> None:
        if spec is not None:
            self._spec = spec.to_dict() if hasattr(spec, "to_dict") else spec

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "vegaChart", "id": self._ensure_id(), "spec": self._spec}
        if not self._show_controls:
            out["options"] = {"actions": False}
        if "width" not in self._spec and not self._inside_table:
            self._spec["width"] = "container"
        if self._inside_table and "autosize" not in self._spec:
            self._spec["autosize"] = "fit-x"
        return out


class PythonCode(MetaflowCardComponent):
    """Python source: a function's (`code_func`) or a string's (`code_string`)."""

    def __init__(self, code_func: Any = None, code_string: str | None = None) -> None:
        if code_func is not None:
            import inspect

            code_string = inspect.getsource(code_func)
        self._code = code_string

    def render(self) -> dict[str, Any]:
        if self._code is None:
            return log_component(
                "`PythonCode` needs code_func= or code_string=; neither was given.",
                self._ensure_id(),
            )
        return {"type": "pythonCode", "data": self._code, "id": self._ensure_id()}


class ValueBox(MetaflowCardComponent):
    """One key figure, with an optional title, subtitle, theme and change note."""

    REALTIME_UPDATABLE = True

    def __init__(
        self,
        title: str | None = None,
        value: str | int | float = "",
        subtitle: str | None = None,
        theme: str | None = None,
        change_indicator: str | None = None,
    ) -> None:
        self._fields: dict[str, Any] = {}
        self.update(title, value, subtitle, theme, change_indicator)

    def update(
        self,
        title: str | None = None,
        value: str | int | float | None = None,
        subtitle: str | None = None,
        theme: str | None = None,
        change_indicator: str | None = None,
    ) -> None:
        if value is not None or "value" not in self._fields:
            if value is None or isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise TypeError(f"ValueBox value must be a str, int or float, not {value!r}")
            if isinstance(value, str) and not value.strip():
                raise ValueError("ValueBox value cannot be empty")
            self._fields["value"] = value
        texts = {"title": title, "subtitle": subtitle, "theme": theme}
        texts["change_indicator"] = change_indicator
        for key, text in texts.items():
            if text is None:
                continue
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"ValueBox {key} must be a non-empty string, not {text!r}")
            self._fields[key] = text

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "valueBox", "id": self._ensure_id()}
        out["value"] = self._fields["value"]
        for key in ("title", "subtitle", "theme", "change_indicator"):
            if key in self._fields:
                out[key] = self._fields[key]
        return out
