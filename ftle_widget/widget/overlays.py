"""What the widget's overlays show, computed in Python: data points near the plane, and whether
(and how) an input is drawn as a picture."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..maths.planes import Plane

MAX_DATA_POINTS = 5000  # sent to the browser at most (a seeded random subset beyond)
DEFAULT_POINTS = 500  # shown by default: a sample stratified by class, so the field stays visible
NEAREST_POINTS = 500  # off-plane data: how many of the nearest points are shown by default


@dataclass(frozen=True)
class DataOverlay:
    """Data points projected on a plane.

    Attributes
    ----------
    uv : (M, 2) float32 plane coordinates.
    classes : (M,) float32 class index into ``names`` (−1: unlabelled).
    names : the class labels, as text, in index order.
    """

    uv: np.ndarray
    classes: np.ndarray
    names: list[str]

    @property
    def count(self) -> int:
        return len(self.uv)


def data_overlay(
    plane: Plane,
    data,
    labels=None,
    near: float | None = None,
    seed: int = 0,
    limit: int | None = DEFAULT_POINTS,
) -> DataOverlay:
    """The data points worth drawing on ``plane``.

    Points within distance ``near`` of the plane; by default every point when the plane fills
    the input space (2-D inputs), else the :data:`NEAREST_POINTS` nearest. Of those, ``limit``
    (default :data:`DEFAULT_POINTS`; ``None``: all, up to :data:`MAX_DATA_POINTS`) are kept: a
    seeded sample in which every class keeps its share (and at least one point).
    """
    points = np.asarray(data, dtype=np.float64)
    if points.ndim < 2 or tuple(points.shape[1:]) != plane.input_shape:
        raise ValueError(
            f"data must have shape (N, {', '.join(map(str, plane.input_shape))}) for this "
            f"plane, not {points.shape}"
        )
    if labels is None:
        index, names = np.full(len(points), -1.0), []
    else:
        labels = np.asarray(labels)
        if labels.shape != (len(points),):
            raise ValueError(f"labels must have shape ({len(points)},), not {labels.shape}")
        values, index = np.unique(labels, return_inverse=True)
        names = [_label_text(v) for v in values.tolist()]
    distance = plane.distance(points) if len(points) else np.zeros(0)
    if near is not None:
        keep = np.flatnonzero(distance <= near)
    elif math.prod(plane.input_shape) <= 2:
        keep = np.arange(len(points))
    else:
        keep = np.sort(np.argsort(distance, kind="stable")[:NEAREST_POINTS])
    most = MAX_DATA_POINTS if limit is None else min(int(limit), MAX_DATA_POINTS)
    if len(keep) > most:
        keep = _stratified(keep, np.asarray(index)[keep], most, np.random.default_rng(seed))
    uv = plane.coordinates(points[keep]) if len(keep) else np.zeros((0, 2))
    return DataOverlay(
        uv=np.ascontiguousarray(uv, dtype=np.float32),
        classes=np.asarray(index, dtype=np.float32)[keep],
        names=names,
    )


def _stratified(keep: np.ndarray, classes: np.ndarray, most: int, rng) -> np.ndarray:
    """About ``most`` of ``keep``, each class in proportion to its count (at least one each)."""
    chosen = []
    for label in np.unique(classes):
        members = keep[classes == label]
        share = max(1, round(most * len(members) / len(keep)))
        chosen.append(rng.choice(members, min(share, len(members)), replace=False))
    return np.sort(np.concatenate(chosen))


def _label_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def image_shape(input_shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """How to draw one input as a picture: ``(H, W)`` or ``(C, H, W)`` with C ∈ {1, 3}, or
    ``None`` when it does not look like an image.

    ``(C, H, W)`` and ``(H, W)`` inputs with sides ≥ 4 are images; a flat input whose size is a
    square ≥ 16 (64 = 8×8 digits, 784 = 28×28 MNIST) is shown square.
    """
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 4 and shape[0] == 1:
        shape = shape[1:]
    if len(shape) == 3 and shape[0] in (1, 3) and min(shape[1:]) >= 4:
        return shape
    if len(shape) == 2 and min(shape) >= 4:
        return shape
    if len(shape) == 1 and shape[0] >= 16 and math.isqrt(shape[0]) ** 2 == shape[0]:
        side = math.isqrt(shape[0])
        return (side, side)
    return None


def picture_shape(
    chosen: Sequence[int] | bool | None, input_shape: tuple[int, ...]
) -> list[int] | None:
    """How hover pictures show an input: ``chosen`` (a shape, ``False`` for no pictures, or
    ``None``/``True`` for :func:`image_shape`'s guess), checked against ``input_shape``."""
    if chosen is False:
        return None
    if chosen is None or chosen is True:
        guess = image_shape(input_shape)
        return None if guess is None else list(guess)
    shape = [int(s) for s in chosen]
    if math.prod(shape) != math.prod(input_shape):
        raise ValueError(
            f"image_shape {tuple(shape)} does not hold an input of shape {input_shape}"
        )
    return shape
