"""The quantities beyond λ₁ in the widget: tiles that carry λ₂ and λ_min only when the shown
quantity needs them (the cache tells them apart, and serves λ₁ from either), the colormap that
follows the quantity, fit_colors, state(), the PNG export and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import browser_sends
from PIL import Image

from ftle_widget import FTLEView, Plane, ftle_field
from ftle_widget.lazy.pyramid import View
from ftle_widget.lazy.scheduler import TileScheduler
from ftle_widget.lazy.tiles import Tile, TileCache
from ftle_widget.paper.models import mlp
from ftle_widget.widget import fonts
from ftle_widget.widget.colours import automatic_range, colorize, colour_limits
from ftle_widget.widget.display import shown_pixels
from ftle_widget.widget.export import save_png

PLANE = Plane.standard(2)
EXTENT = (-1.5, 1.5, -1.5, 1.5)


def _tile(lower: bool) -> Tile:
    ftle = np.ones((4, 4), np.float32)
    tile = Tile((0, 0, 0), (0.0, 1.0, 0.0, 1.0), ftle, ftle * 0, None, 0, "float32")
    if lower:
        tile.lambda_2, tile.lambda_min = ftle - 1, ftle - 2
    return tile


def test_the_cache_serves_lambda_from_a_lower_tile_never_the_reverse():
    cache = TileCache()
    cache.put("k", _tile(False))
    assert cache.get("k") is not None and cache.get("k", lower=True) is None
    assert cache.holds("k") and not cache.holds("k", lower=True)
    richer = _tile(True)
    cache.put("k", richer)
    assert cache.get("k") is richer and cache.get("k", lower=True) is richer
    cache.put("k", _tile(False))  # says less: the richer tile stays
    assert cache.get("k") is richer
    assert cache.nbytes == richer.nbytes == 4 * 16 * 4


def test_the_scheduler_adds_lower_exponents_when_asked_and_reuses_them_for_lambda():
    tiles = []
    scheduler = TileScheduler(mlp(2, 8, 3, 1, seed=0), PLANE, tile_px=32, on_tile=tiles.append)
    view = View(EXTENT, 128, 128)
    try:
        scheduler.request(view, 1, held=False)
        assert scheduler.wait(60)
        plain = {t.key: t for t in tiles}
        assert plain and all(not t.lower for t in plain.values())
        assert scheduler.set_channels(False, True)  # turned on: the tiles held lack them
        tiles.clear()
        scheduler.request(view, 2, held=False)
        assert scheduler.wait(60)
        richer = {t.key: t for t in tiles}
        assert richer.keys() >= plain.keys() and all(t.lower for t in richer.values())
        for key, tile in plain.items():  # λ₁ as before, λ₂ ≤ λ₁
            assert np.array_equal(richer[key].ftle, tile.ftle, equal_nan=True)
            assert np.all(richer[key].lambda_2 <= tile.ftle + 1e-7)
        assert not scheduler.set_channels(False, False)  # back: what is held shows λ₁
        tiles.clear()
        scheduler.request(view, 3, held=False)
        assert scheduler.wait(60)
        assert tiles and {t.key for t in tiles} <= richer.keys()
        assert all(t.lower for t in tiles)  # served from the cache: nothing recomputed
    finally:
        scheduler.close()


def _view(**kw):
    view = FTLEView(mlp(2, 10, 3, 1, seed=0), **kw)
    sent: list = []
    view.send = lambda content, buffers=None: sent.append((content, buffers or []))
    return view, sent


def _ask(view, generation):
    request = {"kind": "view", "generation": generation, "extent": list(EXTENT)}
    browser_sends(view, {**request, "width": 128, "height": 128})
    assert view.scheduler.wait(60)


def test_switching_to_gap_recomputes_with_lambda_2_and_the_colormap_follows():
    view, sent = _view()
    try:
        _ask(view, 1)
        first = [c for c, _ in sent if c["kind"] == "tile"]
        assert first and all(c["lower"] == 0 for c in first)
        sent.clear()
        view.quantity = "gap"
        assert view.cmap == "viridis"  # the default follows the quantity
        assert view.scheduler.wait(60)
        tiles = [(c, b) for c, b in sent if c["kind"] == "tile"]
        assert tiles and all(c["lower"] == 1 for c, _ in tiles)  # λ₂ (= λ_min: 2-D input)
        assert {c["generation"] for c, _ in tiles} == {1}  # the browser's newest: it replaces
        keys = {(c["z"], c["i"], c["j"]) for c, _ in tiles}
        assert {(c["z"], c["i"], c["j"]) for c in first} <= keys
        for _, buffers in tiles:
            ftle, second = (np.frombuffer(b, "<f4") for b in (buffers[0], buffers[2]))
            assert np.all((ftle - second)[np.isfinite(ftle)] >= 0)
        lo, hi = view.fit_colors()
        assert lo >= 0 and hi > lo
        tiles_shown = list(view._shown[1].values())
        gaps = np.concatenate(shown_pixels(tiles_shown, view.visible_extent, "gap"))
        assert (lo, hi) == (float(np.nanmin(gaps)), float(np.nanmax(gaps)))  # λ₁ − λ₂, not λ₁
        assert hi <= max(float(np.nanmax(t.values("gap"))) for t in tiles_shown)
        view.cmap = "plasma"  # chosen by hand: stays
        view.quantity = "anisotropy"
        assert view.cmap == "plasma"
        state = view.state()
        assert state["quantity"] == "anisotropy"
        json.dumps(state)
        sent.clear()
        view.quantity = "lambda"  # the tiles held show λ₁: nothing recomputed, nothing sent
        assert view.scheduler.wait(60) and not [c for c, _ in sent if c["kind"] == "tile"]
    finally:
        view.close()
    reopened = FTLEView.from_state(mlp(2, 10, 3, 1, seed=0), state)
    try:
        assert (reopened.quantity, reopened.cmap) == ("anisotropy", "plasma")
        assert reopened.scheduler.lower
    finally:
        reopened.close()


def test_a_new_view_of_gap_starts_in_viridis_and_an_unknown_quantity_is_refused():
    view, _ = _view(quantity="gap")
    try:
        assert view.cmap == "viridis" and view.scheduler.lower
    finally:
        view.close()
    view, _ = _view(quantity="anisotropy", cmap="RdBu_r")  # given: kept
    try:
        assert view.cmap == "RdBu_r"
    finally:
        view.close()
    with pytest.raises(ValueError, match="lambda, log_stretch, lambda_min, gap, anisotropy"):
        _view(quantity="lambda_2")


@pytest.mark.parametrize("quantity", ["lambda_min", "gap", "anisotropy"])
def test_the_png_of_a_quantity_is_its_values_through_the_canvas_rule(quantity, tmp_path):
    model = mlp(2, 10, 4, 1, seed=0)
    field = ftle_field(model, PLANE, EXTENT, (40, 50), lower=True)
    values = field.values(quantity)
    path = save_png(field, tmp_path / "f.png", quantity=quantity, cmap="viridis", axes=False)
    image = np.asarray(Image.open(path).convert("RGBA"))
    limits = colour_limits(values, None, None, quantity)
    if quantity == "lambda_min":
        assert limits[0] == -limits[1]  # symmetric about 0, as λ₁
    else:
        assert limits == (0.0, float(np.nanmax(values)))  # [0, max]: never negative
    np.testing.assert_array_equal(image[:40, :50], colorize(values, "viridis", *limits)[::-1])
    font, greek = fonts.font(11)
    label = fonts.QUANTITY_LABELS[quantity]
    expected = Image.new("RGBA", (70, 16), "white")
    text = label if greek else fonts.ascii_text(label)
    from PIL import ImageDraw

    ImageDraw.Draw(expected).text((2, 2), text, font=font, anchor="la", fill=(34, 34, 34))
    np.testing.assert_array_equal(image[:16, 50:120], np.asarray(expected))


def test_labels_have_ascii_spellings_and_automatic_ranges_are_the_front_ends():
    assert fonts.ascii_text("λ₁ − λ₂") == "lambda_1 - lambda_2"
    assert fonts.ascii_text("λ₁ − λ_min") == "lambda_1 - lambda_min"
    assert fonts.quantity_label("gap") == "λ₁ − λ₂"
    assert automatic_range(np.array([0.5, 2.0, np.inf, np.nan]), "gap") == (0.0, 2.0)
    assert automatic_range(np.array([np.nan]), "anisotropy") == (0.0, 1.0)
    assert automatic_range(np.array([-3.0, 1.0]), "lambda_min") == (-3.0, 3.0)


def test_the_cli_renders_a_gap_picture(tmp_path):
    from ftle_widget import cli

    out = tmp_path / "gap.png"
    args = ["render", "--quantity", "gap", "--size", "32", "--out", str(out)]
    assert cli.main(args) == 0
    values = np.load(out.with_suffix(".npy"))
    assert values.shape == (32, 32) and np.nanmin(values) >= 0
    with pytest.raises(SystemExit):
        cli.main(["render", "--quantity", "lambda_2"])
