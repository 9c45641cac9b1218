"""Lazy fields: the tile pyramid, the tile cache, model versions, planning and the scheduler."""

from .devices import DevicePool
from .pyramid import Pyramid, View
from .scheduler import TileScheduler
from .tiles import Tile, TileCache

__all__ = ["DevicePool", "Pyramid", "Tile", "TileCache", "TileScheduler", "View"]
