"""The display side of FTLEView without a browser (issue 12): its height (22), colour limits
fitted to what is shown (14), progress with its phase (18) and what the browser needs to stop
zooming where float64 runs out (3)."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest
import torch
from helpers import browser_sends

from ftle_widget import FTLEView, Plane, ftle_field
from ftle_widget.lazy.planning import finest_pixel
from ftle_widget.lazy.pyramid import View
from ftle_widget.lazy.tiles import Tile
from ftle_widget.paper.models import mlp
from ftle_widget.widget import protocol
from ftle_widget.widget.display import fitted_limits, shown_pixels
from ftle_widget.widget.progress import Reports, progress_status


def make(**kw):
    view = FTLEView(mlp(2, 10, 3, 1, seed=0), **kw)
    sent = []
    view.send = lambda content, buffers=None: sent.append((content, buffers or []))
    return view, sent


def ask(view, generation=1, extent=(-1.5, 1.5, -1.5, 1.5), width=96, height=96):
    message = {"kind": "view", "generation": generation, "extent": list(extent)}
    browser_sends(view, {**message, "width": width, "height": height})
    assert view.scheduler.wait(60)


# ---------------------------------------------------------------------- 22. height
def test_height_is_a_synced_int_of_css_pixels_in_150_to_2000():
    view, _ = make()
    assert view.height == 420 and "height" in view.keys  # synced to the browser
    view.close()
    view, _ = make(height=600)
    assert view.height == 600
    view.height = np.int64(150)  # numpy ints are ints
    assert view.height == 150 and type(view.height) is int
    view.height = 2000
    for bad in (149, 2001, 300.5, True, "300", None, -1):
        with pytest.raises(
            ValueError, match=r"height must be an int of CSS pixels in \[150, 2000\]"
        ):
            view.height = bad
        assert view.height == 2000  # unchanged
    view.close()
    with pytest.raises(ValueError, match="height"):
        FTLEView(mlp(2, 10, 3, 1, seed=0), height=100)


# ---------------------------------------------------------------------- 14. fit colours
def _visible_tiles(sent):
    return [m for m, _ in sent if m["kind"] == "tile"]


def test_fit_colors_spans_the_visible_pixels_of_the_last_views_tiles():
    view, _ = make(vmin=-5.0, vmax=5.0)
    extent = (0.2, 0.5, -0.1, 0.2)  # a small part of the field: its range is far inside ±5
    ask(view, extent=extent)
    lo, hi = view.fit_colors()
    assert (view.vmin, view.vmax) == (lo, hi)
    assert "tiles of the last view" in view.status
    # the field of the visible extent at the view's resolution: the same range, within the
    # difference between pixel centres of tiles and of the screen
    field = ftle_field(mlp(2, 10, 3, 1, seed=0), Plane.standard(2), extent, (96, 96))
    span = float(field.ftle.max() - field.ftle.min())
    assert span > 0.01 and hi - lo < 0.5  # zoomed in: much narrower than ±5
    assert abs(lo - field.ftle.min()) < 0.05 * span and abs(hi - field.ftle.max()) < 0.05 * span
    # exactly the extremes of the tiles' pixels whose centres lie in the visible extent
    tiles = [t for t in view._shown[1].values()]
    values = np.concatenate([v.ravel() for v in shown_pixels(tiles, view.visible_extent)])
    assert (lo, hi) == (float(values.min()), float(values.max()))
    # log Λ₁: the same pixels times depth
    view.quantity = "log_stretch"
    lo2, hi2 = view.fit_colors()
    assert math.isclose(lo2, lo * view.depth) and math.isclose(hi2, hi * view.depth)
    view.close()


@pytest.mark.parametrize("limits", [(10.0, 20.0), (-20.0, -10.0)])
def test_fit_colors_moves_both_limits_past_each_other(limits):
    view, _ = make(vmin=limits[0], vmax=limits[1])  # both beyond anything shown
    ask(view)
    seen = []
    view.observe(lambda change: seen.append((view.vmin, view.vmax)), names=["vmin", "vmax"])
    lo, hi = view.fit_colors()
    assert -10 < lo < hi < 10 and (view.vmin, view.vmax) == (lo, hi)
    assert len(seen) == 2 and all(a < b for a, b in seen)  # vmin < vmax at every step
    view.close()


def test_fit_colors_before_any_view_computes_the_field():
    view, _ = make()
    lo, hi = view.fit_colors()
    field = ftle_field(
        mlp(2, 10, 3, 1, seed=0), Plane.standard(2), (-1.5, 1.5, -1.5, 1.5), (256, 256)
    )
    assert math.isclose(lo, float(field.ftle.min()), rel_tol=1e-5)
    assert math.isclose(hi, float(field.ftle.max()), rel_tol=1e-5)
    assert "computed" in view.status
    view.close()


def test_shown_pixels_take_each_pixel_from_the_finest_tile():
    def tile(key, extent, value, t=4):
        return Tile(
            key, extent, np.full((t, t), value, np.float32), np.zeros((t, t)), None, 0, "float32"
        )

    coarse = tile((0, 0, 0), (0.0, 1.0, 0.0, 1.0), 9.0)
    fine = tile((1, 0, 0), (0.0, 0.5, 0.0, 0.5), 1.0)
    # the lower-left quarter is the fine tile's: the coarse one's 9s there are not shown
    whole = shown_pixels([coarse, fine], (0.0, 0.5, 0.0, 0.5))
    assert [v.tolist() for v in whole] == [[], [1.0] * 16]
    both = shown_pixels([coarse, fine], (0.0, 1.0, 0.0, 1.0))
    assert both[0].tolist() == [9.0] * 12 and both[1].size == 16
    assert fitted_limits(both) == (1.0, 9.0)
    assert fitted_limits([np.array([np.nan, 2.0, np.inf])], factor=-1) == (-2.0 - 2e-6, -2.0 + 2e-6)
    with pytest.raises(ValueError, match="nothing is shown"):
        fitted_limits([np.array([np.nan])])


# ---------------------------------------------------------------------- 18. progress
def test_progress_is_synced_with_the_phase_being_computed():
    view, _ = make()
    assert view.progress == (0, 0, "") and "progress" in view.keys
    seen, statuses = [], []
    lock = threading.Lock()

    def record(change):
        with lock:
            seen.append(change["new"])
            statuses.append(view.status)

    view.observe(record, names="progress")
    # fast, as measured on a quiet machine (a loaded one measures a slow model: a preview first)
    view.scheduler._rate[torch.float32] = 1e6
    ask(view, extent=(-1.5, 1.5, -1.5, 1.5), width=256, height=256)
    done, total, phase = view.progress
    assert done == total > 0 and phase == ""
    phases = [p for _, _, p in seen]
    assert phases[0] == "coarse"  # an empty display: a coarse pass first
    order = {"coarse": 0, "view": 1, "margin": 2, "": 3}
    assert {"coarse", "view", "margin"} <= set(phases)
    assert [order[p] for p in phases] == sorted(order[p] for p in phases)  # in the planned order
    assert all(p == "" for d, t, p in seen if d == t)
    counts = [d for d, _, _ in seen]
    assert counts == sorted(counts) and all(t == total for _, t, _ in seen)
    view.close()


class Sleepy(torch.nn.Module):
    """A small tanh net that sleeps 20 ms in each forward call (a batch of points)."""

    def __init__(self):
        super().__init__()
        self.net = mlp(2, 10, 3, 1, seed=0)

    def forward(self, x):
        time.sleep(0.02)
        return self.net(x)


def test_a_slow_models_progress_names_its_preview_first():
    view = FTLEView(Sleepy(), layer="logits", input_shape=(2,))
    view.send = lambda content, buffers=None: None
    view.scheduler._rate[torch.float32] = 50.0  # as measured for a slow model
    seen = {"progress": [], "status": []}
    lock = threading.Lock()

    def record(change):
        with lock:
            seen[change["name"]].append(change["new"])

    view.observe(record, names=["progress", "status"])
    ask(view, extent=(-1.5, 1.5, -1.5, 1.5), width=256, height=256)
    phases = [p for _, _, p in seen["progress"]]
    assert phases[0] == "preview" and "coarse" not in phases and "view" in phases
    assert seen["status"][0].startswith("computing a preview: 0/")
    view.close()


def test_progress_status_names_the_phase_and_stale_reports_are_dropped():
    assert progress_status(1, 40, "preview") == "computing a preview: 1/40 tiles"
    assert progress_status(3, 40, "coarse") == "computing a coarse pass: 3/40 tiles"
    assert progress_status(12, 40, "view") == "computing the view: 12/40 tiles"
    assert progress_status(30, 40, "margin") == "computing the margin around the view: 30/40 tiles"
    assert progress_status(40, 40, "") == "40 tiles"
    reports = Reports()
    assert reports.fresh(5, 3) and reports.fresh(5, 4) and not reports.fresh(5, 3)
    assert not reports.fresh(4, 10) and reports.fresh(6, 0) and reports.fresh(6, 0)


# ---------------------------------------------------------------------- 3. float64's limit
def _browser_bound(resolution, extent):
    """js/src/gestures.ts's finestPixel, in Python."""
    u0, u1, v0, v1 = extent
    cu, cv = 0.5 * (u0 + u1), 0.5 * (v0 + v1)
    coordinate = max(abs(u0), abs(u1), abs(v0), abs(v1), 1e-200)
    r = resolution
    magnitude = max(r["origin"] + abs(cu) * r["u"] + abs(cv) * r["v"], 1e-200)
    return 16 * np.finfo(np.float64).eps * max(coordinate, magnitude / r["shortest"])


