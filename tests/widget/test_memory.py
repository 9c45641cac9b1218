"""Closed views are freed: their tile caches, weight snapshots and engines go with them."""

from __future__ import annotations

import ctypes
import gc
import sys
import weakref

import psutil
import torch
from helpers import browser_sends

from ftle_widget import FTLEView
from ftle_widget.lazy.tiles import Tile
from ftle_widget.paper.models import mlp

BALLAST = 2_000_000  # float32 values of model state copied into every snapshot: 8 MB


def rss_mb() -> float:
    gc.collect()
    if sys.platform.startswith("linux"):  # hand freed heap pages back, so RSS can fall
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return psutil.Process().memory_info().rss / 2**20


def live_tiles() -> int:
    return sum(type(o) is Tile for o in gc.get_objects())


def open_fill_close(model):
    view = FTLEView(model)
    view.send = lambda content, buffers=None: None
    browser_sends(
        view,
        {"kind": "view", "generation": 1, "extent": [-1.5, 1.5, -1.5, 1.5], "width": 128,
         "height": 128},
    )  # fmt: skip
    assert view.scheduler.wait(60)
    cache = view.scheduler.cache
    assert len(cache) >= 4  # the view really holds tiles
    view.close()
    return weakref.ref(view), cache


def test_closed_views_are_garbage_collected_with_their_tiles_and_snapshots():
    model = mlp(2, 10, 3, 1, seed=0)
    model.register_buffer("ballast", torch.zeros(BALLAST))
    open_fill_close(model)  # warm up (imports, torch's pools)
    start, tiles = rss_mb(), live_tiles()
    held = [open_fill_close(model) for _ in range(20)]
    gc.collect()
    alive = [ref for ref, _ in held if ref() is not None]
    assert not alive, f"{len(alive)} of 20 closed views are still alive"
    assert all(len(cache) == 0 and cache.nbytes == 0 for _, cache in held)
    assert live_tiles() <= tiles  # (other tests' tiles may live on)
    # a leak holds at least one 8 MB snapshot per view: 160 MB
    assert rss_mb() - start < 40
