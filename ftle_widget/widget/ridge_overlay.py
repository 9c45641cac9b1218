"""The ridge overlay: ridges of the tiles a view shows, traced in Python and sent to the browser.

Why Python and not the browser: the ridges are :func:`ftle_widget.ridges`' (one algorithm,
validated to within half a pixel; a second one in TypeScript would drift from it), and Python
holds the tiles it sent. When a view's tiles are all delivered, the finest level of them is laid
out as one field (:func:`held_field`), traced on a worker thread (a 512² view takes about a
second on a busy CPU: never on the kernel's or the scheduler's thread), and sent as one small
``ridges`` message (:func:`~.protocol.encode_ridges`). The browser draws the latest while
``show_ridges`` is on; a newer view's ridges replace them, older ones are dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..lazy.tiles import Tile
from ..maths.fields import Field
from ..maths.ridges import Ridge, ridges
from . import protocol


def held_field(tiles: Sequence[Tile], depth: float = 1.0) -> Field | None:
    """The finest level of ``tiles`` as one field over the rectangle they span (NaN where a
    tile of that level is missing; preview tiles of it are left out where full ones exist);
    None without tiles."""
    if not tiles:
        return None
    finest = max(t.key[0] for t in tiles)
    level = [t for t in tiles if t.key[0] == finest]
    level = [t for t in level if not t.preview] or level
    size = max(t.tile_px for t in level)
    level = [t for t in level if t.tile_px == size]
    width = level[0].extent[1] - level[0].extent[0]
    height = level[0].extent[3] - level[0].extent[2]
    u0 = min(t.extent[0] for t in level)
    v0 = min(t.extent[2] for t in level)
    columns = [round((t.extent[0] - u0) / width) for t in level]
    rows = [round((t.extent[2] - v0) / height) for t in level]
    across, down = max(columns) + 1, max(rows) + 1
    ftle = np.full((down * size, across * size), np.nan, dtype=np.float32)
    prediction = np.full_like(ftle, np.nan)
    for tile, c, r in zip(level, columns, rows):
        ftle[r * size : (r + 1) * size, c * size : (c + 1) * size] = tile.ftle
        prediction[r * size : (r + 1) * size, c * size : (c + 1) * size] = tile.prediction
    extent = (u0, u0 + across * width, v0, v0 + down * height)
    return Field(ftle, prediction, None, extent, depth=depth)


class RidgeOverlay:
    """Traces the ridges of a view's tiles on one worker thread and posts them (see the
    module): ``update`` with each complete view, ``close`` when the view closes."""

    def __init__(self, post: Callable[[protocol.Message], None]):
        self._post = post
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="ftle-ridges")
        self._lock = threading.Lock()
        self._newest = -1

    def update(self, tiles: Sequence[Tile], generation: int) -> None:
        """Trace ``tiles`` (a complete view, the browser's ``generation``) and post the ridges,
        unless a newer view came first."""
        with self._lock:
            if generation < self._newest:
                return
            self._newest = generation
        self._worker.submit(self._trace, list(tiles), generation)

    def _trace(self, tiles: list[Tile], generation: int) -> None:
        if generation < self._newest:  # a newer view was asked for while this one waited
            return
        field = held_field(tiles)
        found: list[Ridge] = [] if field is None or min(field.shape) < 3 else ridges(field)
        with self._lock:
            if generation < self._newest:
                return
        self._post(protocol.encode_ridges(found, generation))

    def close(self) -> None:
        """Stop the worker (a trace under way finishes, nothing is posted after)."""
        with self._lock:
            self._newest = 2**62
        self._worker.shutdown(wait=False, cancel_futures=True)
