"""Ridges of a field as objects: height ridges of λ₁ traced to sub-pixel polylines and measured.

A point is on a height ridge where the field is a maximum across the ridge: the gradient g is
orthogonal to n, the eigenvector of the Hessian H with the most negative eigenvalue μₙ, and the
curvature across is clearly negative and dominates the curvature along (μₙ < 0, |μₙ| > |μₜ|).
The zero set of s = g·n is traced by marching squares over cells of four pixel centres, with the
corners' n oriented alike, so that neighbouring cells meet at the same edge points and join into
polylines. Derivatives are central differences in pixel units; points are given in plane
coordinates (pixel (i, j) at u = u0 + (j+½)Δu, v = v0 + (i+½)Δv, as everywhere).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from .fields import Field

ACROSS = 24  # pixels sampled on each side of a ridge point to measure height and width


@dataclass(frozen=True)
class Ridge:
    """One ridge: a polyline in plane coordinates and its measures.

    Attributes
    ----------
    points : (M, 2) plane coordinates (u, v) along the ridge.
    values : (M,) the field on it (bilinear between pixel centres).
    height : mean field on the ridge minus the mean of its flanks: across the ridge on each
        side, the foot where the field stops falling (at most :data:`ACROSS` pixels out).
    width : full width at half height across the ridge, in plane units (mean over its points).
    length : along the polyline, in plane units.
    boundary_distance : mean distance of its points from the decision boundary (plane units),
        or None where the field has no boundary.
    """

    points: np.ndarray
    values: np.ndarray
    height: float
    width: float
    length: float
    boundary_distance: float | None

    @property
    def closed(self) -> bool:
        """Whether the polyline ends where it starts (a loop)."""
        return len(self.points) > 2 and bool(np.allclose(self.points[0], self.points[-1]))


def _hessian_frame(values: np.ndarray) -> tuple[np.ndarray, ...]:
    """s = g·n, μₙ, μₜ and n (H, W, 2) of the field in pixel units (axis 0: rows, 1: columns)."""
    gy, gx = np.gradient(values)
    hyy, hyx = np.gradient(gy)
    _, hxx = np.gradient(gx)
    hxy = hyx
    half_trace, diff = 0.5 * (hxx + hyy), 0.5 * (hxx - hyy)
    root = np.sqrt(diff * diff + hxy * hxy)
    mu_n, mu_t = half_trace - root, half_trace + root
    # the eigenvector of mu_n: (hxy, mu_n - hxx) or (mu_n - hyy, hxy), whichever is longer
    a = np.stack([hxy, mu_n - hxx], axis=-1)
    b = np.stack([mu_n - hyy, hxy], axis=-1)
    na, nb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    n = np.where((na >= nb)[..., None], a, b)
    norm = np.maximum(np.linalg.norm(n, axis=-1), 1e-300)[..., None]
    n = n / norm  # (x, y) components in pixel units
    s = gx * n[..., 0] + gy * n[..., 1]
    return s, mu_n, mu_t, n


def _bilinear(values: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    h, w = values.shape
    r = np.clip(rows, 0, h - 1)
    c = np.clip(cols, 0, w - 1)
    r0, c0 = np.minimum(np.floor(r).astype(int), h - 2), np.minimum(np.floor(c).astype(int), w - 2)
    fr, fc = r - r0, c - c0
    top = values[r0, c0] * (1 - fc) + values[r0, c0 + 1] * fc
    bottom = values[r0 + 1, c0] * (1 - fc) + values[r0 + 1, c0 + 1] * fc
    return top * (1 - fr) + bottom * fr


def _ridge_pixels(values, n, mu_n, mu_t) -> tuple[np.ndarray, np.ndarray]:
    """Non-maximum suppression across the ridge (as Canny's and Steger's line detectors): the
    pixels that are a maximum of the field along ±n, with the curvature across clearly negative
    and dominant; and their sub-pixel points (row, col), the vertex of the parabola through the
    three samples along n (within half a pixel of the pixel)."""
    h, w = values.shape
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    ahead = _bilinear(values, rows + n[..., 1], cols + n[..., 0])
    behind = _bilinear(values, rows - n[..., 1], cols - n[..., 0])
    curvature = ahead - 2 * values + behind
    scale = max(float(np.abs(mu_n).max()), 1e-300)
    inside = np.zeros((h, w), dtype=bool)
    inside[1:-1, 1:-1] = True  # the samples along n stay within the field
    mask = (
        inside
        & (values >= ahead)
        & (values >= behind)
        & (curvature < 0)
        & (mu_n < -1e-3 * scale)
        & (np.abs(mu_n) > np.abs(mu_t))
    )
    with np.errstate(all="ignore"):
        offset = np.clip((behind - ahead) / (2 * curvature), -0.5, 0.5)
    points = np.stack([rows + offset * n[..., 1], cols + offset * n[..., 0]], axis=-1)
    return mask, points


SCALE = 2.0  # the Gaussian smoothing (pixels) under which ridges are found


def _smoothed(values: np.ndarray, sigma: float) -> np.ndarray:
    """``values`` convolved with a Gaussian of width ``sigma`` pixels (edges reflected)."""
    if sigma <= 0:
        return values
    half = max(1, math.ceil(3 * sigma))
    x = np.arange(-half, half + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    kernel /= kernel.sum()
    out = values
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (half, half)
        padded = np.pad(out, pad, mode="reflect")
        out = np.apply_along_axis(
            lambda line: np.convolve(line, kernel, mode="valid"), axis, padded
        )
    return out


MERGE = 0.5  # ridge points closer than this (pixels) are one point of a line drawn thick
LINK = 1.6  # consecutive points of a polyline lie at most this far apart (pixels)


def _near(points: np.ndarray, radius: float) -> list[list[int]]:
    """For each point (K, 2), the others within ``radius``, by a grid of cells of that size."""
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    keys = np.floor(points / radius).astype(int)
    for k, (a, b) in enumerate(keys.tolist()):
        cells[(a, b)].append(k)
    out = []
    for k, (a, b) in enumerate(keys.tolist()):
        found = [m for i in (-1, 0, 1) for j in (-1, 0, 1) for m in cells.get((a + i, b + j), ())
                 if m != k and math.dist(points[k], points[m]) <= radius]  # fmt: skip
        out.append(found)
    return out


def _chains(points: np.ndarray, strength: np.ndarray) -> list[np.ndarray]:
    """Sub-pixel ridge points (K, 2) joined into polylines: points of a thick line merged (the
    strongest kept), then from the strongest free point both ways, each step to the nearest
    free point within :data:`LINK` pixels that does not turn back; a loop closes on its start."""
    order = np.argsort(-strength, kind="stable")
    kept: list[int] = []
    taken = np.zeros(len(points), dtype=bool)
    near = _near(points, MERGE)
    for k in order.tolist():
        if not taken[k]:
            kept.append(k)
            taken[k] = True
            taken[near[k]] = True
    pts = points[kept]
    links = _near(pts, LINK)
    free = np.ones(len(pts), dtype=bool)

    def extend(path: list[int]) -> None:
        while True:
            here = pts[path[-1]]
            back = here - pts[path[-2]] if len(path) > 1 else None
            options = [m for m in links[path[-1]] if free[m]
                       and (back is None or float((pts[m] - here) @ back) > 0)]  # fmt: skip
            if not options:
                return
            nxt = min(options, key=lambda m: math.dist(pts[m], here))
            free[nxt] = False
            path.append(nxt)

    chains = []
    for start in range(len(pts)):  # kept in order of strength
        if not free[start]:
            continue
        free[start] = False
        ahead, behind = [start], [start]
        extend(ahead)
        extend(behind)
        path = behind[::-1] + ahead[1:]
        line = pts[path]
        if len(path) > 3 and math.dist(line[0], line[-1]) <= LINK:
            line = np.vstack([line, line[:1]])  # a loop
        chains.append(line)
    return chains


def ridges(
    field: Field,
    *,
    min_height: float | None = None,
    min_length: float | None = None,
    values: np.ndarray | None = None,
    scale: float | None = None,
) -> list[Ridge]:
    """The height ridges of ``field.ftle`` (or of ``values``, an (H, W) array on the field's
    grid), strongest first.

    Parameters
    ----------
    min_height : drop ridges lower than this above their flanks; default: 5 % of the field's
        range (its 99th minus 1st percentile).
    min_length : drop ridges shorter than this, in plane units; default: 4 pixels.
    scale : the ridges are found on the field smoothed by a Gaussian of this width (pixels;
        default :data:`SCALE`), so that small undulations on a ridge's crest do not split it
        into parallel crests; 0: the field as it is. Heights, widths and values are measured on
        the field itself.
    """
    data = np.asarray(field.ftle if values is None else values, dtype=np.float64)
    if data.ndim != 2 or min(data.shape) < 3:
        raise ValueError(f"ridges need a field of at least 3×3 pixels, not {data.shape}")
    h, w = data.shape
    u0, u1, v0, v1 = field.extent
    du, dv = (u1 - u0) / w, (v1 - v0) / h
    finite = np.isfinite(data)
    if not finite.any():
        return []
    low, high = np.percentile(data[finite], [1, 99])
    min_height = 0.05 * float(high - low) if min_height is None else float(min_height)
    min_length = 4 * max(du, dv) if min_length is None else float(min_length)
    filled = np.where(finite, data, float(np.min(data[finite])))
    smooth = _smoothed(filled, SCALE if scale is None else float(scale))
    _, mu_n, mu_t, n = _hessian_frame(smooth)
    mask, subpixel = _ridge_pixels(smooth, n, mu_n, mu_t)
    boundary = _boundary_points(field)
    found = []
    for rc in _chains(subpixel[mask & finite], filled[mask & finite]):
        points = np.stack([u0 + (rc[:, 1] + 0.5) * du, v0 + (rc[:, 0] + 0.5) * dv], axis=1)
        length = float(np.hypot(*np.diff(points, axis=0).T).sum()) if len(points) > 1 else 0.0
        if length < min_length:
            continue
        on = _bilinear(filled, rc[:, 0], rc[:, 1])
        height, width = _across(filled, smooth, rc, n, on, (du, dv))
        if not height >= min_height:
            continue
        distance = None if boundary is None else float(_nearest(points, boundary).mean())
        found.append(Ridge(points, on, height, width, length, distance))
    found.sort(key=lambda r: -r.height)
    return found


def _nearest(points: np.ndarray, others: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Distance from each of ``points`` (M, 2) to the nearest of ``others`` (K, 2)."""
    out = np.empty(len(points))
    for start in range(0, len(points), chunk):
        gap = points[start : start + chunk, None, :] - others[None, :, :]
        out[start : start + chunk] = np.sqrt((gap**2).sum(axis=-1).min(axis=1))
    return out


