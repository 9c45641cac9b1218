"""Planes in input space: an origin and two directions, held in float64.

A point with plane coordinates (a, b) is the input ``origin + a·u + b·v``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import overload

import numpy as np
import torch

ArrayLike = torch.Tensor | np.ndarray | Sequence[float]


def _as_float64(value: ArrayLike, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        t = value.detach().to("cpu", torch.float64)
    else:
        t = torch.as_tensor(np.asarray(value, dtype=np.float64))
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} has non-finite entries")
    return t.clone()


class Plane:
    """A 2-D plane ``origin + a·u + b·v`` in input space (float64, on the CPU).

    Parameters
    ----------
    origin, u, v : tensors or arrays of the model's input shape (e.g. ``(2,)`` or ``(1, 28, 28)``).
        ``u`` and ``v`` must be linearly independent; they need not be orthonormal.
    """

    def __init__(self, origin: ArrayLike, u: ArrayLike, v: ArrayLike):
        o, a, b = (_as_float64(t, n) for t, n in ((origin, "origin"), (u, "u"), (v, "v")))
        if not (o.shape == a.shape == b.shape):
            raise ValueError(
                "origin, u and v must share the input shape; got "
                f"{tuple(o.shape)}, {tuple(a.shape)}, {tuple(b.shape)}"
            )
        if o.numel() < 2:
            raise ValueError(f"a plane needs an input space of dimension ≥ 2, not {o.numel()}")
        fa, fb = a.reshape(-1), b.reshape(-1)
        na, nb = fa.norm(), fb.norm()
        # the part of v orthogonal to u, relative to |v|: the sine of the angle between them
        sine = (fb - (fb @ fa) / (na * na) * fa).norm() / nb if na > 0 and nb > 0 else 0.0
        if sine <= 1e-7:
            raise ValueError(
                "u and v are not independent (one is zero or they are parallel): a plane needs "
                "two independent directions, e.g. Plane.through(a, b, c) for three points"
            )
        self.origin, self.u, self.v = o, a, b
        self._key: str | None = None
        self._gram = torch.stack([torch.stack([fa @ fa, fa @ fb]), torch.stack([fa @ fb, fb @ fb])])

    # ------------------------------------------------------------------ constructors
    @classmethod
    def through(cls, a: ArrayLike, b: ArrayLike, c: ArrayLike) -> Plane:
        """The plane through three points: a at (0, 0), b at (|b − a|, 0), c with v > 0.

        ``u`` and ``v`` are orthonormal (Gram–Schmidt on b − a and c − a).
        """
        pa, pb, pc = (_as_float64(t, n) for t, n in ((a, "a"), (b, "b"), (c, "c")))
        if not (pa.shape == pb.shape == pc.shape):
            raise ValueError(
                "the three points must share the input shape; got "
                f"{tuple(pa.shape)}, {tuple(pb.shape)}, {tuple(pc.shape)}"
            )
        e1 = pb - pa
        length = e1.norm()
        if length == 0:
            raise ValueError("a and b are the same point: three distinct points span a plane")
        e1 = e1 / length
        w = pc - pa
        w = w - (w.reshape(-1) @ e1.reshape(-1)) * e1
        w = w - (w.reshape(-1) @ e1.reshape(-1)) * e1  # second pass for accuracy
        width = w.norm()
        if width <= 1e-10 * max(float((pc - pa).norm()), float(length)):
            raise ValueError("c lies on the line through a and b: the three points are collinear")
        return cls(pa, e1, w / width)

    @classmethod
    def standard(cls, input_shape: int | Sequence[int], i: int = 0, j: int = 1) -> Plane:
        """The plane of (flattened) features ``i`` and ``j`` through the origin.

        For 2-D inputs, ``Plane.standard(2)`` is the input plane itself.
        """
        shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
        size = int(np.prod(shape))
        for name, k in (("i", i), ("j", j)):
            if not 0 <= k < size:
                raise ValueError(f"{name}={k} is out of range for {size} input features")
        if i == j:
            raise ValueError(f"i and j must differ (both are {i})")
        u = torch.zeros(size, dtype=torch.float64)
        v = torch.zeros(size, dtype=torch.float64)
        u[i], v[j] = 1.0, 1.0
        return cls(torch.zeros(shape, dtype=torch.float64), u.reshape(shape), v.reshape(shape))

    # ------------------------------------------------------------------ maps
    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one input, e.g. ``(2,)``."""
        return tuple(self.origin.shape)

    @property
    def orthonormal(self) -> bool:
        """Whether u and v are orthonormal (then plane distances are input distances)."""
        eye = torch.eye(2, dtype=torch.float64)
        return bool(torch.allclose(self._gram, eye, atol=1e-12))

    def to_input(self, uv: ArrayLike) -> torch.Tensor:
        """Map plane coordinates (M, 2) to inputs (M, *input_shape), float64."""
        device = uv.device if isinstance(uv, torch.Tensor) else torch.device("cpu")
        coords = _as_float64(uv, "uv")
        if coords.ndim != 2 or coords.shape[1] != 2:
            raise ValueError(f"uv must have shape (M, 2), not {tuple(coords.shape)}")
        basis = torch.stack([self.u.reshape(-1), self.v.reshape(-1)])  # (2, d)
        points = self.origin.reshape(1, -1) + coords @ basis
        return points.reshape(-1, *self.input_shape).to(device)

    @overload
    def coordinates(self, x: torch.Tensor) -> torch.Tensor: ...
    @overload
    def coordinates(self, x: np.ndarray | Sequence[float]) -> np.ndarray: ...
    def coordinates(self, x: ArrayLike) -> torch.Tensor | np.ndarray:
        """Project inputs (M, *input_shape) orthogonally onto the plane: coordinates (M, 2).

        Returns a float64 tensor for a tensor, else a numpy array.
        """
        points = _as_float64(x, "x")
        if tuple(points.shape[1:]) != self.input_shape:
            raise ValueError(
                f"x has shape {tuple(points.shape)}, but this plane lives in inputs shaped "
                f"(M, {', '.join(map(str, self.input_shape))})"
            )
        coords = self.components(points.reshape(len(points), -1) - self.origin.reshape(1, -1))
        return coords.to(x.device) if isinstance(x, torch.Tensor) else coords.numpy()

    def components(self, vectors: torch.Tensor) -> torch.Tensor:
        """Plane components (M, 2) of the orthogonal projection of flat vectors (M, d)."""
        vectors = vectors.to(torch.float64).cpu()
        rhs = torch.stack([vectors @ self.u.reshape(-1), vectors @ self.v.reshape(-1)], dim=1)
        return torch.linalg.solve(self._gram, rhs.T).T

    def distance(self, x: ArrayLike) -> np.ndarray:
        """Euclidean distance of inputs (M, *input_shape) from the plane."""
        points = _as_float64(x, "x").reshape(-1, int(np.prod(self.input_shape)))
        coords = self.components(points - self.origin.reshape(1, -1))
        return (points - self.to_input(coords).reshape(len(points), -1)).norm(dim=1).numpy()

    # ------------------------------------------------------------------ identity
    @property
    def key(self) -> str:
        """A digest of origin, u and v (for caches); planes are not meant to change."""
        if self._key is None:
            h = hashlib.sha1()
            for t in (self.origin, self.u, self.v):
                h.update(str(tuple(t.shape)).encode())
                h.update(t.numpy().tobytes())
            self._key = h.hexdigest()
        return self._key

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Plane):
            return NotImplemented
        return all(
            torch.equal(s, o)
            for s, o in ((self.origin, other.origin), (self.u, other.u), (self.v, other.v))
        )

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"Plane(input_shape={self.input_shape}, orthonormal={self.orthonormal})"


