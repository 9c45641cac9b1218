"""Slow models stay live: the preview's resolution from the measured speed, the view's tiles
reordered by the preview (pure functions), and the scheduler delivering previews first, then
full tiles that are exact."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch
from torch import nn

from ftle_widget import Plane
from ftle_widget.lazy.planning import COARSE, MARGIN, PREVIEW, VIEW, plan_view
from ftle_widget.lazy.previews import local_rise, preview_px, variation, variation_order
from ftle_widget.lazy.pyramid import Pyramid, View
from ftle_widget.lazy.scheduler import TileScheduler
from ftle_widget.maths.fields import compute_field
from ftle_widget.paper.models import mlp

PLANE = Plane.standard(2)
PYRAMID = Pyramid(base_side=2.0, tile_px=16)
VIEW_128 = View((-1.0, 1.0, -1.0, 1.0), 128, 128)  # level 3: 8 × 8 tiles; coarse: 2 × 2


def float32(_z: int) -> torch.dtype:
    return torch.float32


def nothing_cached(_key, _dtype) -> bool:
    return False


def ridge_model() -> nn.Module:
    """f(u, v) = tanh(8 (u − 0.3)) + tanh(v / 2): λ₁ has a ridge along u = 0.3."""
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[8.0, 0.0], [0.0, 0.5]]))
        model[0].bias.copy_(torch.tensor([-2.4, 0.0]))
        model[2].weight.fill_(1.0)
        model[2].bias.zero_()
    return model


@pytest.mark.parametrize(
    ("rate", "tiles", "tile_px", "expected"),
    [
        (None, 9, 64, None),  # speed unknown (tile_px given): as before
        (1e6, 9, 64, None),  # a fast model: the full coarse pass takes 37 ms
        (40_000, 9, 64, None),  # 9 full tiles take 0.92 s: no preview
        (15_000, 9, 64, None),  # 2.5 s: a fast model on a busy machine, no preview either
        (10_000, 9, 64, 32),  # 3.7 s: a preview of 9 · 32² = 9216 ≤ 10000 pts in a second
        (1_000, 9, 64, 8),  # 9 · 16² = 2304 > 1000 ≥ 9 · 8² = 576
        (100, 4, 64, 4),  # 4 · 4² = 64 ≤ 100
        (10, 9, 64, 4),  # nothing fits: the smallest
        (100, 4, 16, 4),  # only sides below the tiles' own
        (1, 1, 4, None),  # tiles of 4 px have no smaller preview
    ],
)
def test_preview_px_is_chosen_from_the_speed_and_the_number_of_tiles(
    rate, tiles, tile_px, expected
):
    assert preview_px(rate, tiles, tile_px) == expected


def test_the_plan_of_a_slow_model_starts_with_a_preview_and_a_fast_one_is_unchanged():
    before = plan_view(PYRAMID, VIEW_128, dtype_for=float32, is_cached=nothing_cached)
    fast = plan_view(
        PYRAMID, VIEW_128, dtype_for=float32, is_cached=nothing_cached, rate=1e6, preview_seconds=1
    )
    assert fast == before and {p.phase for p in fast} == {COARSE, VIEW, MARGIN}
    slow = plan_view(
        PYRAMID, VIEW_128, dtype_for=float32, is_cached=nothing_cached, rate=100, preview_seconds=1
    )
    coarse = [p for p in before if p.phase == COARSE]
    previews = [p for p in slow if p.phase == PREVIEW]
    assert [p.key for p in previews] == [p.key for p in coarse] and len(previews) == 4
    assert {p.tile_px for p in previews} == {4}  # 4 · 4² = 64 points ≤ 100 in a second
    assert [p for p in slow if p.phase != PREVIEW] == [p for p in before if p.phase != COARSE]
    # a full tile cached stands in for its preview
    full = previews[0].key
    cached = plan_view(
        PYRAMID,
        VIEW_128,
        dtype_for=float32,
        is_cached=lambda key, _dtype: key == full,
        rate=100,
        preview_seconds=1,
    )
    assert next((p.key, p.tile_px) for p in cached if p.phase == PREVIEW) == (full, None)


def test_local_rise_marks_ridges_and_the_high_side_of_steps():
    ridge = np.zeros((5, 7))
    ridge[:, 3] = 2.0
    assert local_rise(ridge).tolist() == ridge.tolist()  # the ridge stands 2 above, flanks 0
    step = np.zeros((4, 4))
    step[:, 2:] = 1.0
    assert local_rise(step)[:, 2].tolist() == [1.0] * 4
    assert local_rise(step)[:, [0, 1, 3]].max() == 0.0
    holes = np.array([[np.nan, 1.0], [np.inf, 0.0]])
    assert local_rise(holes).tolist() == [[0.0, 1.0], [0.0, 0.0]]


def test_variation_order_puts_the_tiles_under_a_ridge_first_ties_centre_first():
    z = PYRAMID.level_for(VIEW_128)
    fine = PYRAMID.covering(VIEW_128.extent, z)  # centre first
    coarse = PYRAMID.covering(VIEW_128.extent, z - 2)
    # previews of 4 × 4 pixels: one per fine tile; a ridge along the fine tiles' column j = 1
    previews = {}
    for zc, i, j in coarse:
        values = np.zeros((4, 4))
        for col in range(4):
            if 4 * (j + 1) + col == 5:  # mosaic column 5 (from u = -1): fine tiles j = 1
                values[:, col] = 3.0
        previews[(zc, i, j)] = values
    order = variation_order(PYRAMID, fine, previews)
    assert sorted(order) == sorted(fine)
    assert {k[2] for k in order[:8]} == {1}  # the ridge's column first
    assert [k for k in order[8:]] == [k for k in fine if k[2] != 1]  # then centre first
    assert variation(PYRAMID, fine, previews).max() == 3.0
    flat = {k: np.ones((4, 4)) for k in coarse}
    assert variation_order(PYRAMID, fine, flat) == fine
    assert variation_order(PYRAMID, fine, {}) == fine
    # finer previews (a cached full tile among them) are sampled at the coarsest's pixels
    mixed = dict(previews)
    key = coarse[0]
    mixed[key] = np.kron(previews[key], np.ones((4, 4)))  # 16 × 16, the same picture
    assert variation_order(PYRAMID, fine, mixed) == order


class Collect:
    """The tiles delivered, and those delivered from the cache (in the caller's thread)."""

    def __init__(self):
        self.tiles, self.cached, self.lock = [], [], threading.Lock()

    def __call__(self, tile):
        with self.lock:
            self.tiles.append(tile)
            if threading.current_thread() is threading.main_thread():
                self.cached.append(tile)


def test_a_slow_model_gets_previews_first_then_ridges_then_exact_full_tiles():
    got = Collect()
    model = ridge_model()
    sched = TileScheduler(model, PLANE, layer="logits", tile_px=16, margin=0, on_tile=got)
    sched._rate[torch.float32] = 100.0  # as a model computing 100 points per second
    sched.request(VIEW_128, 1)
    assert sched.wait(60)
    engine = sched.engine()
    sched.close()
    pyr = sched.pyramid
    z = pyr.level_for(VIEW_128)
    fine = pyr.covering(VIEW_128.extent, z)
    previews = [t for t in got.tiles if t.preview]
    full = [t for t in got.tiles if not t.preview]
    assert got.tiles[: len(previews)] == previews and len(previews) == 4  # the picture first
    assert {t.key[0] for t in previews} == {z - 2} and {t.tile_px for t in previews} == {4}
    assert [t.key for t in full] == variation_order(pyr, fine, {t.key: t.ftle for t in previews})
    assert {t.key[2] for t in full[:8]} == {1}  # the ridge u = 0.3 lies in tiles j = 1
    for tile in got.tiles:  # exact: each the field of its rectangle at its resolution
        exact = compute_field(engine, PLANE, tile.extent, (tile.tile_px, tile.tile_px))
        np.testing.assert_array_equal(tile.ftle, exact.ftle)
    assert sorted(t.key for t in full) == sorted(fine)


def test_previews_off_or_a_fast_model_keep_the_coarse_pass_and_the_centre_order():
    for kw in ({"preview_seconds": None}, {"ridges_first": False}):
        got = Collect()
        sched = TileScheduler(ridge_model(), PLANE, layer="logits", tile_px=16, margin=0,
                              on_tile=got, **kw)  # fmt: skip
        sched._rate[torch.float32] = 100.0
        sched.request(VIEW_128, 1)
        assert sched.wait(60)
        sched.close()
        fine = sched.pyramid.covering(VIEW_128.extent, sched.pyramid.level_for(VIEW_128))
        assert [t.key for t in got.tiles if t.key[0] == fine[0][0]] == fine
        assert any(t.preview for t in got.tiles) == ("ridges_first" in kw)
    got = Collect()
    sched = TileScheduler(mlp(2, 10, 3, 1, seed=0), PLANE, tile_px=16, margin=0, on_tile=got)
    sched._rate[torch.float32] = 20_000.0  # a fast model: its coarse pass takes 0.05 s
    sched.request(VIEW_128, 1)
    assert sched.wait(60)
    sched.close()
    assert got.tiles and not any(t.preview for t in got.tiles)
    assert {t.tile_px for t in got.tiles} == {16}
    assert [t.key[0] for t in got.tiles[:4]] == [1] * 4  # the full coarse pass first, as before


def test_cached_previews_reorder_the_view_at_once_when_it_is_asked_again():
    got = Collect()
    sched = TileScheduler(ridge_model(), PLANE, layer="logits", tile_px=16, margin=0, on_tile=got,
                          chunk_px=16)  # fmt: skip
    sched._rate[torch.float32] = 100.0
    sched.request(VIEW_128, 1)
    deadline = time.monotonic() + 60
    while sum(t.preview for t in got.tiles) < 4:  # the previews are in: leave for elsewhere
        assert time.monotonic() < deadline, "the previews never came"
        time.sleep(0.001)
    sched.request(View((40.0, 42.0, 40.0, 42.0), 128, 128), 2)
    assert sched.wait(60)
    sched._rate[torch.float32] = 100.0  # still slow (full tiles measured the fast model)
    got.tiles.clear()
    got.cached.clear()
    sched.request(VIEW_128, 3)  # its previews are cached, most of its full tiles are not
    assert sched.wait(60)
    sched.close()
    pyr = sched.pyramid
    fine = pyr.covering(VIEW_128.extent, pyr.level_for(VIEW_128))
    previews = {t.key: t.ftle for t in got.tiles if t.preview}
    assert len(previews) == 4
    order = variation_order(pyr, fine, previews)
    assert all(t.preview for t in got.tiles[:4]) and got.tiles[:4] == got.cached[:4]
    computed = [t.key for t in got.tiles if not any(t is c for c in got.cached)]
    assert len(computed) > 8 and set(computed) <= set(fine)
    assert computed == [k for k in order if k in computed]  # where the previews vary most first


def test_a_zoom_of_a_slow_model_goes_where_the_held_coarser_tiles_vary_most():
    """No preview where the receiver holds stand-ins: the view's tiles are ordered by the cached
    tiles one level coarser, the ridge first; a fast model keeps centre first."""
    zoomed = View((-0.5, 0.5, -0.5, 0.5), 128, 128)  # one level finer than VIEW_128
    for rate, ridge_first in ((100.0, True), (1e7, False)):
        got = Collect()
        sched = TileScheduler(ridge_model(), PLANE, layer="logits", tile_px=16, margin=0,
                              on_tile=got)  # fmt: skip
        sched._rate[torch.float32] = 1e7  # the first view: full tiles, no preview
        sched.request(VIEW_128, 1)
        assert sched.wait(60)
        sched._rate[torch.float32] = rate
        got.tiles.clear()
        sched.request(zoomed, 2)  # held: the view's tiles of VIEW_128 stand in
        assert sched.wait(60)
        pyr = sched.pyramid
        z = pyr.level_for(zoomed)
        version = sched.model_version
        held = {k: sched.cache.get(sched._cache_key(version, k, torch.float32, False, 16)).ftle
                for k in pyr.covering(zoomed.extent, z - 1)}  # fmt: skip
        sched.close()
        fine = pyr.covering(zoomed.extent, z)
        assert not any(t.preview for t in got.tiles)
        computed = [t.key for t in got.tiles if t.key[0] == z]
        assert sorted(computed) == sorted(fine)
        if ridge_first:
            assert computed == variation_order(pyr, fine, held) != fine
        else:
            assert computed == fine  # centre first, as planned
