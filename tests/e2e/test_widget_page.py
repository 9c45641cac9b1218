"""The front end in real headless Chromium: the bundled ESM with a fake anywidget model in a blank
page, fed with tiles computed by the Python widget (the fast tier: no Jupyter server)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
from frontend import BUNDLE, serve_widget_page
from helpers import browser_sends

from ftle_widget import Plane, ftle_field
from ftle_widget.lazy.tiles import Tile
from ftle_widget.paper.models import mlp
from ftle_widget.widget import protocol
from ftle_widget.widget.export import colorize
from ftle_widget.widget.view import FTLEView

# The host is 490 px wide: a 420 × 420 field canvas beside the 70 px colorbar, so the square
# extent of STATE fills it exactly (the widget grows extents to square pixels otherwise).
PAGE = """
<html><body style="margin:0"><div id="host" style="width:490px"></div>
<script type="module">
  const listeners = {};
  const state = %(state)s;
  window.sent = [];
  window.sentAt = [];  // performance.now() of each message sent
  window.changes = [];
  const model = {
    get: (k) => state[k],
    set: (k, v) => { state[k] = v; window.changes.push([k, v]); },
    save_changes: () => {},
    send: (msg) => { window.sent.push(msg); window.sentAt.push(performance.now()); },
    on: (e, f) => { (listeners[e] ||= []).push(f); },
    off: (e, f) => { listeners[e] = (listeners[e] || []).filter((g) => g !== f); },
  };
  window.model = model;  // a second display renders the same model
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


def open_page(browser, state, *, secure=False, permissions=()):
    """The widget rendered on a page with a stand-in model (``window.deliver``, ``window.sent``,
    ``window.changes``); ``secure``: served over https (the clipboard API exists only on secure
    pages), with the browser ``permissions`` granted."""
    page = browser.new_page(viewport={"width": 600, "height": 500}, permissions=list(permissions))
    origin = "https://widget.test" if secure else "http://widget.test"
    serve_widget_page(page, PAGE % {"state": json.dumps(state)}, origin)
    return page


def python_tiles(extent, width, height, generation=1, view=None):
    """Tiles the Python widget sends for a view, as (message, [base64 buffers]); ``view``: an
    FTLEView to ask (kept open: a widget's later views share its pyramid), else a fresh one."""
    own = view is None
    if own:
        view = FTLEView(mlp(2, 10, 4, 1, seed=0))
    sent = []
    view.send = lambda content, buffers=None: sent.append((content, buffers or []))
    browser_sends(
        view,
        {
            "kind": "view",
            "generation": generation,
            "extent": list(extent),
            "width": width,
            "height": height,
        },
    )
    assert view.scheduler.wait(60)
    if own:
        view.close()
    return [
        (m, [base64.b64encode(b).decode() for b in bufs]) for m, bufs in sent if m["kind"] == "tile"
    ]


BOUNDARY_RGB = (25, 25, 25)  # renderer.ts's BOUNDARY_RGBA


def _tiles_on_screen(tiles, extent, h, w, shift=(0.0, 0.0)):
    """λ₁ at each screen pixel's centre (row 0 at the top) from the finest of `tiles` (as
    (message, base64 buffers), all of one model version) holding it, as the canvas draws them;
    NaN where none does. ``shift``: (x, y) screen pixels off the centres."""
    u0, u1, v0, v1 = extent
    ys, xs = np.mgrid[0:h, 0:w]
    u = u0 + (u1 - u0) * (xs + 0.5 + shift[0]) / w
    v = v1 - (v1 - v0) * (ys + 0.5 + shift[1]) / h
    out = np.full((h, w), np.nan, dtype=np.float32)
    finest = np.full((h, w), -(10**9))
    # finer levels over coarser; at one key the full tile over a slow model's preview (fewer
    # pixels), whichever came first, as the browser's store keeps them
    for msg, bufs in sorted(tiles, key=lambda tile: (tile[0]["z"], tile[0]["tile_px"])):
        t = msg["tile_px"]
        a0, a1, b0, b1 = msg["extent"]
        values = np.frombuffer(base64.b64decode(bufs[0]), dtype=np.float32).reshape(t, t)
        inside = (u >= a0) & (u < a1) & (v >= b0) & (v < b1) & (msg["z"] >= finest)
        j = np.clip(((u - a0) / (a1 - a0) * t).astype(int), 0, t - 1)
        i = np.clip(((v - b0) / (b1 - b0) * t).astype(int), 0, t - 1)
        out[inside] = values[i[inside], j[inside]]
        finest[inside] = msg["z"]
    return out


def _frame(page):
    """Wait until what was asked for is drawn: the widget draws in requestAnimationFrame, and
    the browser dispatches input events (pointer moves) before a frame's callbacks, so two frames
    on, every event and redraw before this call has happened."""
    page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


SETTLED = """(n) => !document.querySelector('.ftle-widget').timings.settling
    && window.sent.filter((m, k) => m.kind === 'view' && %s).length > n"""


def _asked(page, before):
    """Wait for the view request a gesture or an extent change ends with (the widget asks once
    the view has settled, 100 ms on; a slow gesture may ask part way through too), beyond the
    first `before`, and the frame after it; returns the requests since those."""
    _frame(page)  # the gesture's input events are dispatched
    page.wait_for_function(SETTLED % "true", arg=before)
    _frame(page)
    return _views(page)[before:]


def _now(page):
    """The page's clock (performance.now(), ms), as window.sentAt records sends."""
    return page.evaluate("performance.now()")


def _asked_since(page, t):
    """As :func:`_asked`, for the requests sent after page time `t` (taken before the gesture)."""
    _frame(page)
    page.wait_for_function(SETTLED % f"window.sentAt[k] > {t!r}", arg=0)
    _frame(page)
    sent, times = page.evaluate("[window.sent, window.sentAt]")
    return [m for m, at in zip(sent, times, strict=True) if at > t and m["kind"] == "view"]


def canvas_rgba(page):
    """RGBA pixels of the field canvas (the first canvas of the widget)."""
    return _rgba_of(page, "document.querySelector('canvas')")


STATE = {
    "extent": [-1.5, 1.5, -1.5, 1.5],
    "home": [-1.5, 1.5, -1.5, 1.5],
    "cmap": "RdBu_r",
    "vmin": -1.0,
    "vmax": 1.0,
    "quantity": "lambda",
    "depth": 4.0,
    "status": "",
    "error": "",
    "show_boundary": True,
    "show_data": True,
    "show_directions": False,
    "plane_info": {"input_shape": [2], "image_shape": None},
}


