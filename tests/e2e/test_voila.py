"""FTLEView in Voilà (the dashboard server: its own widget manager, no JupyterLab), in headless
Chromium: the notebook's view draws the field, coloured as Python colours it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from test_lab import _notebook, _pixels, _wait

from ftle_widget import Plane, ftle_field
from ftle_widget.paper.models import mlp
from ftle_widget.widget.export import colorize

CELLS = [
    "from ftle_widget import FTLEView\n"
    "from ftle_widget.paper.models import mlp\n"
    "view = FTLEView(mlp(2, 10, 4, 1, seed=0), vmin=-1.0, vmax=1.0, show_data=False,\n"
    "                show_boundary=False)\n"
    "view",
]


@pytest.fixture(scope="module")
def voila(tmp_path_factory):
    pytest.importorskip("voila", reason="pip install voila (the test extra installs it)")
    root = tmp_path_factory.mktemp("voila")
    (root / "view.ipynb").write_text(json.dumps(_notebook(CELLS)))
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[name] = str(tmp_path_factory.mktemp(name.lower()))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "voila", str(root / "view.ipynb"), "--no-browser",
         f"--port={port}", "--Voila.ip=127.0.0.1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                assert time.time() < deadline and proc.poll() is None, "Voilà did not start"
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_the_view_draws_its_field_in_voila(browser, voila):
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    outside = []
    page.on("request", lambda r: None if r.url.startswith(voila) else outside.append(r.url))
    page.goto(voila, timeout=120_000)
    page.wait_for_selector(".ftle-widget canvas.ftle-field", timeout=120_000)

    def drawn():
        image = _pixels(page)
        return image if image is not None and (image[..., 3] == 255).mean() > 0.999 else None

    image = _wait(drawn, timeout=120)
    h, w = image.shape[:2]
    # the home view, [-1.5, 1.5]² grown to the canvas's aspect about its centre (square pixels)
    side = 3.0 / min(h, w)
    extent = (-w * side / 2, w * side / 2, -h * side / 2, h * side / 2)
    field = ftle_field(mlp(2, 10, 4, 1, seed=0), Plane.standard(2), extent, (h, w))
    expected = colorize(field.ftle, "RdBu_r", -1.0, 1.0)[::-1]
    gap = np.abs(image[..., :3].astype(int) - expected[..., :3].astype(int)).max(axis=2)
    # tiles are the kernel's, stretched onto screen pixels: nearly every pixel within a LUT step
    assert (gap <= 8).mean() > 0.97, np.percentile(gap, [50, 90, 99])
    # nothing of ours loaded from elsewhere (anywidget imports the bundle through a blob: URL;
    # Voilà's own page template asks a CDN for Font Awesome, which this page does not need)
    ours = [u for u in outside if not u.startswith(("blob:", "data:")) and "fontawesome" not in u]
    assert not ours, ours[:3]
    page.close()
