"""Where the app's stylesheets (`.tcss`) are, in a wheel or a checkout."""

from __future__ import annotations

from pathlib import Path, PurePath


def stylesheet_dir() -> Path:
    """Where the .tcss files are: `flowtui/styles` in a wheel, `styles/` in a checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "styles", package.parent / "styles"):
        if (candidate / "app.tcss").is_file():
            return candidate
    raise FileNotFoundError(f"flowtui's stylesheets are missing from {package}; reinstall flowtui")


def stylesheets() -> list[str | PurePath]:
    """app.tcss first, then every other widget stylesheet, in name order."""
    folder = stylesheet_dir()
    return [folder / "app.tcss", *sorted(p for p in folder.glob("*.tcss") if p.name != "app.tcss")]
