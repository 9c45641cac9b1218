"""Tile pyramid geometry, tiles against ftle_field, and the byte-bounded cache."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ftle_widget import Plane, ftle_field
from ftle_widget.lazy.pyramid import Pyramid, View
from ftle_widget.lazy.scheduler import TileScheduler
from ftle_widget.lazy.tiles import Tile, TileCache
from ftle_widget.paper.models import mlp


def test_pyramid_geometry_with_negative_indices():
    pyr = Pyramid(base_side=3.0, tile_px=64)
    assert pyr.side(0) == 3.0 and pyr.side(2) == 0.75 and pyr.side(-1) == 6.0
    assert pyr.extent((2, -1, 3)) == (2.25, 3.0, -0.75, 0.0)
    assert pyr.extent((0, 0, 0)) == (0.0, 3.0, 0.0, 3.0)


@pytest.mark.parametrize("width", [100, 256, 512, 1000, 4096])
def test_level_matches_view_pixels(width):
    pyr = Pyramid(base_side=3.0, tile_px=64)
    view = View((-1.0, 2.0, 0.0, 3.0), width, width)
    z = pyr.level_for(view)
    ratio = (pyr.side(z) / pyr.tile_px) / view.pixel
    assert 2**-0.5 <= ratio <= 2**0.5  # the nearest level in log₂


def test_covering_tiles_cover_the_view_centre_first():
    pyr = Pyramid(base_side=1.0, tile_px=64)
    extent = (-0.3, 0.55, 0.1, 0.42)
    keys = pyr.covering(extent, 3)  # side 0.125
    cols = sorted({k[2] for k in keys})
    rows = sorted({k[1] for k in keys})
    assert cols == list(range(math.floor(-0.3 / 0.125), math.ceil(0.55 / 0.125)))
    assert rows == list(range(math.floor(0.1 / 0.125), math.ceil(0.42 / 0.125)))
    assert len(keys) == len(cols) * len(rows)
    centre = (0.125, 0.26)
    dist = [
        ((k[2] + 0.5) * 0.125 - centre[0]) ** 2 + ((k[1] + 0.5) * 0.125 - centre[1]) ** 2
        for k in keys
    ]
    assert dist == sorted(dist)
    ring = set(pyr.covering(extent, 3, margin=1)) - set(keys)
    assert len(ring) == (len(cols) + 2) * (len(rows) + 2) - len(keys)


def test_tiles_equal_ftle_field_value_for_value():
    model = mlp(2, 12, 4, 1, seed=1)
    plane = Plane.through(
        torch.tensor([0.2, -0.1]), torch.tensor([1.0, 0.3]), torch.tensor([-0.4, 0.9])
    )
    tiles = []
    sched = TileScheduler(model, plane, tile_px=32, directions=True, margin=0, on_tile=tiles.append)
    sched.request(View((-0.7, 0.4, -0.5, 0.6), 128, 128), 0)
    assert sched.wait(30)
    sched.close()
    assert {t.key[1] for t in tiles} & {-1, -2} and {t.key[2] for t in tiles} & {-1, -2}
    for tile in tiles:
        field = ftle_field(model, plane, tile.extent, (32, 32), directions=True)
        np.testing.assert_array_equal(tile.ftle, field.ftle)
        np.testing.assert_array_equal(tile.prediction, field.prediction.astype(np.float32))
        np.testing.assert_allclose(tile.direction, field.direction, rtol=0, atol=1e-6)
        assert tile.ftle.dtype == np.float32 and tile.prediction.dtype == np.float32
        assert tile.vmin == pytest.approx(float(field.ftle.min()))
        assert tile.vmax == pytest.approx(float(field.ftle.max()))


def _tile(key, side=64, direction=False):
    arr = np.zeros((side, side), np.float32)
    return Tile(
        key,
        (0, 1, 0, 1),
        arr,
        arr.copy(),
        np.zeros((side, side, 2), np.float32) if direction else None,
        0,
        "float32",
    )


def test_cache_is_bounded_in_bytes_and_least_recently_used_goes_first():
    one = _tile((0, 0, 0)).nbytes
    assert one == 64 * 64 * 4 * 2
    cache = TileCache(max_bytes=3 * one)
    for j in range(3):
        cache.put(j, _tile((0, 0, j)))
    assert cache.get(0) is not None  # 0 is now the most recent
    cache.put(3, _tile((0, 0, 3)))
    assert cache.nbytes == 3 * one and len(cache) == 3
    assert 1 not in cache and all(k in cache for k in (0, 2, 3))
    cache.put(4, _tile((0, 0, 4), direction=True))  # twice the size: two go
    assert cache.nbytes <= 3 * one
    assert 4 in cache and 0 not in cache and 2 not in cache
    cache.put(5, _tile((0, 0, 5), side=256))  # larger than the whole bound: not kept
    assert 5 not in cache and cache.nbytes <= 3 * one
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0


@pytest.mark.parametrize(
    "extent,width,height,match",
    [
        ((0, 1, 0, float("nan")), 10, 10, "finite"),
        ((1, 0, 0, 1), 10, 10, "u0 < u1"),
        ((0, 1, 0, 1), 0, 10, "width"),
        ((0, 1, 0, 1), 10, 10**6, "height"),
        ((0, 1, 0, 1), 10.5, 10, "width"),
        ((0, 1), 10, 10, "four"),
    ],
)
def test_bad_views_are_refused_with_the_reason(extent, width, height, match):
    with pytest.raises(ValueError, match=match):
        View(extent, width, height)
