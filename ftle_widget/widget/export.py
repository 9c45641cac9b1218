"""Pictures and arrays without a browser: fields through the front end's colormap LUT to PNG.

The colormaps come from ``colormaps.json`` (256 colours each, generated from d3-scale-chromatic by
``js/scripts/colormaps.mjs``), the same table the canvas renderer uses, and values map to LUT
entries by the same rule: [vmin, vmax] is split into 256 equal bins (values outside clamp to the
ends), NaN is transparent.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np

from ..maths.fields import Field

_TABLE = Path(__file__).parents[1] / "colormaps.json"  # shared with the front end (js/)
# ASCII: Pillow's built-in font has no Greek letters
QUANTITY_LABELS = {"lambda": "lambda_1", "log_stretch": "L*lambda_1"}


@cache
def _tables() -> dict[str, list[str]]:
    return json.loads(_TABLE.read_text())


def colormap_names() -> list[str]:
    """The colormaps shared with the front end."""
    return list(_tables())


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


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values in [lo, hi]: 1, 2 or 5 × 10ⁿ steps, chosen as d3.ticks (and the front
    end's ``niceTicks``) does."""
    if not (hi > lo):
        return [lo]
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    error = raw / power
    factor = 10 if error >= 50**0.5 else 5 if error >= 10**0.5 else 2 if error >= 2**0.5 else 1
    step = factor * power
    first = math.ceil(lo / step - 1e-9)
    ticks = []
    k = first
    while k * step <= hi + 1e-9 * step:
        ticks.append(round(k * step, 12))
        k += 1
    return ticks


def field_image(
    values: np.ndarray,
    *,
    cmap: str = "RdBu_r",
    vmin: float | None = None,
    vmax: float | None = None,
    label: str = "lambda_1",
    colorbar: bool = True,
    scale: int = 1,
    directions: np.ndarray | None = None,
    grid: int = 11,
):
    """A ``PIL.Image`` of a field (row 0 of ``values`` at the bottom, as v0), with a colorbar.

    ``directions`` (H, W, 2), the stretching directions on the plane, are drawn as short
    headless segments on a ``grid`` × ``grid`` lattice of cell centres, as in the paper's Fig. 2.
    """
    from PIL import Image, ImageDraw, ImageFont

    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 2:
        raise ValueError(f"values must be (H, W), not {values.shape}")
    if vmin is None or vmax is None:
        auto = symmetric_range(values)
        vmin = auto[0] if vmin is None else vmin
        vmax = auto[1] if vmax is None else vmax
    rgba = colorize(values, cmap, vmin, vmax)[::-1]  # the top row is v1
    picture = Image.fromarray(np.ascontiguousarray(rgba), "RGBA")
    if scale != 1:
        size = (picture.width * scale, picture.height * scale)
        # Pillow sets Image.NEAREST with setattr, which its annotations do not declare
        # (Image.Resampling.NEAREST would need pillow ≥ 9.1)
        picture = picture.resize(size, Image.NEAREST)  # type: ignore[attr-defined]
    if directions is not None:
        draw_directions(picture, directions, grid)
    if not colorbar:
        return picture
    font = ImageFont.load_default()
    height = max(picture.height, 120)
    bar_w, pad, text_w = 16, 10, 70
    canvas = Image.new("RGBA", (picture.width + pad + bar_w + text_w, height), "white")
    canvas.paste(picture, (0, (height - picture.height) // 2))
    top, bottom = 16, height - 8
    ramp = np.linspace(float(vmax), float(vmin), bottom - top, dtype=np.float64)
    bar = colorize(np.repeat(ramp[:, None], bar_w, axis=1).astype(np.float32), cmap, vmin, vmax)
    x0 = picture.width + pad
    canvas.paste(Image.fromarray(np.ascontiguousarray(bar), "RGBA"), (x0, top))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle([x0 - 1, top - 1, x0 + bar_w, bottom], outline="black")
    for tick in nice_ticks(float(vmin), float(vmax)):
        y = top + (float(vmax) - tick) / (float(vmax) - float(vmin)) * (bottom - top - 1)
        draw.line([x0 + bar_w, y, x0 + bar_w + 4, y], fill="black")
        draw.text((x0 + bar_w + 6, y - 5), f"{tick:g}", fill="black", font=font)
    draw.text((x0, 2), label, fill="black", font=font)
    return canvas


def direction_segments(
    directions: np.ndarray, size: tuple[int, int], grid: int = 11
) -> list[tuple[float, float, float, float]]:
    """Headless segments (x0, y0, x1, y1) in image pixels (``size`` = (width, height), y down)
    for the directions (H, W, 2) (du, dv, v up) at the centres of a ``grid`` × ``grid``
    lattice; length 0.7 of a cell; points without a direction are skipped."""
    directions = np.asarray(directions, dtype=np.float64)
    if directions.ndim != 3 or directions.shape[2] != 2:
        raise ValueError(f"directions must be (H, W, 2), not {directions.shape}")
    h, w = directions.shape[:2]
    width, height = size
    segments = []
    for gi in range(grid):
        for gj in range(grid):
            fx, fy = (gj + 0.5) / grid, (gi + 0.5) / grid  # fractions across, down
            du, dv = directions[min(h - 1, int((1 - fy) * h)), min(w - 1, int(fx * w))]
            norm = math.hypot(du, dv)
            if not math.isfinite(norm) or norm == 0:
                continue
            half = 0.35 * min(width, height) / grid
            dx, dy = du / norm * half, -dv / norm * half
            cx, cy = fx * width, fy * height
            segments.append((cx - dx, cy - dy, cx + dx, cy + dy))
    return segments


def draw_directions(picture, directions: np.ndarray, grid: int = 11) -> None:
    """Draw :func:`direction_segments` on a ``PIL.Image`` in place (black, 2 px)."""
    from PIL import ImageDraw

    draw = ImageDraw.Draw(picture)
    for x0, y0, x1, y1 in direction_segments(directions, picture.size, grid):
        draw.line([x0, y0, x1, y1], fill=(0, 0, 0, 255), width=2)


def save_png(
    field: Field | np.ndarray,
    path: str | Path,
    *,
    quantity: str = "lambda",
    cmap: str = "RdBu_r",
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
    scale: int = 1,
    directions: bool = False,
) -> Path:
    """Write a field (or an (H, W) array) as a PNG with a colorbar; returns the path.

    ``quantity`` is ``"lambda"`` (λ₁) or ``"log_stretch"`` (depth·λ₁ = log Λ₁, the paper's
    Fig. 2 quantity, e.g. with ``vmin=-4, vmax=4``). ``directions``: draw the field's
    stretching directions (a :class:`Field` computed with ``directions=True``).
    """
    if quantity not in QUANTITY_LABELS:
        raise ValueError(f"quantity must be one of {', '.join(QUANTITY_LABELS)}, not {quantity!r}")
    if isinstance(field, Field):
        values = field.log_stretch if quantity == "log_stretch" else field.ftle
    else:
        values = np.asarray(field)
    arrows = None
    if directions:
        arrows = field.direction if isinstance(field, Field) else None
        if arrows is None:
            raise ValueError("directions=True needs a Field computed with directions=True")
    image = field_image(
        values,
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        label=QUANTITY_LABELS[quantity],
        colorbar=colorbar,
        scale=scale,
        directions=arrows,
    )
    path = Path(path)
    image.save(path, format="PNG")
    return path