def _across(data, smooth, rc, n, on, pixel) -> tuple[float, float]:
    """Height and width of a ridge from profiles across it, along ±n from each point in steps of
    half a pixel: on each side the flank is the foot of the ridge, where the ``smooth`` profile
    stops falling (a valley before another rise: undulations on the crest do not count) or
    :data:`ACROSS` pixels out, or the field's edge; values and widths are the field's."""
    du, dv = pixel
    h, w = data.shape
    at = np.clip(np.round(rc).astype(int), 0, [h - 1, w - 1])
    normal = n[at[:, 0], at[:, 1]]  # (x, y) in pixels, unit length
    steps = np.arange(0, 2 * ACROSS + 1, dtype=np.float64) * 0.5
    feet, spans = [], np.zeros(len(on))
    for sign in (1.0, -1.0):
        r = rc[:, 0:1] + sign * steps[None, :] * normal[:, 1:2]
        c = rc[:, 1:2] + sign * steps[None, :] * normal[:, 0:1]
        inside = (r >= 0) & (r <= h - 1) & (c >= 0) & (c <= w - 1)
        side = _bilinear(data, r, c)
        # the foot: the last step before the profile rises again or leaves the field
        rises = ~inside[:, 1:] | (np.diff(_bilinear(smooth, r, c), axis=1) > 0)
        foot = np.where(rises.any(axis=1), np.argmax(rises, axis=1), side.shape[1] - 1)
        low = np.take_along_axis(side, foot[:, None], axis=1)[:, 0]
        feet.append(low)
        # where the profile first falls below half height (linear between the steps around it)
        half = (on + low) / 2
        below = ~(side >= half[:, None])
        first = np.maximum(np.where(below.any(axis=1), np.argmax(below, axis=1), foot), 1)
        a = np.take_along_axis(side, (first - 1)[:, None], axis=1)[:, 0]
        b = np.take_along_axis(side, first[:, None], axis=1)[:, 0]
        with np.errstate(all="ignore"):
            t = np.clip(np.nan_to_num((a - half) / (a - b), nan=1.0), 0.0, 1.0)
        spans += (first - 1 + t) * 0.5  # pixels: steps of half a pixel
    height = float(np.mean(on - 0.5 * (feet[0] + feet[1])))
    unit = np.hypot(normal[:, 0] * du, normal[:, 1] * dv)  # plane length of one pixel across
    return height, float(np.mean(spans * unit))


def _boundary_points(field: Field) -> np.ndarray | None:
    """Plane points (K, 2) midway between neighbouring pixels of different predicted classes."""
    pred = getattr(field, "prediction", None)
    if pred is None:
        return None
    pred = np.asarray(pred)
    h, w = pred.shape
    u0, u1, v0, v1 = field.extent
    du, dv = (u1 - u0) / w, (v1 - v0) / h
    ri, ci = np.nonzero(pred[1:] != pred[:-1])
    rj, cj = np.nonzero(pred[:, 1:] != pred[:, :-1])
    rows = np.concatenate([ri + 1.0, rj + 0.5])
    cols = np.concatenate([ci + 0.5, cj + 1.0])
    if rows.size == 0:
        return None
    return np.stack([u0 + cols * du, v0 + rows * dv], axis=1)
