"""Charts for the paper's notebooks, drawn with PIL (no plotting library needed): panels of
fields in a grid, line charts with error bars, pictures side by side."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from torch import nn

from ..maths.fields import ftle_field
from ..maths.planes import Plane
from ..widget.export import colorize, field_image, nice_ticks

# ---------------------------------------------------------------------------------- pictures
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def field_panels(
    models: Mapping[tuple[int, int], nn.Module],
    *,
    extent: Sequence[float] = (-1.5, 1.5, -1.5, 1.5),
    size: int = 120,
    vmin: float = -4.0,
    vmax: float = 4.0,
    cmap: str = "RdBu_r",
    grid: int = 11,
):
    """The paper's Fig. 2 as one ``PIL.Image``: log Λ₁ = L·λ₁ over the input plane of each net
    ``models[(N, L)]`` with its stretching directions (segments on a ``grid`` × ``grid``
    lattice), one row per L, one column per N, and a shared colorbar."""

    widths = sorted({n for n, _ in models})
    depths = sorted({d for _, d in models})
    pad, left, top, bar = 6, 44, 18, 70
    canvas = Image.new(
        "RGB", (left + len(widths) * (size + pad) + bar, top + len(depths) * (size + pad)), "white"
    )
    draw, font = ImageDraw.Draw(canvas), ImageFont.load_default()
    for j, n in enumerate(widths):
        draw.text(
            (left + j * (size + pad) + size // 2 - 15, 3), f"N = {n}", fill="black", font=font
        )
    for i, d in enumerate(depths):
        draw.text((4, top + i * (size + pad) + size // 2 - 5), f"L = {d}", fill="black", font=font)
        for j, n in enumerate(widths):
            if (n, d) not in models:
                continue
            field = ftle_field(
                models[(n, d)], Plane.standard(2), extent, (size, size), directions=True
            )
            panel = field_image(
                field.log_stretch,
                cmap=cmap,
                vmin=vmin,
                vmax=vmax,
                colorbar=False,
                directions=field.direction,
                grid=grid,
            )
            canvas.paste(panel.convert("RGB"), (left + j * (size + pad), top + i * (size + pad)))
    x0, y0, y1 = canvas.width - bar + 8, top, canvas.height - pad
    ramp = np.linspace(vmax, vmin, y1 - y0)[:, None].repeat(14, axis=1)
    canvas.paste(
        Image.fromarray(np.ascontiguousarray(colorize(ramp, cmap, vmin, vmax)[..., :3])), (x0, y0)
    )
    draw.rectangle([x0 - 1, y0 - 1, x0 + 14, y1], outline="black")
    for tick in np.linspace(vmin, vmax, 5):
        y = y0 + (vmax - tick) / (vmax - vmin) * (y1 - y0 - 1)
        draw.line([x0 + 14, y, x0 + 18, y], fill="black")
        draw.text((x0 + 20, y - 5), f"{tick:g}", fill="black", font=font)
    draw.text((x0 - 12, 3), "L*lambda_1", fill="black", font=font)
    return canvas


def line_chart(
    x: Sequence[float],
    series: Mapping[str, Sequence[float]],
    *,
    spread: Mapping[str, Sequence[float]] | None = None,
    xlabel: str = "",
    ylabel: str = "",
    logx: bool = False,
    logy: bool = False,
    size: tuple[int, int] = (380, 230),
):
    """A small line chart as a ``PIL.Image``: one polyline with markers per entry of
    ``series`` (drawn against ``x``; ``spread`` adds ± error bars), a legend on the right.
    ``logx``: a logarithmic x axis with ticks at the x values; ``logy``: a logarithmic y axis
    (positive values, without error bars) with ticks at powers of ten. No plotting library
    needed."""
    if logy:
        if spread:
            raise ValueError(
                "error bars on a logarithmic y axis are not drawn: pass one or the other"
            )
        series = {k: np.log10(np.asarray(v, float)) for k, v in series.items()}

    xs = np.log(np.asarray(x, float)) if logx else np.asarray(x, float)
    spread = spread or {}
    lows = [np.asarray(v, float) - np.asarray(spread.get(k, 0.0), float) for k, v in series.items()]
    highs = [
        np.asarray(v, float) + np.asarray(spread.get(k, 0.0), float) for k, v in series.items()
    ]
    y_lo, y_hi = float(np.nanmin(np.concatenate(lows))), float(np.nanmax(np.concatenate(highs)))
    margin = 0.08 * (y_hi - y_lo or 1.0)
    y_lo, y_hi = y_lo - margin, y_hi + margin
    x_lo, x_hi = float(xs.min()), float(xs.max())
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    x_pad = 0.06 * (x_hi - x_lo)
    x_lo, x_hi = x_lo - x_pad, x_hi + x_pad
    image = Image.new("RGB", size, "white")
    draw, font = ImageDraw.Draw(image), ImageFont.load_default()
    left, right, top, bottom = 48, size[0] - 70, 10, size[1] - 34

    def px(u: float, v: float) -> tuple[float, float]:
        return (
            left + (u - x_lo) / (x_hi - x_lo) * (right - left),
            bottom - (v - y_lo) / (y_hi - y_lo) * (bottom - top),
        )

    draw.rectangle([left, top, right, bottom], outline="black")
    y_ticks = range(math.ceil(y_lo), math.floor(y_hi) + 1) if logy else nice_ticks(y_lo, y_hi, 5)
    for tick in y_ticks:
        _, y = px(x_lo, tick)
        draw.line([left - 4, y, left, y], fill="black")
        draw.text((4, y - 5), f"{10.0**tick if logy else tick:g}", fill="black", font=font)
    x_ticks = (
        list(zip(xs, np.asarray(x, float))) if logx else [(t, t) for t in nice_ticks(x_lo, x_hi, 5)]
    )
    for u, label in x_ticks:
        xx, _ = px(u, y_lo)
        draw.line([xx, bottom, xx, bottom + 4], fill="black")
        draw.text((xx - 8, bottom + 6), f"{label:.3g}", fill="black", font=font)
    draw.text(((left + right) // 2 - 3 * len(xlabel), bottom + 20), xlabel, fill="black", font=font)
    draw.text((left + 4, top + 2), ylabel, fill="black", font=font)
    for k, (name, values) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        points = [px(u, v) for u, v in zip(xs, np.asarray(values, float))]
        draw.line(points, fill=colour, width=2)
        for (cx, cy), err in zip(points, np.broadcast_to(spread.get(name, 0.0), len(points))):
            half = float(err) / (y_hi - y_lo) * (bottom - top)
            if half > 0:
                draw.line([cx, cy - half, cx, cy + half], fill=colour, width=1)
            draw.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=colour)
        draw.text((right + 8, top + 4 + 12 * k), name, fill=colour, font=font)
    return image


def side_by_side(*images, gap: int = 10):
    """``PIL.Image``s pasted left to right on white."""

    width = sum(im.width for im in images) + gap * (len(images) - 1)
    canvas = Image.new("RGB", (width, max(im.height for im in images)), "white")
    x = 0
    for im in images:
        canvas.paste(im.convert("RGB"), (x, 0))
        x += im.width + gap
    return canvas
