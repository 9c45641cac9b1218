"""Depth as time: λ₁⁽ℓ⁾ at every hidden layer ℓ = 1…L of a network over a plane, in one pass.

For a plain ``nn.Sequential`` of Linear (or written-out convolution) layers and elementwise
activations with a small input (forward mode, d ≤ 64), one forward pass carries J's columns
through the layers (:func:`~.jacobians.push_stacked`, the pass :func:`~.fields.ftle_field`
makes); each hidden layer's exponent is read from the columns as they pass, so all L layers cost
about what the last one does. Any other model gets one :func:`~.fields.compute_field` per layer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .endpoints import hidden_layer_count, resolve
from .exponents import Engine
from .fields import (
    Extent,
    check_extent,
    check_plane,
    check_shape,
    chunk_points,
    compute_field,
    pixel_range,
    plane_of,
)
from .jacobians import ChainJacobian, affine_module, push_stacked
from .modules import evaluation_mode, model_float_dtype
from .parallel import run_batches
from .planes import Plane, default_extent
from .spectra import all_finite, top_pair


@dataclass(frozen=True)
class LayerField:
    """λ₁ of every hidden layer over a rectangle of a plane.

    Attributes
    ----------
    ftle : (L, H, W) float32, λ₁⁽ℓ⁾ = log Λ₁⁽ℓ⁾ / depth⁽ℓ⁾ for hidden layers ℓ = 1…L (index ℓ−1).
    depths : depth⁽ℓ⁾ per layer (ℓ: the affine layers up to it).
    extent, plane : as for :class:`~ftle_widget.Field` (pixel (i, j) at u = u0 + (j+½)Δu, …).
    """

    ftle: np.ndarray
    depths: tuple[float, ...]
    extent: Extent
    plane: Plane

    @property
    def log_stretch(self) -> np.ndarray:
        """depth⁽ℓ⁾·λ₁⁽ℓ⁾ = log Λ₁⁽ℓ⁾, (L, H, W): the paper's Fig. 2 quantity per layer."""
        return self.ftle * np.asarray(self.depths, dtype=np.float32)[:, None, None]

    @property
    def layers(self) -> int:
        return self.ftle.shape[0]


def ftle_layers(
    model: nn.Module,
    plane: Plane | None = None,
    extent: Sequence[float] | None = None,
    shape: tuple[int, int] = (256, 256),
    *,
    input_shape: Sequence[int] | None = None,
    chunk: int | None = None,
) -> LayerField:
    """λ₁⁽ℓ⁾ for every hidden layer ℓ = 1…L of ``model`` (an ``nn.Sequential``: its hidden
    layers are the activations after each affine layer but the last) over ``extent`` of
    ``plane``, sampled on ``shape`` = (H, W) pixel centres; layer ℓ's values equal
    ``ftle_field(model, plane, extent, shape, layer=ℓ).ftle``."""
    count = hidden_layer_count(model)
    if not count:
        raise ValueError(
            "ftle_layers reads the hidden layers of an nn.Sequential (affine layers and "
            f"activations); {type(model).__name__} has none it can number: use "
            "ftle_field(model, plane, extent, shape, layer=name) for each layer you want"
        )
    plane = plane_of(model, plane, input_shape, "pass input_shape= or a plane")
    extent = check_extent(default_extent(plane, None) if extent is None else extent)
    h, w = check_shape(shape)
    check_plane(model, plane)
    dtype = model_float_dtype(model) or torch.float32
    total = h * w
    out = np.empty((count, total), dtype=np.float32)
    last = Engine(model, layer=count)
    last._prepare(plane.to_input(pixel_range(extent, (h, w), 0, 1)).to(dtype))
    if last.endpoint.chain is not None and last._choose() == "forward":
        ends = [resolve(model, layer).chain_end for layer in range(1, count + 1)]
        step = chunk or chunk_points(plane)
        for start in range(0, total, step):
            stop = min(start + step, total)
            x = plane.to_input(pixel_range(extent, (h, w), start, stop)).to(dtype)
            out[:, start:stop], depths = _fused(last, ends, x)
    else:  # one field per layer
        engines = [Engine(model, layer=layer) for layer in range(1, count)] + [last]
        for k, engine in enumerate(engines):
            out[k] = compute_field(engine, plane, extent, (h, w), chunk=chunk).ftle.reshape(-1)
        depths = [engine.depth for engine in engines]
    return LayerField(out.reshape(count, h, w), tuple(depths), extent, plane)


def _fused(last: Engine, ends: list[int], x: torch.Tensor) -> tuple[np.ndarray, list[float]]:
    """(L, B) λ₁ at the layers whose chains end at ``ends`` (the last: ``last``'s endpoint), the
    columns of J carried through the chain once, in the batches ``last`` uses; and the depths
    (the affine stages up to each layer, as the engines count them)."""
    xd, model = last._prepare(x)
    stages = last._chain(model, tuple(xd.shape[1:]))
    assert stages is not None  # fused only for chains
    depths = [float(max(1, sum(s.kind == "linear" for s in stages[:end]))) for end in ends]
    layer_at = {end: k for k, end in enumerate(ends)}  # chain stages up to layer k + 1
    size = last._auto_batch("forward", xd.device, xd.element_size())
    rows = np.empty((len(ends), len(xd)), dtype=np.float32)
    peel = affine_module(stages[0]).weight.detach()
    first = affine_module(stages[0])

    def batch(start: int) -> None:
        xb = xd[start : start + size]
        b = len(xb)
        h = nn.functional.linear(xb.reshape(b, -1), peel, _bias(first))
        theta = torch.empty((len(ends), b), dtype=xd.dtype, device=xd.device)
        finite = torch.empty((len(ends), b), dtype=torch.bool, device=xd.device)

        def visit(done: int, primal: torch.Tensor, tangents: torch.Tensor) -> None:
            k = layer_at.get(done + 1)  # stages after the peeled one
            if k is None:
                return
            if tangents.shape[1] == 2:  # spectra's 2×2 arithmetic, operation for operation
                r0, r1 = tangents[:, 0], tangents[:, 1]
                a, c, g = (r0 * r0).sum(-1), (r1 * r1).sum(-1), (r0 * r1).sum(-1)
                half = 0.5 * (a - c)
                theta[k] = 0.5 * (a + c) + torch.sqrt(half * half + g * g)
                finite[k] = all_finite(a, c, g)
            else:  # k > 2 columns: contiguous, as ftle_field's Gram matrix sees them
                jac = ChainJacobian([], 0, xb)
                jac.pushed, jac.endpoint = tangents.contiguous(), primal
                theta[k], _, finite[k] = top_pair(jac, "forward", False, depths[k])
            finite[k] &= all_finite(primal)

        push_stacked(stages[1 : ends[-1]], h, peel.T.expand(b, *peel.T.shape), visit)
        scale = torch.tensor(depths, dtype=theta.dtype, device=theta.device)[:, None]
        lam = 0.5 * torch.log(theta.clamp_min(0)) / scale
        lam = torch.where(finite, lam, torch.full_like(lam, math.nan))
        rows[:, start : start + b] = lam.float().cpu().numpy()

    with torch.no_grad(), evaluation_mode(model):
        run_batches(batch, range(0, len(xd), size), xd.device)  # as Engine.maximal runs them
    return rows, depths


def _bias(module: nn.Module) -> torch.Tensor | None:
    bias = getattr(module, "bias", None)
    return None if bias is None else bias.detach()
