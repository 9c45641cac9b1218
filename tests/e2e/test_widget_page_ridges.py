"""The ridge overlay and "Fly to ridge" in headless Chromium: the ridges the Python widget traced
from its tiles are drawn where they are (pixel reads along them and beside them), toggled by the
toolbar, moved with a pan at once; the fly button asks Python for the strongest ridge, shift for
the one nearest the last point hovered."""

from __future__ import annotations

import base64
import time

import numpy as np
from helpers import browser_sends
from test_widget_page import STATE, _canvas, _frame, _pressed, _screen, open_page

from ftle_widget import FTLEView
from ftle_widget.paper.models import default_model

HOME = STATE["extent"]


def python_view_with_ridges(width: int, height: int):
    """The tiles and the ridges message the Python widget sends for the home view."""
    view = FTLEView(default_model(), extent=HOME, show_data=False, show_ridges=True)
    sent = []
    view.send = lambda content, buffers=None: sent.append((content, buffers or []))
    try:
        message = {"kind": "view", "generation": 1, "extent": HOME}
        browser_sends(view, {**message, "width": width, "height": height})
        assert view.scheduler.wait(120)
        deadline = time.monotonic() + 60
        while not any(m["kind"] == "ridges" for m, _ in sent) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        view.close()
    encoded = [(m, [base64.b64encode(b).decode() for b in bufs]) for m, bufs in sent]
    (ridges,) = [(m, b) for m, b in encoded if m["kind"] == "ridges"]
    return [(m, b) for m, b in encoded if m["kind"] == "tile"], ridges


def _lines(message, bufs):
    points = np.frombuffer(base64.b64decode(bufs[0]), dtype="<f8").reshape(-1, 2)
    return np.split(points, np.cumsum(message["counts"])[:-1])


def _dark(image, x, y, reach=1):
    """Whether the line's ink is at screen point (x, y): a dark opaque pixel within ``reach``."""
    patch = image[int(y) - reach : int(y) + reach + 1, int(x) - reach : int(x) + reach + 1]
    rgb, alpha = patch[..., :3].astype(int), patch[..., 3].astype(int)
    return bool(((rgb.max(axis=-1) < 90) & (alpha > 150)).any())


def test_ridges_are_drawn_where_python_traced_them_and_toggle(browser):
    page = open_page(browser, {**STATE, "show_ridges": False, "show_boundary": False})
    width, height = 420, 420
    tiles, (ridges, ridge_bufs) = python_view_with_ridges(width, height)
    for msg, bufs in tiles:
        page.evaluate("([m, b]) => window.deliver(m, b)", [msg, bufs])
    page.evaluate("([m, b]) => window.deliver(m, b)", [ridges, ridge_bufs])
    _frame(page)
    assert _pressed(page, "ridges") == "false"
    assert page.evaluate("document.querySelector('.ftle-widget').ridges") == 0  # off
    ring = _lines(ridges, ridge_bufs)[0]  # the strongest: the boundary's ridge near r = 1
    assert abs(np.hypot(*ring.T).mean() - 1) < 0.1
    samples = ring[:: max(1, len(ring) // 24)]
    off = _canvas(page, ".ftle-overlay")
    assert not any(_dark(off, *_screen(u, v, width, height)) for u, v in samples)

    page.click(".ftle-toolbar [data-action=ridges]")  # on, from the toolbar
    _frame(page)
    assert _pressed(page, "ridges") == "true"
    assert ("show_ridges", True) in [tuple(c) for c in page.evaluate("window.changes")]
    count = page.evaluate("document.querySelector('.ftle-widget').ridges")
    assert count == len(ridges["counts"]) >= 1
    on = _canvas(page, ".ftle-overlay")
    hits = [_dark(on, *_screen(u, v, width, height)) for u, v in samples]
    assert sum(hits) >= 0.9 * len(hits), hits  # the line runs through the ridge's points
    # nothing at the centre (inside the ring, far from any ridge) nor in the corner
    for u, v in [(0.0, 0.0), (-1.35, 1.35)]:
        assert not _dark(on, *_screen(u, v, width, height), reach=3)

    # a pan moves them with the field at once (plane coordinates), before any new ridges
    box = page.locator(".ftle-field").bounding_box()
    x0, y0 = box["x"] + 200, box["y"] + 200
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 30, y0, steps=3)
    page.mouse.up()
    _frame(page)
    panned = _canvas(page, ".ftle-overlay")
    hits = [_dark(panned, _screen(u, v, width, height)[0] + 30, _screen(u, v, width, height)[1])
            for u, v in samples]  # fmt: skip
    assert sum(hits) >= 0.9 * len(hits), hits

    page.click(".ftle-toolbar [data-action=ridges]")  # off again
    _frame(page)
    assert page.evaluate("document.querySelector('.ftle-widget').ridges") == 0
    page.close()


def test_fly_to_ridge_asks_python_for_the_strongest_or_the_nearest(browser):
    page = open_page(browser, STATE)
    page.click(".ftle-toolbar [data-action=fly]")
    flights = lambda: [m for m in page.evaluate("window.sent") if m["kind"] == "fly_request"]  # noqa: E731
    assert flights() == [{"kind": "fly_request", "which": "strongest", "u": None, "v": None}]
    box = page.locator(".ftle-field").bounding_box()
    page.mouse.move(box["x"] + 315, box["y"] + 105)  # hover (0.75, 0.75) of [-1.5, 1.5]²
    page.click(".ftle-toolbar [data-action=fly]", modifiers=["Shift"])
    nearest = flights()[-1]
    assert nearest["which"] == "nearest"
    assert abs(nearest["u"] - 0.75) < 0.02 and abs(nearest["v"] - 0.75) < 0.02
    page.close()


def test_a_view_moved_from_python_flies_there_and_asks_for_the_destination(browser):
    page = open_page(browser, STATE)
    page.evaluate("window.sent.length = 0")
    # the axes drawn at each frame, from the trait's change until the flight has landed
    layouts = page.evaluate(
        """() => new Promise((done) => {
            const root = document.querySelector('.ftle-widget');
            const seen = [];
            const start = performance.now();
            const watch = () => {
              seen.push(JSON.stringify(root.axes));
              if (performance.now() - start < 700) requestAnimationFrame(watch);
              else done(seen);
            };
            window.setTrait('extent', [0.5, 1.0, 0.25, 0.75]);  // as zoom_to does
            requestAnimationFrame(watch);
        })"""
    )
    distinct = list(dict.fromkeys(layouts))
    assert len(distinct) >= 4  # in-between views drawn, not a jump
    assert layouts[-1] == layouts[-2]  # landed
    page.wait_for_function("window.sent.some((m) => m.kind === 'view')")
    (asked,) = [m for m in page.evaluate("window.sent") if m["kind"] == "view"]
    assert asked["extent"] == [0.5, 1.0, 0.25, 0.75]  # the destination, never a view in between
    page.close()
