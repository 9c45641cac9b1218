"""The front end in real headless Chromium: the bundled ESM with a fake anywidget model in a blank
page, fed with tiles computed by the Python widget (the fast tier of shared/BROWSER_TESTS.md)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from ftle_widget import Plane, ftle_field
from ftle_widget.export import colorize
from ftle_widget.models import mlp
from ftle_widget.widget import FTLEView

BUNDLE = Path(__file__).resolve().parents[2] / "ftle_widget" / "static" / "widget.js"

PAGE = """
<html><body style="margin:0"><div id="host" style="width:512px"></div>
<script type="module">
  const listeners = {};
  const state = %(state)s;
  window.sent = [];
  window.changes = [];
  const model = {
    get: (k) => state[k],
    set: (k, v) => { state[k] = v; window.changes.push([k, v]); },
    save_changes: () => {},
    send: (msg) => window.sent.push(msg),
    on: (e, f) => { (listeners[e] ||= []).push(f); },
    off: (e, f) => { listeners[e] = (listeners[e] || []).filter((g) => g !== f); },
  };
  window.fire = (e, ...args) => (listeners[e] || []).forEach((f) => f(...args));
  window.setTrait = (k, v) => { state[k] = v; window.fire("change:" + k); };
  window.deliver = (msg, b64s) => {
    const views = b64s.map((s) => {
      const bytes = Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
      const padded = new Uint8Array(bytes.length + 8);  // a DataView at a non-zero offset
      padded.set(bytes, 8);
      return new DataView(padded.buffer, 8, bytes.length);
    });
    window.fire("msg:custom", msg, views);
  };
  const mod = await import("/widget.js");
  window.cleanup = mod.default.render({ model, el: document.getElementById("host") });
  window.ready = true;
