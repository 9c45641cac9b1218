"""The tile pyramid's geometry and the byte-bounded tile cache.

Level z has square tiles of side ``base_side · 2⁻ᶻ`` plane units, ``tile_px × tile_px`` pixels
each. Tile (z, i, j) covers u ∈ [j·side, (j+1)·side) and v ∈ [i·side, (i+1)·side) (negative
indices allowed), sampled with the pixel-centre convention of :func:`ftle_widget.ftle_field`:
a tile is exactly the field of its rectangle.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .fields import check_extent

TileKey = tuple[int, int, int]  # (z, i, j)


@dataclass(frozen=True)
class View:
    """What the user sees: a rectangle of the plane drawn on ``width × height`` pixels."""

    extent: tuple[float, float, float, float]
    width: int
    height: int

    MAX_PIXELS = 16384  # per side

    def __post_init__(self) -> None:
        object.__setattr__(self, "extent", check_extent(self.extent))
        for name in ("width", "height"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | np.integer)
                or not (1 <= value <= self.MAX_PIXELS)
            ):
                raise ValueError(
                    f"view {name} must be an int in [1, {self.MAX_PIXELS}] pixels, not {value!r}"
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


@dataclass
class Tile:
    """A computed tile: float32 arrays and what they were computed for."""

    key: TileKey
    extent: tuple[float, float, float, float]
    ftle: np.ndarray  # (T, T) float32, row 0 at v0
    prediction: np.ndarray  # (T, T) float32 class index
    direction: np.ndarray | None  # (T, T, 2) float32, or None
    model_version: int
    dtype: str  # "float32" or "float64": the precision the tile was computed in
    generation: int = -1  # the request it was delivered for (set on delivery)
    vmin: float = field(init=False)
    vmax: float = field(init=False)

    def __post_init__(self) -> None:
        finite = self.ftle[np.isfinite(self.ftle)]
        self.vmin = float(finite.min()) if finite.size else math.nan
        self.vmax = float(finite.max()) if finite.size else math.nan

    @property
    def nbytes(self) -> int:
        extra = 0 if self.direction is None else self.direction.nbytes
        return self.ftle.nbytes + self.prediction.nbytes + extra


class TileCache:
    """A thread-safe LRU cache of tiles, bounded in bytes (default 256 MiB)."""

    def __init__(self, max_bytes: int = 256 * 2**20):
        if max_bytes < 0:
            raise ValueError("max_bytes must be ≥ 0")
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, Tile] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Bytes held now."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def get(self, key: Hashable) -> Tile | None:
        """The tile, marked as most recently used; ``None`` on a miss."""
        with self._lock:
            tile = self._items.get(key)
            if tile is not None:
                self._items.move_to_end(key)
            return tile

    def put(self, key: Hashable, tile: Tile) -> None:
        """Store a tile, evicting the least recently used ones beyond the byte bound."""
        size = tile.nbytes
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            if size > self.max_bytes:
                return
            self._items[key] = tile
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= evicted.nbytes

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
