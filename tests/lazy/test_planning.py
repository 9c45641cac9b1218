"""Planning as pure functions: a view → the ordered tiles, no threads, no cache, no model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ftle_widget import Plane
from ftle_widget.lazy.planning import (
    COARSE,
    DEEP_ZOOM_ULPS,
    FLOAT64_ULPS,
    MARGIN,
    VIEW,
    deep_zoom_dtype,
    finest_pixel,
    plan_view,
    plane_arrays,
    stand_ins_cover,
)
from ftle_widget.lazy.pyramid import Pyramid, View

PYRAMID = Pyramid(base_side=1.0, tile_px=64)
VIEW_AT_3 = View((0.05, 0.55, 0.1, 0.6), 256, 256)  # pixel 1/512: level 3, tiles of side 1/8


def float32(_z: int) -> torch.dtype:
    return torch.float32


def nothing_cached(_key, _dtype) -> bool:
    return False


def test_an_empty_cache_plans_coarse_then_the_view_centre_first_then_the_margin():
    plan = plan_view(PYRAMID, VIEW_AT_3, dtype_for=float32, is_cached=nothing_cached)
    assert PYRAMID.level_for(VIEW_AT_3) == 3
    phases = [p.phase for p in plan]
    assert phases == sorted(phases) and set(phases) == {COARSE, VIEW, MARGIN}
    coarse = [p.key for p in plan if p.phase == COARSE]
    view = [p.key for p in plan if p.phase == VIEW]
    ring = [p.key for p in plan if p.phase == MARGIN]
    # level 1 (side 1/2): u 0.05..0.55 and v 0.1..0.6 meet columns 0, 1 and rows 0, 1
    assert sorted(coarse) == [(1, i, j) for i in (0, 1) for j in (0, 1)]
    # level 3 (side 1/8): columns 0..4, rows 0..4, centre first
    assert sorted(view) == [(3, i, j) for i in range(5) for j in range(5)]
    assert view[0] == (3, 2, 2)  # the tile holding the centre (0.3, 0.35)
    # one ring around: columns and rows -1..5, less the view's own
    assert len(ring) == 7 * 7 - 25 and not set(ring) & set(view)
    assert all(-1 <= i <= 5 and -1 <= j <= 5 for _, i, j in ring)


def test_no_coarse_pass_when_cached_tiles_stand_in():
    def level_4_cached(key, _dtype) -> bool:  # a neighbouring level covers the view
        return key[0] == 4

    held = plan_view(PYRAMID, VIEW_AT_3, dtype_for=float32, is_cached=level_4_cached)
    assert {p.phase for p in held} == {VIEW, MARGIN}
    # a receiver that starts empty holds no stand-ins: the coarse pass comes back
    fresh = plan_view(PYRAMID, VIEW_AT_3, dtype_for=float32, is_cached=level_4_cached, held=False)
    assert fresh[0].phase == COARSE
    # neither without a coarse level, nor with a margin of 0
    bare = plan_view(
        PYRAMID, VIEW_AT_3, dtype_for=float32, is_cached=nothing_cached, coarse_levels=0, margin=0
    )
    assert {p.phase for p in bare} == {VIEW} and len(bare) == 25


def test_stand_ins_are_whole_levels_only():
    keys_at_2 = set(PYRAMID.covering(VIEW_AT_3.extent, 2))
    missing_one = keys_at_2 - {next(iter(keys_at_2))}
    assert stand_ins_cover(PYRAMID, VIEW_AT_3, 3, keys_at_2.__contains__, 2, held=True)
    assert not stand_ins_cover(PYRAMID, VIEW_AT_3, 3, missing_one.__contains__, 2, held=True)
    assert not stand_ins_cover(PYRAMID, VIEW_AT_3, 3, keys_at_2.__contains__, 2, held=False)


def test_each_level_gets_its_own_precision():
    asked = []

    def by_level(z: int) -> torch.dtype:
        asked.append(z)
        return torch.float64 if z >= 3 else torch.float32

    plan = plan_view(PYRAMID, VIEW_AT_3, dtype_for=by_level, is_cached=nothing_cached)
    assert sorted(set(asked)) == [1, 3]
    assert {p.dtype for p in plan if p.phase == COARSE} == {torch.float32}
    assert {p.dtype for p in plan if p.phase != COARSE} == {torch.float64}


def test_deep_zoom_switches_to_float64_where_float32_runs_out():
    plane = Plane.standard(2)
    eps = float(np.finfo(np.float32).eps)
    limit = DEEP_ZOOM_ULPS * eps  # pixel side at which float32 inputs near |x| ≤ 1 run out
    assert deep_zoom_dtype(plane, 2 * limit, (0.5, 0.5), torch.float32) == torch.float32
    assert deep_zoom_dtype(plane, limit / 2, (0.5, 0.5), torch.float32) == torch.float64
    # far from the origin float32 is coarser: the same pixel needs float64 there
    assert deep_zoom_dtype(plane, 2 * limit, (100.0, 0.0), torch.float32) == torch.float64
    # longer plane directions make a pixel step longer in input space
    wide = Plane(torch.zeros(2), torch.tensor([8.0, 0.0]), torch.tensor([0.0, 8.0]))
    assert deep_zoom_dtype(wide, limit / 2, (0.0, 0.0), torch.float32) == torch.float32
    # a float64 model always gets float64
    assert deep_zoom_dtype(plane, 1.0, (0.0, 0.0), torch.float64) == torch.float64


def test_the_finest_pixel_follows_the_coordinates_and_the_input():
    eps = float(np.finfo(np.float64).eps)
    plane = Plane.standard(2)
    assert finest_pixel(plane, (0.5, 1.0, -0.25, 0.0)) == FLOAT64_ULPS * eps * 1.0
    assert finest_pixel(plane, (-8.0, -7.0, 0.0, 1.0)) == FLOAT64_ULPS * eps * 8.0
    # an origin far out: the input's ulps decide, shrunk by the direction's length
    far = Plane(torch.tensor([1e6, 0.0]), torch.tensor([0.5, 0.0]), torch.tensor([0.0, 2.0]))
    assert finest_pixel(far, (0.0, 1.0, 0.0, 1.0)) == pytest.approx(FLOAT64_ULPS * eps * 2e6)


def test_plane_arrays_outlive_the_planes_tensors_moving_to_shared_memory():
    # pickling a plane for a process pool moves its tensors to shared memory in place; the
    # cached arrays (shared by equal planes) must not be views of the old memory
    plane = Plane([0.25, -0.5], [1.0, 0.0], [0.0, 2.0])
    first = plane_arrays(plane)
    for t in (plane.origin, plane.u, plane.v):
        t.share_memory_()
    junk = [torch.randn(2, dtype=torch.float64) for _ in range(100)]  # reuse the freed memory
    for arrays in (first, plane_arrays(Plane([0.25, -0.5], [1.0, 0.0], [0.0, 2.0]))):
        origin, u, v, longest, shortest = arrays
        assert origin.tolist() == [0.25, -0.5] and u.tolist() == [1.0, 0.0]
        assert v.tolist() == [0.0, 2.0] and (longest, shortest) == (2.0, 1.0)
    assert len(junk) == 100