</script></body></html>
"""


@pytest.fixture(scope="module", autouse=True)
def bundle_built():
    if not BUNDLE.exists():
        pytest.fail("the bundle is missing: cd js && npm ci && npm run build")


def open_page(browser, state):
    page = browser.new_page(viewport={"width": 600, "height": 500})
    bundle = BUNDLE.read_text()

    def handler(route):
        if route.request.url.endswith("/widget.js"):
            route.fulfill(body=bundle, content_type="text/javascript")
        else:
            route.fulfill(body=PAGE % {"state": json.dumps(state)}, content_type="text/html")

    page.route("http://widget.test/**", handler)
    page.goto("http://widget.test/index.html")
    page.wait_for_function("window.ready === true")
    return page


def python_tiles(extent, width, height):
    """Tiles the Python widget sends for a view, as (message, [base64 buffers])."""
    sent = []
    view = FTLEView(mlp(2, 10, 4, 1, seed=0))
    view.send = lambda content, buffers=None: sent.append((content, buffers or []))
    view._on_message(view, {"kind": "view", "generation": 1, "extent": list(extent),
                            "width": width, "height": height}, [])
    assert view.scheduler.wait(60)
    view.close()
    return [(m, [base64.b64encode(b).decode() for b in bufs]) for m, bufs in sent
            if m["kind"] == "tile"]


def canvas_rgba(page):
    w, h, packed = page.evaluate("""() => {
        const c = document.querySelector('canvas');
        const bytes = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let s = '';
        for (let i = 0; i < bytes.length; i += 0x8000) {
            s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
        }
        return [c.width, c.height, btoa(s)];
    }""")
    return np.frombuffer(base64.b64decode(packed), dtype=np.uint8).reshape(h, w, 4)


STATE = {"extent": [-1.5, 1.5, -1.5, 1.5], "home": [-1.5, 1.5, -1.5, 1.5], "cmap": "RdBu_r",
         "vmin": -1.0, "vmax": 1.0, "quantity": "lambda", "depth": 4.0, "status": "",
         "error": "", "show_boundary": True}


def test_tiles_are_drawn_through_the_lut_and_gestures_request_views(browser):
    page = open_page(browser, STATE)
    first = page.evaluate("window.sent")
    assert first and first[0]["kind"] == "view" and first[0]["extent"] == STATE["extent"]
    width, height = first[0]["width"], first[0]["height"]
    for msg, bufs in python_tiles(STATE["extent"], width, height):
        page.evaluate("([m, b]) => window.deliver(m, b)", [msg, bufs])
    page.wait_for_timeout(100)
    image = canvas_rgba(page)
    # the field at the canvas centre, coloured by Python's LUT, equals the drawn pixel
    h, w = image.shape[:2]
    field = ftle_field(mlp(2, 10, 4, 1, seed=0), Plane.standard(2), (-1.5, 1.5, -1.5, 1.5),
                       (h, w))
    expected = colorize(field.ftle, "RdBu_r", -1.0, 1.0)[::-1]
    close = np.abs(image[:, :, :3].astype(int) - expected[:, :, :3].astype(int)).max(axis=2)
    assert (close <= 40).mean() > 0.9  # tile pixels are stretched onto screen pixels
    assert (image[:, :, 3] == 255).all()  # every screen pixel is covered
    # a wheel event zooms about the cursor: the kernel is asked for a smaller extent
    page.mouse.move(300, 150)
    page.mouse.wheel(0, -240)
    page.wait_for_timeout(250)
    views = [m for m in page.evaluate("window.sent") if m["kind"] == "view"]
    u0, u1, _, _ = views[-1]["extent"]
    assert views[-1]["generation"] > first[0]["generation"] and (u1 - u0) < 3.0
    changes = page.evaluate("window.changes")
    assert changes and changes[-1][0] == "extent"
    # a drag pans: the extent moves opposite to the drag, its size stays
    page.mouse.move(200, 200)
    page.mouse.down()
    page.mouse.move(260, 200, steps=5)
    page.mouse.up()
    page.wait_for_timeout(250)
    after = [m for m in page.evaluate("window.sent") if m["kind"] == "view"][-1]["extent"]
    assert after[0] < u0 and abs((after[1] - after[0]) - (u1 - u0)) < 1e-9
    # a colormap change redraws with no message to the kernel
    count = len(page.evaluate("window.sent"))
    before = canvas_rgba(page)
    page.evaluate("window.setTrait('cmap', 'viridis')")
    page.wait_for_timeout(100)
    assert len(page.evaluate("window.sent")) == count
    assert np.abs(canvas_rgba(page).astype(int) - before.astype(int)).max() > 50
    page.evaluate("window.cleanup()")
    assert page.evaluate("document.querySelector('canvas')") is None
    page.close()


def _canvas(page, selector):
    w, h, packed = page.evaluate("""(sel) => {
        const c = document.querySelector(sel);
        const bytes = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let s = '';
        for (let i = 0; i < bytes.length; i += 0x8000) {
            s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
        }
        return [c.width, c.height, btoa(s)];
    }""", selector)
    return np.frombuffer(base64.b64decode(packed), dtype=np.uint8).reshape(h, w, 4)


def test_colorbar_axes_and_box_zoom(browser):
    page = open_page(browser, STATE)
    bar = _canvas(page, ".ftle-colorbar")
    strip = bar[:, 10, :3].astype(int)  # a column through the LUT strip
    opaque = bar[:, 10, 3] == 255
    rows = np.where(opaque & (strip.sum(axis=1) > 0))[0]
    top, bottom = strip[rows[2]], strip[rows[-3]]
    assert top[0] > top[2] + 60 and bottom[2] > bottom[0] + 60  # RdBu_r: vmax red on top
    assert (bar[:, 30:, 3] > 0).sum() > 50  # tick labels beside the strip
    axes = _canvas(page, ".ftle-overlay")
    assert (axes[:, :, 3] > 0).sum() > 200  # ticks and labels drawn
    # shift-drag zooms to the box (grown to the view's aspect about the box centre)
    start = len(page.evaluate("window.sent"))
    box = page.locator(".ftle-field").bounding_box()
    x0, y0 = box["x"] + 100, box["y"] + 100
    page.keyboard.down("Shift")
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 100, y0 + 80, steps=4)
    page.mouse.up()
    page.keyboard.up("Shift")
    page.wait_for_timeout(250)
    sent = page.evaluate("window.sent")[start:]
    assert sent, "the box zoom asked for no view"
    u0, u1, _, _ = sent[-1]["extent"]
    width = box["width"]
    scale = 3.0 / width  # plane units per CSS pixel before the zoom (square pixels)
    centre_u = -1.5 + (100 + 50) * scale
    assert abs((u0 + u1) / 2 - centre_u) < 2 * scale
    assert (u1 - u0) < 0.5 * 3.0  # zoomed in
    page.close()


def test_hover_reads_value_and_class_from_the_tiles(browser):
    page = open_page(browser, STATE)
    first = page.evaluate("window.sent")[0]
    tiles = python_tiles(STATE["extent"], first["width"], first["height"])
    for msg, bufs in tiles:
        page.evaluate("([m, b]) => window.deliver(m, b)", [msg, bufs])
    box = page.locator(".ftle-field").bounding_box()
    x, y = 137.0, 211.0
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.wait_for_timeout(50)
    text = page.evaluate("document.querySelector('.ftle-hover').textContent")
    u = -1.5 + 3.0 * x / box["width"]
    v = 1.5 - 3.0 * y / box["height"]
    finest = max((m for m, _ in tiles if m["extent"][0] <= u < m["extent"][1]
                  and m["extent"][2] <= v < m["extent"][3]), key=lambda m: m["z"])
    bufs = dict((id(m), b) for m, b in tiles)[id(finest)]
    t = finest["tile_px"]
    values = np.frombuffer(base64.b64decode(bufs[0]), dtype=np.float32).reshape(t, t)
    classes = np.frombuffer(base64.b64decode(bufs[1]), dtype=np.float32).reshape(t, t)
    u0, u1, v0, v1 = finest["extent"]
    j = int((u - u0) / (u1 - u0) * t)
    i = int((v - v0) / (v1 - v0) * t)
    assert f"λ₁ {values[i, j]:.4f}" in text and f"class {classes[i, j]:g}" in text
    assert f"u {u:.4f}"[:6] in text
    page.close()


def test_decision_boundary_overlay_follows_the_predictions(browser):
    page = open_page(browser, STATE)
    first = page.evaluate("window.sent")[0]
    for msg, bufs in python_tiles(STATE["extent"], first["width"], first["height"]):
        page.evaluate("([m, b]) => window.deliver(m, b)", [msg, bufs])
    page.wait_for_timeout(100)
    image = canvas_rgba(page)
    dark = (image[:, :, :3] < 40).all(axis=2)
    h, w = dark.shape
    field = ftle_field(mlp(2, 10, 4, 1, seed=0), Plane.standard(2), (-1.5, 1.5, -1.5, 1.5),
                       (h, w))
    pred = field.prediction[::-1]  # screen rows: top is v1
    edge = np.zeros_like(dark)
    edge[:, :-1] |= pred[:, :-1] != pred[:, 1:]
    edge[:-1, :] |= pred[:-1, :] != pred[1:, :]
    assert edge.sum() > 50 and dark.sum() > 50
    near = np.zeros_like(edge)  # within 3 screen pixels of Python's boundary
    for dy in range(-3, 4):
        for dx in range(-3, 4):
            near |= np.roll(np.roll(edge, dy, 0), dx, 1)
    assert near[dark].mean() > 0.95  # the dark pixels lie on the boundary
    page.evaluate("window.setTrait('show_boundary', false)")
    page.wait_for_timeout(100)
    assert (canvas_rgba(page)[:, :, :3] < 40).all(axis=2).sum() == 0
    page.close()


def test_errors_show_in_red(browser):
    page = open_page(browser, STATE)
    page.evaluate("window.setTrait('error', 'tile (0, 0, 0): RuntimeError: boom')")
    text = page.evaluate("document.querySelector('.ftle-status').textContent")
    colour = page.evaluate("getComputedStyle(document.querySelector('.ftle-status')).color")
    assert "boom" in text and colour == "rgb(204, 0, 0)"
    page.close()
