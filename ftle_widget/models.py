"""The paper's networks: tanh MLPs with W ~ N(0, 1/fan_in) and zero thresholds."""

from __future__ import annotations

import itertools

import torch
from torch import nn


def mlp(
    n_in: int,
    width: int,
    depth: int,
    n_out: int,
    *,
    seed: int | None = None,
    output_activation: bool | None = None,
) -> nn.Sequential:
    """``n_in → width×depth (tanh) → n_out``, initialised as in Storm et al. (2024).

    Parameters
    ----------
    n_in, width, depth, n_out : input size, hidden width N, number of hidden layers L, outputs.
    seed : seed for the initial weights (``None``: torch's global generator).
    output_activation : a tanh on the output; default: only for a single output (the paper's
        ±1 targets).
    """
    if min(n_in, width, depth, n_out) < 1:
        raise ValueError("n_in, width, depth and n_out must all be ≥ 1")
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    sizes = [n_in] + [width] * depth + [n_out]
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        linear = nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            linear.weight.copy_(torch.randn((fan_out, fan_in), generator=gen) / fan_in**0.5)
            linear.bias.zero_()
        layers.append(linear)
        if i < depth:
            layers.append(nn.Tanh())
    if output_activation is None:
        output_activation = n_out == 1
    if output_activation:
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)
