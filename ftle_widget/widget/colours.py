"""The colours shared with the front end: colormaps from ``colormaps.json`` (256 colours each,
generated from d3-scale-chromatic by ``js/scripts/colormaps.mjs``, the table the canvas renderer
uses), values to LUT entries by the renderer's rule ([vmin, vmax] split into 256 equal bins,
values outside clamped to the ends, NaN transparent), and the automatic colour limits
(symmetric about 0; [0, max] for the quantities that are never negative, gap and anisotropy).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from ..maths.quantities import NON_NEGATIVE, QUANTITIES, check_quantity

_TABLE = Path(__file__).parents[1] / "colormaps.json"  # shared with the front end (js/)


@cache
def _tables() -> dict[str, list[str]]:
    return json.loads(_TABLE.read_text())


def colormap_names() -> list[str]:
    """The colormaps shared with the front end."""
    return list(_tables())


# each quantity's colormap where none is given: diverging about 0 for the exponents, sequential
# for the differences (never negative)
DEFAULT_CMAPS = {
    "lambda": "RdBu_r",
    "log_stretch": "RdBu_r",
    "lambda_min": "RdBu_r",
    "gap": "viridis",
    "anisotropy": "magma",
}


def default_cmap(quantity: object) -> str:
    """The colormap ``quantity`` is shown in where none is given (:data:`DEFAULT_CMAPS`); λ₁'s
    for a name that is not a quantity (which the ``quantity`` trait then refuses)."""
    return DEFAULT_CMAPS[
        quantity if isinstance(quantity, str) and quantity in QUANTITIES else "lambda"
    ]


@cache
def lut(name: str) -> np.ndarray:
    """The colormap's LUT: (256, 4) uint8 RGBA, entry k the colour at t = k/255."""
    tables = _tables()
    if name not in tables:
        raise ValueError(f"unknown colormap {name!r}; valid names: {', '.join(tables)}")
    rgb = [[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in tables[name]]
    table = np.full((256, 4), 255, dtype=np.uint8)
    table[:, :3] = rgb
    table.flags.writeable = False
    return table


def symmetric_range(values: np.ndarray) -> tuple[float, float]:
    """[-m, m] with m the largest finite |value|; (-1, 1) when there is none or m is 0."""
    finite = np.abs(values[np.isfinite(values)])
    m = float(finite.max()) if finite.size else 0.0
    return (-m, m) if m > 0 else (-1.0, 1.0)


def colorize(
    values: np.ndarray, cmap: str = "RdBu_r", vmin: float | None = None, vmax: float | None = None
) -> np.ndarray:
    """RGBA uint8 (..., 4) of ``values`` through the LUT, exactly as the canvas renderer does.

    ``vmin``/``vmax`` default to a range symmetric about 0 (white at 0 on RdBu_r).
    """
    values = np.asarray(values, dtype=np.float32)
    if vmin is None or vmax is None:
        auto = symmetric_range(values)
        vmin = auto[0] if vmin is None else vmin
        vmax = auto[1] if vmax is None else vmax
    table = lut(cmap)
    x = values.astype(np.float64)
    span = float(vmax) - float(vmin)
    if not (span > 0) or not math.isfinite(span):
        index = np.full(x.shape, 128, dtype=np.intp)
    else:
        scale = 256 / span  # the front end's float64 arithmetic, operation for operation
        with np.errstate(invalid="ignore"):
            index = np.clip(np.floor((x - float(vmin)) * scale), 0, 255)
        index = np.nan_to_num(index, nan=0).astype(np.intp)
    out = table[index]
    out[np.isnan(x)] = 0
    return out


def automatic_range(values: np.ndarray, quantity: str = "lambda") -> tuple[float, float]:
    """The automatic colour limits of ``quantity``'s ``values``: :func:`symmetric_range`, or for
    a quantity that is never negative (gap, anisotropy) [0, m] with m the largest finite value
    ((0, 1) when there is none or m ≤ 0). ``quantities.ts``'s ``automaticRange``."""
    if check_quantity(quantity) not in NON_NEGATIVE:
        return symmetric_range(values)
    return zero_to_max([values])


def zero_to_max(values: Sequence[np.ndarray]) -> tuple[float, float]:
    """[0, m], m the largest finite value of the arrays; (0, 1) when there is none or m ≤ 0."""
    finite = [v[np.isfinite(v)] for v in values]
    m = max((float(v.max()) for v in finite if v.size), default=0.0)
    return (0.0, m) if m > 0 else (0.0, 1.0)


def colour_limits(
    values: np.ndarray, vmin: float | None, vmax: float | None, quantity: str = "lambda"
) -> tuple[float, float]:
    """The colour limits in use, as the canvas's renderer picks them: ``vmin``/``vmax`` where
    given, else the automatic ones over ``values`` (:func:`automatic_range`); one limit given
    beyond the automatic other one gives the automatic limits."""
    if vmin is not None and vmax is not None:
        if not vmin < vmax:
            raise ValueError(f"vmin must be below vmax, not {vmin!r} ≥ {vmax!r}")
        return float(vmin), float(vmax)
    lo, hi = automatic_range(values, quantity)
    mixed = (lo if vmin is None else float(vmin), hi if vmax is None else float(vmax))
    return mixed if mixed[0] < mixed[1] else (lo, hi)
