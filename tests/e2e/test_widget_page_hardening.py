"""Issue 12 in the fast browser tier (test_widget_page.py's page: the bundle with a fake model,
fed by Python): fitting the colours to what is shown and setting limits on the colorbar (14), the
progress bar (18), the height trait (22), zooms that stop where float64 runs out (3) and the
Python PNG export drawing what the canvas draws (19). Issue 18: a new plane with the same extent
is drawn (``set_plane`` resets the tiles; the browser asks for its view again)."""

from __future__ import annotations

import base64
import threading

import numpy as np
from helpers import browser_sends
from PIL import Image
from test_widget_page import (
    STATE,
    _asked,
    _asked_since,
    _canvas,
    _deliver,
    _field_size,
    _frame,
    _now,
    _quadrant_tiles,
    _rgba_of,
    _status,
    _views,
    canvas_rgba,
    open_page,
)

from ftle_widget import Plane, ftle_field
from ftle_widget.lazy.planning import finest_pixel
from ftle_widget.paper.models import mlp
from ftle_widget.widget.export import colorize
from ftle_widget.widget.view import FTLEView


def _changes(page, name):
    return [v for k, v in page.evaluate("window.changes") if k == name]


def _lut_ends(cmap="RdBu_r"):
    ends = colorize(np.array([[0.0, 1.0]]), cmap, 0.0, 1.0)[0, :, :3].astype(int)
    return ends[0], ends[1]