@pytest.mark.parametrize("seed", range(6))
def test_the_browsers_float64_bound_is_never_finer_than_pythons(seed):
    gen = torch.Generator().manual_seed(seed)
    shape = (2,) if seed % 2 == 0 else (1, 6, 6)
    scale = 10.0 ** (seed - 2)
    plane = Plane(*(torch.randn(shape, generator=gen, dtype=torch.float64) * scale for _ in "ouv"))
    resolution = protocol.plane_resolution(plane)
    rng = np.random.default_rng(seed)
    for _ in range(200):
        cu, cv = rng.normal(size=2) * 10.0 ** rng.integers(-3, 4)
        h = 10.0 ** rng.uniform(-15, 0)
        extent = (cu - h, cu + h, cv - h, cv + h)
        python = finest_pixel(plane, extent)
        browser = _browser_bound(resolution, extent)
        assert python <= browser <= 3 * python * math.sqrt(plane.u.numel())


def test_plane_info_carries_the_planes_resolution():
    view, _ = make()
    assert view.plane_info["resolution"] == {"origin": 0.0, "u": 1.0, "v": 1.0, "shortest": 1.0}
    plane = Plane([3.0, -4.0], [0.0, 2.0], [-0.5, 0.0])
    view.set_plane(plane)
    assert view.plane_info["resolution"] == {"origin": 4.0, "u": 2.0, "v": 0.5, "shortest": 0.5}
    view.close()


