"""Views compared (ftle_widget.compare) in real headless Chromium: the bundled front end rendered
twice on one page, as a CompareView's element holds its views (class ``ftle-linked``, a grid), each
display with its own stand-in model. A wheel on one view moves both in the same frame and both
sync one extent; a swipe cuts the top view's field at a divider the pointer drags; the difference
view paints λ₁ᵃ − λ₁ᵇ as Python computes it, on RdBu_r with limits symmetric about 0."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from frontend import serve_widget_page
from PIL import Image
from test_widget_page import BOUNDARY_RGB, STATE, _frame, _rgba_of, _tiles_on_screen, python_tiles

from ftle_widget import FTLEView, compare, ftle_field
from ftle_widget.paper.models import mlp
from ftle_widget.widget.export import colorize

# Each host is 490 px wide: a 420 × 420 field beside the 70 px colorbar, so the square extent
# fills the field exactly.
PAGE = """
<html><body style="margin:0">
<div id="box" class="%(classes)s" style="display:grid;width:%(width)dpx;%(style)s">%(hosts)s</div>
<script type="module">
  const states = %(states)s;
  window.sent = states.map(() => []);
  window.changes = states.map(() => []);
  window.deliver = [];
  const mod = await import("/widget.js");
  states.forEach((state, k) => {
    const listeners = {};
    const fire = (e, ...args) => (listeners[e] || []).forEach((f) => f(...args));
    const model = {
      get: (key) => state[key],
      set: (key, v) => { state[key] = v; window.changes[k].push([key, v]); },
      save_changes: () => {},
      send: (msg) => window.sent[k].push(msg),
      on: (e, f) => { (listeners[e] ||= []).push(f); },
      off: (e, f) => { listeners[e] = (listeners[e] || []).filter((g) => g !== f); },
    };
    window.deliver[k] = (msg, b64s) => fire("msg:custom", msg, b64s.map((s) => {
      const bytes = Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
      return new DataView(bytes.buffer);
    }));
    mod.default.render({ model, el: document.getElementById("host" + k) });
  });
  window.ready = true;
</script></body></html>
"""
HOST = '<div id="host%d" style="width:490px;%s"></div>'


def open_compared(browser, states, *, swipe=False):
    """The widget rendered once per state in one ``ftle-linked`` grid: side by side, or (swipe)
    all in one cell, the last on top."""
    if swipe:
        classes, width, style, cell = "ftle-linked ftle-swipe", 490, "", "grid-area:1 / 1 / 2 / 2"
    else:
        classes, width = "ftle-linked", 490 * len(states)
        style, cell = f"grid-template-columns:repeat({len(states)}, 490px)", ""
    hosts = "".join(HOST % (k, cell) for k in range(len(states)))
    page = browser.new_page(viewport={"width": 1100, "height": 600})
    fields = {"classes": classes, "width": width, "style": style, "hosts": hosts}
    serve_widget_page(page, PAGE % {**fields, "states": json.dumps(states)})
    page.wait_for_function("window.sent.every((s) => s.some((m) => m.kind === 'view'))")
    return page


def views_sent(page, k):
    return [m for m in page.evaluate(f"window.sent[{k}]") if m["kind"] == "view"]


def field_of(page, k):
    """RGBA pixels of display k's field canvas."""
    return _rgba_of(page, f"document.querySelectorAll('.ftle-field')[{k}]")


def screen_of_field(page):
    """RGB of the page where the first field canvas lies (the canvases composited, overlays on
    top: the tests turn the boundary off where they compare this)."""
    box = page.evaluate(
        "(() => { const r = document.querySelector('.ftle-field').getBoundingClientRect();"
        " return {x: r.x, y: r.y, width: r.width, height: r.height}; })()"
    )
    png = page.screenshot(clip=box)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def home_tiles(net):
    """The tiles Python sends for the home view of a 420 × 420 field of ``net``."""
    view = FTLEView(net)
    try:
        return python_tiles(STATE["extent"], 420, 420, view=view)
    finally:
        view.close()


def deliver(page, k, tiles):
    for message, buffers in tiles:
        page.evaluate(f"([m, b]) => window.deliver[{k}](m, b)", [message, buffers])
    _frame(page)


def settled(page, counts):
    """Wait until every display has settled and sent a view request beyond ``counts``."""
    _frame(page)
    page.wait_for_function(
        """(counts) => [...document.querySelectorAll('.ftle-widget')].every(
            (r, k) => !r.timings.settling
                && window.sent[k].filter((m) => m.kind === 'view').length > counts[k])""",
        arg=counts,
    )
    _frame(page)


