"""Fields: a rectangle of a plane sampled at a resolution → arrays of λ₁ (λ₂ and λ_min when
asked), class and direction."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import torch
from torch import nn

from .exponents import Engine
from .modules import (
    check_input_shape,
    expected_input_shape,
    known_input_shape,
    model_device,
    model_float_dtype,
)
from .planes import Plane, default_extent, default_plane
from .quantities import quantity_values

Extent = tuple[float, float, float, float]


class Cancelled(Exception):
    """Raised by :func:`compute_field` when ``should_stop`` says so between chunks."""


@dataclass
class Field:
    """The FTLE field of a rectangle of a plane.

    Attributes
    ----------
    ftle : (H, W) float32, λ₁ at each pixel centre (row 0 at v0, column 0 at u0).
    prediction : (H, W) int64, argmax of the model's output (for one output: 1 where it is > 0).
    direction : (H, W, 2) float32 or None, the stretching direction v₁ projected on the plane, in
        plane coordinates (its norm is the fraction of v₁ that lies in the plane).
    extent : (u0, u1, v0, v1).
    endpoint : which layer was read; depth : the divisor of log Λ₁.
    lambda_2, lambda_min : (H, W) float32 or None (computed with ``lower=True``): the second and
        the smallest of the min(n, d) exponents of J, over the whole input space as λ₁ is (not
        only the plane's directions); see :mod:`~ftle_widget.maths.quantities`.
    """

    ftle: np.ndarray
    prediction: np.ndarray
    direction: np.ndarray | None
    extent: Extent
    endpoint: str = ""
    depth: float = 1.0
    lambda_2: np.ndarray | None = None
    lambda_min: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W)."""
        return cast("tuple[int, int]", self.ftle.shape)

    @property
    def log_stretch(self) -> np.ndarray:
        """depth·λ₁ = log Λ₁ (what the paper's Fig. 2 shows)."""
        return self.ftle * np.float32(self.depth)

    @property
    def gap(self) -> np.ndarray:
        """λ₁ − λ₂ (needs ``lower=True``)."""
        return self.values("gap")

    @property
    def anisotropy(self) -> np.ndarray:
        """λ₁ − λ_min (needs ``lower=True``)."""
        return self.values("anisotropy")

    def values(self, quantity: str) -> np.ndarray:
        """(H, W) float32 values of ``quantity``: ``"lambda"``, ``"log_stretch"``,
        ``"lambda_min"``, ``"gap"`` or ``"anisotropy"`` (:mod:`~ftle_widget.maths.quantities`)."""
        return quantity_values(quantity, self.ftle, self.lambda_2, self.lambda_min, self.depth)


def check_plane(model: nn.Module, plane: Plane) -> None:
    """Raise a clear error when ``plane`` does not live in the model's input space."""
    expected = expected_input_shape(model)
    if expected is not None and not _shape_matches(expected, plane.input_shape):
        want = ", ".join("*" if s is None else str(s) for s in expected)
        raise ValueError(
            f"the plane lives in inputs shaped {plane.input_shape}, but the model expects "
            f"({want}): build the plane from inputs of the model's shape"
        )


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, for error messages about untrusted input."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 12]}… ({len(text)} chars)"


def check_extent(extent: Sequence[float]) -> Extent:
    """Validate ``(u0, u1, v0, v1)``: four finite numbers with u0 < u1 and v0 < v1."""
    try:
        values = tuple(float(e) for e in extent)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(
            f"extent must be four numbers (u0, u1, v0, v1), not {shown(extent)}"
        ) from None
    if len(values) != 4 or not all(math.isfinite(e) for e in values):
        raise ValueError(
            f"extent must be four finite numbers (u0, u1, v0, v1), not {shown(extent)}"
        )
    u0, u1, v0, v1 = values
    if not (u0 < u1 and v0 < v1):
        raise ValueError(f"extent must have u0 < u1 and v0 < v1, not {values}")
    return values


CHUNK_BYTES = 2**26  # the model inputs of one chunk of pixels, at most (float64)


def chunk_points(plane: Plane) -> int:
    """Pixels per chunk of a field: as many as ``CHUNK_BYTES`` of inputs hold (at least 16384):
    a chunk's batches run at once on the workers, and each chunk waits for its last batch."""
    return max(16384, CHUNK_BYTES // (8 * plane.u.numel()))


def pixel_coordinates(extent: Sequence[float], shape: tuple[int, int]) -> np.ndarray:
    """Plane coordinates (H·W, 2) of the pixel centres, row-major, row 0 at v0."""
    return pixel_range(tuple(extent), shape, 0, shape[0] * shape[1])


def pixel_range(
    extent: Sequence[float], shape: tuple[int, int], start: int, stop: int
) -> np.ndarray:
    """Plane coordinates of the row-major pixels ``start:stop`` (a chunk at a time, so that huge
    fields never hold all coordinates at once)."""
    u0, u1, v0, v1 = extent
    h, w = shape
    flat = np.arange(start, stop)
    rows, cols = flat // w, flat % w
    us = u0 + (cols.astype(np.float64) + 0.5) * ((u1 - u0) / w)
    vs = v0 + (rows.astype(np.float64) + 0.5) * ((v1 - v0) / h)
    return np.stack([us, vs], axis=1)


def class_index(output: torch.Tensor) -> torch.Tensor:
    """The class index per row: argmax over outputs (B, C); for one output, 1 where it is
    positive, else 0 (see :func:`ftle_widget.training.trainer.predicted_label` for ±1)."""
    if output.shape[1] == 1:
        return (output[:, 0] > 0).long()
    return output.argmax(dim=1)


def compute_field(
    engine: Engine,
    plane: Plane,
    extent: Sequence[float],
    shape: tuple[int, int],
    *,
    directions: bool = False,
    dtype: torch.dtype | None = None,
    progress: bool = False,
    chunk: int | None = None,
    should_stop: Callable[[], bool] | None = None,
    lower: bool = False,
) -> Field:
    """:func:`ftle_field` with a prepared :class:`Engine` (reused across fields).

    ``dtype`` is the precision of the model inputs (default: the model's); ``chunk`` pixels are
    computed at a time, and ``should_stop()`` is asked before each chunk (raising
    :class:`Cancelled` when it answers true).
    """
    extent = check_extent(extent)
    h, w = check_shape(shape)
    check_plane(engine.model, plane)
    dtype = dtype or model_float_dtype(engine.model) or torch.float32
    total = h * w
    chunk = chunk or chunk_points(plane)
    ftle = np.empty(total, dtype=np.float32)
    pred = np.empty(total, dtype=np.int64)
    dirs = np.empty((total, 2), dtype=np.float32) if directions else None
    low = np.empty((total, 2), dtype=np.float32) if lower else None  # λ₂, λ_min
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit="px", desc="FTLE field")
    try:
        for start in range(0, total, chunk):
            if should_stop is not None and should_stop():
                raise Cancelled
            stop = min(start + chunk, total)
            x = plane.to_input(pixel_range(extent, (h, w), start, stop)).to(dtype)
            lam, vec, out = engine.maximal(x, direction=directions, output=True, lower=lower)
            assert out is not None  # asked for with output=True
            exponents = lam.float().cpu().numpy()
            ftle[start:stop] = exponents if low is None else exponents[:, 0]
            if low is not None:
                low[start:stop] = exponents[:, 1:]
            pred[start:stop] = class_index(out).cpu().numpy()
            if dirs is not None:
                assert vec is not None  # asked for with direction=directions
                flat = vec.reshape(len(vec), -1).cpu()
                dirs[start:stop] = plane.components(flat).float().numpy()
            if bar is not None:
                bar.update(stop - start)
    finally:
        if bar is not None:
            bar.close()
    return Field(
        ftle=ftle.reshape(h, w),
        prediction=pred.reshape(h, w),
        direction=None if dirs is None else dirs.reshape(h, w, 2),
        extent=extent,
        endpoint=engine.endpoint.description,
        depth=engine.depth,
        lambda_2=None if low is None else low[:, 0].reshape(h, w),
        lambda_min=None if low is None else low[:, 1].reshape(h, w),
    )


def ftle_field(
    model: nn.Module,
    plane: Plane | None = None,
    extent: Sequence[float] | None = None,
    shape: tuple[int, int] = (256, 256),
    *,
    layer: int | str | None = None,
    depth: float | None = None,
    input_shape: Sequence[int] | None = None,
    directions: bool = False,
    device: str | torch.device | None = None,
    progress: bool = False,
    lower: bool = False,
) -> Field:
    """The FTLE field of ``model`` over the rectangle ``extent`` of ``plane``.

    Parameters
    ----------
    model : the network (never modified; runs in eval mode).
    plane : a :class:`Plane` in the model's input space; default: :func:`default_plane` of the
        input shape (``input_shape``, else the one the model's first layer fixes).
    extent : (u0, u1, v0, v1) in plane coordinates; default [−1.5, 1.5]².
    shape : (H, W) pixels. Pixel (i, j) is the point u = u0 + (j + ½)(u1 − u0)/W,
        v = v0 + (i + ½)(v1 − v0)/H (row 0 at v0).
    layer, depth : the endpoint and divisor, as in :func:`maximal_ftle`.
    input_shape : the shape of one input, e.g. ``(3, 32, 32)``, for the default plane of a model
        whose first layer does not fix it (a convolution, a custom module).
    directions : also compute the stretching direction projected on the plane.
    device : compute on a copy of the model on this device (default: the model's device).
    progress : show a tqdm progress bar.
    lower : also λ₂ and λ_min (``Field.lambda_2``, ``Field.lambda_min``, ``Field.gap``,
        ``Field.anisotropy``), in the same pass as λ₁: free for a 2-D input (the 2×2 Gram matrix),
        otherwise from the SVD of the dense Jacobian (never by Lanczos).

    Returns
    -------
    Field
    """
    remedy = "pass input_shape= (the shape of one input, e.g. input_shape=(3, 32, 32)) or a plane"
    plane = plane_of(model, plane, input_shape, remedy)
    if extent is None:
        extent = default_extent(plane, None)
    if device is not None and torch.device(device) != model_device(model):
        model = copy.deepcopy(model).to(device)
    engine = Engine(model, layer=layer, depth=depth)
    return compute_field(
        engine, plane, extent, shape, directions=directions, progress=progress, lower=lower
    )


def plane_of(
    model: nn.Module,
    plane: Plane | None,
    input_shape: Sequence[int] | None,
    remedy: str,
    data=None,
    labels=None,
) -> Plane:
    """``plane``, else :func:`default_plane` of the input shape (``input_shape``, else the data's,
    else the one the model's first layer fixes; an error ending in ``remedy`` if none does)."""
    if plane is None:
        shape = known_input_shape(model, remedy, data, input_shape)
        return default_plane(shape, data, labels)
    if not isinstance(plane, Plane):
        raise TypeError(f"plane must be a Plane, not {type(plane).__name__}")
    if input_shape is not None and check_input_shape(input_shape) != plane.input_shape:
        raise ValueError(
            f"input_shape={tuple(input_shape)} but the plane lives in inputs shaped "
            f"{plane.input_shape}: give one of them"
        )
    return plane


def check_shape(shape: Sequence[int]) -> tuple[int, int]:
    """``shape`` as (H, W) of positive ints, else a ValueError."""
    try:
        h, w = (int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be (H, W), not {shape!r}") from None
    if h < 1 or w < 1 or (h, w) != tuple(shape):
        raise ValueError(f"shape must be two positive ints (H, W), not {shape!r}")
    return h, w


def _shape_matches(expected: tuple, actual: tuple[int, ...]) -> bool:
    return len(expected) == len(actual) and all(
        e is None or e == a for e, a in zip(expected, actual)
    )
