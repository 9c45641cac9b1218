"""The Jacobian J = ∂(endpoint)/∂x of a batch, as batched linear maps (JVPs and VJPs).

Two implementations of one interface:

* :class:`ChainJacobian` for plain ``nn.Sequential`` MLPs (Linear + elementwise activations,
  optionally a final softmax): one forward pass stores D⁽ℓ⁾ = g′(b⁽ℓ⁾) per layer, after which a JVP
  or VJP of k vectors is k·B rows through a few GEMMs. The first Linear layer is *peeled*:
  J = J′ P with P = W⁽¹⁾, so that Gram matrices need only P Pᵀ (computed once per batch).
* :class:`~ftle_widget.maths.general.FuncJacobian` for any module (its own module).

Vectors are batched as ``(B, k, ·)``: B points, k vectors per point. "z-space" is the space right
after the peeled layer (P x); without peeling it is the flattened input space.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import torch
from torch import nn

from .convgram import gram_convolution
from .endpoints import Stage


class Jacobian:
    """Interface: J of B points, n = endpoint size, d = input size, m = z-space size."""

    batch: int
    n: int
    d: int
    m: int
    peel: torch.Tensor | None  # P (m × d), or None when z-space is the input space
    endpoint: torch.Tensor | None  # (B, n); None until a pass computes it (FuncJacobian)
    output: torch.Tensor | None  # the model's output (B, C) when the pass computed it
    pushed: torch.Tensor | None = None  # J columns carried by a fused forward pass

    def jvp_z(self, v: torch.Tensor) -> torch.Tensor:  # (B, k, m) -> (B, k, n)
        raise NotImplementedError

    def vjp_z(self, u: torch.Tensor) -> torch.Tensor:  # (B, k, n) -> (B, k, m)
        raise NotImplementedError

    def select(self, index: torch.Tensor) -> Jacobian:
        """The Jacobian of the points ``index`` only."""
        raise NotImplementedError

    def ensure_endpoint(self) -> torch.Tensor:
        """The endpoint values (B, n), computing them if no pass has yet."""
        assert self.endpoint is not None  # subclasses without a first pass override this
        return self.endpoint

    # Input-space maps, through the peeled layer.
    def jvp(self, v: torch.Tensor) -> torch.Tensor:
        """J v for v (B, k, d) → (B, k, n)."""
        return self.jvp_z(v if self.peel is None else v @ self.peel.T)

    def vjp(self, u: torch.Tensor) -> torch.Tensor:
        """Jᵀ u for u (B, k, n) → (B, k, d)."""
        w = self.vjp_z(u)
        return w if self.peel is None else w @ self.peel

    gram_cache: dict[Any, Any] | None = None  # shared across batches by the engine
    peel_source: DenseAffine | None = None  # the written-out convolution that P is

    def z_gram(self) -> torch.Tensor | None:
        """P Pᵀ (m × m), or ``None`` for the identity; cached while P's storage and version
        counter stay the same (one entry per storage)."""
        if self.peel is None:
            return None
        peel = self.peel
        return self._cached("z_gram", lambda: peel @ peel.T)

    def z_apply(self) -> Callable[[torch.Tensor], torch.Tensor] | None:
        """rows ↦ rows @ P Pᵀ as a convolution (:mod:`~ftle_widget.maths.convgram`), or
        ``None`` where P is no convolution whose P Pᵀ is one."""
        source = self.peel_source
        if source is None or source.conv is None:
            return None
        conv, shape, z = source.conv, source.in_shape, self.z_gram()
        assert z is not None  # a written-out convolution is peeled
        return self._cached("z_apply", lambda: gram_convolution(conv, shape, z))

    def _cached(self, name: str, make: Callable[[], Any]) -> Any:
        assert self.peel is not None
        cache: dict[Any, Any] = self.gram_cache if self.gram_cache is not None else self.__dict__
        key = (name, self.peel.data_ptr(), tuple(self.peel.shape), self.peel.dtype)
        held = cache.get(key)
        if held is None or held[1] != self.peel._version:
            if len(cache) > 8:
                cache.clear()
            # the entry holds P itself, so its storage (the key) cannot be reused meanwhile
            held = (self.peel, self.peel._version, make())
            cache[key] = held
        return held[2]


class ChainJacobian(Jacobian):
    """J of a Linear/elementwise chain, with the first Linear peeled off.

    ``stages[:end]`` lead to the endpoint; the remaining stages only continue the primal pass to
    the model's output (for predictions) when ``want_output`` is set.

    With ``tangents`` (B, k, m) in z-space, the primal and the tangents travel together through
    one GEMM per layer (forward mode in a single pass): ``pushed`` holds J′ tangents (B, k, n) and
    no per-layer data is kept. Without, the pass records D⁽ℓ⁾ for later JVPs and VJPs.
    """

    endpoint: torch.Tensor  # set by the pass (or by select())

    def __init__(
        self,
        stages: list[Stage],
        end: int,
        x: torch.Tensor,
        *,
        want_output: bool = False,
        tangents: torch.Tensor | None = None,
    ):
        self.d = x[0].numel()
        self.batch = x.shape[0]
        self.output = None
        self.pushed = None
        if not stages:  # an empty shell, filled by select()
            return
        assert stages[0].kind == "linear"
        first = affine_module(stages[0])
        self.peel_source = first if isinstance(first, DenseAffine) else None
        self.peel = first.weight.detach()
        self.m = self.peel.shape[0]
        h = nn.functional.linear(x.reshape(self.batch, -1), self.peel, _detached(first.bias))
        if tangents is None:
            ops: list[tuple[str, torch.Tensor]] = []
            for stage in stages[1:end]:
                h = _apply_stage(stage, h, ops)
            self.ops = ops
        else:
            h, self.pushed = push_stacked(stages[1:end], h, tangents)
            self.ops = []
        self.endpoint = h
        self.n = h.shape[1]
        if want_output:
            for stage in stages[end:]:
                h = _apply_stage(stage, h, None)
            self.output = h

    def jvp_z(self, v: torch.Tensor) -> torch.Tensor:
        for kind, t in self.ops:
            if kind == "linear":
                v = v @ t.T
            elif kind == "diag":
                v = v * t[:, None, :]
            else:  # softmax: p ⊙ (v − ⟨p, v⟩)
                v = t[:, None, :] * (v - (v * t[:, None, :]).sum(-1, keepdim=True))
        return v

    def vjp_z(self, u: torch.Tensor) -> torch.Tensor:
        for kind, t in reversed(self.ops):
            if kind == "linear":
                u = u @ t
            elif kind == "diag":
                u = u * t[:, None, :]
            else:  # the softmax Jacobian is symmetric
                u = t[:, None, :] * (u - (u * t[:, None, :]).sum(-1, keepdim=True))
        return u

    def select(self, index: torch.Tensor) -> ChainJacobian:
        sub = ChainJacobian([], 0, self.endpoint[index])
        sub.d, sub.m, sub.n, sub.peel = self.d, self.m, self.n, self.peel
        sub.peel_source = self.peel_source
        sub.gram_cache = self.gram_cache
        sub.ops = [(k, t if k == "linear" else t[index]) for k, t in self.ops]
        sub.endpoint = self.endpoint[index]
        sub.output = None if self.output is None else self.output[index]
        return sub


def push_stacked(
    stages: list[Stage],
    h: torch.Tensor,
    tangents: torch.Tensor,
    visit: Callable[[int, torch.Tensor, torch.Tensor], None] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Carry the primal h (B, m) and tangents (B, k, m) through ``stages`` in one buffer;
    ``visit(i, primal, tangents)`` sees them (views, not copies) after each i stages.

    The buffer is (1 + k, B, width): each layer is one GEMM into the other of two preallocated
    buffers, and the primal slice stays contiguous for the activation. In float32 a Linear
    followed by tanh runs as a GEMM with 2W, s = σ(2a), tanh = 2s − 1 and half the slope (σ is
    ~3× faster than tanh here; the halves cancel the doubled W in the tangents).
    """
    batch, k = h.shape[0], tangents.shape[1]
    widths = [h.shape[1]] + [affine_module(s).weight.shape[0] for s in stages if s.kind == "linear"]
    size = (1 + k) * batch * max(widths)
    buffers = [torch.empty(size, dtype=h.dtype, device=h.device) for _ in range(2)]
    stack = buffers[0][: (1 + k) * h.numel()].view(1 + k, *h.shape)
    stack[0] = h
    stack[1:] = tangents.transpose(0, 1)
    current, i = 0, 0
    while i < len(stages):
        stage = stages[i]
        if stage.kind == "linear":
            affine = affine_module(stage)
            weight = affine.weight.detach()
            bias = _detached(affine.bias)
            follower = stages[i + 1] if i + 1 < len(stages) else None
            fold = (
                h.dtype == torch.float32
                and follower is not None
                and isinstance(follower.module, nn.Tanh)
            )
            if fold:
                weight = 2 * weight
                bias = None if bias is None else 2 * bias
            current = 1 - current
            out = buffers[current][: (1 + k) * batch * weight.shape[0]]
            stack = torch.matmul(stack, weight.T, out=out.view(1 + k, batch, weight.shape[0]))
            if bias is not None:
                stack[0] += bias
            if fold:
                primal = stack[0].sigmoid_()
                torch.add(primal.new_full((), -1.0), primal, alpha=2, out=primal)  # tanh
                stack[1:] *= torch.addcmul(primal.new_full((), 0.5), primal, primal, value=-0.5)
                i += 2
            else:
                i += 1
            if visit is not None:
                visit(i, stack[0], stack[1:].transpose(0, 1))
            continue
        primal = stack[0]
        if stage.kind == "softmax":
            ops: list[tuple[str, torch.Tensor]] = []
            out = _apply_stage(stage, primal, ops)
            kind, t = ops[0]
            tang = stack[1:]
            if kind == "diag":
                tang = tang * t
            else:
                tang = t * (tang - (tang * t).sum(-1, keepdim=True))
            stack = torch.cat([out[None], tang], dim=0)
        elif isinstance(stage.module, nn.Tanh):
            stack[1:] *= _tanh_(primal)
        else:
            assert stage.module is not None  # an elementwise stage
            out, slope = elementwise_slope(stage.module, primal)
            stack[0] = out
            stack[1:] *= slope
        i += 1
        if visit is not None:
            visit(i, stack[0], stack[1:].transpose(0, 1))
    return stack[0].clone(), stack[1:].transpose(0, 1).clone()


