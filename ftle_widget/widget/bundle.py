"""The built front end (``js/``, bundled by esbuild into ``ftle_widget/static/``), read as text."""

from __future__ import annotations

import pathlib

STATIC = pathlib.Path(__file__).parents[1] / "static"


def bundle_text(name: str = "widget.js") -> str:
    """The bundle ``name`` as text (the widget's ``_esm``: given a path, anywidget watches the
    file and its reload signal holds every widget ever made, so closed views were never freed);
    a clear error where the front end is not built."""
    path = STATIC / name
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"the front end is not built ({path} is missing): reinstall with "
            "`pip install -e .` (needs Node.js and npm) or run `npm run build` in js/"
        ) from None