def test_tiles_are_drawn_through_the_lut_and_gestures_request_views(browser):
    page = open_page(browser, STATE)
    first = page.evaluate("window.sent")
    assert first and first[0]["kind"] == "view" and first[0]["extent"] == STATE["extent"]
    assert (first[0]["width"], first[0]["height"]) == (420, 420)
    width, height = first[0]["width"], first[0]["height"]
    tiles = python_tiles(STATE["extent"], width, height)
    for msg, bufs in tiles:
        page.evaluate("([m, b]) => window.deliver(m, b)", [msg, bufs])
    _frame(page)
    image = canvas_rgba(page)
    assert (image[:, :, 3] == 255).all()  # every screen pixel is covered
    # the decision boundary's pixels (show_boundary) aside, each pixel is the colour Python's
    # LUT gives the tile pixel under its centre: the LUT and its index arithmetic are shared, so
    # they agree exactly; only where a tile pixel's edge falls inside a screen pixel may the
    # browser's nearest-neighbour stretch pick the neighbour (measured: 0.2 % of the pixels,
    # at most 3/255 apart in this smooth field)
    h, w = image.shape[:2]
    marked = (image[:, :, :3] == BOUNDARY_RGB).all(axis=2)
    assert 0 < marked.mean() < 0.01
    sampled = colorize(_tiles_on_screen(tiles, STATE["extent"], h, w), "RdBu_r", -1.0, 1.0)
    gap = np.abs(image[:, :, :3].astype(int) - sampled[:, :, :3].astype(int)).max(axis=2)
    assert (gap[~marked] == 0).mean() > 0.99 and gap[~marked].max() <= 4
    # and the tiles are the field: Python's field at the screen pixels' centres, coloured, is
    # within the same 3/255 (measured; adjacent samples of a smooth field)
    field = ftle_field(mlp(2, 10, 4, 1, seed=0), Plane.standard(2), (-1.5, 1.5, -1.5, 1.5), (h, w))
    expected = colorize(field.ftle, "RdBu_r", -1.0, 1.0)[::-1]
    close = np.abs(image[:, :, :3].astype(int) - expected[:, :, :3].astype(int)).max(axis=2)
    assert close[~marked].max() <= 4
    # a wheel event zooms about the cursor: the kernel is asked for a smaller extent
    asked = len(_views(page))
    page.mouse.move(300, 150)
    page.mouse.wheel(0, -240)
    _asked(page, asked)
    views = [m for m in page.evaluate("window.sent") if m["kind"] == "view"]
    u0, u1, _, _ = views[-1]["extent"]
    assert views[-1]["generation"] > first[0]["generation"] and (u1 - u0) < 3.0
    changes = page.evaluate("window.changes")
    assert changes and changes[-1][0] == "extent"
    # a drag pans: the extent moves opposite to the drag, its size stays
    asked = len(_views(page))
    page.mouse.move(200, 200)
    page.mouse.down()
    page.mouse.move(260, 200, steps=5)
    page.mouse.up()
    _asked(page, asked)
    after = [m for m in page.evaluate("window.sent") if m["kind"] == "view"][-1]["extent"]
    assert after[0] < u0 and abs((after[1] - after[0]) - (u1 - u0)) < 1e-9
    # a colormap change redraws with no message to the kernel
    count = len(page.evaluate("window.sent"))
    before = canvas_rgba(page)
    page.evaluate("window.setTrait('cmap', 'viridis')")
    _frame(page)
    assert len(page.evaluate("window.sent")) == count
    assert np.abs(canvas_rgba(page).astype(int) - before.astype(int)).max() > 50
    page.evaluate("window.cleanup()")
    assert page.evaluate("document.querySelector('canvas')") is None
    page.close()


def _canvas(page, selector):
    return _rgba_of(page, f"document.querySelector('{selector}')")


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
    start = asked = len(_views(page))
    box = page.locator(".ftle-field").bounding_box()
    x0, y0 = box["x"] + 100, box["y"] + 100
    page.keyboard.down("Shift")
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 100, y0 + 80, steps=4)
    page.mouse.up()
    page.keyboard.up("Shift")
    _asked(page, asked)
    sent = _views(page)[start:]
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
    _frame(page)
    text = page.evaluate("document.querySelector('.ftle-hover').textContent")
    u = -1.5 + 3.0 * x / box["width"]
    v = 1.5 - 3.0 * y / box["height"]
    finest = max(
        (
            m
            for m, _ in tiles
            if m["extent"][0] <= u < m["extent"][1] and m["extent"][2] <= v < m["extent"][3]
        ),
        key=lambda m: m["z"],
    )
    bufs = dict((id(m), b) for m, b in tiles)[id(finest)]
    t = finest["tile_px"]
    values = np.frombuffer(base64.b64decode(bufs[0]), dtype=np.float32).reshape(t, t)
    assert finest["prediction_dtype"] == "uint8"  # one byte a class index
    classes = np.frombuffer(base64.b64decode(bufs[1]), dtype=np.uint8).reshape(t, t)
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
    _frame(page)
    image = canvas_rgba(page)
    dark = (image[:, :, :3] < 40).all(axis=2)
    h, w = dark.shape
    field = ftle_field(mlp(2, 10, 4, 1, seed=0), Plane.standard(2), (-1.5, 1.5, -1.5, 1.5), (h, w))
    pred = field.prediction[::-1]  # screen rows: top is v1
    edge = np.zeros_like(dark)
    edge[:, :-1] |= pred[:, :-1] != pred[:, 1:]
    edge[:-1, :] |= pred[:-1, :] != pred[1:, :]
    assert edge.sum() > 300 and dark.sum() > 150  # a line across the view (~670 and ~340 px)
    # precision: every dark pixel lies on Python's boundary (measured: all within 1 px)
    assert _dilate(edge, 2)[dark].all()
    # completeness: the whole boundary is drawn, every pixel of Python's within 3 px of a dark
    # one (measured: all within 3 px, all but one within 2 px; the tiles' pixels are not the
    # screen's), from one end of the line to the other
    assert _dilate(dark, 3)[edge].all()
    ys, xs = np.nonzero(edge)
    along = np.argsort(xs - ys)  # the line runs from top left to bottom right
    for part in np.array_split(along, 10):
        assert dark[ys[part].min() : ys[part].max() + 1, xs[part].min() : xs[part].max() + 1].any()
    page.evaluate("window.setTrait('show_boundary', false)")
    _frame(page)
    assert (canvas_rgba(page)[:, :, :3] < 40).all(axis=2).sum() == 0
    page.close()


def test_errors_show_in_red(browser):
    page = open_page(browser, STATE)
    page.evaluate("window.setTrait('error', 'tile (0, 0, 0): RuntimeError: boom')")
    text = page.evaluate("document.querySelector('.ftle-status').textContent")
    colour = page.evaluate("getComputedStyle(document.querySelector('.ftle-status')).color")
    assert "boom" in text and colour == "rgb(204, 0, 0)"
    page.close()


def _status(page):
    return page.evaluate(
        """(() => { const s = document.querySelector('.ftle-status');
        return [s.textContent, getComputedStyle(s).color]; })()"""
    )


def test_failed_tiles_are_hatched_over_their_stand_in_and_named(browser):
    page = open_page(browser, STATE)
    generation = page.evaluate("window.sent")[0]["generation"]
    # a red stand-in: level 0 (side 1.5) over the top-left quarter of the view
    msg, arrays = _direction_tile(generation, -1, (-1.5, 0, 0, 1.5), (1.0, 0.0))
    arrays[0] = np.full((8, 8), 0.75)
    _deliver(page, msg, arrays)
    # its child (1, 0, -1), plane (-0.75, 0, 0, 0.75), failed; an older request's failure and
    # one for another tile of an older generation are dropped
    failure = {"kind": "error", "message": "tile (1, 0, -1): RuntimeError: boom"}
    _deliver(page, {**failure, "generation": generation, "key": [1, 0, -1]}, [])
    _deliver(page, {**failure, "generation": generation - 1, "key": [1, 1, -2]}, [])
    _frame(page)
    text, colour = _status(page)
    assert text == "1 tile failed: tile (1, 0, -1): RuntimeError: boom"
    assert colour == "rgb(204, 0, 0)"
    image = canvas_rgba(page)
    _, width, height = _field_size(page)
    x0, y0 = _screen(-0.75, 0.75, width, height)
    x1, y1 = _screen(0.0, 0.0, width, height)
    inside = image[round(y0) + 2 : round(y1) - 2, round(x0) + 2 : round(x1) - 2].astype(int)
    grey = (inside[:, :, 0] == inside[:, :, 1]) & (inside[:, :, 1] == inside[:, :, 2])
    assert grey.all() and (inside[:, :, 3] == 255).all()
    assert inside[:, :, 0].min() >= 90 and inside[:, :, 0].max() <= 165
    assert (inside[:, :, 0] > 150).mean() > 0.3 and (inside[:, :, 0] < 110).mean() > 0.1  # stripes
    # the stand-in around it is still red, also where the older request's failure lies
    cy, cx = (round(y0) + round(y1)) // 2, (round(x0) + round(x1)) // 2
    sx, sy = (round(c) for c in _screen(-1.1, 1.1, width, height))  # tile (1, 1, -2)

    def is_red(y, x, image):
        r, _, b = image[y, x, :3].astype(int)
        return r > b + 60

    assert is_red(round(y0) - 20, cx, image) and is_red(cy, round(x0) - 20, image)
    assert is_red(sy, sx, image)
    # a second failure, of this request: counted, the first one's message named, hatched
    _deliver(page, {**failure, "generation": generation, "key": [1, 1, -2]}, [])
    _frame(page)
    assert _status(page)[0].startswith("2 tiles failed: tile (1, 0, -1)")
    image = canvas_rgba(page)
    assert not is_red(sy, sx, image) and len(set(image[sy, sx, :3])) == 1
    # the composed PNG shows the hatch too
    png = _rgba_of(page, "document.querySelector('.ftle-widget').composeImage()")
    assert png[cy, cx, 0] == png[cy, cx, 1] == png[cy, cx, 2]
    # a new request (the extent set again): the failures are stale, the stand-in shows again
    asked = len(_views(page))
    page.evaluate("window.setTrait('extent', [-1.5, 1.5, -1.5, 1.5])")
    _asked(page, asked)
    assert _views(page)[-1]["generation"] == generation + 1
    text, colour = _status(page)
    assert "failed" not in text and colour != "rgb(204, 0, 0)"
    image = canvas_rgba(page)
    assert is_red(cy, cx, image) and is_red(sy, sx, image)
    page.close()


