"""One tile's work: the field of its square as a plain function of picklable arguments (so any
executor can run it), and the speed measurements that size tiles and cancellation chunks."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np
import torch

from ..maths.exponents import Engine
from ..maths.fields import Cancelled, compute_field
from ..maths.planes import Plane
from .pyramid import TileKey
from .tiles import Tile

CHUNK_SECONDS = 0.08  # work between two cancellation checks (a stop is ≤ ~100 ms away)
TILE_SECONDS = 0.03  # "auto" tile size: about this long per tile (a fast first tile)
RETIME_SECONDS = 0.25  # measurements shorter than this are repeated (the fastest counts)


def compute_tile(
    engine: Engine,
    plane: Plane,
    key: TileKey,
    extent: tuple[float, float, float, float],
    tile_px: int,
    dtype: torch.dtype,
    directions: bool,
    version: int,
    chunk: int,
    lower: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> Tile | None:
    """One tile: the field of its square (``None`` if ``should_stop`` stopped it), with λ₂ and
    λ_min where ``lower``. A plain function of picklable arguments, so that any executor
    (threads, processes, a cluster) can run it."""
    try:
        result = compute_field(
            engine,
            plane,
            extent,
            (tile_px, tile_px),
            directions=directions,
            dtype=dtype,
            chunk=chunk,
            should_stop=should_stop,
            lower=lower,
        )
    except Cancelled:
        return None
    return Tile(
        key=key,
        extent=extent,
        ftle=result.ftle,
        prediction=result.prediction.astype(np.float32),
        direction=result.direction,
        model_version=version,
        dtype=str(dtype).replace("torch.", ""),
        lambda_2=result.lambda_2,
        lambda_min=result.lambda_min,
        depth=result.depth,
    )


def chunk_pixels(batch: int, rate: float, tile_px: int) -> int:
    """Pixels between cancellation checks: ~CHUNK_SECONDS of work at ``rate`` pixels/s, a whole
    number of the engine's ``batch`` (so that a tile equals the field of its rectangle value for
    value), at most one tile."""
    batches = max(1, round(rate * CHUNK_SECONDS / batch))
    return int(min(batches * batch, tile_px**2))


def speed_for(rates: Mapping[torch.dtype, float], dtype: torch.dtype) -> float:
    """The measured pixels per second in ``dtype``, else a third of float32's (float64 is
    slower), else a guess (20 000 / 3)."""
    return rates.get(dtype) or rates.get(torch.float32, 20000.0) / 3


def measure_tile_px(
    engine: Engine,
    plane: Plane,
    dtype: torch.dtype,
    extent: tuple[float, float, float, float] = (-1.0, 1.0, -1.0, 1.0),
) -> tuple[int, float]:
    """Time small fields over ``extent`` (where the view will be); return the largest tile side
    in {64, 128, 256} whose predicted time (overhead + pixels / speed) is ≤ TILE_SECONDS, and the
    measured speed in pixels per second."""

    def seconds(side: int) -> float:
        start = time.perf_counter()
        compute_field(engine, plane, extent, (side, side), dtype=dtype)
        return max(time.perf_counter() - start, 1e-6)

    seconds(4)  # warm up
    t16 = seconds(16)
    for _ in range(2):  # a busy machine's hiccups (tens of ms) must not make a fast model slow
        if TILE_SECONDS / 4 < t16 < RETIME_SECONDS:
            t16 = min(t16, seconds(16))
    if t16 > TILE_SECONDS / 4:  # a slow model: the smallest tiles
        # its speed without the per-call overhead (at most 16 times 256 / t16, against noise):
        # the speed of a 64-pixel tile, which decides whether a slow model needs a preview
        return 64, 256 / max(t16 - seconds(4), t16 / 16)
    t64 = min(seconds(64), seconds(64))
    rate = 4096 / t64
    if t64 > TILE_SECONDS:
        return 64, rate
    t128 = seconds(128)
    rate = max(rate, 16384 / t128)
    per_px = max((t128 - t64) / (16384 - 4096), 1e-12)
    overhead = max(t64 - 4096 * per_px, 0.0)
    best = 64
    for side in (128, 256):
        if overhead + side * side * per_px <= TILE_SECONDS:
            best = side
    return best, rate