# ---------------------------------------------------------------------- 14. colour limits
def test_fit_colours_spans_the_colormap_over_what_is_shown(browser):
    page = open_page(browser, dict(STATE, show_boundary=False))
    generation = page.evaluate("window.sent")[0]["generation"]

    def ridge(u, v):  # a faint ridge: within [0.02, 0.18], nearly white under [-1, 1]
        return 0.1 + 0.05 * u + 0.0003 * v

    tiles = _quadrant_tiles(generation, ridge, lambda u, v: 0 * u)
    for msg, arrays in tiles:
        _deliver(page, msg, arrays)
    _frame(page)
    before = canvas_rgba(page)[:, :, :3].astype(int)
    blue, red = _lut_ends()
    assert np.abs(before - red).sum(axis=2).min() > 150  # nowhere near the ends
    page.click('.ftle-toolbar [data-action="fit"]')
    _frame(page)
    values = np.concatenate([np.frombuffer(a[0], np.float32) for _, a in tiles])
    assert _changes(page, "vmin")[-1] == float(values.min())  # every pixel is in view
    assert _changes(page, "vmax")[-1] == float(values.max())
    after = canvas_rgba(page)[:, :, :3].astype(int)
    # the lowest pixels (left) take the colormap's first colour, the highest (right) its last
    h, w = after.shape[:2]
    assert (
        np.abs(after[h // 2, 2] - blue).max() <= 3 and np.abs(after[h // 2, w - 3] - red).max() <= 3
    )
    assert after.std() > 3 * before.std()
    # zoomed in on the right half, fitting again spans what is shown there
    page.evaluate("window.setTrait('extent', [0, 1.5, -0.75, 0.75])")
    _frame(page)
    page.click('.ftle-toolbar [data-action="fit"]')
    _frame(page)
    u = (np.arange(8) + 0.5) / 8 * 1.5  # pixel centres of the right-hand tiles
    v = (np.arange(16) + 0.5) / 8 * 1.5 - 1.5
    shown = ridge(u[None, :], v[(np.abs(v) <= 0.75)][:, None]).astype(np.float32)
    assert _changes(page, "vmin")[-1] == float(shown.min())
    assert _changes(page, "vmax")[-1] == float(shown.max())
    page.close()


def _bar_y(page, value_fraction):
    """Client y of the colorbar's strip at a fraction of its range from the bottom."""
    box = page.locator(".ftle-colorbar").bounding_box()
    top, bottom = 32, box["height"] - 22
    return box, box["y"] + bottom - 1 - value_fraction * (bottom - 1 - top)


def test_the_colorbar_sets_limits_by_drag_and_by_typing(browser):
    page = open_page(browser, dict(STATE, show_boundary=False))
    generation = page.evaluate("window.sent")[0]["generation"]
    for msg, arrays in _quadrant_tiles(generation, lambda u, v: u / 3, lambda u, v: 0 * u):
        _deliver(page, msg, arrays)
    _frame(page)
    before = canvas_rgba(page)
    # drag the upper half down by a quarter of the strip: vmax 1 → 0.5, vmin stays
    box, y = _bar_y(page, 0.9)
    length = box["height"] - 22 - 1 - 32
    page.mouse.move(box["x"] + 10, y)
    page.mouse.down()
    page.mouse.move(box["x"] + 10, y + length / 4, steps=4)
    page.mouse.up()
    _frame(page)
    assert abs(_changes(page, "vmax")[-1] - 0.5) < 1e-9 and _changes(page, "vmin")[-1] == -1.0
    after = canvas_rgba(page)
    h, w = after.shape[:2]
    right = after[h // 2, int(0.9 * w), :3].astype(int)  # u = 1.2: 0.4 → near the top of [-1, 0.5]
    assert np.abs(after.astype(int) - before.astype(int)).max() > 50
    assert right[0] > right[2] + 100
    text = page.evaluate("document.querySelector('.ftle-limit[data-limit=vmax]').textContent")
    assert text == "0.5"
    # the lower half drags vmin: up by half the strip raises it by half the range (1.5)
    box, y = _bar_y(page, 0.1)
    page.mouse.move(box["x"] + 10, y)
    page.mouse.down()
    page.mouse.move(box["x"] + 10, y - length / 2, steps=4)
    page.mouse.up()
    assert abs(_changes(page, "vmin")[-1] - (-1 + 0.75)) < 1e-9
    assert abs(_changes(page, "vmax")[-1] - 0.5) < 1e-9
    # a click on a limit opens an input: typed and Enter sets it
    page.click(".ftle-limit[data-limit=vmax]")
    field = page.locator(".ftle-limit-input")
    assert field.input_value() == "0.5"
    field.fill("2")
    field.press("Enter")
    assert page.locator(".ftle-limit-input").count() == 0
    assert _changes(page, "vmax")[-1] == 2.0 and _changes(page, "vmin")[-1] == -0.25
    _frame(page)
    # a bad value is refused and says why; Escape closes
    count = len(page.evaluate("window.changes"))
    page.click(".ftle-limit[data-limit=vmin]")
    field = page.locator(".ftle-limit-input")
    field.fill("3")
    field.press("Enter")
    assert field.get_attribute("aria-invalid") == "true"
    assert "vmin must be below vmax" in field.get_attribute("title")
    field.press("Escape")
    assert page.locator(".ftle-limit-input").count() == 0
    assert len(page.evaluate("window.changes")) == count
    page.close()


# ---------------------------------------------------------------------- 18. progress
def _python_progress():
    """The progress trait's values while a real FTLEView computes a view, in order."""
    view = FTLEView(mlp(2, 10, 4, 1, seed=0))
    view.send = lambda content, buffers=None: None
    seen, lock = [], threading.Lock()

    def record(change):
        with lock:
            seen.append(list(change["new"]))

    view.observe(record, names="progress")
    request = {"kind": "view", "generation": 1, "extent": [-1.5, 1.5, -1.5, 1.5]}
    browser_sends(view, {**request, "width": 420, "height": 420})
    assert view.scheduler.wait(60)
    view.close()
    return seen


def _bar(page):
    return page.evaluate(
        """(() => {
        const track = document.querySelector('.ftle-progress');
        const fill = document.querySelector('.ftle-progress-fill');
        const shown = getComputedStyle(track).display !== 'none';
        return {shown, track: track.getBoundingClientRect().width,
                fill: fill.getBoundingClientRect().width, height: track.offsetHeight,
                phase: track.dataset.phase, title: track.title};
    })()"""
    )


def test_the_progress_bar_follows_done_over_total_and_goes_when_done(browser):
    page = open_page(browser, STATE)
    assert not _bar(page)["shown"]  # nothing pending (no progress trait yet)
    reports = _python_progress()
    phases = {p for _, _, p in reports}
    assert {"coarse", "view", "margin"} <= phases and reports[-1][0] == reports[-1][1]
    for done, total, phase in reports:
        page.evaluate("(p) => window.setTrait('progress', p)", [done, total, phase])
        bar = _bar(page)
        if done < total:
            assert bar["shown"] and 0 < bar["height"] <= 4  # thin
            assert abs(bar["fill"] / bar["track"] - done / total) < 0.01, (done, total)
            assert bar["phase"] == phase and f"{done}/{total} tiles" in bar["title"]
        else:
            assert not bar["shown"]
    page.evaluate("window.setTrait('progress', [3, 40, 'view'])")
    bar = _bar(page)
    assert bar["title"] == "computing the view: 3/40 tiles" and bar["track"] == 420
    # the bar lies along the field's top edge
    field = page.locator(".ftle-field").bounding_box()
    track = page.locator(".ftle-progress").bounding_box()
    assert track["y"] == field["y"] and track["x"] == field["x"]
    page.close()


# ---------------------------------------------------------------------- 22. height
def test_the_field_follows_the_height_trait(browser):
    page = open_page(browser, dict(STATE, height=300))
    first = page.evaluate("window.sent")[0]
    assert (first["width"], first["height"]) == (420, 300)
    assert first["extent"] == [-2.1, 2.1, -1.5, 1.5]  # grown to square pixels
    for msg, arrays in _quadrant_tiles(first["generation"], lambda u, v: u / 2, lambda u, v: 0 * u):
        _deliver(page, msg, arrays)
    _frame(page)

    def sizes():
        return page.evaluate(
            """[...document.querySelectorAll('.ftle-field, .ftle-overlay, .ftle-colorbar')]
               .map((c) => [c.getBoundingClientRect().height, c.height / devicePixelRatio])"""
        )

    assert sizes() == [[300, 300]] * 3
    image = canvas_rgba(page)
    assert image.shape[0] == 300 and (image[:, 70:350, 3] == 255).all()  # the tiles, |u| ≤ 1.5
    # taller, live: the canvases follow, the view keeps its scale and asks for its tiles
    asked = len(_views(page))
    page.evaluate("window.setTrait('height', 600)")
    _asked(page, asked)
    assert sizes() == [[600, 600]] * 3
    view = _views(page)[-1]
    assert view["height"] == 600 and view["width"] == 420
    u0, u1, v0, v1 = view["extent"]
    assert abs(u1 - u0 - 4.2) < 1e-12 and abs(v1 - v0 - 6.0) < 1e-12  # 0.01 per pixel, still
    assert abs(u0 + u1) < 1e-12 and abs(v0 + v1) < 1e-12  # about the same centre
    assert canvas_rgba(page).shape[0] == 600
    bar = _canvas(page, ".ftle-colorbar")
    assert (bar[:, 10, 3] == 255).sum() > 500  # the strip spans the new height
    # out of range: the nearest allowed height
    page.evaluate("window.setTrait('height', 20)")
    _frame(page)
    assert sizes() == [[150, 150]] * 3
    page.close()


# ---------------------------------------------------------------------- 3. float64's limit
DEEP = [0.25, 0.25 + 1e-11, 0.5, 0.5 + 1e-11]


def _python_accepts(view_message):
    """Whether a real FTLEView (standard plane) computes a view the browser asked for."""
    view = FTLEView(mlp(2, 10, 4, 1, seed=0), Plane.standard(2))
    view.send = lambda content, buffers=None: None
    plane_info = view.plane_info
    browser_sends(view, {**view_message, "generation": 1})
    error = view.error
    view.scheduler.wait(60)
    view.close()
    return plane_info, error


def _standard_state(extent):
    plane_info, _ = _python_accepts(
        {"kind": "view", "extent": [-1, 1, -1, 1], "width": 64, "height": 64}
    )
    return dict(STATE, extent=extent, home=extent, plane_info=plane_info)


def test_wheel_zooms_stop_where_float64_runs_out_and_say_so(browser):
    page = open_page(browser, _standard_state(DEEP))
    box, _, _ = _field_size(page)
    page.mouse.move(box["x"] + 100, box["y"] + 120)
    for _ in range(12):  # e² each: far beyond float64's resolution
        t = _now(page)  # before the last one: its view request comes after
        page.mouse.wheel(0, -1000)
        _frame(page)
    _asked_since(page, t)
    last = _views(page)[-1]
    u0, u1, v0, v1 = last["extent"]
    pixel = max((u1 - u0) / last["width"], (v1 - v0) / last["height"])
    finest = finest_pixel(Plane.standard(2), (u0, u1, v0, v1))
    # as far in as float64 resolves (the browser's bound is up to 1.5 × Python's here: it adds
    # |u| and |v| where Python takes the larger), no further
    assert finest <= pixel <= 2 * finest
    text, colour = _status(page)
    assert "zoomed in as far as float64 resolves here" in text and colour != "rgb(204, 0, 0)"
    _, error = _python_accepts(last)
    assert error == ""  # Python computes it
    # zooming out again: the note goes
    t = _now(page)
    page.mouse.wheel(0, 500)
    _asked_since(page, t)
    assert "float64" not in _status(page)[0]
    assert _views(page)[-1]["extent"][1] - _views(page)[-1]["extent"][0] > u1 - u0
    page.close()


def test_box_zooms_and_extents_stop_where_float64_runs_out(browser):
    page = open_page(browser, _standard_state([0.25, 0.25 + 1e-13, 0.5, 0.5 + 1e-13]))
    asked = len(_views(page))
    box, _, _ = _field_size(page)
    page.keyboard.down("Shift")
    page.mouse.move(box["x"] + 100, box["y"] + 100)
    page.mouse.down()
    page.mouse.move(box["x"] + 110, box["y"] + 108, steps=3)
    page.mouse.up()
    page.keyboard.up("Shift")
    _asked(page, asked)
    last = _views(page)[-1]
    u0, u1, v0, v1 = last["extent"]
    pixel = max((u1 - u0) / last["width"], (v1 - v0) / last["height"])
    assert finest_pixel(Plane.standard(2), (u0, u1, v0, v1)) <= pixel
    assert "as far as float64 resolves" in _status(page)[0]
    assert _python_accepts(last)[1] == ""
    # an extent set from Python beyond the limit: shown (and asked for) as far as it resolves
    asked = len(_views(page))
    page.evaluate("window.setTrait('extent', [0.25, 0.25 + 2e-16, 0.5, 0.5 + 4e-16])")
    _asked(page, asked)
    last = _views(page)[-1]
    u0, u1, v0, v1 = last["extent"]
    assert abs(0.5 * (u0 + u1) - 0.25) < 1e-15 and abs(0.5 * (v0 + v1) - 0.5) < 1e-15
    assert _python_accepts(last)[1] == ""
    assert "as far as float64 resolves" in _status(page)[0]
    page.evaluate("window.setTrait('extent', [0, 1, 0, 1])")
    _frame(page)
    assert "float64" not in _status(page)[0]
    page.close()


# ------------------------------------------------------------- 19. the PNG export, as drawn
def test_to_png_draws_what_the_canvas_draws(browser, tmp_path):
    rng = np.random.default_rng(0)
    points = rng.uniform(-2.8, 2.8, (60, 2)) * [1, 0.5]
    labels = (np.hypot(*points.T) < 1).astype(int)
    extent = [-3.0, 3.0, -1.5, 1.5]  # wide: 420 × 210 CSS pixels at height 210
    state = dict(STATE, extent=extent, home=extent, height=210, show_directions=True)
    page = open_page(browser, state)
    request = page.evaluate("window.sent")[0]
    assert (request["width"], request["height"]) == (420, 210)
    sent = []
    view = FTLEView(
        mlp(2, 10, 4, 1, seed=0),
        Plane.standard(2),
        extent=extent,
        data=points,
        labels=labels,
        vmin=-1,
        vmax=1,
        show_directions=True,
        height=210,
    )
    view.send = lambda content, buffers=None: sent.append((content, buffers or []))
    browser_sends(view, request)
    assert view.scheduler.wait(60)
    view._send_data()
    for content, buffers in sent:
        if content["kind"] in ("tile", "data"):
            encoded = [base64.b64encode(b).decode() for b in buffers]
            page.evaluate("([m, b]) => window.deliver(m, b)", [content, encoded])
    _frame(page)
    canvas = _rgba_of(page, "document.querySelector('.ftle-widget').composeImage()")
    png = np.asarray(Image.open(view.to_png(tmp_path / "view.png")).convert("RGBA"))
    view.close()
    page.close()
    assert png.shape == canvas.shape == (210, 420 + 70, 4)  # the canvas's size and aspect
    difference = np.abs(png.astype(int) - canvas.astype(int)).max(axis=-1)
    # the same pixels but for antialiasing and the browser's own text rendering
    assert (difference == 0).mean() > 0.8 and (difference <= 8).mean() > 0.93
    # each overlay where the canvas has it: ink of the axes and directions, data points
    for picture in (png, canvas):
        assert (picture[:, :420, :3].max(axis=-1) < 80).sum() > 1000
    far = difference[:, :420] > 100
    assert far.mean() < 0.03, far.mean()


# ------------------------------------------------- 18. set_plane with the extent unchanged
class _Relay:
    """A real FTLEView wired to the page as a kernel would: its messages and trait changes go to
    the page in the order made, the page's view requests to the view."""

    def __init__(self, view, page):
        self.view, self.page, self.outbox, self.read = view, page, [], 0
        view.send = lambda content, buffers=None: self.outbox.append(("msg", content, buffers))
        view.observe(self._trait, names=["extent", "home", "plane_info"])

    def _trait(self, change):
        self.outbox.append(("trait", change["name"], change["new"]))

    def views(self):
        return _views(self.page)

    def answer(self, request):
        """The view computes ``request``; everything it sent goes to the page."""
        browser_sends(self.view, request)
        assert self.view.scheduler.wait(60)
        self.flush()

    def flush(self):
        outbox, self.outbox = self.outbox, []
        for kind, a, b in outbox:
            if kind == "trait":
                self.page.evaluate("([k, v]) => window.setTrait(k, v)", [a, b])
            else:
                encoded = [base64.b64encode(bytes(x)).decode() for x in b or []]
                self.page.evaluate("([m, b]) => window.deliver(m, b)", [a, encoded])
        self.page.wait_for_timeout(100)


def test_a_new_plane_with_the_same_extent_is_drawn(browser):
    extent = [-1.5, 1.5, -1.5, 1.5]
    model = mlp(2, 10, 4, 1, seed=0)
    view = FTLEView(model, Plane.standard(2), extent=extent, show_boundary=False)
    state = dict(STATE, plane_info=view.plane_info, depth=view.depth, show_boundary=False)
    page = open_page(browser, state)
    relay = _Relay(view, page)
    relay.flush()
    relay.answer(relay.views()[-1])
    first = canvas_rgba(page)
    h, w = first.shape[:2]

    def expected(plane):
        field = ftle_field(model, plane, tuple(extent), (h, w))
        return colorize(field.ftle, "RdBu_r", -1.0, 1.0)[::-1, :, :3].astype(int)

    def matches(image, plane):  # tile pixels are stretched onto screen pixels
        close = np.abs(image[:, :, :3].astype(int) - expected(plane)).max(axis=2)
        return (close <= 40).mean()

    assert matches(first, Plane.standard(2)) > 0.9
    # another plane, the same extent: the extent trait does not change, the tiles are reset
    other = Plane([0.8, -0.6], [0.6, 0.8], [-0.8, 0.6])  # rotated and shifted
    asked = len(relay.views())
    view.set_plane(other, extent)
    relay.flush()
    page.wait_for_timeout(300)  # the view request settles (DEBOUNCE_MS)
    views = relay.views()
    assert len(views) > asked, "after set_plane the browser never asked for its view again"
    assert views[-1]["extent"] == extent
    relay.answer(views[-1])
    after = canvas_rgba(page)
    assert (after[:, :, 3] == 255).all()  # no blank canvas
    assert matches(after, other) > 0.9
    changed = np.abs(after[:, :, :3].astype(int) - first[:, :, :3].astype(int)).max(axis=2) > 40
    assert changed.mean() > 0.25, changed.mean()  # the old plane's picture is gone
    view.close()
    page.close()