def _landed(page):
    """Wait until a view moved from Python has flown there (js/src/flight.ts), then a frame."""
    page.wait_for_function("!document.querySelector('.ftle-widget').dataset.flying")
    _frame(page)


def _b64(array) -> str:
    """Bytes as they are, an array as float32."""
    if isinstance(array, bytes):
        return base64.b64encode(array).decode()
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.float32).tobytes()).decode()


def _deliver(page, msg, arrays):
    page.evaluate("([m, b]) => window.deliver(m, b)", [msg, [_b64(a) for a in arrays]])


def _field_size(page):
    box = page.locator(".ftle-field").bounding_box()
    return box, box["width"], box["height"]


def _screen(u, v, width, height, extent=(-1.5, 1.5, -1.5, 1.5)):
    u0, u1, v0, v1 = extent
    return (u - u0) / (u1 - u0) * width, (v1 - v) / (v1 - v0) * height


TABLEAU = {0: (0x4E, 0x79, 0xA7), 1: (0xF2, 0x8E, 0x2C)}


def test_data_points_are_drawn_in_class_colours_and_toggle_off(browser):
    page = open_page(browser, STATE)
    assert {"kind": "data_request"} in page.evaluate("window.sent")
    _, width, height = _field_size(page)
    points = [(-0.8, 0.6, 0), (0.7, -0.4, 1), (0.2, 0.9, -1), (-0.3, -0.9, 1), (5.0, 5.0, 0)]
    uv = np.array([p[:2] for p in points])
    cls = np.array([p[2] for p in points])
    _deliver(page, {"kind": "data", "count": len(points), "labels": ["zero", "one"]}, [uv, cls])
    _frame(page)
    image = _canvas(page, ".ftle-overlay")
    assert image.shape[:2] == (round(height), round(width))
    for u, v, c in points[:4]:
        x, y = _screen(u, v, width, height)
        r, g, b, a = image[int(y), int(x)].astype(int)
        expected = TABLEAU.get(c, (0x8C, 0x8C, 0x8C))
        assert (
            a == 255 and max(abs(r - expected[0]), abs(g - expected[1]), abs(b - expected[2])) <= 3
        ), (u, v, (r, g, b, a))
        patch = image[int(y) - 4 : int(y) + 5, int(x) - 4 : int(x) + 5].astype(int)
        same = (np.abs(patch[:, :, :3] - expected).max(axis=2) <= 3) & (patch[:, :, 3] == 255)
        assert 3 <= same.sum() <= 16  # the inside of a disc of radius 2.5 px …
        assert 16 <= (patch[:, :, 3] > 0).sum() <= 45  # … and its rim
        white = (patch[:, :, :3].min(axis=2) > 200) & (patch[:, :, 3] > 60)
        assert white.sum() >= 4  # the outline
        assert patch[0, 0, 3] == 0 and patch[-1, -1, 3] == 0  # nothing beyond the disc
    # the legend lists the classes
    legend = page.evaluate("document.querySelector('.ftle-legend').textContent")
    assert "zero" in legend and "one" in legend and "unlabelled" in legend
    # a new data message replaces the points
    _deliver(
        page,
        {"kind": "data", "count": 1, "labels": ["zero", "one"]},
        [np.array([[0.0, 0.0]]), np.array([1.0])],
    )
    _frame(page)
    image = _canvas(page, ".ftle-overlay")
    x, y = _screen(-0.8, 0.6, width, height)
    assert image[int(y) - 4 : int(y) + 5, int(x) - 4 : int(x) + 5, 3].max() == 0
    x, y = _screen(0.0, 0.0, width, height)
    assert tuple(image[int(y), int(x)]) == (*TABLEAU[1], 255)
    # show_data off (from Python): the points go, the axes stay
    page.evaluate("window.setTrait('show_data', false)")
    _frame(page)
    image = _canvas(page, ".ftle-overlay")
    assert image[int(y) - 4 : int(y) + 5, int(x) - 4 : int(x) + 5, 3].max() == 0
    assert (image[:, :, 3] > 0).sum() > 200
    # an empty data message with no buffers is fine
    page.evaluate("window.setTrait('show_data', true)")
    _deliver(page, {"kind": "data", "count": 0, "labels": []}, [])
    _frame(page)
    image = _canvas(page, ".ftle-overlay")
    assert image[int(y) - 4 : int(y) + 5, int(x) - 4 : int(x) + 5, 3].max() == 0
    assert page.evaluate("document.querySelector('.ftle-status').textContent") == ""
    page.close()


def _direction_tile(generation, j, extent, direction, tile_px=8):
    """Tile (0, 0, j) over ``extent``, λ₁ and class 0 everywhere, ``direction`` at every pixel,
    as Python encodes it: (message, buffers as bytes)."""
    zeros = np.zeros((tile_px, tile_px), dtype=np.float32)
    along = np.broadcast_to(np.asarray(direction, dtype=np.float32), (tile_px, tile_px, 2))
    tile = Tile((0, 0, j), tuple(extent), zeros, zeros, along.copy(), 0, "float32")
    msg, buffers = protocol.encode_tile(tile, generation)
    return msg, list(buffers)


def _principal_angle(patch):
    """Angle (degrees, in [0, 180), y down) and extent of the inked pixels' principal axis."""
    ys, xs = np.nonzero(patch[:, :, 3] > 100)
    w = patch[ys, xs, 3].astype(float)
    cx, cy = np.average(xs, weights=w), np.average(ys, weights=w)
    cov = np.cov(np.vstack([xs - cx, ys - cy]), aweights=w)
    values, vectors = np.linalg.eigh(cov)
    ax = vectors[:, 1]
    along = (xs - cx) * ax[0] + (ys - cy) * ax[1]
    return (
        np.degrees(np.arctan2(ax[1], ax[0])) % 180,
        along.max() - along.min(),
        np.sqrt(values[0]),
        (cx, cy),
    )


def test_direction_segments_follow_the_tiles_directions(browser):
    page = open_page(browser, STATE)
    generation = page.evaluate("window.sent")[0]["generation"]
    page.evaluate("window.setTrait('show_directions', true)")
    # top-left quadrant: (1, 1)/√2; top-right quadrant: (2, 0) (not unit length); bottom: none
    for msg, arrays in (
        _direction_tile(generation, -1, (-1.5, 0, 0, 1.5), (0.5**0.5, 0.5**0.5)),
        _direction_tile(generation, 0, (0, 1.5, 0, 1.5), (2.0, 0.0)),
    ):
        _deliver(page, msg, arrays)
    _frame(page)
    image = _canvas(page, ".ftle-overlay")
    _, width, height = _field_size(page)
    s = width / 11
    # the screen direction of (1, 1) in a view with different scales along u and v
    diagonal = np.degrees(np.arctan2(-height / 3, width / 3)) % 180
    checked = {"diagonal": 0, "horizontal": 0, "empty": 0}
    for m in range(int(height / s)):
        for k in range(1, 11):
            x, y = (k + 0.5) * s, (m + 0.5) * s
            if y + 0.5 * s > height - 25:
                continue  # the u axis labels
            u, v = -1.5 + 3 * x / width, 1.5 - 3 * y / height
            if abs(v) < 0.5 * s * 3 / height:
                continue  # a segment across the tiles' edge at v = 0
            h = int(0.45 * s)
            patch = image[int(y) - h : int(y) + h + 1, int(x) - h : int(x) + h + 1]
            if v < 0:
                assert patch[:, :, 3].max() == 0, (k, m)
                checked["empty"] += 1
                continue
            ink = patch[:, :, 3] > 100
            assert ink.sum() > 15 and (patch[ink][:, :3] < 60).all()  # black-ish ink
            angle, length, spread, (cx, cy) = _principal_angle(patch)
            expected = diagonal if u < 0 else 0.0
            off = min(abs(angle - expected), 180 - abs(angle - expected))
            assert off < 4, (k, m, angle, expected)
            assert abs(length - 0.7 * s) < 3 and spread < 1.2, (length, spread)
            assert abs(cx - h) < 1.5 and abs(cy - h) < 1.5, (k, m)  # centred on the grid point
            checked["diagonal" if u < 0 else "horizontal"] += 1
    assert checked["diagonal"] >= 8 and checked["horizontal"] >= 8 and checked["empty"] >= 8
    # directions off: the segments go
    page.evaluate("window.setTrait('show_directions', false)")
    _frame(page)
    image = _canvas(page, ".ftle-overlay")
    x, y = 2.5 * s, 1.5 * s
    assert image[int(y) - 10 : int(y) + 11, int(x) - 10 : int(x) + 11, 3].max() == 0
    page.close()


