"""A notebook saved with its widget state and converted by ``jupyter nbconvert --to html``
shows the view's snapshot with no kernel, in headless Chromium from file:// (pixel read).

What is real: the notebook is executed by nbclient in a kernel (a subprocess), which records
the widget state from the kernel's comm messages (``store_widget_state``) into
``metadata.widgets``, as Jupyter saves a notebook "with widget state"; nbconvert's own ``lab``
template (the default of ``--to html``) writes the page; the page's own scripts load the
html-manager, which renders the saved state through anywidget and our bundle (``_esm`` in the
state).

What is set: the snapshot. In a browser the front end takes it once the view is complete
(js/src/snapshot.ts, tested in test_widget_page_snapshot.py); nbclient has no browser, so the
cell puts the picture there itself: ``view.to_png`` (the PNG download's picture, drawn by
Python as the canvas draws it) as a ``data:image/png;base64,`` URL in ``view.snapshot``.

What is served locally: the page asks three CDNs for code, and the test answers each from a
local copy with ``page.route``; every other request is aborted and recorded.

- ``require.js`` (nbconvert's ``HTMLExporter.require_js_url``, cdnjs): npm's ``requirejs``
  (js/package.json's devDependencies). The URL names 2.1.10, npm's copy is 2.3.x (2.1.x has a
  prototype-pollution advisory); the html-manager asks of it only ``define``/``require``.
- the html-manager (``HTMLExporter.jupyter_widgets_base_url`` (unpkg)
  ``@jupyter-widgets/html-manager@*/dist/embed-amd.js``): npm's
  ``@jupyter-widgets/html-manager`` (devDependency), its ``dist/`` folder, which holds the
  fonts its CSS names relative to the script too.
- anywidget: the html-manager loads a widget module with require.js, first by its name (a
  file next to the page: none) then from ``https://cdn.jsdelivr.net/npm/<name>@<version>/dist/
  index.js`` (``requireLoader``; the version is the state's ``_model_module_version`` as it
  stands, ``~0.11.*``: a range, which jsdelivr resolves). The Python package's
  ``anywidget/nbextension/index.js`` is that file: npm's ``anywidget@0.11.0`` ``dist/index.js``
  is byte-identical (an AMD ``define(["@jupyter-widgets/base"], …)``).
- MathJax (``HTMLExporter.mathjax_url``, loaded by every page of the template): aborted, as
  the notebook has no maths; that the view draws without it is part of what is checked.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import anywidget
import numpy as np
import pytest
from frontend import JS
from nbconvert.exporters.html import HTMLExporter
from PIL import Image

ROOT = JS.parent
PREFIX = "data:image/png;base64,"
STATE_MIME = "application/vnd.jupyter.widget-state+json"
JSDELIVR = "https://cdn.jsdelivr.net/npm/"  # the html-manager's CDN for widget modules
HTML_MANAGER = JS / "node_modules" / "@jupyter-widgets" / "html-manager" / "dist"
REQUIRE_JS = JS / "node_modules" / "requirejs" / "require.js"
MISSING = (
    "{} is missing: the nbconvert test serves it in place of its CDN; run `npm ci` in js/ "
    "(js/package.json's devDependencies)"
)

CELL = (
    "import base64, pathlib, tempfile\n"
    "from ftle_widget import FTLEView\n"
    "from ftle_widget.paper.models import default_model\n"
    "view = FTLEView(default_model(), vmin=-1.0, vmax=1.0, show_data=False)\n"
    "# the snapshot a browser would take when the view is complete: the PNG download's picture\n"
    'png = view.to_png(pathlib.Path(tempfile.mkdtemp()) / "view.png")\n'
    'view.snapshot = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()\n'
    "view"
)

EXECUTE = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.v4.new_notebook()
nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells.append(nbformat.v4.new_code_cell(sys.argv[1]))
NotebookClient(nb, timeout=180, kernel_name="python3", store_widget_state=True).execute()
nbformat.write(nb, sys.argv[2])
"""


def _env(tmp: Path) -> dict:
    """The test's environment with Jupyter's and IPython's state under ``tmp`` and this
    checkout's ftle_widget first on the kernel's path."""
    env = dict(os.environ, PYTHONWARNINGS="ignore", MPLBACKEND="Agg")
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[name] = str(tmp / name.lower())
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """The notebook executed with its widget state saved and converted to HTML: (the HTML's
    path, the saved AnyModel state)."""
    tmp = tmp_path_factory.mktemp("nbconvert")
    env, notebook = _env(tmp), tmp / "view.ipynb"
    done = subprocess.run(
        [sys.executable, "-c", EXECUTE, CELL, str(notebook)],
        env=env, cwd=tmp, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    saved = json.loads(notebook.read_text())
    states = saved["metadata"]["widgets"][STATE_MIME]["state"]
    (view,) = [m["state"] for m in states.values() if m["model_name"] == "AnyModel"]
    done = subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "html", str(notebook)],
        env=env, cwd=tmp, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return tmp / "view.html", view


