"""The tile pyramid's geometry: views, levels, tile keys and which tiles cover a view.

Level z has square tiles of side ``base_side · 2⁻ᶻ`` plane units, ``tile_px × tile_px`` pixels
each. Tile (z, i, j) covers u ∈ [j·side, (j+1)·side) and v ∈ [i·side, (i+1)·side) (negative
indices allowed), sampled with the pixel-centre convention of :func:`ftle_widget.ftle_field`:
a tile is exactly the field of its rectangle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..maths.fields import check_extent

TileKey = tuple[int, int, int]  # (z, i, j)
MAX_VIEW_PIXELS = 4096  # per side: the largest view drawn (and the largest a browser may ask)
MAX_COORDINATE = 1e12  # plane coordinates of a view lie within ±this


def fit_extent(
    extent: Sequence[float], width: int, height: int
) -> tuple[float, float, float, float]:
    """``extent`` grown about its centre along one axis so that ``width × height`` pixels are
    square; the other axis kept exactly (js/src/viewport.ts's ``Viewport.fit``)."""
    u0, u1, v0, v1 = (float(e) for e in extent)
    ru, rv = (u1 - u0) / width, (v1 - v0) / height
    if ru > rv:
        cv, hv = 0.5 * (v0 + v1), 0.5 * ru * height
        return u0, u1, cv - hv, cv + hv
    if rv > ru:
        cu, hu = 0.5 * (u0 + u1), 0.5 * rv * width
        return cu - hu, cu + hu, v0, v1
    return u0, u1, v0, v1


@dataclass(frozen=True)
class View:
    """What the user sees: a rectangle of the plane drawn on ``width × height`` pixels."""

    extent: tuple[float, float, float, float]
    width: int
    height: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "extent", check_extent(self.extent))
        if max(abs(e) for e in self.extent) > MAX_COORDINATE:
            raise ValueError(
                f"view extent {self.extent} reaches beyond ±{MAX_COORDINATE:g} on the plane: "
                "pan back towards the origin, or reset"
            )
        for name in ("width", "height"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | np.integer)
                or not (1 <= value <= MAX_VIEW_PIXELS)
            ):
                raise ValueError(
                    f"view {name} must be an int in [1, {MAX_VIEW_PIXELS}] pixels, not {value!r}"
                )

    @property
    def pixel(self) -> float:
        """The larger of the horizontal and vertical pixel sizes, in plane units."""
        u0, u1, v0, v1 = self.extent
        return max((u1 - u0) / self.width, (v1 - v0) / self.height)

    @property
    def centre(self) -> tuple[float, float]:
        u0, u1, v0, v1 = self.extent
        return 0.5 * (u0 + u1), 0.5 * (v0 + v1)


@dataclass(frozen=True)
class Pyramid:
    """Tile geometry: ``base_side`` plane units per tile at level 0, ``tile_px`` pixels per side."""

    base_side: float
    tile_px: int = 256

    def side(self, z: int) -> float:
        """Side of a level-z tile, in plane units."""
        return math.ldexp(self.base_side, -z)

    def extent(self, key: TileKey) -> tuple[float, float, float, float]:
        """(u0, u1, v0, v1) of tile (z, i, j)."""
        z, i, j = key
        side = self.side(z)
        return (j * side, (j + 1) * side, i * side, (i + 1) * side)

    def level_for(self, view: View) -> int:
        """The level whose pixels match the view's (rounded in log₂)."""
        return round(math.log2(self.base_side / (self.tile_px * view.pixel)))

    def covering(self, extent: Sequence[float], z: int, margin: int = 0) -> list[TileKey]:
        """Tiles of level z meeting ``extent``, grown by ``margin`` tiles on every side,
        ordered centre first (by distance of tile centres from the extent's centre)."""
        u0, u1, v0, v1 = extent
        side = self.side(z)
        j0, j1 = math.floor(u0 / side) - margin, math.ceil(u1 / side) - 1 + margin
        i0, i1 = math.floor(v0 / side) - margin, math.ceil(v1 / side) - 1 + margin
        cu, cv = 0.5 * (u0 + u1), 0.5 * (v0 + v1)
        keys = [(z, i, j) for i in range(i0, i1 + 1) for j in range(j0, j1 + 1)]
        return sorted(
            keys, key=lambda k: ((k[2] + 0.5) * side - cu) ** 2 + ((k[1] + 0.5) * side - cv) ** 2
        )