def _pressed(page, action):
    return page.evaluate(
        f"document.querySelector('.ftle-toolbar [data-action=\"{action}\"]')"
        ".getAttribute('aria-pressed')"
    )


def _views(page):
    return [m for m in page.evaluate("window.sent") if m["kind"] == "view"]


def test_toolbar_toggles_reset_box_mode_and_colormap(browser):
    page = open_page(browser, STATE)
    actions = page.evaluate(
        "[...document.querySelectorAll('.ftle-toolbar [data-action]')].map(e => e.dataset.action)"
    )
    assert set(actions) >= {"reset", "box", "boundary", "data", "directions", "png", "cmap"}
    assert [_pressed(page, a) for a in ("box", "boundary", "data", "directions")] == [
        "false",
        "true",
        "true",
        "false",
    ]
    # the toggles set the traits and show them
    for action, trait, before in (
        ("data", "show_data", True),
        ("directions", "show_directions", False),
        ("boundary", "show_boundary", True),
    ):
        page.click(f'.ftle-toolbar [data-action="{action}"]')
        assert page.evaluate("window.changes")[-1] == [trait, not before]
        assert _pressed(page, action) == str(not before).lower()
        page.click(f'.ftle-toolbar [data-action="{action}"]')
        assert page.evaluate("window.changes")[-1] == [trait, before]
        assert _pressed(page, action) == str(before).lower()
    # … and follow the traits when Python changes them
    page.evaluate("window.setTrait('show_directions', true)")
    page.evaluate("window.setTrait('show_data', false)")
    assert _pressed(page, "directions") == "true" and _pressed(page, "data") == "false"
    # the colormap select lists the colormaps and sets the trait
    names = list(json.loads((BUNDLE.parents[1] / "colormaps.json").read_text()))
    options = page.evaluate(
        "[...document.querySelectorAll('select[data-action=cmap] option')].map(o => o.value)"
    )
    assert options == names
    assert page.evaluate("document.querySelector('select[data-action=cmap]').value") == "RdBu_r"
    other = next(n for n in names if n != "RdBu_r")
    page.select_option("select[data-action=cmap]", other)
    assert page.evaluate("window.changes")[-1] == ["cmap", other]
    page.evaluate("window.setTrait('cmap', 'RdBu_r')")
    assert page.evaluate("document.querySelector('select[data-action=cmap]').value") == "RdBu_r"
    # zoom in, then reset: extent := home and the home view is requested
    box, width, height = _field_size(page)
    asked = len(_views(page))
    page.mouse.move(box["x"] + 300, box["y"] + 150)
    page.mouse.wheel(0, -240)
    _asked(page, asked)
    zoomed = _views(page)[-1]["extent"]
    assert zoomed[1] - zoomed[0] < 3.0
    asked = len(_views(page))
    page.click('.ftle-toolbar [data-action="reset"]')
    _asked(page, asked)
    assert page.evaluate("window.changes")[-1] == ["extent", STATE["home"]]
    assert _views(page)[-1]["extent"] == STATE["home"]
    # box mode: a plain drag zooms to the box instead of panning
    page.click('.ftle-toolbar [data-action="box"]')
    assert _pressed(page, "box") == "true"
    start = len(_views(page))
    page.mouse.move(box["x"] + 100, box["y"] + 100)
    page.mouse.down()
    page.mouse.move(box["x"] + 200, box["y"] + 180, steps=4)
    page.mouse.up()
    _asked(page, start)
    views = _views(page)[start:]
    assert views
    u0, u1, v0, v1 = views[-1]["extent"]
    assert u1 - u0 < 1.5
    assert abs((u0 + u1) / 2 - (-1.5 + 150 * 3 / width)) < 0.02
    assert abs((v0 + v1) / 2 - (1.5 - 140 * 3 / height)) < 0.02
    # box mode off: a plain drag pans again (same size)
    page.click('.ftle-toolbar [data-action="box"]')
    asked = len(_views(page))
    assert _pressed(page, "box") == "false"
    page.mouse.move(box["x"] + 200, box["y"] + 200)
    page.mouse.down()
    page.mouse.move(box["x"] + 260, box["y"] + 200, steps=4)
    page.mouse.up()
    _asked(page, asked)
    after = _views(page)[-1]["extent"]
    assert after[0] < u0 and abs((after[1] - after[0]) - (u1 - u0)) < 1e-9
    page.close()


def _rgba_of(page, expression):
    """RGBA pixels of the canvas a JavaScript expression gives."""
    w, h, packed = page.evaluate(
        """(expr) => {
        const c = eval(expr);
        const bytes = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let s = '';
        for (let i = 0; i < bytes.length; i += 0x8000) {
            s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
        }
        return [c.width, c.height, btoa(s)];
    }""",
        expression,
    )
    return np.frombuffer(base64.b64decode(packed), dtype=np.uint8).reshape(h, w, 4)


def test_extents_are_grown_to_square_pixels(browser):
    state = dict(STATE, extent=[0.0, 1.0, 0.0, 3.0])  # tall: grown along u about its centre
    page = open_page(browser, state)
    u0, u1, v0, v1 = page.evaluate("window.sent")[0]["extent"]
    assert (v0, v1) == (0.0, 3.0) and abs(u0 + 1.0) < 1e-12 and abs(u1 - 2.0) < 1e-12
    asked = len(_views(page))
    page.evaluate("window.setTrait('extent', [0, 2, 5, 5.5])")  # wide: grown along v
    _asked(page, asked)
    u0, u1, v0, v1 = page.evaluate("window.sent")[-1]["extent"]
    assert (u0, u1) == (0.0, 2.0) and abs(v0 - 4.25) < 1e-12 and abs(v1 - 6.25) < 1e-12
    page.close()


def test_png_composes_field_overlay_and_colorbar(browser):
    page = open_page(browser, STATE)
    generation = page.evaluate("window.sent")[0]["generation"]
    msg, arrays = _direction_tile(generation, -1, (-1.5, 0, 0, 1.5), (1.0, 0.0))
    arrays[0] = np.full((8, 8), 0.75)  # a red field quarter under RdBu_r, vmax 1
    _deliver(page, msg, arrays)
    _deliver(
        page,
        {"kind": "data", "count": 1, "labels": ["a"]},
        [np.array([[-0.7, 0.8]]), np.array([0.0])],
    )
    _frame(page)
    field = _canvas(page, ".ftle-field")
    overlay = _canvas(page, ".ftle-overlay")
    bar = _canvas(page, ".ftle-colorbar")
    image = _rgba_of(page, "document.querySelector('.ftle-widget').composeImage()")
    assert image.shape == (max(field.shape[0], bar.shape[0]), field.shape[1] + bar.shape[1], 4)
    assert (image[:, :, 3] == 255).all()  # opaque: the background fills the rest
    fw = field.shape[1]
    # the colorbar, pixel for pixel, where it is opaque (the LUT strip)
    solid = bar[:, :, 3] == 255
    assert solid.sum() > 1000
    assert (image[:, fw:][solid] == bar[solid]).all()
    # the field where the overlay is empty, the overlay's opaque pixels over it
    clear = (overlay[:, :, 3] == 0) & (field[:, :, 3] == 255)
    assert clear.sum() > 10000
    assert (image[:, :fw][clear] == field[clear]).all()
    x, y = _screen(-0.7, 0.8, fw, field.shape[0])
    assert tuple(image[int(y), int(x)]) == (*TABLEAU[0], 255)  # the data point
    red = image[100, 100, :3].astype(int)
    assert red[0] > red[2] + 60  # the field's quarter
    # the PNG button downloads that picture
    with page.expect_download() as download:
        page.click('.ftle-toolbar [data-action="png"]')
    assert download.value.suggested_filename == "ftle_field.png"
    data = Path(download.value.path()).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == image.shape[1]
    assert int.from_bytes(data[20:24], "big") == image.shape[0]
    page.close()