def _tanh_(h: torch.Tensor) -> torch.Tensor:
    """tanh in place; returns the slope 1 − tanh² (float32: through σ, as in
    :func:`push_stacked`; the absolute error, about one ulp of 1, is what rounding the
    activation to float32 costs anyway)."""
    if h.dtype != torch.float32:
        h.tanh_()
        return torch.addcmul(torch.ones_like(h), h, h, value=-1)
    h.mul_(2).sigmoid_()
    torch.add(h.new_full((), -1.0), h, alpha=2, out=h)
    return torch.addcmul(h.new_full((), 1.0), h, h, value=-1)


class DenseAffine(nn.Module):
    """An affine map x ↦ W x + b on flattened samples (a convolution written out as a matrix)."""

    def __init__(
        self,
        weight: torch.Tensor,
        bias: torch.Tensor,
        conv: nn.Module | None = None,
        in_shape: tuple[int, ...] = (),
    ):
        super().__init__()
        self.weight = weight
        self.bias = bias
        self.conv, self.in_shape = conv, in_shape  # what was written out, for its input shape


DENSE_MAX_ELEMENTS = 2**23  # a convolution's matrix (out × in) is written out up to this size


def densify(stages: list[Stage], input_shape: tuple[int, ...]) -> list[Stage] | None:
    """Replace conv stages by dense ``linear`` stages for inputs of ``input_shape``.

    ``None`` when a convolution's matrix would exceed :data:`DENSE_MAX_ELEMENTS` or its input
    shape does not fit (the caller then takes the ``torch.func`` path).
    """
    if all(s.kind != "conv" for s in stages):
        return stages
    shape = tuple(input_shape)
    out: list[Stage] = []
    with torch.no_grad():
        for stage in stages:
            module = stage.module
            if stage.kind == "linear":
                assert isinstance(module, nn.Linear)  # chains are written out once, from Linears
                shape = (module.out_features,)
                out.append(stage)
            elif stage.kind == "conv":
                assert isinstance(module, nn.modules.conv._ConvNd)
                size = math.prod(shape)
                weight = module.weight
                try:
                    zero = torch.zeros((1, *shape), dtype=weight.dtype, device=weight.device)
                    bias_map = module(zero)
                except RuntimeError:
                    return None
                if size * bias_map[0].numel() > DENSE_MAX_ELEMENTS:
                    return None
                eye = torch.eye(size, dtype=weight.dtype, device=weight.device)
                columns = module(eye.reshape(size, *shape)) - bias_map
                matrix = columns.reshape(size, -1).T.contiguous()
                bias = bias_map.reshape(-1).clone()
                out.append(Stage("linear", DenseAffine(matrix, bias, module, shape)))
                shape = tuple(bias_map.shape[1:])
            else:
                out.append(stage)
    return out


