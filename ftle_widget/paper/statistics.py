"""The paper's statistics: λ₁ on the decision boundary and in the centre (Fig. 3b), and test
error and ensemble uncertainty binned by λ₁ (Fig. 4)."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..maths.ensembles import uncertainty
from ..maths.exponents import Engine
from ..maths.modules import evaluation_mode, model_float_dtype
from ..training.trainer import predicted_label

CENTRE_RADIUS = 0.25


# ---------------------------------------------------------------------------------- Fig. 3b
@dataclass
class BoundaryStats:
    """log Λ₁ = L·λ₁ on a net's decision boundary and in the centre of the input plane.

    Attributes
    ----------
    boundary, centre : mean log Λ₁ over the boundary points and over the centre points.
    depth : L, the divisor of log Λ₁.
    boundary_points, centre_points : (K, 2) and (M, 2) inputs used.
    boundary_values, centre_values : log Λ₁ at those points.
    """

    boundary: float
    centre: float
    depth: float
    boundary_points: np.ndarray
    centre_points: np.ndarray
    boundary_values: np.ndarray
    centre_values: np.ndarray

    @property
    def contrast(self) -> float:
        """boundary − centre: how much sharper the ridge is than the interior."""
        return self.boundary - self.centre

    @property
    def boundary_lambda(self) -> float:
        """Mean λ₁ on the boundary."""
        return self.boundary / self.depth

    @property
    def centre_lambda(self) -> float:
        """Mean λ₁ in the centre."""
        return self.centre / self.depth


@torch.no_grad()
def boundary_points(
    model: nn.Module, *, n: int = 360, r_max: float = 1.5, steps: int = 100, tol: float = 1e-9
) -> np.ndarray:
    """Points on the decision boundary (output = 0) of a one-output net on the plane.

    Along ``n`` rays from the origin at equally spaced angles the output is sampled at ``steps``
    radii in (0, ``r_max``] (in the model's precision); every sign change is refined by
    bisection in float64 to ``tol``. Rays may cross the boundary several times (each crossing
    counts) or never. Returns (K, 2) float64 points.
    """
    angles = (np.arange(n) + 0.5) * (2 * math.pi / n)
    dirs = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    radii = np.linspace(0, r_max, steps + 1)[1:]
    grid = (dirs[:, None, :] * radii[None, :, None]).reshape(-1, 2)
    out = _output(model, grid).reshape(n, steps)
    ray, k = np.nonzero(np.signbit(out[:, :-1]) != np.signbit(out[:, 1:]))
    model64 = copy.deepcopy(model).double().eval()
    lo, hi = radii[k], radii[k + 1]
    sign_lo = np.signbit(_output(model64, dirs[ray] * lo[:, None]))
    keep = sign_lo != np.signbit(_output(model64, dirs[ray] * hi[:, None]))
    ray, lo, hi, sign_lo = ray[keep], lo[keep], hi[keep], sign_lo[keep]
    for _ in range(max(1, math.ceil(math.log2((r_max / steps) / tol)))):
        mid = (lo + hi) / 2
        same = np.signbit(_output(model64, dirs[ray] * mid[:, None])) == sign_lo
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    return dirs[ray] * ((lo + hi) / 2)[:, None]


def centre_points(n: int = 500, radius: float = CENTRE_RADIUS) -> np.ndarray:
    """``n`` points spread evenly over the disc of ``radius`` about the origin (a sunflower
    spiral: equal area per point)."""
    k = np.arange(n) + 0.5
    r = radius * np.sqrt(k / n)
    phi = k * math.pi * (3 - math.sqrt(5))
    return np.stack([r * np.cos(phi), r * np.sin(phi)], axis=1)


def boundary_and_centre(
    model: nn.Module,
    depth: float | None = None,
    *,
    n: int = 360,
    centre_radius: float = CENTRE_RADIUS,
) -> BoundaryStats:
    """The paper's Fig. 3b statistics of a circle net: mean log Λ₁ = L·λ₁ (last hidden layer)
    on its decision boundary and in the centre.

    Boundary: the zero crossings of the output along ``n`` rays from the origin
    (:func:`boundary_points`), i.e. where the *network* puts the boundary, not the true circle.
    Centre: ``n`` points evenly over the disc of radius ``centre_radius`` (0.25) about the origin
    (:func:`centre_points`), deep inside the circle for any accurate net.

    Parameters
    ----------
    model : a one-output net on 2-D inputs.
    depth : L, the divisor of log Λ₁ (default: the number of hidden layers).
    n : rays and centre points.
    """
    on_boundary = boundary_points(model, n=n)
    if len(on_boundary) == 0:
        raise ValueError("the net's output has no sign change within radius 1.5: no boundary")
    inside = centre_points(n, centre_radius)
    engine = Engine(model, depth=depth)
    dtype = model_float_dtype(model)
    values = [
        engine.maximal(torch.from_numpy(p).to(dtype))[0].double().numpy()
        for p in (on_boundary, inside)
    ]
    depth = engine.depth
    b, c = (v * depth for v in values)
    return BoundaryStats(float(b.mean()), float(c.mean()), depth, on_boundary, inside, b, c)


def _output(model: nn.Module, points: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(np.ascontiguousarray(points)).to(model_float_dtype(model))
    return _run(model, x).reshape(len(points)).double().numpy()


@torch.no_grad()
def _run(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The model's output in eval mode (its training flags restored after)."""
    with evaluation_mode(model):
        return model(x)


# ---------------------------------------------------------------------------------- Fig. 4
@dataclass
class FTLEBins:
    """Test points binned by λ₁ quantiles (equal counts per bin).

    Attributes
    ----------
    edges : (bins + 1,) λ₁ bin edges (the quantiles; first and last: min and max).
    count : points per bin.
    lam : mean λ₁ per bin.
    error : test error per bin (fraction misclassified by the model).
    entropy : mean predictive entropy (nats) of the ensemble's averaged probabilities per bin,
        or None without an ensemble.
    lambdas, bin_of : λ₁ of every point and its bin index.
    """

    edges: np.ndarray
    count: np.ndarray
    lam: np.ndarray
    error: np.ndarray
    entropy: np.ndarray | None
    lambdas: np.ndarray
    bin_of: np.ndarray

    def table(self) -> str:
        """The bins as a text table."""
        head = f"{'λ₁ range':>19} {'mean λ₁':>8} {'points':>6} {'error':>7}"
        head += f" {'entropy':>8}" if self.entropy is not None else ""
        rows = [head]
        for b in range(len(self.count)):
            row = (
                f"[{self.edges[b]:+.3f}, {self.edges[b + 1]:+.3f}] {self.lam[b]:8.4f} "
                f"{self.count[b]:6d} {self.error[b]:7.2%}"
            )
            if self.entropy is not None:
                row += f" {self.entropy[b]:8.4f}"
            rows.append(row)
        return "\n".join(rows)


def predictive_entropy(models: Sequence[nn.Module], x: torch.Tensor) -> np.ndarray:
    """Entropy (nats) of the ensemble's mean softmax probabilities at each input
    (:func:`ftle_widget.maths.ensembles.uncertainty`)."""
    return uncertainty(models, x, "entropy").numpy()


def ftle_bins(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    bins: int = 5,
    ensemble: Sequence[nn.Module] | None = None,
    layer: int | str | None = None,
) -> FTLEBins:
    """Test error and ensemble predictive entropy against λ₁ (the paper's Fig. 4b).

    λ₁ of ``model`` at each input (last hidden layer by default), bins at its quantiles (equal
    counts), and per bin: the model's error on (x, y) and, given an ``ensemble``, the mean
    entropy of the members' averaged softmax.
    """
    if bins < 1 or len(x) < bins:
        raise ValueError(f"need at least one point per bin: {len(x)} points, {bins} bins")
    engine = Engine(model, layer=layer)
    lam = engine.maximal(x)[0].double().numpy()
    wrong = (predicted_label(_run(model, x)) != y).numpy()
    edges = np.quantile(lam, np.linspace(0, 1, bins + 1))
    bin_of = np.clip(np.searchsorted(edges, lam, side="right") - 1, 0, bins - 1)
    count = np.bincount(bin_of, minlength=bins)
    if (count == 0).any():
        raise ValueError("λ₁ takes too few distinct values for this many bins")
    means = lambda v: np.bincount(bin_of, weights=v, minlength=bins) / count  # noqa: E731
    entropy = None if ensemble is None else means(predictive_entropy(ensemble, x))
    return FTLEBins(edges, count, means(lam), means(wrong.astype(np.float64)), entropy, lam, bin_of)


def ftle_mean_and_spread(model: nn.Module, x: torch.Tensor) -> tuple[float, float]:
    """Mean and standard deviation of λ₁ (last hidden layer) over the inputs ``x`` (Fig. 4c, d)."""
    lam = Engine(model).maximal(x)[0].double().numpy()
    return float(lam.mean()), float(lam.std())