def _input_requests(page):
    return [m for m in page.evaluate("window.sent") if m["kind"] == "input_request"]


def test_hover_pictures_of_image_inputs(browser):
    state = dict(STATE, plane_info={"input_shape": [1, 8, 8], "image_shape": [8, 8]})
    page = open_page(browser, state)
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.ftle-input')).display") != "none"
    )
    box, width, height = _field_size(page)
    x, y = 137.0, 211.0
    page.mouse.move(box["x"] + x, box["y"] + y)
    _frame(page)
    requests = _input_requests(page)
    assert len(requests) == 1 and requests[0]["id"] == 1
    assert abs(requests[0]["u"] - (-1.5 + 3 * x / width)) < 1e-9
    assert abs(requests[0]["v"] - (1.5 - 3 * y / height)) < 1e-9
    gradient = np.arange(64, dtype=np.float32).reshape(8, 8)
    # in one go (well within the 500 ms timeout): a second move sends nothing while request 1 is
    # out; its reply draws the picture and sends the newest position
    x2, y2 = 300.0, 100.0
    counts = page.evaluate(
        """([x, y, reply, b64]) => {
        const c = document.querySelector('.ftle-field');
        const r = c.getBoundingClientRect();
        const n = () => window.sent.filter((m) => m.kind === 'input_request').length;
        c.dispatchEvent(new PointerEvent('pointermove', {clientX: r.left + x - 40,
                                                         clientY: r.top + y, bubbles: true}));
        c.dispatchEvent(new PointerEvent('pointermove', {clientX: r.left + x,
                                                         clientY: r.top + y, bubbles: true}));
        const during = n();
        window.deliver(reply, [b64]);
        return [during, n()];
    }""",
        [
            x2,
            y2,
            {
                "kind": "input",
                "id": 1,
                "u": requests[0]["u"],
                "v": requests[0]["v"],
                "shape": [8, 8],
                "vmin": 0.0,
                "vmax": 63.0,
            },
            _b64(gradient),
        ],
    )
    assert counts == [1, 2]
    second = _input_requests(page)[-1]
    assert second["id"] == 2
    assert abs(second["u"] - (-1.5 + 3 * x2 / width)) < 1e-9
    assert abs(second["v"] - (1.5 - 3 * y2 / height)) < 1e-9
    picture = _canvas(page, ".ftle-input")
    expected = np.round(gradient / 63 * 255).astype(int)
    assert picture.shape == (8, 8, 4)
    for channel in range(3):
        assert (picture[:, :, channel] == expected).all()
    assert (picture[:, :, 3] == 255).all()
    style = page.evaluate("""(() => { const s = getComputedStyle(document.querySelector(
        '.ftle-input')); return [s.width, s.height, s.imageRendering]; })()""")
    assert style == ["64px", "64px", "pixelated"]
    # the reply to request 2, an RGB picture, clipped to [vmin, vmax]
    rgb = np.stack([gradient, 63 - gradient, np.full((8, 8), 100.0)])
    _deliver(
        page,
        {
            "kind": "input",
            "id": 2,
            "u": second["u"],
            "v": second["v"],
            "shape": [3, 8, 8],
            "vmin": 0.0,
            "vmax": 63.0,
        },
        [rgb],
    )
    picture = _canvas(page, ".ftle-input")
    assert (picture[:, :, 0] == expected).all() and (picture[:, :, 1] == 255 - expected).all()
    assert (picture[:, :, 2] == 255).all()
    # a stale reply (id 1 again) is ignored
    _deliver(
        page,
        {"kind": "input", "id": 1, "u": 0.0, "v": 0.0, "shape": [8, 8], "vmin": 0.0, "vmax": 1.0},
        [np.zeros((8, 8))],
    )
    assert (_canvas(page, ".ftle-input")[:, :, 0] == expected).all()
    # one out, one held: the held position goes out when no reply came within 500 ms
    page.mouse.move(box["x"] + 50, box["y"] + 60)
    _frame(page)
    third = _input_requests(page)[-1]
    assert third["id"] == 3
    page.mouse.move(box["x"] + 70, box["y"] + 90)
    _frame(page)
    assert _input_requests(page)[-1]["id"] == 3  # held while 3 is out
    page.wait_for_function(
        "() => window.sent.filter((m) => m.kind === 'input_request').length >= 4", timeout=5000
    )
    fourth = _input_requests(page)[-1]
    assert fourth["id"] == 4 and abs(fourth["u"] - (-1.5 + 3 * 70 / width)) < 1e-9
    sent, at = page.evaluate("[window.sent, window.sentAt]")
    waited = at[sent.index(fourth)] - at[sent.index(third)]
    assert 500 <= waited < 2000, waited  # the reply's timeout, not sooner
    # not an image: no picture, no requests
    page.evaluate("window.setTrait('plane_info', {input_shape: [2], image_shape: null})")
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.ftle-input')).display") == "none"
    )
    count = len(_input_requests(page))
    page.mouse.move(box["x"] + 120, box["y"] + 120)
    _frame(page)
    assert len(_input_requests(page)) == count
    page.close()


def test_ink_follows_the_jupyterlab_theme(browser):
    page = open_page(browser, STATE)

    def ink():
        axes = _canvas(page, ".ftle-overlay")
        solid = axes[axes[:, :, 3] >= 160][:, :3].astype(int)
        assert len(solid) > 50  # ticks and labels
        return solid.mean(axis=0)

    assert ink().max() < 80  # the light theme's dark ink (no theme variable: #222)
    page.evaluate(
        "document.getElementById('host').style.setProperty("
        "'--jp-ui-font-color1', 'rgb(240, 240, 240)')"
    )  # JupyterLab Dark
    page.evaluate("window.setTrait('cmap', 'viridis')")  # any redraw picks the theme up
    _frame(page)
    assert ink().min() > 200
    page.close()


def _quadrant_tiles(generation, ftle, prediction, tile_px=8):
    """The four level-0 tiles (side 1.5) covering the home view, valued by ftle(u, v) and
    prediction(u, v) at their pixel centres (row 0 at v0), as Python encodes them: (message,
    buffers as bytes)."""
    out = []
    side = 1.5
    for i in (-1, 0):
        for j in (-1, 0):
            u0, v0 = j * side, i * side
            centres = (np.arange(tile_px) + 0.5) / tile_px * side
            u, v = np.meshgrid(u0 + centres, v0 + centres)  # [row, column]: row 0 at v0
            values = (np.asarray(ftle(u, v), dtype=float) * np.ones_like(u)).astype(np.float32)
            classes = (np.asarray(prediction(u, v), dtype=float) * np.ones_like(u)).astype(
                np.float32
            )
            extent = (u0, u0 + side, v0, v0 + side)
            msg, buffers = protocol.encode_tile(
                Tile((0, i, j), extent, values, classes, None, 0, "float32"), generation
            )
            out.append((msg, list(buffers)))
    return out


