"""What the browser's canvas draws, drawn with PIL for the PNG export: the field through the
shared LUT with the decision boundary marked, then on top the stretching directions, the data
points and the axes, and the colorbar on the right, as ``js/src/scene.ts`` composes them (and
``png.ts`` downloads them), ``scale`` PNG pixels per CSS pixel (the canvas's device pixel
ratio), in the light theme's colours (ink #222 on white). The constants are the front end's,
module by module (``renderer.ts``, ``overlays/directions.ts``, ``data.ts``, ``axes.ts``,
``colorbar.ts``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from . import fonts
from .axes import AXES_FONT_PX, HALO_ALPHA, MARK_HALO, TEXT_HALO, TextSize, layout_axes
from .overlays import DataOverlay
from .protocol import pack_direction, unpack_direction
from .ticks import limit_label, nice_ticks, tick_label, tick_step

INK = (0x22, 0x22, 0x22, 255)  # layout.ts ink() outside JupyterLab's themes
BACKGROUND = (255, 255, 255, 255)
BOUNDARY_RGBA = (25, 25, 25, 255)  # renderer.ts
# data.ts: d3's schemeTableau10 (class k: entry k mod 10), unlabelled points grey
# fmt: off
TABLEAU10 = (
    "#4e79a7", "#f28e2c", "#e15759", "#76b7b2", "#59a14f",
    "#edc949", "#af7aa1", "#ff9da7", "#9c755f", "#bab0ab",
)
# fmt: on
UNLABELLED = "#8c8c8c"
POINT_RADIUS, POINT_OUTLINE_WIDTH = 2.5, 0.75
# directions.ts: cells across the width, segment length per cell, ink, width
DIRECTION_GRID, DIRECTION_LENGTH, DIRECTION_WIDTH = 11, 0.7, 1.5
DIRECTION_INK = (20, 20, 20, round(0.85 * 255))
# colorbar.ts: its width, the strip's rows [STRIP_TOP, height − STRIP_BELOW), the limits' lines
COLORBAR_WIDTH, STRIP_TOP, STRIP_BELOW, LIMIT_LINE = 70, 32, 22, 14
MIN_HEIGHT = 150  # the colorbar's least height (the widget's least height)
SUPERSAMPLE = 4  # the directions and data points are drawn 4× finer, then averaged: smooth edges

Extent = Sequence[float]


def boundary_mask(prediction: np.ndarray) -> np.ndarray:
    """Pixels whose class differs from the next pixel's along u or v (row 0 at v0), as the
    renderer's ``markBoundary`` marks them."""
    p = np.asarray(prediction)
    mask = np.zeros(p.shape, dtype=bool)
    mask[:, :-1] |= p[:, :-1] != p[:, 1:]
    mask[:-1, :] |= p[:-1, :] != p[1:, :]
    return mask


def direction_segments(
    directions: np.ndarray, extent: Extent, size: tuple[int, int], across: int = DIRECTION_GRID
) -> list[tuple[float, float, float, float]]:
    """Segments (x0, y0, x1, y1) in pixels (y down) over a ``size`` = (width, height) view of
    ``extent``, as ``directionSegments`` places them: square cells ``width / across`` pixels
    apart, one segment of 0.7 cell on each centre along the direction (H, W, 2) of the pixel
    there, mapped to the screen; a centre without a direction (NaN, zero) gets none. Each
    direction goes through the tiles' transport first (its axis as 16 bits,
    :func:`.protocol.pack_direction`), as the canvas reads it."""
    directions = unpack_direction(pack_direction(directions)).astype(np.float64)
    h, w = directions.shape[:2]
    width, height = size
    u0, u1, v0, v1 = extent
    s = width / across
    half = 0.5 * DIRECTION_LENGTH * s
    sx, sy = width / (u1 - u0), height / (v1 - v0)
    out = []
    m = 0
    while (m + 0.5) * s < height:
        for k in range(across):
            x, y = (k + 0.5) * s, (m + 0.5) * s
            row = h - 1 - min(h - 1, int(y / height * h))  # row 0 is v0, at the bottom
            du, dv = directions[row, min(w - 1, int(x / width * w))]
            dx, dy = du * sx, -dv * sy
            length = math.hypot(dx, dy)
            if not (length > 0 and math.isfinite(length)):
                continue
            ex, ey = half * dx / length, half * dy / length
            out.append((x - ex, y - ey, x + ex, y + ey))
        m += 1
    return out


def _scaled(picture: Image.Image, scale: int) -> Image.Image:
    """``picture`` with each pixel a ``scale`` × ``scale`` square."""
    if scale == 1:
        return picture
    # Pillow sets Image.NEAREST with setattr, which its annotations do not declare
    size = (picture.width * scale, picture.height * scale)
    return picture.resize(size, Image.NEAREST)  # type: ignore[attr-defined]


def class_colour(c: float) -> str:
    """The colour of class index ``c`` (−1 or any non-integer: unlabelled)."""
    return TABLEAU10[int(c) % 10] if float(c).is_integer() and c >= 0 else UNLABELLED


