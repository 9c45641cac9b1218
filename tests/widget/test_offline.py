"""The offline HTML export's parts: which tiles it stores, how they are packed (float16 planes,
byte predictions, deflate) and the page it writes (no network, the traits without the bundle)."""

from __future__ import annotations

import base64
import json
import re
import zlib

import numpy as np
import pytest
from helpers import browser_sends

from ftle_widget.lazy.pyramid import Pyramid, View
from ftle_widget.lazy.tiles import Tile
from ftle_widget.paper.models import mlp
from ftle_widget.widget import offline
from ftle_widget.widget.bundle import STATIC
from ftle_widget.widget.view import FTLEView

PYRAMID = Pyramid(4.0, 64)
VIEW = View((0.0, 4.0, 0.0, 2.0), 1024, 512)  # level 4: tiles of 0.25, the view 16 × 8 tiles


def test_stored_levels_cover_the_view_its_margin_and_zooms():
    z = PYRAMID.level_for(VIEW)
    assert z == 4
    keys = offline.stored_keys(PYRAMID, VIEW, 2)
    assert len(keys) == len(set(keys))
    by_level = {level: {k for k in keys if k[0] == level} for level in range(z - 2, z + 3)}
    assert set(keys) == set().union(*by_level.values())
    # the view's level: the view and one ring (18 × 10)
    assert by_level[z] == set(PYRAMID.covering(VIEW.extent, z, margin=1))
    assert len(by_level[z]) == 18 * 10
    # coarser: the view grown 2, 4 times about its centre (what zooming out shows)
    assert by_level[z - 1] == set(PYRAMID.covering((-2.0, 6.0, -1.0, 3.0), z - 1))
    assert by_level[z - 2] == set(PYRAMID.covering((-6.0, 10.0, -3.0, 5.0), z - 2))
    assert len(by_level[z - 1]) == 16 * 8 and len(by_level[z - 2]) == 16 * 8
    # finer: the whole view one level finer, its central half two levels finer
    assert by_level[z + 1] == set(PYRAMID.covering(VIEW.extent, z + 1))
    assert by_level[z + 2] == set(PYRAMID.covering((1.0, 3.0, 0.5, 1.5), z + 2))
    assert len(by_level[z + 1]) == len(by_level[z + 2]) == 32 * 16
    assert offline.stored_keys(PYRAMID, VIEW, 0) == PYRAMID.covering(VIEW.extent, z, margin=1)
    # no finer level than float64 resolves
    finest = PYRAMID.side(z + 1) / 64 * 1.5
    assert max(k[0] for k in offline.stored_keys(PYRAMID, VIEW, 2, finest)) == z


def _tile(ftle, prediction, direction=None):
    return Tile((3, -1, 2), (0.0, 1.0, 0.0, 1.0), ftle, prediction, direction, 0, "float32")


def test_packing_rounds_to_float16_and_keeps_classes():
    rng = np.random.default_rng(0)
    t = 64
    ftle = (rng.standard_normal((t, t)) * 0.3).astype(np.float32)
    ftle[0, :3] = [np.nan, np.inf, 1e-6]  # NaN, ∞, a float16 subnormal
    classes = rng.integers(0, 10, (t, t)).astype(np.float32)
    classes[1, 1] = np.nan
    direction = rng.standard_normal((t, t, 2)).astype(np.float32)
    fractional = classes + 0.5  # not class indices: stored as float32
    tiles = [_tile(ftle, classes, direction), _tile(ftle, fractional)]
    entries, packed = offline.pack(tiles)
    assert entries == [[3, -1, 2, 1, "float32", True, 0], [3, -1, 2, 4, "float32", False, 0]]
    raw = zlib.decompress(packed)
    assert len(raw) == 2 * t * t + t * t + 4 * t * t + 2 * t * t + 4 * t * t
    halves = ftle.astype("<f2").view(np.uint8).reshape(-1, 2)  # the page reads high then low
    assert (
        raw[: t * t] == halves[:, 1].tobytes() and raw[t * t : 2 * t * t] == halves[:, 0].tobytes()
    )
    first, second = offline.unpack(entries, packed, t)
    finite = np.isfinite(ftle)
    relative = np.abs(first["ftle"][finite] - ftle[finite]) / np.maximum(
        np.abs(ftle[finite]), 6.1e-5
    )
    assert relative.max() <= offline.F16_RELATIVE_ERROR
    assert 0 < relative.max()  # rounded indeed
    assert np.isnan(first["ftle"][0, 0]) and first["ftle"][0, 1] == np.inf
    assert np.array_equal(first["ftle"], ftle.astype(np.float16).astype(np.float32), equal_nan=True)
    assert np.array_equal(first["prediction"], classes, equal_nan=True)
    assert np.array_equal(second["prediction"], fractional, equal_nan=True)
    assert np.array_equal(first["direction"], direction.astype(np.float16).astype(np.float32))
    assert "direction" not in second
    # the planes deflate: a smooth field packs well below its float32 size
    smooth = np.add.outer(np.linspace(0, 1, t), np.linspace(0, 1, t)).astype(np.float32)
    _, packed = offline.pack([_tile(smooth, np.zeros((t, t), np.float32))])
    assert len(packed) < 0.3 * smooth.nbytes


