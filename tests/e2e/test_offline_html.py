"""`view.to_html` in headless Chromium: the export opened from file:// with every other request
blocked draws the stored tiles in Python's colours, zooms one level finer with the wheel, hovers
values and switches colormaps without a kernel, and says where the rest needs one."""

from __future__ import annotations

import base64
import json
import math
import re

import numpy as np
import pytest
from helpers import browser_sends
from test_widget_page import BOUNDARY_RGB, _frame, _rgba_of

from ftle_widget.lazy.pyramid import Pyramid
from ftle_widget.paper.models import mlp
from ftle_widget.widget import offline
from ftle_widget.widget.export import colorize
from ftle_widget.widget.view import FTLEView

EXTENT = [-1.5, 1.5, -1.5, 1.5]
ROOT = "document.querySelector('.ftle-widget')"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A view shown on a 420 × 420 canvas, exported with one level either side; its tiles as
    the page holds them: (z, extent, λ₁ float32 from float16, λ₁ as computed)."""
    view = FTLEView(mlp(2, 10, 4, 1, seed=0), vmin=-1.0, vmax=1.0, extent=EXTENT)
    view.send = lambda content, buffers=None: None
    request = {"kind": "view", "generation": 1, "extent": EXTENT, "width": 420, "height": 420}
    browser_sends(view, request)
    assert view.scheduler.wait(60)
    path = view.to_html(tmp_path_factory.mktemp("html") / "view.html", levels=1)
    manifest, stored = read_export(path.read_text())
    pyramid = Pyramid(manifest["base_side"], manifest["tile_px"])
    engine_tiles = offline.compute_tiles(
        view, pyramid, [tuple(e[:3]) for e in manifest["tiles"]], view._last_view[0]
    )
    view.close()
    tiles = [
        (e[0], pyramid.extent(tuple(e[:3])), arrays["ftle"], computed.ftle)
        for e, arrays, computed in zip(manifest["tiles"], stored, engine_tiles, strict=True)
    ]
    return path, manifest, tiles


def read_export(html):
    """The manifest and the arrays (offline.unpack) of an exported page."""

    def script(ident):
        return re.search(rf'id="{ident}">(.*?)</script>', html, re.S).group(1)

    manifest = json.loads(script("ftle-manifest"))
    packed = base64.b64decode(script("ftle-tiles"))
    return manifest, offline.unpack(manifest["tiles"], packed, manifest["tile_px"])


def open_offline(browser, path):
    """The export opened from its file, every request but file:// ones aborted and recorded;
    the view requests the widget sends recorded in window.sent."""
    page = browser.new_page(viewport={"width": 600, "height": 560})
    tried = []

    def block(route):
        tried.append(route.request.url)
        route.abort()

    page.route(lambda url: not url.startswith("file:"), block)
    page.goto(path.as_uri())
    page.wait_for_function("window.ftleOffline !== undefined")
    page.evaluate(
        """() => {
        const model = window.ftleOffline.model;
        const send = model.send.bind(model);
        window.sent = [];
        model.send = (msg) => { window.sent.push(msg); send(msg); };
    }"""
    )
    _drawn(page, 1)
    return page, tried


def _drawn(page, generation):
    """Wait until the view request of ``generation`` (or a later one) has its tiles painted."""
    page.wait_for_function(
        f"{ROOT}.timings.generation >= {generation} && {ROOT}.timings.firstFineTileAt !== null"
        f" && !{ROOT}.timings.settling"
    )
    _frame(page)


def _screen(tiles, level, extent, h, w):
    """λ₁ at each screen pixel's centre (row 0 at the top) from the finest stored tile of level
    ≤ ``level`` holding it (the tiles the page delivers for a request of that level), as the
    canvas draws them, and the level it came from."""
    u0, u1, v0, v1 = extent
    ys, xs = np.mgrid[0:h, 0:w]
    u = u0 + (u1 - u0) * (xs + 0.5) / w
    v = v1 - (v1 - v0) * (ys + 0.5) / h
    out = np.full((h, w), np.nan, dtype=np.float32)
    finest = np.full((h, w), -(10**9))
    for z, (a0, a1, b0, b1), values, _ in sorted(tiles, key=lambda t: t[0]):
        if z > level:
            continue
        t = values.shape[0]
        inside = (u >= a0) & (u < a1) & (v >= b0) & (v < b1)
        j = np.clip(((u - a0) / (a1 - a0) * t).astype(int), 0, t - 1)
        i = np.clip(((v - b0) / (b1 - b0) * t).astype(int), 0, t - 1)
        out[inside] = values[i[inside], j[inside]]
        finest[inside] = z
    return out, finest


def _matches(page, tiles, level, extent, cmap="RdBu_r"):
    """The fraction of the canvas's pixels (the boundary's aside) exactly the colour Python gives
    the stored value under their centre, and the largest difference (of 255)."""
    image = _rgba_of(page, "document.querySelector('canvas')")
    h, w = image.shape[:2]
    values, _ = _screen(tiles, level, extent, h, w)
    expected = colorize(values, cmap, -1.0, 1.0)
    marked = (image[:, :, :3] == BOUNDARY_RGB).all(axis=2)
    gap = np.abs(image[:, :, :3].astype(int) - expected[:, :, :3].astype(int)).max(axis=2)
    return (gap[~marked] == 0).mean(), gap[~marked].max()


def _last_view(page):
    return [m for m in page.evaluate("window.sent") if m["kind"] == "view"][-1]


def _status(page):
    return page.evaluate("document.querySelector('.ftle-status').textContent")


def test_the_export_draws_zooms_hovers_and_switches_colours_offline(browser, exported):
    path, manifest, tiles = exported
    level = manifest["level"]
    assert manifest["levels"] == [level - 1, level + 1]
    # float16: the stored values are the computed ones within its rounding
    for *_, stored, computed in tiles:
        assert np.allclose(stored, computed, rtol=offline.F16_RELATIVE_ERROR, atol=1e-7)
    page, tried = open_offline(browser, path)
    assert "needs a kernel" not in _status(page)
    # the field: every pixel the colour Python's LUT gives the stored (float16) value under its
    # centre, but where a tile pixel's edge falls inside a screen pixel (as test_widget_page)
    exact, worst = _matches(page, tiles, level, EXTENT)
    assert exact > 0.99 and worst <= 4
    # hover: λ₁ of the point under the cursor, as stored (and the computed value to 3 digits)
    box = page.locator(".ftle-field").bounding_box()
    x, y = 137.0, 211.0
    page.mouse.move(box["x"] + x, box["y"] + y)
    _frame(page)
    text = page.evaluate("document.querySelector('.ftle-hover').textContent")
    u, v = -1.5 + 3.0 * x / box["width"], 1.5 - 3.0 * y / box["height"]
    _, (a0, a1, b0, b1), stored, computed = max(
        (t for t in tiles if t[0] <= level and t[1][0] <= u < t[1][1] and t[1][2] <= v < t[1][3]),
        key=lambda t: t[0],
    )
    t = stored.shape[0]
    i, j = int((v - b0) / (b1 - b0) * t), int((u - a0) / (a1 - a0) * t)
    shown = float(re.search(r"λ₁ (-?\d+\.\d+)", text).group(1))
    assert f"λ₁ {stored[i, j]:.4f}" in text and abs(shown - computed[i, j]) < 1e-3
    # a colormap switch redraws in Python's viridis, no kernel asked
    page.select_option(".ftle-toolbar [data-action=cmap]", "viridis")
    _frame(page)
    exact, worst = _matches(page, tiles, level, EXTENT, "viridis")
    assert exact > 0.99 and worst <= 4
    page.select_option(".ftle-toolbar [data-action=cmap]", "RdBu_r")
    # the wheel zooms one level (×2) about the cursor: the finer level's tiles are drawn
    generation = page.evaluate(f"{ROOT}.timings.generation")
    page.mouse.move(box["x"] + 300, box["y"] + 150)
    page.mouse.wheel(0, -math.log(2) / 0.002 - 1)
    _drawn(page, generation + 1)
    request = _last_view(page)
    assert request["generation"] > generation
    extent = request["extent"]
    assert abs((extent[1] - extent[0]) - 1.5) < 0.02
    exact, worst = _matches(page, tiles, level + 1, extent)
    assert exact > 0.99 and worst <= 4
    _, finest = _screen(tiles, level + 1, extent, 420, 420)
    assert (finest == level + 1).all()  # every pixel from the finer level
    coarse, _ = _matches(page, tiles, level, extent)  # what the coarser level alone would give
    assert coarse < exact - 0.05
    assert "needs a kernel" not in _status(page)
    # zooming out three levels leaves the stored range: the status says a kernel is needed
    generation = page.evaluate(f"{ROOT}.timings.generation")
    for _ in range(3):
        page.mouse.wheel(0, math.log(2) / 0.002 + 1)
    page.wait_for_function(f"{ROOT}.timings.generation > {generation} && !{ROOT}.timings.settling")
    page.wait_for_function("document.querySelector('.ftle-status').textContent.includes('kernel')")
    assert "the rest needs a kernel" in _status(page)
    assert tried == []  # nothing was asked of the network
    page.close()