def _local_copies(html: str, anywidget_version: str) -> list[tuple[re.Pattern, object]]:
    """(URL pattern, the local file for a match) for each CDN script the page loads."""
    for path in (HTML_MANAGER / "embed-amd.js", REQUIRE_JS):
        if not path.exists():
            pytest.fail(MISSING.format(path.relative_to(ROOT)), pytrace=False)
    exporter = HTMLExporter()
    require_url = exporter.require_js_url
    manager = exporter.jupyter_widgets_base_url + "@jupyter-widgets/html-manager@"
    assert f'src="{require_url}"' in html  # the page as nbconvert wrote it
    assert f"'{manager}" in html
    assert JSDELIVR in (HTML_MANAGER / "embed-amd.js").read_text()
    nbextension = Path(anywidget.__file__).parent / "nbextension" / "index.js"
    version = re.escape(anywidget_version)
    return [
        (re.compile(re.escape(require_url) + "$"), lambda _: REQUIRE_JS),
        (re.compile(re.escape(manager) + r"[^/]+/dist/([\w.-]+)$"), lambda m: HTML_MANAGER / m[1]),
        (re.compile(re.escape(JSDELIVR + "anywidget@") + version + "/dist/index.js$"),
         lambda _: nbextension),
    ]  # fmt: skip


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def test_the_converted_notebook_shows_the_snapshot_without_a_kernel(browser, converted):
    path, state = converted
    assert state["snapshot"].startswith(PREFIX)  # the comm messages' state, as recorded
    snapshot = _pixels(base64.b64decode(state["snapshot"][len(PREFIX) :]))
    html = path.read_text()
    copies = _local_copies(html, state["_model_module_version"])
    mathjax = HTMLExporter().mathjax_url

    page = browser.new_page(viewport={"width": 900, "height": 800}, device_scale_factor=2)
    served, aborted, requested = [], [], []
    page.on("request", lambda r: requested.append(r.url))

    def answer(route):
        url = route.request.url
        for pattern, local in copies:
            match = pattern.match(url)
            if match and local(match).is_file():
                served.append(url)
                route.fulfill(path=str(local(match)), content_type=_type(url))
                return
        aborted.append(url)
        route.abort()

    page.route(lambda url: not url.startswith("file:"), answer)
    page.goto(path.as_uri())
    page.wait_for_selector(".ftle-widget .ftle-snapshot img", timeout=60_000)
    page.wait_for_function(
        "document.querySelector('.ftle-snapshot img').complete", timeout=10_000, polling=50
    )
    page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    # the stand-in is the saved snapshot, on the view's field canvas (no tile painted over it)
    assert page.evaluate("document.querySelector('.ftle-snapshot img').src") == state["snapshot"]
    # the picture is as tall as the field canvas, at its left: its field (420 × 420 of the PNG's
    # 420 × 490, the colorbar beside) over the canvas's left 420 CSS pixels, the canvas as wide
    # as the output area lets it be (the live extent grows to square pixels)
    assert snapshot.shape == (420, 490, 3)
    box = page.locator(".ftle-widget canvas.ftle-field").bounding_box()
    assert box["height"] == 420 and box["width"] >= 420
    shot = _pixels(page.screenshot(clip=dict(box, width=420)))
    scale = shot.shape[0] / snapshot.shape[0]  # device pixels per snapshot pixel
    assert shot.shape[:2] == (840, 840) and scale == 2  # device_scale_factor
    # each device pixel is the snapshot scaled up: a blend of the snapshot pixel under it and
    # its neighbours, so within their range (± 2); away from the axes drawn over the field
    ii, jj = np.mgrid[40:380, 40:380]
    near = np.stack(
        [snapshot[ii + di, jj + dj] for di in (-1, 0, 1) for dj in (-1, 0, 1)]
    )  # (9, rows, columns, RGB)
    lo, hi = near.min(axis=0) - 2, near.max(axis=0) + 2
    seen = shot[((ii + 0.5) * scale).astype(int), ((jj + 0.5) * scale).astype(int)]
    inside = ((seen >= lo) & (seen <= hi)).all(axis=-1)
    assert inside.mean() > 0.995, inside.mean()
    # and the check tells pictures apart: a field of many colours, most neighbourhoods nearly
    # flat, and the same picture 6 pixels to the left fails it
    assert len(np.unique(snapshot[ii, jj].reshape(-1, 3), axis=0)) > 100
    assert np.median((hi - lo - 4).max(axis=-1)) <= 8
    moved = shot[((ii + 0.5) * scale).astype(int), ((jj + 6.5) * scale).astype(int)]
    assert ((moved >= lo) & (moved <= hi)).all(axis=-1).mean() < 0.9
    # the network: the three CDN scripts from their local copies, MathJax aborted, no other;
    # file:// only for the page and require.js's try of the module's name beside it
    assert [sum(bool(p.match(u)) for u in served) for p, _ in copies] == [1, 1, 1], served
    assert any(u.endswith("/dist/embed-amd.js") for u in served)
    assert aborted == [mathjax], aborted
    beside = [u for u in requested if u.startswith("file:")]
    assert set(beside) <= {path.as_uri(), (path.parent / "anywidget.js").as_uri()}, beside
    assert set(requested) == set(served) | set(aborted) | set(beside)
    page.close()


def _type(url: str) -> str:
    if url.endswith(".js"):
        return "text/javascript"
    return {".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf"}.get(
        Path(url).suffix, "application/octet-stream"
    )