def test_unknown_trait_values_fall_back_and_say_so(browser):
    page = open_page(browser, dict(STATE, show_boundary=False))
    generation = page.evaluate("window.sent")[0]["generation"]
    for msg, arrays in _quadrant_tiles(generation, lambda u, v: u / 2, lambda u, v: 0 * u):
        _deliver(page, msg, arrays)
    _frame(page)
    rdbu = canvas_rgba(page)
    assert (rdbu[:, :, 3] == 255).all() and rdbu[:, :, :3].std() > 20
    assert _status(page)[0] == ""

    def after(trait, value):
        page.evaluate("([k, v]) => window.setTrait(k, v)", [trait, value])
        _frame(page)
        return canvas_rgba(page), _status(page)

    # an unknown colormap: the last valid one (here the first, RdBu_r) is drawn, and named
    image, (text, colour) = after("cmap", "jet")
    assert (image == rdbu).all()
    assert "unknown colormap 'jet': showing RdBu_r" in text and colour == "rgb(204, 0, 0)"
    bar = _canvas(page, ".ftle-colorbar")
    assert (bar[:, 10, 3] == 255).sum() > 300  # the colorbar is drawn too
    viridis, (text, _) = after("cmap", "viridis")
    assert np.abs(viridis.astype(int) - rdbu.astype(int)).max() > 50 and text == ""
    image, (text, _) = after("cmap", "no-such-map")
    assert (image == viridis).all() and "unknown colormap 'no-such-map': showing viridis" in text
    after("cmap", "RdBu_r")
    # reversed or non-finite limits: the automatic ones (symmetric about 0 over what is shown)
    after("vmin", None)
    automatic, (text, _) = after("vmax", None)
    assert text == "" and np.abs(automatic.astype(int) - rdbu.astype(int)).max() > 20
    page.evaluate("window.setTrait('vmin', 1); window.setTrait('vmax', -1)")
    _frame(page)
    assert (canvas_rgba(page) == automatic).all()
    assert "vmin 1 is not below vmax -1: automatic limits" in _status(page)[0]
    page.evaluate("window.setTrait('vmin', NaN); window.setTrait('vmax', 1)")
    _frame(page)
    assert (canvas_rgba(page) == automatic).all()
    assert "vmin NaN is not a finite number" in _status(page)[0]
    page.evaluate("window.setTrait('vmin', -1)")
    _frame(page)
    assert (canvas_rgba(page) == rdbu).all() and _status(page)[0] == ""
    # an unknown quantity: λ₁, as for "lambda"
    image, (text, _) = after("quantity", "lyapunov")
    assert (image == rdbu).all() and "unknown quantity 'lyapunov': showing λ₁" in text
    image, (text, _) = after("quantity", "lambda")
    assert (image == rdbu).all() and text == ""
    page.close()
    # a page opened with an unknown colormap shows RdBu_r
    page = open_page(browser, dict(STATE, show_boundary=False, cmap="jet"))
    generation = page.evaluate("window.sent")[0]["generation"]
    for msg, arrays in _quadrant_tiles(generation, lambda u, v: u / 2, lambda u, v: 0 * u):
        _deliver(page, msg, arrays)
    _frame(page)
    assert (canvas_rgba(page) == rdbu).all()
    assert "unknown colormap 'jet': showing RdBu_r" in _status(page)[0]
    page.close()


def _axes(page):
    return page.evaluate("document.querySelector('.ftle-widget').axes")


def _gap(a, b):
    """The gap between two boxes (negative where they overlap)."""
    dx = max(a["x"] - (b["x"] + b["width"]), b["x"] - (a["x"] + a["width"]))
    dy = max(a["y"] - (b["y"] + b["height"]), b["y"] - (a["y"] + a["height"]))
    return max(dx, dy)


def _mark_box(t):
    x, y = min(t["x0"], t["x1"]) - 0.5, min(t["y0"], t["y1"]) - 0.5
    return {
        "x": x,
        "y": y,
        "width": abs(t["x1"] - t["x0"]) + 1,
        "height": abs(t["y1"] - t["y0"]) + 1,
    }


def _dilate(mask, r):
    out = np.zeros_like(mask)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            out |= np.roll(np.roll(mask, dy, 0), dx, 1)
    return out


def _label_pixels(overlay, label):
    """Masks over the overlay: the label's ink, and the pixels next to it."""
    x0, y0 = int(label["x"]), int(label["y"])
    x1, y1 = int(np.ceil(label["x"] + label["width"])), int(np.ceil(label["y"] + label["height"]))
    box = np.zeros(overlay.shape[:2], dtype=bool)
    box[max(y0 - 1, 0) : y1 + 1, max(x0 - 1, 0) : x1 + 1] = True
    ink = box & (overlay[:, :, 3] >= 160) & (overlay[:, :, :3].max(axis=2) < 128)
    ring = _dilate(ink, 1) & ~ink
    return ink, ring


def test_axes_labels_are_haloed_apart_and_read_at_any_zoom(browser):
    page = open_page(browser, STATE)
    generation = page.evaluate("window.sent")[0]["generation"]
    # the darkest blue of RdBu_r under every label
    for msg, arrays in _quadrant_tiles(generation, lambda u, v: -1 + 0 * u, lambda u, v: 0 * u):
        _deliver(page, msg, arrays)
    _frame(page)
    axes = _axes(page)
    labels = axes["labels"]
    assert {lb["axis"] for lb in labels} == {"u", "v"} and len(labels) >= 6
    overlay = _canvas(page, ".ftle-overlay")
    image = _rgba_of(page, "document.querySelector('.ftle-widget').composeImage()")
    luma = image[:, : overlay.shape[1], :3].astype(float) @ [0.299, 0.587, 0.114]
    assert luma[200, 200] < 60  # the field is dark
    for label in labels:
        ink, ring = _label_pixels(overlay, label)
        assert ink.sum() >= 4 and ring.sum() >= 10, label
        # the halo around the text: every pixel next to it covered, most in the background
        # colour (white here) at the halo's opacity, the rest the glyphs' anti-aliased edges
        halo = overlay[ring]
        assert (halo[:, 3] >= 120).all() and halo[:, :3].mean() > 200, label
        pure = (halo[:, :3] >= 250).all(axis=1) & (np.abs(halo[:, 3].astype(int) - 153) <= 10)
        assert pure.mean() > 0.7, label
        # on the dark field the text is dark and its halo light: it reads
        assert luma[ink].mean() < 70 and luma[ring].mean() > 140, label
    # no label meets another or a tick mark (a mark touching "1" reads "–1")
    marks = [_mark_box(t) for t in axes["ticks"]]
    for k, a in enumerate(labels):
        assert all(_gap(a, b) >= 2 for b in labels[k + 1 :]), a
        assert all(_gap(a, m) >= 2 for m in marks), a
    # labels are drawn over the data points
    label = next(lb for lb in labels if lb["axis"] == "v" and lb["text"] == "0.5")
    ink, _ = _label_pixels(overlay, label)
    ink &= overlay[:, :, 3] >= 200  # mostly covered by the glyphs
    assert ink.sum() >= 3
    box, width, height = _field_size(page)
    cx, cy = label["x"] + label["width"] / 2, label["y"] + label["height"] / 2
    u, v = -1.5 + 3 * cx / width, 1.5 - 3 * cy / height
    _deliver(page, {"kind": "data", "count": 1, "labels": ["a"]}, [np.array([[u, v]]), np.zeros(1)])
    _frame(page)
    dotted = _canvas(page, ".ftle-overlay")
    assert (dotted[:, :, 3] != overlay[:, :, 3]).sum() > 10  # the dot is drawn …
    assert (dotted[ink][:, :3].max(axis=1) < 80).all()  # … under the label's dark text
    # ticks at u = 0 and v = 0 share the bottom-left corner: their labels do not overlap
    page.evaluate("window.setTrait('extent', [0, 3, 0, 3])")
    _landed(page)
    labels = _axes(page)["labels"]
    assert next(lb["text"] for lb in labels if lb["axis"] == "u") == "0"
    for k, a in enumerate(labels):
        assert all(_gap(a, b) >= 2 for b in labels[k + 1 :]), a
    # deep zoom: the labels differ, and so does the hover read-out of adjacent pixels
    page.evaluate("window.setTrait('extent', [0.1234567, 0.1234568, -0.5000001, -0.5])")
    _landed(page)
    labels = _axes(page)["labels"]
    for axis in ("u", "v"):
        texts = [lb["text"] for lb in labels if lb["axis"] == axis]
        assert len(texts) >= 3 and len(set(texts)) == len(texts), texts
    for k, a in enumerate(labels):
        assert all(_gap(a, b) >= 2 for b in labels[k + 1 :]), a
    readouts = []
    for dx, dy in ((0, 0), (1, 0), (1, 1)):
        page.mouse.move(box["x"] + 200 + dx, box["y"] + 150 + dy)
        _frame(page)
        readouts.append(page.evaluate("document.querySelector('.ftle-hover').textContent"))
    u0, v0 = (float(x) for x in readouts[0].split()[1:4:2])
    u1, v1 = (float(x) for x in readouts[2].split()[1:4:2])
    assert readouts[0] != readouts[1] != readouts[2]
    assert abs(u0 - (0.1234567 + 200 * 1e-7 / width)) < 1e-7 / width  # the cursor's own pixel
    assert u1 > u0 and v1 < v0  # one pixel right and down
    page.close()


