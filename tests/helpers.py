"""Shared test helpers: the paper's networks and the dense reference."""

from __future__ import annotations

import itertools

import torch
from torch import nn


def tanh_mlp(sizes: list[int], seed: int = 0, dtype: torch.dtype = torch.float64) -> nn.Sequential:
    """2 → N×L → 1 style tanh MLP with W ~ N(0, 1/fan_in) and small random biases."""
    gen = torch.Generator().manual_seed(seed)
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(sizes):
        lin = nn.Linear(a, b)
        with torch.no_grad():
            lin.weight.copy_(torch.randn((b, a), generator=gen) * a**-0.5)
            lin.bias.copy_(0.1 * torch.randn(b, generator=gen))
        layers += [lin, nn.Tanh()]
    return nn.Sequential(*layers[:-1]).to(dtype)


def dense_jacobians(fn, x: torch.Tensor) -> torch.Tensor:
    """(B, n, d) Jacobians of ``fn`` (batch → batch) at each sample, one at a time."""
    rows = []
    for xi in x:
        j = torch.autograd.functional.jacobian(lambda z: fn(z[None]).reshape(-1), xi)
        rows.append(j.reshape(j.shape[0], -1))
    return torch.stack(rows)


def reference_ftle(fn, x: torch.Tensor, depth: float, k: int = 1) -> torch.Tensor:
    """Top-k exponents from the dense Jacobian and ``torch.linalg.svdvals`` (float64)."""
    jac = dense_jacobians(fn, x.double())
    return torch.log(torch.linalg.svdvals(jac)[:, :k]) / depth