def test_a_view_at_the_browsers_bound_is_computed():
    view, sent = make()
    ask(view)
    resolution = view.plane_info["resolution"]
    (cu, cv), pixel = (0.3, -0.2), 1e-16

    def around(pixel):
        return (cu - 48 * pixel, cu + 48 * pixel, cv - 48 * pixel, cv + 48 * pixel)

    for _ in range(4):  # the browser grows the view about its centre until it is resolvable
        pixel = max(pixel, 1.05 * _browser_bound(resolution, around(pixel)))
    extent = around(pixel)
    assert View(extent, 96, 96).pixel >= finest_pixel(view.plane, extent)
    sent.clear()
    ask(view, generation=2, extent=extent)
    assert view.error == "" and any(m["kind"] == "tile" for m, _ in sent)
    view.close()


def test_the_snapshot_trait_takes_png_data_urls_only():
    from ftle_widget.widget.display import SNAPSHOT_MAX, SNAPSHOT_PREFIX, BadTrait

    view = FTLEView(mlp(2, 5, 2, 1))
    try:
        assert view.snapshot == "" and view.trait_metadata("snapshot", "sync")
        url = SNAPSHOT_PREFIX + "iVBORw0KGgo="
        view.snapshot = url
        assert view.snapshot == url
        for bad in (
            "data:image/jpeg;base64,AAAA",
            "http://x/y.png",
            SNAPSHOT_PREFIX + "A" * SNAPSHOT_MAX,
        ):
            with pytest.raises(BadTrait, match="snapshot must be a PNG data URL"):
                view.snapshot = bad
        assert view.snapshot == url  # the last good one stays
        view.snapshot = ""
    finally:
        view.close()