@pytest.fixture(scope="module")
def nets():
    return mlp(2, 10, 4, 1, seed=0), mlp(2, 10, 4, 1, seed=1)


def test_a_wheel_on_one_view_moves_both(browser, nets):
    page = open_compared(browser, [STATE, STATE])
    for k, net in enumerate(nets):
        deliver(page, k, home_tiles(net))
    before = [field_of(page, k) for k in (0, 1)]
    counts = [len(views_sent(page, k)) for k in (0, 1)]
    page.mouse.move(100, 300)  # over the left view's field
    page.mouse.wheel(0, -240)
    _frame(page)
    # the right view redrew at once, before any request: its held tiles, zoomed
    during = field_of(page, 1)
    assert np.abs(during.astype(int) - before[1].astype(int)).max() > 50
    settled(page, counts)
    asked = [views_sent(page, k)[-1] for k in (0, 1)]
    (u0, u1, v0, v1), right = asked[0]["extent"], asked[1]["extent"]
    assert u1 - u0 < 3.0 and right == asked[0]["extent"]  # zoomed in, one extent for both
    # zoomed about the cursor: the plane point under it stays there
    x, y = (
        100,
        300 - page.evaluate("document.querySelector('.ftle-field').getBoundingClientRect().y"),
    )
    assert u0 + (u1 - u0) * x / 420 == pytest.approx(-1.5 + 3.0 * x / 420)
    assert v1 - (v1 - v0) * y / 420 == pytest.approx(1.5 - 3.0 * y / 420)
    extents = [
        [v for key, v in page.evaluate(f"window.changes[{k}]") if key == "extent"] for k in (0, 1)
    ]
    assert extents[0][-1] == extents[1][-1] == asked[0]["extent"]  # both traits synced alike
    # the zoomed field of each view shows its own net there: Python's field, coloured
    for k, net in enumerate(nets):
        view = FTLEView(net, extent=STATE["extent"])  # the pyramid the browser's tiles are of
        python_tiles(STATE["extent"], 420, 420, view=view)
        deliver(
            page, k, python_tiles(right, 420, 420, generation=asked[k]["generation"], view=view)
        )
        view.close()
        image = field_of(page, k)
        marked = (image[:, :, :3] == BOUNDARY_RGB).all(axis=2)
        expected = colorize(ftle_field(net, view.plane, right, (420, 420)).ftle, "RdBu_r", -1, 1)
        gap = np.abs(image[:, :, :3].astype(int) - expected[::-1, :, :3].astype(int)).max(axis=2)
        assert gap[~marked].max() <= 4
    # and the other way: a drag on the right view pans both
    counts = [len(views_sent(page, k)) for k in (0, 1)]
    page.mouse.move(700, 200)
    page.mouse.down()
    page.mouse.move(760, 200, steps=5)
    page.mouse.up()
    settled(page, counts)
    panned = [views_sent(page, k)[-1]["extent"] for k in (0, 1)]
    assert panned[0] == panned[1] and panned[0][0] < u0
    page.close()


