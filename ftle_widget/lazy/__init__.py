"""Lazy fields: the tile pyramid, the tile cache, model versions, planning and the scheduler."""

from .pyramid import Pyramid, View
from .scheduler import TileScheduler
from .tiles import Tile, TileCache

__all__ = ["Pyramid", "Tile", "TileCache", "TileScheduler", "View"]
