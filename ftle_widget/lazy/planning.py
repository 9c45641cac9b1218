"""Planning: a view → the tiles to compute, in order. Pure functions (no threads, no cache:
what is cached is asked through ``is_cached``), so the order can be tested on its own.

The order: a coarse pass ``coarse_levels`` below the view's level first (unless cached tiles
cover the view already: see :func:`stand_ins_cover`), then the view's tiles centre first, then a
margin of ``margin`` rings of tiles around the view (for short pans). For a slow model (its
measured ``rate`` would make the coarse pass take longer than ``preview_seconds``) the coarse
pass is a preview of fewer pixels per tile (:mod:`.previews`), and the view's tiles are reordered
by it once it is computed (:func:`~.previews.variation_order`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from ..maths.planes import Plane
from .previews import PREVIEW_SECONDS, preview_px
from .pyramid import Pyramid, TileKey, View

DEEP_ZOOM_ULPS = 256  # float64 once a pixel step spans fewer float32 ulps of the input
FLOAT64_ULPS = 16  # the finest view: a pixel step spans this many float64 ulps (no staircase)
_EPS32 = float(np.finfo(np.float32).eps)
_EPS64 = float(np.finfo(np.float64).eps)
_SMALLEST = 1e-200  # magnitudes below this count as this (far from subnormal numbers)

PREVIEW, COARSE, VIEW, MARGIN = 0, 1, 2, 3  # the phases, in the order they run


class PlannedTile(NamedTuple):
    """One tile of a plan: its phase (:data:`PREVIEW`, :data:`COARSE`, :data:`VIEW`,
    :data:`MARGIN`), key, the precision it is computed in and its pixels per side (``None``: the
    pyramid's ``tile_px``; fewer for a preview)."""

    phase: int
    key: TileKey
    dtype: torch.dtype
    tile_px: int | None = None


def plan_view(
    pyramid: Pyramid,
    view: View,
    *,
    dtype_for: Callable[[int], torch.dtype],
    is_cached: Callable[[TileKey, torch.dtype], bool],
    coarse_levels: int = 2,
    margin: int = 1,
    held: bool = True,
    rate: float | None = None,
    preview_seconds: float = PREVIEW_SECONDS,
) -> list[PlannedTile]:
    """The tiles ``view`` needs, in the order to compute them.

    ``dtype_for(z)`` is the precision of level z (:func:`deep_zoom_dtype`); ``is_cached(key,
    dtype)`` tells whether a full tile is cached; ``held`` whether the receiver holds the tiles
    delivered before (then cached tiles of a neighbouring level stand in for the coarse pass);
    ``rate`` the model's measured pixels per second: where the coarse pass would take longer
    than ``preview_seconds``, it is a preview (:func:`~.previews.preview_px`; cached full tiles
    stand in for their previews).
    """
    z = pyramid.level_for(view)
    dtype = dtype_for(z)
    fine = pyramid.covering(view.extent, z)
    inside = set(fine)
    ring = [k for k in pyramid.covering(view.extent, z, margin) if k not in inside]
    plan: list[PlannedTile] = []
    if coarse_levels > 0 and not stand_ins_cover(
        pyramid, view, z, lambda key: is_cached(key, dtype), coarse_levels, held
    ):
        zc = z - coarse_levels
        coarse_dtype = dtype_for(zc)
        coarse = pyramid.covering(view.extent, zc)
        px = preview_px(rate, len(coarse), pyramid.tile_px, preview_seconds)
        if px is None:
            plan += [PlannedTile(COARSE, k, coarse_dtype) for k in coarse]
        else:
            plan += [
                PlannedTile(PREVIEW, k, coarse_dtype, None if is_cached(k, coarse_dtype) else px)
                for k in coarse
            ]
    plan += [PlannedTile(VIEW, k, dtype) for k in fine]
    plan += [PlannedTile(MARGIN, k, dtype) for k in ring]
    return plan


def stand_ins_cover(
    pyramid: Pyramid,
    view: View,
    z: int,
    is_cached: Callable[[TileKey], bool],
    coarse_levels: int,
    held: bool,
) -> bool:
    """Whether cached tiles already cover the view at level z (delivered now) or, when the
    receiver ``held`` what was delivered before, at a neighbouring level: it draws those,
    stretched, while level z comes, so a coarse pass would only delay the first tile at the
    view's resolution."""
    for level in (z, z - 1, z + 1, z - coarse_levels) if held else (z,):
        if all(is_cached(k) for k in pyramid.covering(view.extent, level)):
            return True
    return False


def deep_zoom_dtype(
    plane: Plane,
    pixel_side: float,
    centre: tuple[float, float],
    model_dtype: torch.dtype | None,
) -> torch.dtype:
    """float64 where a pixel step (``pixel_side`` plane units) is below what float32 inputs
    resolve near the view's ``centre`` (deep zoom), and for float64 models; else float32."""
    if model_dtype == torch.float64:
        return torch.float64
    origin, u, v, longest, _ = plane_arrays(plane)
    scale = max(1.0, _largest(origin, u, v, centre))
    return (
        torch.float64 if pixel_side * longest < DEEP_ZOOM_ULPS * _EPS32 * scale else torch.float32
    )


def finest_pixel(plane: Plane, extent: tuple[float, float, float, float]) -> float:
    """The smallest pixel side (plane units) that float64 still resolves over ``extent``: a step
    of one pixel changes the plane coordinates and the model's input by at least
    :data:`FLOAT64_ULPS` of their float64 ulps. Finer views would show a staircase of equal
    inputs, then fail."""
    u0, u1, v0, v1 = extent
    coordinate = max(abs(u0), abs(u1), abs(v0), abs(v1), _SMALLEST)
    origin, u, v, _, shortest = plane_arrays(plane)
    magnitude = max(_largest(origin, u, v, (0.5 * (u0 + u1), 0.5 * (v0 + v1))), _SMALLEST)
    return FLOAT64_ULPS * _EPS64 * max(coordinate, magnitude / shortest)


@functools.lru_cache(maxsize=16)
def plane_arrays(plane: Plane) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """The plane as flat float64 arrays, and its longer and shorter direction's length (planning
    runs on every view message: numpy on small arrays is much cheaper than torch). Cached per
    plane (equal planes share an entry), so copies: a view of the first plane's tensors dangled
    once pickling them for a process pool moved them to shared memory (``share_memory_``)."""
    origin, u, v = (np.array(t.reshape(-1).numpy()) for t in (plane.origin, plane.u, plane.v))
    for array in (origin, u, v):
        array.setflags(write=False)  # shared by every caller
    lengths = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    return origin, u, v, max(lengths), min(lengths)


def _largest(origin: np.ndarray, u: np.ndarray, v: np.ndarray, at: tuple[float, float]) -> float:
    """max |x| of the input at plane point ``at``."""
    return float(np.abs(origin + at[0] * u + at[1] * v).max())


def check_resolution(plane: Plane, view: View) -> None:
    """A ValueError when ``view``'s pixels are finer than float64 resolves."""
    finest = finest_pixel(plane, view.extent)
    if view.pixel < finest:
        raise ValueError(
            f"zoomed in beyond float64's resolution: a pixel of {view.pixel:.3g} plane units is "
            f"finer than the {finest:.3g} that float64 resolves here; zoom out"
        )


def limit_zoom(plane: Plane, view: View) -> tuple[View, bool]:
    """``view``, grown about its centre where its pixels are finer than float64 resolves
    (:func:`finest_pixel`), and whether it was (js/src/gestures.ts's ``limitZoom``)."""
    finest = finest_pixel(plane, view.extent)
    if view.pixel >= finest:
        return view, False
    u0, u1, v0, v1 = view.extent
    (cu, cv), grow = view.centre, finest / view.pixel
    hu, hv = 0.5 * (u1 - u0) * grow, 0.5 * (v1 - v0) * grow
    return View((cu - hu, cu + hu, cv - hv, cv + hv), view.width, view.height), True