def test_decision_boundary_runs_on_across_tile_seams(browser):
    page = open_page(browser, dict(STATE, show_data=False))
    generation = page.evaluate("window.sent")[0]["generation"]

    # two lines through the centre, u = v/10 and v = u/10: they run along the seams between the
    # four tiles (u = 0 and v = 0) for most of their length; 16-px tiles, each pixel ~13 px
    def classes(u, v):
        return (u > 0.1 * v) + 2 * (v > 0.1 * u)

    # one frame apart: a tile drawn before its neighbours arrive is marked again when they do
    for msg, arrays in _quadrant_tiles(generation, lambda u, v: 0 * u, classes, tile_px=16):
        _deliver(page, msg, arrays)
        _frame(page)
    _frame(page)
    image = canvas_rgba(page)
    dark = (image[:, :, :3] < 40).all(axis=2)
    _, width, height = _field_size(page)
    assert dark.sum() > 200
    pixel = width / 32  # screen pixels per tile pixel
    missing = {"rows": [], "columns": []}
    for y in range(3, round(height) - 3):
        v = 1.5 - 3 * (y + 0.5) / height
        if abs(v) < 0.2:
            continue  # where the lines cross
        x = (0.1 * v + 1.5) / 3 * width  # the line u = v/10 on this row
        if not dark[y, max(0, round(x - 1.5 * pixel)) : round(x + 1.5 * pixel)].any():
            missing["rows"].append(y)
    for x in range(3, round(width) - 3):
        u = -1.5 + 3 * (x + 0.5) / width
        if abs(u) < 0.2:
            continue
        y = (1.5 - 0.1 * u) / 3 * height  # the line v = u/10 in this column
        if not dark[max(0, round(y - 1.5 * pixel)) : round(y + 1.5 * pixel), x].any():
            missing["columns"].append(x)
    assert missing == {"rows": [], "columns": []}
    # nothing is marked away from the two lines
    ys, xs = np.nonzero(dark)
    u = -1.5 + 3 * (xs + 0.5) / width
    v = 1.5 - 3 * (ys + 0.5) / height
    near = (np.abs(u - 0.1 * v) < 2.5 * 3 / 32) | (np.abs(v - 0.1 * u) < 2.5 * 3 / 32)
    assert near.all()
    page.close()


def test_decision_boundary_is_drawn_all_round_a_disc(browser):
    page = open_page(browser, dict(STATE, show_data=False))
    generation = page.evaluate("window.sent")[0]["generation"]
    # class 1 inside the unit circle: 64-px tiles of side 1.5, a tile pixel ~3.3 screen pixels
    for msg, arrays in _quadrant_tiles(
        generation, lambda u, v: 0 * u, lambda u, v: u * u + v * v < 1, tile_px=64
    ):
        _deliver(page, msg, arrays)
    _frame(page)
    image = canvas_rgba(page)
    dark = (image[:, :, :3] == BOUNDARY_RGB).all(axis=2)
    _, width, height = _field_size(page)
    ys, xs = np.nonzero(dark)
    u = -1.5 + 3 * (xs + 0.5) / width
    v = 1.5 - 3 * (ys + 0.5) / height
    r = np.hypot(u, v)
    tile_pixel = 1.5 / 64
    # precise: the marked pixels lie within a tile pixel of the circle (the class changes
    # between two tile pixels' centres, one of which is marked) …
    assert dark.sum() > 500 and np.abs(r - 1).max() < 1.5 * tile_pixel
    # … and complete: every 1° sector of the circle (2.4 screen pixels of arc) has its marks
    angle = np.degrees(np.arctan2(v, u)) % 360
    counts = np.histogram(angle, bins=360, range=(0, 360))[0]
    assert (counts > 0).all(), np.nonzero(counts == 0)
    page.close()


def test_a_display_attached_after_render_asks_once_at_its_real_size(browser):
    page = open_page(browser, STATE)
    got = page.evaluate(
        """async (state) => {
          const mod = await import("/widget.js");
          const sent = [];
          const model = {
            get: (k) => state[k], set: () => {}, save_changes: () => {},
            send: (m) => sent.push(m), on: () => {}, off: () => {},
          };
          const el = document.createElement("div");  // rendered before it is attached,
          el.style.width = "490px";                    // as notebook front ends do
          const cleanup = mod.default.render({ model, el });
          // frames, not milliseconds: a ResizeObserver reports in the frame after layout
          const frames = (n) => new Promise((r) => {
            const next = (k) => (k ? requestAnimationFrame(() => next(k - 1)) : r());
            next(n);
          });
          const views = () => sent.filter((m) => m.kind === "view").length;
          await frames(3);
          const before = views();
          document.body.appendChild(el);
          const deadline = performance.now() + 5000;
          while (views() === 0 && performance.now() < deadline) await frames(1);
          await frames(3);  // and no second request in the frames after it
          cleanup();
          return { before, views: sent.filter((m) => m.kind === "view"), all: sent.length };
        }""",
        STATE,
    )
    assert got["before"] == 0  # nothing asked at a guessed size
    (view,) = got["views"]  # one request, at the real size
    assert (view["width"], view["height"]) == (420, 420) and view["generation"] == 1
    page.close()


def _deliver_all(page, tiles):
    for msg, bufs in tiles:
        page.evaluate("([m, b]) => window.deliver(m, b)", [msg, bufs])
    _frame(page)


def _drawn_from(image, tiles, extent, cmap="RdBu_r"):
    """Each screen pixel drawn exactly as Python's LUT colours the tile pixel under its centre,
    or, where a tile pixel's edge falls inside the screen pixel, under a point of it half a
    pixel off (the browser's nearest-neighbour stretch rounds there: measured, 0.2 % of the
    pixels of a 64-px tile stretched 1.3×, and none elsewhere); and where no tile lies, nothing
    drawn (give or take the pixel at the edge, which the browser snaps). Returns where tiles
    lie."""
    h, w = image.shape[:2]
    values = _tiles_on_screen(tiles, extent, h, w)
    held = ~np.isnan(values)
    inner, outer = held & ~_dilate(~held, 1), ~held & ~_dilate(held, 1)
    assert (image[inner, 3] == 255).all() and (image[outer, 3] == 0).all()
    matched = np.zeros((h, w), dtype=bool)
    for shift in [(0, 0)] + [(dx, dy) for dx in (-0.5, 0, 0.5) for dy in (-0.5, 0, 0.5)]:
        near = values if shift == (0, 0) else _tiles_on_screen(tiles, extent, h, w, shift)
        colours = colorize(near, cmap, -1.0, 1.0)
        same = (image[:, :, :3] == colours[:, :, :3]).all(axis=2)
        if shift == (0, 0):
            assert same[inner].mean() > 0.99  # mostly the centre's
        matched |= same
    assert matched[inner].all(), np.argwhere(inner & ~matched)[:5]
    return held