def _detached(t: torch.Tensor | None) -> torch.Tensor | None:
    return None if t is None else t.detach()


def affine_module(stage: Stage) -> nn.Linear | DenseAffine:
    """The module of a ``linear`` stage: an ``nn.Linear`` or a written-out convolution."""
    assert isinstance(stage.module, nn.Linear | DenseAffine)
    return stage.module


def elementwise_slope(module: nn.Module, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(module(h), its elementwise derivative) by one backward pass (reverse mode is
    thread-safe, torch's forward-AD levels are not)."""
    with torch.enable_grad():
        leaf = h.detach().requires_grad_(True)
        out = module(leaf.clone())  # a copy: in-place activations may write into it
        slope = None
        if out.requires_grad:
            (slope,) = torch.autograd.grad(out, leaf, torch.ones_like(out), allow_unused=True)
    return out.detach(), torch.zeros_like(h) if slope is None else slope


def jvp(
    function: Callable[..., Any], primals: tuple, tangents: tuple
) -> tuple[torch.Tensor, torch.Tensor]:
    """``torch.func.jvp`` (its annotation adds the ``has_aux`` triple to the return type)."""
    return cast("tuple[torch.Tensor, torch.Tensor]", torch.func.jvp(function, primals, tangents))


def _apply_stage(
    stage: Stage, h: torch.Tensor, ops: list[tuple[str, torch.Tensor]] | None
) -> torch.Tensor:
    """Advance the primal ``h`` through ``stage``; record its local Jacobian in ``ops``."""
    if stage.kind == "linear":
        affine = affine_module(stage)
        w = affine.weight.detach()
        if ops is not None:
            ops.append(("linear", w))
        return nn.functional.linear(h, w, _detached(affine.bias))
    if stage.kind == "softmax":
        out = torch.sigmoid(h) if h.shape[1] == 1 else torch.softmax(h, dim=1)
        if ops is not None:
            ops.append(("diag", out * (1 - out)) if h.shape[1] == 1 else ("softmax", out))
        return out
    module = stage.module
    assert module is not None  # an elementwise stage
    if ops is None:
        return module(h)
    if isinstance(module, nn.Tanh):
        out = torch.tanh(h)
        ops.append(("diag", torch.addcmul(torch.ones_like(out), out, out, value=-1)))
        return out
    out, slope = elementwise_slope(module, h)
    ops.append(("diag", slope))
    return out