def test_a_swipe_cuts_the_top_field_at_a_divider_the_pointer_drags(browser, nets):
    plain = {**STATE, "show_boundary": False}  # the screen shows the fields alone
    page = open_compared(browser, [plain, plain], swipe=True)
    for k, net in enumerate(nets):
        deliver(page, k, home_tiles(net))
    page.wait_for_selector(".ftle-divider")
    roots = page.evaluate(
        "[...document.querySelectorAll('.ftle-widget')].map((r) => getComputedStyle(r).visibility)"
    )
    assert roots == ["visible", "hidden"]  # the top view shows only its field
    top = "document.querySelectorAll('.ftle-field')[1]"
    assert page.evaluate(f"getComputedStyle({top}).clipPath") == "inset(0px 0px 0px 50%)"
    assert page.evaluate(f"getComputedStyle({top}).visibility") == "visible"
    # what shows: the bottom net left of the divider, the top net right of it
    shown = screen_of_field(page)
    bottom, top_field = field_of(page, 0), field_of(page, 1)

    def matches(screen, canvas):  # the field's pixels, but where the axes overlay draws
        return (np.abs(screen.astype(int) - canvas[:, :, :3].astype(int)).max(axis=2) <= 1).mean()

    assert matches(shown[:, :205], bottom[:, :205]) > 0.95
    assert matches(shown[:, 215:], top_field[:, 215:]) > 0.95
    assert matches(shown[:, 215:], bottom[:, 215:]) < 0.5  # the two nets differ there
    # a wheel left of the divider reaches the bottom view (the top one is cut away there)...
    counts = [len(views_sent(page, 0)), len(views_sent(page, 1))]
    page.mouse.move(100, 250)
    page.mouse.wheel(0, -240)
    settled(page, counts)
    first = [views_sent(page, k)[-1]["extent"] for k in (0, 1)]
    assert first[0] == first[1] and first[0][1] - first[0][0] < 3.0
    # ... and right of it the top one; both move either way
    counts = [len(views_sent(page, 0)), len(views_sent(page, 1))]
    page.mouse.move(350, 250)
    page.mouse.wheel(0, 240)
    settled(page, counts)
    second = [views_sent(page, k)[-1]["extent"] for k in (0, 1)]
    assert second[0] == second[1] and second[0][1] - second[0][0] > first[0][1] - first[0][0]
    # dragging the divider moves the cut, and asks the kernel for nothing
    sent = [len(page.evaluate(f"window.sent[{k}]")) for k in (0, 1)]
    box = page.evaluate(
        "(() => { const r = document.querySelector('.ftle-divider')"
        ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + 50]; })()"
    )
    page.mouse.move(*box)
    page.mouse.down()
    page.mouse.move(105, box[1], steps=4)
    page.mouse.up()
    _frame(page)
    fraction = float(page.evaluate("document.querySelector('.ftle-divider').dataset.fraction"))
    assert fraction == pytest.approx(105 / 420, abs=0.01)
    assert page.evaluate(f"getComputedStyle({top}).clipPath").startswith("inset(0px 0px 0px 25")
    assert [len(page.evaluate(f"window.sent[{k}]")) for k in (0, 1)] == sent
    page.close()


def test_the_difference_view_paints_what_python_computes(browser, nets):
    a, b = (FTLEView(net, extent=STATE["extent"], show_data=False) for net in nets)
    shown = compare(a, b, "difference")
    diff = shown.difference
    state = {**STATE, "vmin": None, "vmax": None, "quantity_label": diff.quantity_label}
    page = open_compared(browser, [state])
    tiles = python_tiles(STATE["extent"], 420, 420, view=diff)
    deliver(page, 0, tiles)
    # the automatic limits: symmetric about 0, as Python fits them to the same tiles
    lo, hi = diff.fit_colors()
    assert lo == -hi and hi > 0.1
    image = field_of(page, 0)
    h, w = image.shape[:2]
    marked = (image[:, :, :3] == BOUNDARY_RGB).all(axis=2)
    values = _tiles_on_screen(tiles, STATE["extent"], h, w)
    sampled = colorize(values, "RdBu_r", lo, hi)
    gap = np.abs(image[:, :, :3].astype(int) - sampled[:, :, :3].astype(int)).max(axis=2)
    # (a narrower range than λ₁'s own: neighbouring tile pixels lie up to 6/255 apart, measured)
    assert (gap[~marked] == 0).mean() > 0.99 and gap[~marked].max() <= 8
    # and those are λ₁ᵃ − λ₁ᵇ: the two fields at the screen pixels' centres, subtracted
    plane, extent = a.plane, STATE["extent"]
    difference = ftle_field(nets[0], plane, extent, (h, w)).ftle
    difference -= ftle_field(nets[1], plane, extent, (h, w)).ftle
    expected = colorize(difference, "RdBu_r", lo, hi)[::-1]
    close = np.abs(image[:, :, :3].astype(int) - expected[:, :, :3].astype(int)).max(axis=2)
    assert close[~marked].max() <= 8
    # the hover names it, and reads the value the tiles hold there
    rect = page.evaluate(
        "(() => { const r = document.querySelector('.ftle-field').getBoundingClientRect();"
        " return [r.x, r.y]; })()"
    )
    page.mouse.move(rect[0] + 210.5, rect[1] + 240.5)
    _frame(page)
    text = page.evaluate("document.querySelector('.ftle-hover').textContent")
    found = re.search(r"λ₁ᵃ − λ₁ᵇ (-?[0-9.]+)", text)
    assert found, text
    assert float(found.group(1)) == pytest.approx(float(values[240, 210]), abs=6e-4)
    page.close()
    shown.close()
    a.close()
    b.close()
