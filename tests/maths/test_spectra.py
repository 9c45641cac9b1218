"""Lanczos where its stopping rule decides: operators of dimension 500 > LANCZOS_MAX_STEPS, top
eigenvalues nearly equal, so every point must stop on its own residual bound (spectra.py) and the
result is only as good as that rule."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ftle_widget import maximal_ftle
from ftle_widget.maths import spectra
from ftle_widget.maths.spectra import LANCZOS_MAX_STEPS, Operator, top_eigenpairs

GAPS = (1e-1, 1e-2, 1e-3, 1e-4)  # λ₁ − λ₂ of each point, relative to λ₁ = 1
SIZE = 500


class Matrices(Operator):
    """A batch of explicit symmetric matrices."""

    def __init__(self, a: torch.Tensor):
        self.a = a

    def matvec(self, v: torch.Tensor) -> torch.Tensor:
        return (self.a @ v[:, :, None])[:, :, 0]

    def keep(self, mask: torch.Tensor) -> None:
        self.a = self.a[mask]


def _spectrum(gen: torch.Generator, gap: float, bulk: float = 0.97) -> torch.Tensor:
    """1, 1 − gap and SIZE − 2 values uniform in [0, bulk]: slow to separate."""
    values = torch.rand(SIZE, generator=gen, dtype=torch.float64) * bulk
    values[0], values[1] = 1.0, 1.0 - gap
    return values


def _orthogonal(gen: torch.Generator, rows: int) -> torch.Tensor:
    return torch.linalg.qr(torch.randn(rows, rows, generator=gen, dtype=torch.float64))[0]


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 2e-11), (torch.float32, 2e-5)])
def test_each_point_stops_on_its_residual_bound(dtype, tol):
    gen = torch.Generator().manual_seed(0)
    mats = []
    for gap in GAPS:
        q = _orthogonal(gen, SIZE)
        mats.append(q @ torch.diag(_spectrum(gen, gap)) @ q.T)
    a = torch.stack(mats)
    start = torch.randn(len(GAPS), SIZE, generator=gen, dtype=torch.float64).to(dtype)
    theta, vectors, steps = top_eigenpairs(
        Matrices(a.to(dtype)), start, tol=tol, max_steps=LANCZOS_MAX_STEPS, want_vectors=True
    )
    assert vectors is not None
    # the rule stopped every point, each at its own step, before the step limit
    assert (steps < LANCZOS_MAX_STEPS).all() and len(set(steps.tolist())) > 1, steps
    assert (steps > 10).all(), steps  # not at once: these spectra take many steps
    # the documented bound: |θ − λ₁| ≤ tol·θ, and the Ritz pair's residual is that small
    assert ((theta - 1).abs() <= tol * theta).all(), (theta - 1).abs() / tol
    v = vectors.double()
    residual = (a @ v[:, :, None])[:, :, 0] - theta[:, None] * v
    rounding = 50 * torch.finfo(dtype).eps  # of the residual recomputed from a rounded vector
    assert (residual.norm(dim=1) <= tol * theta + rounding).all(), residual.norm(dim=1) / tol


def _hard_mlp(dtype: torch.dtype) -> nn.Sequential:
    """784 → 500 (tanh) → 10 whose first layer's top singular values are nearly equal."""
    gen = torch.Generator().manual_seed(1)
    u, v = _orthogonal(gen, SIZE), _orthogonal(gen, 784)[:SIZE]
    s = _spectrum(gen, 1e-3).sqrt() * 3
    model = nn.Sequential(nn.Linear(784, SIZE), nn.Tanh(), nn.Linear(SIZE, 10)).double()
    with torch.no_grad():
        model[0].weight.copy_(u @ torch.diag(s) @ v)
        model[0].bias.copy_(0.1 * torch.randn(SIZE, generator=gen, dtype=torch.float64))
    return model.to(dtype)


@pytest.mark.parametrize("dtype,bound", [(torch.float64, 1e-11), (torch.float32, 1e-5)])
def test_lanczos_784_to_500_is_within_the_documented_bound(dtype, bound, monkeypatch):
    model = _hard_mlp(dtype)
    gen = torch.Generator().manual_seed(2)
    x = 0.05 * torch.randn(6, 784, generator=gen, dtype=torch.float64)
    steps = []

    def counted(*args, **kwargs):  # the real Lanczos, its step counts kept
        result = top_eigenpairs(*args, **kwargs)
        steps.append(result[2])
        return result

    monkeypatch.setattr(spectra, "top_eigenpairs", counted)
    lam = maximal_ftle(model, x.to(dtype), method="lanczos")
    # analytic: the endpoint is tanh(W x + b), J = diag(1 − tanh²) W, depth 1
    first = model[0].double()
    with torch.no_grad():
        slope = 1 - torch.tanh(first(x)) ** 2
        jac = slope[:, :, None] * first.weight[None]
    ref = torch.log(torch.linalg.svdvals(jac)[:, 0])
    assert (lam.double() - ref).abs().max() <= bound
    taken = torch.cat(steps)
    assert len(taken) == len(x) and (taken < LANCZOS_MAX_STEPS).all(), taken