def _draw_marks(
    picture: Image.Image,
    segments: list[tuple[float, float, float, float]],
    points: DataOverlay | None,
    extent: Extent,
    scale: int,
) -> None:
    """The directions, then the data points, drawn finely and averaged onto ``picture``."""
    k = SUPERSAMPLE * scale
    layer = Image.new("RGBA", (picture.width * SUPERSAMPLE, picture.height * SUPERSAMPLE))
    draw = ImageDraw.Draw(layer)
    for x0, y0, x1, y1 in segments:
        draw.line(
            [x0 * k, y0 * k, x1 * k, y1 * k], fill=DIRECTION_INK, width=round(DIRECTION_WIDTH * k)
        )
    if points is not None and points.count:
        width, height = picture.width / scale, picture.height / scale
        u0, u1, v0, v1 = extent
        xs = (points.uv[:, 0].astype(np.float64) - u0) / (u1 - u0) * width
        ys = (v1 - points.uv[:, 1].astype(np.float64)) / (v1 - v0) * height
        r = POINT_RADIUS
        inside = (xs > -r) & (xs < width + r) & (ys > -r) & (ys < height + r)
        colours = np.array([class_colour(c) for c in points.classes])
        # one colour at a time (unlabelled first): the discs, then their outlines
        for colour in (UNLABELLED, *TABLEAU10):
            chosen = np.flatnonzero(inside & (colours == colour))
            for outline in (False, True):
                for x, y in zip(xs[chosen] * k, ys[chosen] * k):
                    if outline:
                        e = (r + POINT_OUTLINE_WIDTH / 2) * k
                        box = [x - e, y - e, x + e, y + e]
                        draw.ellipse(box, outline="white", width=round(POINT_OUTLINE_WIDTH * k))
                    else:
                        draw.ellipse([x - r * k, y - r * k, x + r * k, y + r * k], fill=colour)
    # averaged with premultiplied alpha, so that transparent pixels add no colour
    fine = layer.convert("RGBa").reduce(SUPERSAMPLE).convert("RGBA")
    picture.alpha_composite(fine)


def _measure(font) -> Callable[[str], TextSize]:
    def measure(text: str) -> TextSize:
        left, top, right, bottom = font.getbbox(text, anchor="ls")
        if not isinstance(font, ImageFont.FreeTypeFont):  # a bitmap font: no baseline
            return TextSize(float(right - left), float(bottom - top), 0.0)
        return TextSize(float(font.getlength(text)), float(-top), float(bottom))

    return measure


def _text(draw: ImageDraw.ImageDraw, xy, text: str, font, anchor: str, fill) -> None:
    """``draw.text`` with ``anchor`` (l or r; a, m or s) for bitmap fonts too, which take it
    as the top left (their top stands for the ascender, their bottom for the baseline)."""
    x, y = xy
    if not isinstance(font, ImageFont.FreeTypeFont):
        _, _, w, h = font.getbbox(text)
        x -= w if anchor[0] == "r" else 0
        y -= {"a": 0, "m": h / 2, "s": h}[anchor[1]]
        anchor = "la"
    draw.text((x, y), text, font=font, anchor=anchor, fill=fill)


def _mark_box(t, width: float, scale: int) -> list[int]:
    """The device pixels a tick mark's line of ``width`` CSS pixels covers (butt ends)."""
    if t.x0 == t.x1:
        box = (t.x0 - width / 2, min(t.y0, t.y1), t.x0 + width / 2, max(t.y0, t.y1))
    else:
        box = (min(t.x0, t.x1), t.y0 - width / 2, max(t.x0, t.x1), t.y0 + width / 2)
    x0, y0, x1, y1 = (round(c * scale) for c in box)
    return [x0, y0, x1 - 1, y1 - 1]


def draw_axes(picture: Image.Image, extent: Extent, scale: int = 1) -> None:
    """Tick marks and labels on ``picture`` (a view of ``extent``) where ``drawAxes`` puts
    them, in ink with a halo of the background: one halo layer at 0.6 opacity, cut away under
    the glyphs."""
    css_font, _ = fonts.font(AXES_FONT_PX)
    font, _ = fonts.font(AXES_FONT_PX * scale)
    layout = layout_axes(extent, picture.width / scale, picture.height / scale, _measure(css_font))
    halo = Image.new("L", picture.size, 0)
    draw = ImageDraw.Draw(halo)
    for t in layout.ticks:
        draw.rectangle(_mark_box(t, MARK_HALO, scale), fill=255)
    stroke = TEXT_HALO * scale // 2  # the halo's line, half of it outside the glyphs
    freetype = isinstance(font, ImageFont.FreeTypeFont)
    glyphs = Image.new("L", picture.size, 0)
    for lab in layout.labels:
        xy = (lab.x * scale, lab.baseline * scale)
        if freetype:
            draw.text(xy, lab.text, font=font, anchor="ls", fill=255, stroke_width=stroke)
        else:  # bitmap fonts have no stroke: their glyphs are grown instead
            _text(ImageDraw.Draw(glyphs), xy, lab.text, font, "ls", 255)
    if not freetype:
        grown = glyphs.filter(ImageFilter.MaxFilter(2 * stroke + 1))
        halo = ImageChops.lighter(halo, grown)
        draw = ImageDraw.Draw(halo)
    for lab in layout.labels:  # cut away under the glyphs
        _text(draw, (lab.x * scale, lab.baseline * scale), lab.text, font, "ls", 0)
    alpha = np.asarray(halo, dtype=np.float64) * HALO_ALPHA
    glow = np.zeros((*alpha.shape, 4), dtype=np.uint8)
    glow[..., :3] = BACKGROUND[:3]
    glow[..., 3] = np.round(alpha).astype(np.uint8)
    picture.alpha_composite(Image.fromarray(glow, "RGBA"))
    draw = ImageDraw.Draw(picture)
    for t in layout.ticks:
        draw.rectangle(_mark_box(t, 1, scale), fill=INK)
    for lab in layout.labels:
        _text(draw, (lab.x * scale, lab.baseline * scale), lab.text, font, "ls", INK)


