"""Planning: a view → the tiles to compute, in order. Pure functions (no threads, no cache:
what is cached is asked through ``is_cached``), so the order can be tested on its own.

The order: a coarse pass ``coarse_levels`` below the view's level first (unless cached tiles
cover the view already: see :func:`stand_ins_cover`), then the view's tiles centre first, then a
margin of ``margin`` rings of tiles around the view (for short pans).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from ..maths.planes import Plane
from .pyramid import Pyramid, TileKey, View

DEEP_ZOOM_ULPS = 256  # float64 once a pixel step spans fewer float32 ulps of the input
_EPS32 = float(np.finfo(np.float32).eps)

COARSE, VIEW, MARGIN = 0, 1, 2  # the phases, in the order they run


class PlannedTile(NamedTuple):
    """One tile of a plan: its phase (:data:`COARSE`, :data:`VIEW`, :data:`MARGIN`), key and
    the precision it is computed in."""

    phase: int
    key: TileKey
    dtype: torch.dtype


def plan_view(
    pyramid: Pyramid,
    view: View,
    *,
    dtype_for: Callable[[int], torch.dtype],
    is_cached: Callable[[TileKey, torch.dtype], bool],
    coarse_levels: int = 2,
    margin: int = 1,
    held: bool = True,
) -> list[PlannedTile]:
    """The tiles ``view`` needs, in the order to compute them.

    ``dtype_for(z)`` is the precision of level z (:func:`deep_zoom_dtype`); ``is_cached(key,
    dtype)`` tells whether a tile is cached; ``held`` whether the receiver holds the tiles
    delivered before (then cached tiles of a neighbouring level stand in for the coarse pass).
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
        plan += [PlannedTile(COARSE, k, coarse_dtype) for k in pyramid.covering(view.extent, zc)]
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
    step = pixel_side * max(float(plane.u.norm()), float(plane.v.norm()))
    point = plane.to_input(np.array([centre]))
    scale = max(1.0, float(point.abs().max()))
    return torch.float64 if step < DEEP_ZOOM_ULPS * _EPS32 * scale else torch.float32