def test_packing_keeps_the_lower_exponents_one_array_where_they_are_equal():
    rng = np.random.default_rng(3)
    t = 8
    ftle = rng.standard_normal((t, t)).astype(np.float32)
    classes = np.zeros((t, t), np.float32)
    two, wide = _tile(ftle, classes), _tile(ftle, classes)
    two.lambda_2 = two.lambda_min = ftle - 1  # a 2-D input: λ_min is λ₂
    wide.lambda_2, wide.lambda_min = ftle - 1, np.full((t, t), -np.inf, np.float32)
    entries, packed = offline.pack([two, wide])
    assert [e[-1] for e in entries] == [1, 2]
    assert len(zlib.decompress(packed)) == (2 + 1 + 2) * 64 + (2 + 1 + 2 + 2) * 64  # float16, bytes
    first, second = offline.unpack(entries, packed, t)
    f16 = (ftle - 1).astype(np.float16).astype(np.float32)
    assert np.array_equal(first["lambda_2"], f16) and np.array_equal(first["lambda_min"], f16)
    assert np.array_equal(second["lambda_2"], f16)
    assert np.all(second["lambda_min"] == -np.inf)


@pytest.fixture(scope="module")
def shown():
    """A view whose browser asked for 200 × 100 pixels, its tiles computed."""
    view = FTLEView(mlp(2, 10, 4, 1, seed=0), vmin=-1.0, vmax=1.0)
    view.send = lambda content, buffers=None: None
    extent = [-1.5, 1.5, -0.75, 0.75]
    request = {"kind": "view", "generation": 1, "extent": extent, "width": 200, "height": 100}
    browser_sends(view, request)
    assert view.scheduler.wait(60)
    yield view
    view.close()


def test_the_scheduler_tiles_are_reused_and_the_rest_is_the_engine_field(shown):
    scheduler, view = shown.scheduler, shown._last_view[0]
    pyramid = scheduler.pyramid
    z = pyramid.level_for(view)
    visible = pyramid.covering(view.extent, z)
    finer = pyramid.covering(view.extent, z + 1)[:2]
    tiles = offline.compute_tiles(shown, pyramid, visible + finer, view)
    px = pyramid.tile_px  # 64 or 128: measured on this machine
    key = scheduler._cache_key(scheduler.versions.current(), visible[0], _f32(), False, px)
    assert tiles[0] is scheduler.cache.get(key)  # the scheduler's own tile, not recomputed
    for tile in tiles[len(visible) :]:
        assert tile.key[0] == z + 1 and tile.extent == pyramid.extent(tile.key)
        assert tile.ftle.shape == (px, px) and np.isfinite(tile.ftle).all()


def _f32():
    import torch

    return torch.float32


def test_the_page_holds_the_traits_tiles_and_bundles_and_nothing_remote(shown, tmp_path):
    path = shown.to_html(tmp_path / "view.html", levels=1)
    html = path.read_text()

    def script(ident):
        return re.search(rf'id="{ident}">(.*?)</script>', html, re.S).group(1)

    state = json.loads(script("ftle-state"))
    assert "_esm" not in state and state["snapshot"] == ""
    assert state["extent"] == list(shown._last_view[0].extent)
    assert state["cmap"] == "RdBu_r" and state["vmin"] == -1.0 and state["vmax"] == 1.0
    assert state["plane_info"]["image_shape"] is None
    manifest = json.loads(script("ftle-manifest"))
    z = shown.scheduler.pyramid.level_for(shown._last_view[0])
    assert manifest["level"] == z and manifest["levels"] == [z - 1, z + 1]
    keys = offline.stored_keys(shown.scheduler.pyramid, shown._last_view[0], 1)
    assert [tuple(e[:3]) for e in manifest["tiles"]] == keys
    bundle = base64.b64decode(script("ftle-widget"))
    assert bundle == (STATIC / "widget.js").read_bytes()
    # nothing loads from elsewhere: no src= or href= at all, only inline scripts
    assert not re.search(r"\b(src|href)\s*=", html)
    assert html.count("<script") == 6


def test_levels_must_be_a_small_whole_number(shown, tmp_path):
    for bad in (-1, 7, 1.5, True):
        with pytest.raises(ValueError, match="levels must be an int in"):
            shown.to_html(tmp_path / "x.html", levels=bad)