def test_a_resized_view_resizes_the_canvas_and_redraws_the_field(browser):
    page = open_page(browser, dict(STATE, show_boundary=False))
    widget = FTLEView(mlp(2, 10, 4, 1, seed=0))  # one widget serves both views (one pyramid)
    home = python_tiles(STATE["extent"], 420, 420, view=widget)
    _deliver_all(page, home)
    assert _drawn_from(canvas_rgba(page), home, STATE["extent"]).all()
    # the host grows by 200 px: the field canvas follows, at the same scale about the same
    # centre, and the kernel is asked for the wider view once
    asked = len(_views(page))
    page.evaluate("document.getElementById('host').style.width = '690px'")
    (view,) = _asked(page, asked)
    assert (view["width"], view["height"]) == (620, 420)
    u0, u1, v0, v1 = view["extent"]
    assert np.allclose([u0, u1, v0, v1], [-310 / 140, 310 / 140, -1.5, 1.5], atol=1e-12)
    assert page.locator(".ftle-field").bounding_box()["width"] == 620
    # at once, the tiles held (the home view's and Python's margin) are redrawn where they lie
    # in the wider view, beside them nothing (_drawn_from checks both; how far the margin
    # reaches depends on the tile size, which Python picks from the measured speed)
    image = canvas_rgba(page)
    assert image.shape[:2] == (420, 620)
    held = _drawn_from(image, home, view["extent"])
    assert held[:, 100:520].all()  # the home view's pixels, shifted by 100 px
    # the wider view's tiles arrive: the whole canvas is the field
    wide = python_tiles(view["extent"], 620, 420, generation=view["generation"], view=widget)
    widget.close()
    _deliver_all(page, wide)
    assert _drawn_from(canvas_rgba(page), home + wide, view["extent"]).all()
    page.close()


def test_a_double_click_goes_back_to_the_home_view(browser):
    page = open_page(browser, dict(STATE, show_boundary=False))
    _deliver_all(page, python_tiles(STATE["extent"], 420, 420))
    at_home = canvas_rgba(page)
    box = page.locator(".ftle-field").bounding_box()
    asked = len(_views(page))
    page.mouse.move(box["x"] + 300, box["y"] + 150)
    page.mouse.wheel(0, -480)
    u0, u1, _, _ = _asked(page, asked)[-1]["extent"]
    assert u1 - u0 < 2.0
    assert (canvas_rgba(page) != at_home).any(axis=2).mean() > 0.5  # zoomed in
    asked = len(_views(page))
    page.mouse.dblclick(box["x"] + 100, box["y"] + 300)
    (view,) = _asked(page, asked)
    assert view["extent"] == STATE["home"] and (view["width"], view["height"]) == (420, 420)
    assert page.evaluate("window.changes")[-1] == ["extent", STATE["home"]]
    _landed(page)  # it flies home
    assert (canvas_rgba(page) == at_home).all()  # the home view, drawn again from the tiles held
    page.close()


def test_one_view_displayed_twice_draws_the_field_in_both_and_follows_one_state(browser):
    page = open_page(browser, dict(STATE, show_boundary=False))
    page.evaluate(
        """async () => {
        const mod = await import("/widget.js");
        const el = document.createElement("div");
        el.style.width = "490px";
        document.body.appendChild(el);
        window.cleanup2 = mod.default.render({ model: window.model, el });
    }"""
    )
    page.wait_for_function("window.sent.filter((m) => m.kind === 'view').length >= 2")
    assert [(v["extent"], v["width"], v["height"]) for v in _views(page)] == [
        (STATE["extent"], 420, 420)
    ] * 2

    def both():
        one, two = (
            _rgba_of(page, f"document.querySelectorAll('.ftle-field')[{k}]") for k in (0, 1)
        )
        assert (one == two).all()
        return one

    tiles = python_tiles(STATE["extent"], 420, 420)
    _deliver_all(page, tiles)  # one message reaches both displays
    rdbu = both()
    assert _drawn_from(rdbu, tiles, STATE["extent"]).all()
    # a trait set from Python: both redraw
    page.evaluate("window.setTrait('cmap', 'viridis')")
    _frame(page)
    assert _drawn_from(both(), tiles, STATE["extent"], "viridis").all()
    # the extent set from Python: both follow it, and each asks for it
    asked = len(_views(page))
    page.evaluate("window.setTrait('extent', [-0.75, 0.75, -0.75, 0.75])")
    page.wait_for_function(
        "(n) => window.sent.filter((m) => m.kind === 'view').length >= n + 2", arg=asked
    )
    page.wait_for_function(
        "[...document.querySelectorAll('.ftle-widget')].every((r) => !r.dataset.flying)"
    )
    _frame(page)
    assert [v["extent"] for v in _views(page)[asked:]] == [[-0.75, 0.75, -0.75, 0.75]] * 2
    assert _drawn_from(both(), tiles, [-0.75, 0.75, -0.75, 0.75], "viridis").all()
    # one display closed: the other goes on
    page.evaluate("window.cleanup2()")
    assert page.evaluate("document.querySelectorAll('.ftle-field').length") == 1
    page.evaluate("window.setTrait('cmap', 'RdBu_r')")
    _frame(page)
    _drawn_from(canvas_rgba(page), tiles, [-0.75, 0.75, -0.75, 0.75])
    page.close()


def test_switching_quantity_to_gap_paints_the_gap_python_computes(browser):
    """λ₁ tiles first; quantity "gap": those tiles have no λ₂, so nothing stale is drawn; the
    tiles Python then sends (with λ₂) are painted λ₁ − λ₂ through viridis, as Python colours it."""
    state = {**STATE, "show_boundary": False, "vmin": 0.0, "vmax": 0.5}
    page = open_page(browser, state)
    first = page.evaluate("window.sent")[0]
    width, height = first["width"], first["height"]
    view = FTLEView(mlp(2, 10, 4, 1, seed=0))
    try:
        for msg, bufs in python_tiles(STATE["extent"], width, height, view=view):
            page.evaluate("([m, b]) => window.deliver(m, b)", [msg, bufs])
        _frame(page)
        assert (canvas_rgba(page)[:, :, 3] == 255).all()  # λ₁ everywhere
        page.evaluate("window.setTrait('cmap', 'viridis'); window.setTrait('quantity', 'gap')")
        _frame(page)
        assert (canvas_rgba(page)[:, :, 3] == 0).all()  # no λ₂ held: nothing stale shown
        view.quantity = "gap"  # as the kernel does when the trait changes: tiles with λ₂
        tiles = python_tiles(STATE["extent"], width, height, generation=1, view=view)
    finally:
        view.close()
    assert tiles and all(m["lower"] == 1 for m, _ in tiles)
    for msg, bufs in tiles:
        page.evaluate("([m, b]) => window.deliver(m, b)", [msg, bufs])
    _frame(page)
    image = canvas_rgba(page)
    assert (image[:, :, 3] == 255).all()
    h, w = image.shape[:2]
    gaps = [
        (m, [base64.b64encode(_gap_values(m, bufs).tobytes()).decode()]) for m, bufs in tiles
    ]  # λ₁ − λ₂ in the first buffer, for _tiles_on_screen
    # each screen pixel is exactly the colour Python gives the tile pixel under its centre, or,
    # where a tile pixel's edge falls inside the screen pixel (0.5 % here), under a point of it
    # within half a pixel (the browser's nearest-neighbour stretch)
    shifts = [(0.0, 0.0), (0.49, 0.0), (-0.49, 0.0), (0.0, 0.49), (0.0, -0.49)]
    matched = np.zeros((h, w), dtype=bool)
    for k, shift in enumerate(shifts):
        gap = _tiles_on_screen(gaps, STATE["extent"], h, w, shift)
        same = (image[:, :, :3] == colorize(gap, "viridis", 0.0, 0.5)[:, :, :3]).all(axis=2)
        if k == 0:
            assert same.mean() > 0.99
        matched |= same
    assert matched.all()
    page.close()


def _gap_values(msg, bufs):
    """λ₁ − λ₂ of a tile message's buffers (float64 difference rounded to float32, the rule)."""
    ftle = np.frombuffer(base64.b64decode(bufs[0]), dtype="<f4")
    second = np.frombuffer(base64.b64decode(bufs[2 + msg["has_direction"]]), dtype="<f4")
    return (ftle.astype(np.float64) - second).astype("<f4")
