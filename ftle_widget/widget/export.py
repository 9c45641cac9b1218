"""Pictures and arrays without a browser: fields through the front end's colormap LUT
(:mod:`.colours`) to PNG, with what the canvas draws over them (:mod:`.picture`); figures for
papers (SVG, PDF, a grid of fields) are :mod:`.figures`'s, named here too."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..lazy.pyramid import MAX_VIEW_PIXELS, fit_extent
from ..maths.fields import Field, check_shape, compute_field
from ..maths.quantities import needs_lower
from . import picture
from .colours import colorize, colormap_names, colour_limits, lut, symmetric_range
from .figures import draw_field, grid, save_figure
from .fonts import quantity_label
from .overlays import DataOverlay
from .ticks import nice_ticks

__all__ = [
    "colorize",
    "colormap_names",
    "colour_limits",
    "draw_field",
    "field_image",
    "fit_frame",
    "grid",
    "lut",
    "save_figure",
    "save_png",
    "save_view",
    "symmetric_range",
    "view_field",
]


def fit_frame(
    extent: Sequence[float], shape: Sequence[int]
) -> tuple[tuple[float, float, float, float], tuple[int, int]]:
    """The largest field of square pixels showing ``extent`` that fits in ``shape`` = (rows,
    columns): one side as long as ``shape``'s, the other no longer (nothing stretched, nothing
    padded). Returns it as (extent, (H, W)), the extent grown about its centre by under a pixel
    along one axis so that its pixels are exactly square (as the canvas's ``Viewport.fit``)."""
    rows, cols = check_shape(shape)
    u0, u1, v0, v1 = (float(e) for e in extent)
    pixel = max((u1 - u0) / cols, (v1 - v0) / rows)
    w = max(1, min(cols, round((u1 - u0) / pixel)))
    h = max(1, min(rows, round((v1 - v0) / pixel)))
    return fit_extent((u0, u1, v0, v1), w, h), (h, w)


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


def draw_directions(image, directions: np.ndarray, grid: int = 11) -> None:
    """Draw the stretching directions (H, W, 2) on a ``PIL.Image`` of square pixels in place
    (black, 2 px): :func:`.picture.direction_segments`, ``grid`` cells across."""
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    w, h = image.size
    for x0, y0, x1, y1 in picture.direction_segments(directions, (0, w, 0, h), (w, h), grid):
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
    axes: bool | None = None,
    boundary: bool = False,
    data: DataOverlay | None = None,
) -> Path:
    """Write a field (or an (H, W) array) as a PNG, drawn as the widget's canvas draws it
    (:func:`.picture.compose`, on white); returns the path.

    Parameters
    ----------
    quantity : ``"lambda"`` (λ₁), ``"log_stretch"`` (depth·λ₁ = log Λ₁, the paper's Fig. 2
        quantity, e.g. with ``vmin=-4, vmax=4``), or, of a Field computed with ``lower=True``,
        ``"lambda_min"``, ``"gap"`` (λ₁ − λ₂), ``"anisotropy"`` (λ₁ − λ_min); an array is
        coloured as the quantity named.
    vmin, vmax : colour limits; ``None``: symmetric about 0 over the field ([0, max] for gap
        and anisotropy).
    colorbar : the colorbar on the right, labelled with the quantity's name.
    scale : PNG pixels per field pixel (and per CSS pixel of what is drawn over it).
    directions : the field's stretching directions (a :class:`Field` with ``directions=True``).
    axes : ticks in plane coordinates over the field; default: for a :class:`Field` (an array
        has no extent).
    boundary : mark the decision boundary (``field.prediction``).
    data : data points to draw (:func:`~ftle_widget.widget.overlays.data_overlay`).
    """
    name = quantity_label(quantity)
    if type(scale) is not int or scale < 1:
        raise ValueError(f"scale must be a positive int, not {scale!r}")
    if not isinstance(field, Field):
        if axes or boundary or data is not None or directions:
            raise ValueError("axes, boundary, data and directions need a Field, not an array")
        values = np.asarray(field, dtype=np.float32)
        if values.ndim != 2:
            raise ValueError(f"the field must be (H, W), not {values.shape}")
        extent = (0.0, float(values.shape[1]), 0.0, float(values.shape[0]))
    else:
        values = field.values(quantity)
        extent = field.extent
        if directions and field.direction is None:
            raise ValueError("directions=True needs a Field computed with directions=True")
    limits = colour_limits(values, vmin, vmax, quantity)
    rgba = colorize(values, cmap, *limits)
    if boundary and isinstance(field, Field):
        rgba[picture.boundary_mask(field.prediction)] = picture.BOUNDARY_RGBA
    image = picture.compose(
        rgba[::-1],
        extent,
        table=lut(cmap),
        limits=limits,
        label=name,
        directions=field.direction if directions and isinstance(field, Field) else None,
        data=data,
        axes=isinstance(field, Field) if axes is None else axes,
        colorbar=colorbar,
        scale=scale,
    )
    path = Path(path)
    image.save(path, format="PNG")
    return path


def view_field(view: Any, shape: Sequence[int] | None = None) -> Field:
    """The field of ``view``'s visible extent at the largest size of square pixels fitting in
    ``shape`` (:func:`fit_frame`; default: the canvas's size, or ``view.height`` rows before a
    browser showed it), with directions where the view shows them and λ₂, λ_min where its
    quantity needs them."""
    last = view._last_view[0] if view._last_view else None
    box = shape or ((last.height, last.width) if last else (view.height, MAX_VIEW_PIXELS))
    extent, size = fit_frame(view.visible_extent, box)
    engine = view.scheduler.engine()
    directions, lower = bool(view.show_directions), needs_lower(view.quantity)
    return compute_field(engine, view.plane, extent, size, directions=directions, lower=lower)


def view_drawing(view: Any) -> dict[str, Any]:
    """What ``view`` draws, as keywords of :func:`save_png` and :func:`.figures.save_figure`."""
    return {
        "quantity": view.quantity,
        "cmap": view.cmap,
        "vmin": view.vmin,
        "vmax": view.vmax,
        "directions": bool(view.show_directions),
        "boundary": view.show_boundary,
        "data": view._data_overlay() if view.show_data else None,
    }


def save_view(
    view: Any,
    path: str | Path,
    shape: Sequence[int] | None = None,
    *,
    axes: bool = True,
    colorbar: bool = True,
    scale: int = 1,
    dpi: float | None = None,
) -> Path:
    """The work of :meth:`FTLEView.to_png <ftle_widget.FTLEView.to_png>`, ``to_svg`` and
    ``to_pdf`` for ``view``: :func:`view_field` written by :func:`save_png` (a PNG without
    ``dpi``: the canvas's picture) or by :func:`.figures.save_figure` (SVG, PDF, a PNG at ``dpi``)
    with the view's colours and the overlays it shows."""
    field = view_field(view, shape)
    if dpi is None and Path(path).suffix.lower() in ("", ".png"):
        drawing = view_drawing(view)
        return save_png(field, path, colorbar=colorbar, scale=scale, axes=axes, **drawing)
    dpi = 300 if dpi is None else dpi
    return save_figure(field, path, axes=axes, colorbar=colorbar, dpi=dpi, **view_drawing(view))