RANDOM_PLANE_SEED = 0


def default_plane(
    input_shape: tuple[int, ...], data: torch.Tensor | None = None, labels=None
) -> Plane:
    """The plane a view starts on.

    2-D inputs: the input plane. With ``data``: the plane through three data points of different
    classes (the first ones found; any three points without labels). Otherwise a random plane
    through the origin (orthonormal directions from ``torch.Generator().manual_seed(0)``).
    """
    if math.prod(input_shape) == 2:
        return Plane.standard(input_shape)
    if data is not None and len(data) >= 3:
        points = torch.as_tensor(np.asarray(data), dtype=torch.float64)
        picks: list[int] = []
        if labels is not None:
            seen: set = set()
            for k, label in enumerate(np.asarray(labels).tolist()):
                if label not in seen:
                    seen.add(label)
                    picks.append(k)
                if len(picks) == 3:
                    break
        for k in range(len(points)):  # fill up with any other points
            if len(picks) == 3:
                break
            if k not in picks:
                picks.append(k)
        try:
            return Plane.through(*(points[k] for k in picks))
        except ValueError:
            pass  # collinear picks: fall back to a random plane
    gen = torch.Generator().manual_seed(RANDOM_PLANE_SEED)
    size = math.prod(input_shape)
    basis, _ = torch.linalg.qr(torch.randn((size, 2), generator=gen, dtype=torch.float64))
    return Plane(
        torch.zeros(input_shape, dtype=torch.float64),
        basis[:, 0].reshape(input_shape),
        basis[:, 1].reshape(input_shape),
    )


def default_extent(plane: Plane, data) -> tuple[float, float, float, float]:
    """The data's extent on ``plane`` with a 10 % margin; [−1.5, 1.5]² without data."""
    if data is None or len(data) == 0:
        return (-1.5, 1.5, -1.5, 1.5)
    coords = plane.coordinates(np.asarray(data, dtype=np.float64))
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-9)
    return (
        float(lo[0] - pad[0]),
        float(hi[0] + pad[0]),
        float(lo[1] - pad[1]),
        float(hi[1] + pad[1]),
    )