def colorbar_image(
    table: np.ndarray, lo: float, hi: float, label: str, height: int, scale: int = 1
) -> Image.Image:
    """The colorbar as ``drawColorbar`` draws it, ``height`` CSS pixels tall: the LUT ``table``
    (256, 4) as a strip (top: ``hi``) with ticks, the quantity's name on top, the limits above
    and below."""
    font, unicode = fonts.font(11 * scale)
    small, _ = fonts.font(10 * scale)
    label = label if unicode else fonts.ascii_text(label)
    s = scale
    bar = Image.new("RGBA", (COLORBAR_WIDTH * s, height * s), BACKGROUND)
    top, bottom = STRIP_TOP, height - STRIP_BELOW
    rows = np.arange(top, bottom, dtype=np.float64)
    index = np.clip(np.floor((bottom - 1 - rows) / (bottom - top - 1) * 256), 0, 255)
    strip = np.asarray(table, dtype=np.uint8)[index.astype(np.intp)][:, None, :].repeat(14, 1)
    strip[..., 3] = 255
    bar.paste(_scaled(Image.fromarray(np.ascontiguousarray(strip), "RGBA"), s), (4 * s, top * s))
    draw = ImageDraw.Draw(bar)
    for box in ((3, top - 1, 4, bottom + 1), (18, top - 1, 19, bottom + 1)):
        draw.rectangle([box[0] * s, box[1] * s, box[2] * s - 1, box[3] * s - 1], fill=INK)
    for box in ((3, top - 1, 19, top), (3, bottom, 19, bottom + 1)):
        draw.rectangle([box[0] * s, box[1] * s, box[2] * s - 1, box[3] * s - 1], fill=INK)
    step = tick_step(lo, hi, 5) if hi > lo else None
    for t in nice_ticks(lo, hi, 5):
        y = top + (hi - t) / (hi - lo) * (bottom - top - 1)
        y0 = round((y - 0.5) * s)
        draw.rectangle([18 * s, y0, 22 * s - 1, y0 + s - 1], fill=INK)
        _text(draw, (24 * s, y * s), tick_label(t, step), font, "lm", INK)
    _text(draw, (2 * s, 2 * s), label, font, "la", INK)
    vmax_line, vmin_line = top - LIMIT_LINE - 2, bottom + 4
    for value, line in ((hi, vmax_line), (lo, vmin_line)):
        xy = ((COLORBAR_WIDTH - 2) * s, (line + 2) * s)
        _text(draw, xy, limit_label(value), small, "ra", INK)
    return bar


def compose(
    field: np.ndarray,
    extent: Extent,
    *,
    table: np.ndarray,
    limits: tuple[float, float],
    label: str,
    directions: np.ndarray | None = None,
    data: DataOverlay | None = None,
    axes: bool = True,
    colorbar: bool = True,
    scale: int = 1,
) -> Image.Image:
    """The PNG's picture: ``field`` (H, W, 4) RGBA, top row at v1, a view of ``extent`` with
    ``directions`` (H, W, 2), ``data`` points and axes over it, and the colorbar of ``table``
    over ``limits`` labelled ``label`` on its right (at least :data:`MIN_HEIGHT` tall; the
    field at the top); opaque, on white, ``scale`` pixels per CSS pixel. Everything is drawn
    on opaque pixels, so that antialiased edges blend as the canvas blends them."""
    h, w = field.shape[:2]
    picture = Image.new("RGBA", (w * scale, h * scale), BACKGROUND)  # NaN shows the background
    picture.alpha_composite(_scaled(Image.fromarray(np.ascontiguousarray(field), "RGBA"), scale))
    segments = [] if directions is None else direction_segments(directions, extent, (w, h))
    if segments or (data is not None and data.count):
        _draw_marks(picture, segments, data, extent, scale)
    if axes:
        draw_axes(picture, extent, scale)
    if not colorbar:
        return picture
    height = max(h, MIN_HEIGHT)
    out = Image.new("RGBA", ((w + COLORBAR_WIDTH) * scale, height * scale), BACKGROUND)
    out.paste(picture, (0, 0))
    bar = colorbar_image(table, limits[0], limits[1], label, height, scale)
    out.paste(bar, (w * scale, 0))
    return out
