"""Two views compared (ftle_widget.compare): extents, heights and colours mirrored; the difference
view's tiles and field equal to ftle_field(a) − ftle_field(b), value for value, and following
the views' epochs; bad arguments refused with errors that name the fix."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import browser_sends

import ftle_widget
from ftle_widget import CompareView, FTLEView, History, Plane, compare, ftle_field
from ftle_widget.lazy.differences import DifferenceScheduler, ModelPair
from ftle_widget.paper.models import mlp
from ftle_widget.widget.difference import DifferenceView

EXTENT = (-1.5, 1.5, -1.5, 1.5)


@pytest.fixture
def views():
    made = [FTLEView(mlp(2, 10, 4, 1, seed=s), extent=EXTENT, show_data=False) for s in (0, 1)]
    yield made
    for view in made:
        view.close()


def ask(view, extent, generation=1, size=128):
    """What a browser asks for: ``extent`` on ``size`` × ``size`` pixels; returns the tiles sent."""
    sent = []
    view.send = lambda content, buffers=None: sent.append((content, buffers or []))
    message = {"kind": "view", "generation": generation, "extent": list(extent)}
    browser_sends(view, {**message, "width": size, "height": size})
    assert view.scheduler.wait(60)
    return [(m, np.frombuffer(b[0], np.float32)) for m, b in sent if m["kind"] == "tile"]


def test_compare_is_public():
    assert {"compare", "CompareView"} <= set(ftle_widget.__all__)


@pytest.mark.parametrize("mode", ["side", "swipe", "difference"])
def test_setting_one_extent_moves_the_others(views, mode):
    a, b = views
    b.zoom_to((0.0, 1.0, 0.0, 1.0))  # before: b's own extent is replaced by a's
    shown = compare(a, b, mode)
    assert isinstance(shown, CompareView) and shown.mode == mode
    assert b.extent == a.extent == list(EXTENT)
    a.zoom_to((-0.5, 0.25, 0.1, 0.85))
    moved = [-0.5, 0.25, 0.1, 0.85]
    assert b.extent == moved
    b.extent = [0.0, 0.5, 0.0, 0.5]  # from either side (the browser syncs b's too)
    assert a.extent == [0.0, 0.5, 0.0, 0.5]
    if mode == "difference":
        assert shown.difference.extent == [0.0, 0.5, 0.0, 0.5]
        shown.difference.zoom_to((0.1, 0.2, 0.1, 0.2))
        assert a.extent == b.extent == [0.1, 0.2, 0.1, 0.2]
        assert shown.views == (shown.difference,)
    else:
        assert shown.difference is None and shown.views == (a, b)
    shown.close()
    a.zoom_to(EXTENT)
    assert b.extent == [0.1, 0.2, 0.1, 0.2] if mode == "difference" else [0.0, 0.5, 0.0, 0.5]


def test_side_and_swipe_share_height_and_colours_and_mark_their_element(views):
    a, b = views
    b.cmap, b.height = "viridis", 300
    side = compare(a, b)
    assert (b.cmap, b.vmin, b.vmax, b.height) == (a.cmap, a.vmin, a.vmax, a.height)
    assert side._dom_classes == ("ftle-linked",)
    a.vmin, a.vmax = 2.0, 3.0  # beyond b's old limits: copied together, never vmin ≥ vmax
    assert (b.vmin, b.vmax) == (2.0, 3.0)
    b.vmin, b.vmax = -2.0, -1.0
    assert (a.vmin, a.vmax) == (-2.0, -1.0)
    b.height = 500
    assert a.height == 500
    side.close()
    swipe = compare(a, b, "swipe", link_colors=False)
    assert set(swipe._dom_classes) == {"ftle-linked", "ftle-swipe"}
    assert a.layout.grid_area == b.layout.grid_area == "1 / 1 / 2 / 2"  # one cell
    a.cmap = "magma"
    assert b.cmap == "RdBu_r"  # colours not linked
    swipe.close()
    assert a.layout.grid_area is None and b.layout.grid_area is None


def test_fit_colors_spans_both_views(views):
    a, b = views
    shown = compare(a, b)
    lo, hi = shown.fit_colors()
    fields = [ftle_field(v.scheduler.versions.model, v.plane, EXTENT, (256, 256)) for v in views]
    assert lo == pytest.approx(min(float(f.ftle.min()) for f in fields), abs=1e-6)
    assert hi == pytest.approx(max(float(f.ftle.max()) for f in fields), abs=1e-6)
    assert (a.vmin, a.vmax) == (b.vmin, b.vmax) == (lo, hi)
    shown.close()


def test_difference_tiles_are_field_a_minus_field_b(views):
    a, b = views
    shown = compare(a, b, "difference")
    diff = shown.difference
    assert diff.quantity_label == "λ₁ᵃ − λ₁ᵇ" and diff.cmap == "RdBu_r"
    assert diff.vmin is None and diff.vmax is None  # automatic: symmetric about 0
    tiles = ask(diff, (-1.0, 0.5, -0.5, 1.0))
    assert len(tiles) > 4
    for message, values in tiles:
        t = message["tile_px"]
        fa = ftle_field(a.scheduler.versions.model, a.plane, message["extent"], (t, t))
        fb = ftle_field(b.scheduler.versions.model, b.plane, message["extent"], (t, t))
        np.testing.assert_array_equal(values.reshape(t, t), fa.ftle - fb.ftle)
    assert any(np.abs(values).max() > 0.05 for _, values in tiles)  # two nets do differ
    field = diff.field((40, 30))  # the visible extent, as arrays
    fa = ftle_field(a.scheduler.versions.model, a.plane, diff.visible_extent, (40, 30))
    fb = ftle_field(b.scheduler.versions.model, b.plane, diff.visible_extent, (40, 30))
    np.testing.assert_array_equal(field.ftle, fa.ftle - fb.ftle)
    np.testing.assert_array_equal(field.prediction, fa.prediction)  # a's classes
    lo, hi = diff.fit_colors()
    assert lo == -hi and (diff.vmin, diff.vmax) == (lo, hi)
    # the largest |λ₁ᵃ − λ₁ᵇ| at the pixel centres in view, of the view's (finest) level
    top, finest, (u0, u1, v0, v1) = 0.0, max(m["z"] for m, _ in tiles), diff.visible_extent
    for message, values in tiles:
        if message["z"] == finest:
            t, (a0, a1, b0, b1) = message["tile_px"], message["extent"]
            us = a0 + (np.arange(t) + 0.5) * (a1 - a0) / t
            vs = b0 + (np.arange(t) + 0.5) * (b1 - b0) / t
            inside = np.outer((vs >= v0) & (vs <= v1), (us >= u0) & (us <= u1))
            top = max(top, float(np.abs(values.reshape(t, t)[inside]).max(initial=0)))
    assert hi == pytest.approx(top, rel=1e-6)
    shown.close()


def test_two_layers_of_one_model():
    net = mlp(2, 10, 4, 1, seed=0)
    shallow, deep = (FTLEView(net, layer=k, extent=EXTENT, show_data=False) for k in (1, 3))
    shown = compare(shallow, deep, "difference")
    field = shown.difference.field((16, 16))
    one = ftle_field(net, shallow.plane, EXTENT, (16, 16), layer=1).ftle
    three = ftle_field(net, shallow.plane, EXTENT, (16, 16), layer=3).ftle
    np.testing.assert_array_equal(field.ftle, one - three)
    assert "hidden layer 1" in shown.difference.layer and "hidden layer 3" in shown.difference.layer
    shown.close()
    shallow.close()
    deep.close()


def test_the_difference_follows_each_views_epoch():
    nets = [mlp(2, 8, 3, 1, seed=s) for s in (0, 1)]
    history = History()
    for epoch in range(3):
        with torch.no_grad():
            for p in nets[0].parameters():
                p.mul_(1.2)
        history.record(nets[0], epoch=epoch, loss=1.0)
    a = FTLEView(nets[0], history=history, extent=EXTENT, show_data=False)
    b = FTLEView(nets[1], extent=EXTENT, show_data=False)
    shown = compare(a, b, "difference")
    for epoch in (0, 2):
        a.epoch = epoch
        field = shown.difference.field((12, 12))
        model = a.scheduler.versions.model
        expected = ftle_field(model, a.plane, EXTENT, (12, 12)).ftle
        expected -= ftle_field(nets[1], a.plane, EXTENT, (12, 12)).ftle
        np.testing.assert_array_equal(field.ftle, expected)
    shown.close()
    a.close()
    b.close()


def test_bad_arguments_are_refused_naming_the_fix(views):
    a, b = views
    with pytest.raises(ValueError, match="unknown mode 'overlay': choose one of side, swipe, diff"):
        compare(a, b, "overlay")
    with pytest.raises(
        TypeError, match=r"unknown keyword argument.*colour; it takes view_a, view_b"
    ):
        compare(a, b, colour=True)
    with pytest.raises(TypeError, match=r"view_b is a Sequential: make one with .*FTLEView"):
        compare(a, mlp(2, 4, 2, 1))
    with pytest.raises(TypeError, match="link_colors must be True or False"):
        compare(a, b, link_colors="yes")
    with pytest.raises(ValueError, match="two different views"):
        compare(a, a)
    other = Plane(torch.zeros(2), torch.tensor([1.0, 1.0]), torch.tensor([1.0, -1.0]))
    b.set_plane(other)
    for mode in ("swipe", "difference"):
        with pytest.raises(ValueError, match=r"different planes.*view_b.set_plane\(view_a.plane\)"):
            compare(a, b, mode)
    side = compare(a, b)  # side by side: two planes' coordinates, linked
    assert b.extent == a.extent
    side.close()
    with pytest.raises(TypeError, match=r"DifferenceView got unknown keyword argument.*colour"):
        DifferenceView(a, views[1], colour=1)
    with pytest.raises(TypeError, match="needs a ModelPair"):
        DifferenceScheduler(mlp(2, 4, 2, 1), a.plane)
    with pytest.raises(ValueError, match="give the layers and depths to the ModelPair"):
        DifferenceScheduler(
            ModelPair(a.scheduler.versions.model, a.scheduler.versions.model), a.plane, layer=1
        )
