"""Previews for slow models (pure functions): the preview's resolution, chosen from the measured
speed, and the view's tiles reordered by what the preview shows.

A model that computes tens to hundreds of points per second would keep a new view blank for
minutes if its first picture waited for full tiles. Its coarse pass is then computed at
``p × p`` pixels per tile (:func:`preview_px`: p ∈ :data:`PREVIEW_PX`, about
:data:`PREVIEW_SECONDS` for the whole view), drawn stretched; the view's full tiles follow where
the preview varies most first (:func:`variation_order`: ridges before flat regions).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from .pyramid import Pyramid, TileKey

PREVIEW_PX = (32, 16, 8, 4)  # the preview's pixels per tile side, finest first
PREVIEW_SECONDS = 1.0  # the whole view's preview takes about this long at the measured speed
SLOW_SECONDS = 3.0  # a preview only where the full coarse pass would take longer than this
VARIATION_LEVELS = 8  # variations this close (in eighths of the largest) go centre first


def preview_px(
    rate: float | None,
    tiles: int,
    tile_px: int,
    seconds: float = PREVIEW_SECONDS,
    slow: float = SLOW_SECONDS,
) -> int | None:
    """The preview's pixels per tile side for a coarse pass of ``tiles`` tiles at ``rate`` pixels
    per second: ``None`` (no preview: full tiles) when the full pass takes at most ``slow``
    seconds (fast models, also on a busy machine) or the speed is unknown, else the largest p of
    :data:`PREVIEW_PX` below ``tile_px`` whose pass takes at most ``seconds`` (the smallest when
    none does)."""
    if seconds <= 0 or not is_slow(rate, tiles, tile_px, max(seconds, slow)):
        return None
    assert rate is not None  # is_slow: a known, positive rate
    smaller = [p for p in PREVIEW_PX if p < tile_px]
    for p in smaller:
        if tiles * p * p <= rate * seconds:
            return p
    return smaller[-1] if smaller else None


def is_slow(rate: float | None, tiles: int, tile_px: int, slow: float = SLOW_SECONDS) -> bool:
    """Whether ``tiles`` full tiles at ``rate`` pixels per second take longer than ``slow``
    seconds (a model whose view's tiles go where the field varies most first)."""
    return rate is not None and rate > 0 and tiles * tile_px**2 > rate * slow


def local_rise(values: np.ndarray) -> np.ndarray:
    """How far each pixel stands above the lowest of its 3 × 3 neighbourhood (the upper part of
    the local range): large on ridges and on the high side of steps, 0 where the field is flat.
    Non-finite pixels count as missing; a pixel with no finite neighbour gets 0."""
    finite = np.where(np.isfinite(values), values, np.nan)
    padded = np.pad(finite, 1, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows
        low = np.nanmin(windows, axis=(-2, -1))
    rise = finite - low
    return np.where(np.isfinite(rise), rise, 0.0)


def variation(
    pyramid: Pyramid, keys: Sequence[TileKey], previews: Mapping[TileKey, np.ndarray]
) -> np.ndarray:
    """For each of ``keys`` (tiles of one level), the preview's largest :func:`local_rise` under
    it (at the pixels whose centres lie in the tile; the one holding its middle if none does).
    ``previews`` maps tiles of one coarser (or equal) level to their λ₁ values (any pixels per
    side; they are sampled at the smallest). A tile no preview covers gets −1."""
    if not previews or not keys:
        return np.full(len(keys), -1.0)
    levels = {k[0] for k in previews}
    if len(levels) != 1:
        raise ValueError(f"previews must share one level, not {sorted(levels)}")
    zp = levels.pop()
    p = min(int(a.shape[0]) for a in previews.values())
    i0 = min(k[1] for k in previews)
    j0 = min(k[2] for k in previews)
    rows = (max(k[1] for k in previews) - i0 + 1) * p
    cols = (max(k[2] for k in previews) - j0 + 1) * p
    mosaic = np.full((rows, cols), np.nan)
    for (_, i, j), values in previews.items():
        n = int(values.shape[0])
        pick = ((np.arange(p) + 0.5) * n / p).astype(int)  # nearest pixel of a finer tile
        r, c = (i - i0) * p, (j - j0) * p
        mosaic[r : r + p, c : c + p] = np.asarray(values, dtype=np.float64)[np.ix_(pick, pick)]
    rise = local_rise(mosaic)
    step = pyramid.side(zp) / p  # a preview pixel, in plane units
    u_origin, v_origin = j0 * pyramid.side(zp), i0 * pyramid.side(zp)
    # the tiles of one level form a grid: reduce over each column of tiles, then each row
    side = pyramid.side(keys[0][0])
    js, is_ = sorted({k[2] for k in keys}), sorted({k[1] for k in keys})
    across = [_pixels((j * side - u_origin) / step, ((j + 1) * side - u_origin) / step, cols)
              for j in js]  # fmt: skip
    up = [_pixels((i * side - v_origin) / step, ((i + 1) * side - v_origin) / step, rows)
          for i in is_]  # fmt: skip
    by_column = np.full((rows, len(js)), -1.0)
    for n, span in enumerate(across):
        if span is not None:
            by_column[:, n] = rise[:, span[0] : span[1]].max(axis=1)
    grid = np.full((len(is_), len(js)), -1.0)
    for n, span in enumerate(up):
        if span is not None:
            grid[n] = by_column[span[0] : span[1]].max(axis=0)
    column, row = {j: n for n, j in enumerate(js)}, {i: n for n, i in enumerate(is_)}
    return np.array([grid[row[i], column[j]] for _, i, j in keys])


def _pixels(a: float, b: float, size: int) -> tuple[int, int] | None:
    """The pixels (first, end) whose centres lie in [a, b), in pixel units; the one holding the
    middle when none does; ``None`` when they lie outside ``[0, size)``."""
    first, end = math.ceil(a - 0.5), math.ceil(b - 0.5)
    if end <= first:
        first = math.floor(0.5 * (a + b))
        end = first + 1
    first, end = max(first, 0), min(end, size)
    return (first, end) if first < end else None


def variation_order(
    pyramid: Pyramid,
    keys: Sequence[TileKey],
    previews: Mapping[TileKey, np.ndarray],
    levels: int = VARIATION_LEVELS,
) -> list[TileKey]:
    """``keys`` (in their planned order: centre first) reordered by the preview's
    :func:`variation` under each, largest first, in ``levels`` steps of the largest; ties (and a
    flat preview) keep the planned order."""
    values = variation(pyramid, keys, previews)
    top = float(values.max()) if len(values) else 0.0
    if not top > 0:
        return list(keys)
    steps = np.where(values >= 0, np.minimum(np.floor(values / top * levels), levels - 1), -1)
    ranked = sorted(range(len(keys)), key=lambda n: (-steps[n], n))
    return [keys[n] for n in ranked]
