"""Computed tiles and the byte-bounded, thread-safe LRU cache that holds them. A tile computed
with the lower exponents (λ₂, λ_min) serves a request without them too, never the reverse."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np

from ..maths.quantities import quantity_values
from .pyramid import TileKey


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
    preview: bool = False  # fewer pixels than the pyramid's tiles: a slow model's first picture
    computed_by: str = ""  # where it was computed elsewhere: a cluster worker's address, a device
    lambda_2: np.ndarray | None = None  # (T, T) float32 λ₂ and λ_min, computed with lower=True
    lambda_min: np.ndarray | None = None
    depth: float = 1.0  # the divisor of log Λ₁ it was computed with (a layer slider moves it)
    vmin: float = field(init=False)
    vmax: float = field(init=False)

    def __post_init__(self) -> None:
        finite = self.ftle[np.isfinite(self.ftle)]
        self.vmin = float(finite.min()) if finite.size else math.nan
        self.vmax = float(finite.max()) if finite.size else math.nan

    @property
    def tile_px(self) -> int:
        """Pixels per side."""
        return int(self.ftle.shape[0])

    @property
    def lower(self) -> bool:
        """Whether it holds λ₂ and λ_min."""
        return self.lambda_2 is not None and self.lambda_min is not None

    def lower_arrays(self) -> list[np.ndarray]:
        """λ₂ and λ_min as sent to a browser: one array where they are equal everywhere (two
        singular values, so λ_min is λ₂), else both; none without them."""
        if self.lambda_2 is None or self.lambda_min is None:
            return []
        if np.array_equal(self.lambda_2, self.lambda_min, equal_nan=True):
            return [self.lambda_2]
        return [self.lambda_2, self.lambda_min]

    def values(self, quantity: str, depth: float = 1.0) -> np.ndarray:
        """(T, T) float32 values of ``quantity`` (:mod:`~ftle_widget.maths.quantities`)."""
        return quantity_values(quantity, self.ftle, self.lambda_2, self.lambda_min, depth)

    @property
    def nbytes(self) -> int:
        extra = [self.direction, self.lambda_2, self.lambda_min]
        return (
            self.ftle.nbytes
            + self.prediction.nbytes
            + sum(a.nbytes for a in extra if a is not None)
        )


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

    def get(self, key: Hashable, lower: bool = False) -> Tile | None:
        """The tile, marked as most recently used; ``None`` on a miss (and for ``lower``, where
        the tile has no λ₂ and λ_min)."""
        with self._lock:
            tile = self._items.get(key)
            if tile is None or (lower and not tile.lower):
                return None
            self._items.move_to_end(key)
            return tile

    def holds(self, key: Hashable, lower: bool = False) -> bool:
        """Whether :meth:`get` would find the tile (without marking it used)."""
        tile = self._items.get(key)
        return tile is not None and (tile.lower or not lower)

    def put(self, key: Hashable, tile: Tile) -> None:
        """Store a tile, evicting the least recently used ones beyond the byte bound."""
        size = tile.nbytes
        with self._lock:
            old = self._items.get(key)
            if old is not None and old.lower and not tile.lower:
                return  # the tile held says more
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
