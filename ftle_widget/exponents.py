"""The mathematics: finite-time Lyapunov exponents of a model at a batch of points.

λᵢ = log(Λᵢ) / depth, Λ₁ ≥ Λ₂ ≥ … the singular values of J = ∂(endpoint)/∂x (input and endpoint
flattened per sample). How J's top singular value is found (``method``):

``"forward"``
    forward mode: J v for the d input directions, then the d×d Gram matrix JᵀJ (closed form for
    d ≤ 2). Cheapest when the input is small (the paper's 2-D toy problem).
``"reverse"``
    reverse mode: Jᵀ u for the n endpoint directions, then the n×n Gram matrix J Jᵀ. Cheapest when
    the endpoint is small (a narrow hidden layer, logits). For MLPs the first layer W is factored
    out, J Jᵀ = J′ (W Wᵀ) J′ᵀ, so an image input never enters the per-point work.
``"exact"``
    whichever of the two above forms the smaller Gram matrix. The d×d matrix JᵀJ of an image input
    is never formed unless d ≤ n.
``"lanczos"``
    iterative: Lanczos with full reorthogonalisation on the smaller of JᵀJ and J Jᵀ, one JVP and one
    VJP per step, each point stopping once its residual bound gives |Δλ| ≤ 1e-5 (float32) or
    1e-11 (float64). For large inputs *and* large endpoints.
``"auto"`` (default)
    ``"forward"`` if d ≤ n and d ≤ 64, ``"reverse"`` if n ≤ 64, else ``"lanczos"``.

Plain ``nn.Sequential`` MLPs (Linear + elementwise activations) take a fast path that propagates
J layer by layer; any other module goes through ``torch.func`` (``vmap`` of ``jvp``/``vjp``), which
assumes the samples of a batch are independent (true in eval mode for the usual layers).
"""

from __future__ import annotations

import copy
import itertools
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from . import probes
from .jacobians import ChainJacobian, FuncJacobian, Jacobian, densify
from .lanczos import Operator, top_eigenpairs

METHODS = ("auto", "exact", "forward", "reverse", "lanczos")
EXACT_MAX = 64  # "auto" forms a Gram matrix up to this size, else iterates
LANCZOS_MAX_STEPS = 100
_CPU_BUDGET = 192 * 2**20  # bytes of intermediates per batch
_GPU_BUDGET = 2 * 2**30
_CPU_CAP, _GPU_CAP = 4096, 16384


@contextmanager
def evaluation_mode(model: nn.Module) -> Iterator[None]:
    """Put every submodule in eval mode; restore each one's training flag afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


def model_device(model: nn.Module) -> torch.device | None:
    """The device of the model's first parameter or buffer (``None`` if it has neither)."""
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return None


def model_float_dtype(model: nn.Module) -> torch.dtype | None:
    """The dtype of the model's first floating parameter (``None`` if it has none)."""
    for t in model.parameters():
        if torch.is_floating_point(t):
            return t.dtype
    return None


def weights_fingerprint(model: nn.Module) -> tuple:
    """Identity and version counter of every parameter and buffer (changes on in-place writes,
    e.g. an optimizer step, and on replaced tensors)."""
    return tuple(
        (t.data_ptr(), t._version) for t in itertools.chain(model.parameters(), model.buffers())
    )


def sign_fixed(v: torch.Tensor) -> torch.Tensor:
    """Flip each row so that its entry of largest magnitude (the first such) is positive."""
    idx = v.abs().argmax(dim=-1, keepdim=True)
    sign = torch.sign(torch.gather(v, -1, idx))
    return v * torch.where(sign == 0, torch.ones_like(sign), sign)


class Engine:
    """A prepared FTLE computation for one model and endpoint, evaluated batch by batch.

    Resolves the endpoint and checks the model once; then :meth:`maximal` and :meth:`spectrum`
    evaluate any number of points in automatically sized batches. Where the model's dtype differs
    from the inputs', a converted copy is made at first use (the user's model is never modified).
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        layer: int | str | None = None,
        depth: float | None = None,
        method: str = "auto",
        batch_size: int | None = None,
    ):
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, not {type(model).__name__}")
        if method not in METHODS:
            raise ValueError(f"method={method!r} is not one of {', '.join(map(repr, METHODS))}")
        if depth is not None and not (isinstance(depth, int | float) and depth > 0):
            raise ValueError(f"depth must be a positive number, not {depth!r}")
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"batch_size must be a positive int, not {batch_size!r}")
        self.model = model
        self.endpoint = probes.resolve(model, layer)
        self.method = method
        self.batch_size = batch_size
        self._depth = None if depth is None else float(depth)
        self._report: probes.ProbeReport | None = None
        self._copies: dict[torch.dtype, tuple[tuple, nn.Module]] = {}
        self._chains: dict[tuple, tuple[tuple, list | None]] = {}
        self._grams: dict = {}

    # ------------------------------------------------------------------ preparation
    @property
    def depth(self) -> float:
        """The divisor of log Λ₁ (explicit, or the affine layers counted up to the endpoint)."""
        if self._depth is not None:
            return self._depth
        if self._report is None:
            raise RuntimeError("depth is counted on the first evaluation")
        return float(max(self._report.affine_calls, 1))

    def _runtime_model(self, dtype: torch.dtype) -> nn.Module:
        """The model, or a copy converted to ``dtype`` (remade when the weights change)."""
        current = model_float_dtype(self.model)
        if current is None or current == dtype:
            return self.model
        stamp = weights_fingerprint(self.model)
        held = self._copies.get(dtype)
        if held is None or held[0] != stamp:
            clone = copy.deepcopy(self.model).to(dtype)
            clone.eval()
            self._copies[dtype] = held = (stamp, clone)
        return held[1]

    def _prepare(self, x: torch.Tensor) -> tuple[torch.Tensor, nn.Module]:
        if not isinstance(x, torch.Tensor):
            x = torch.as_tensor(np.asarray(x))
        probes.check_input(self.model, x)
        if x.dtype in (torch.float16, torch.bfloat16):  # eigensolvers need single precision
            x = x.float()
        device = model_device(self.model) or x.device
        xd = x.detach().to(device)
        model = self._runtime_model(x.dtype)
        if self._report is None and x.shape[0] > 0:
            with evaluation_mode(model):
                try:
                    self._report = probes.probe(model, self.endpoint, xd[:1])
                except RuntimeError as error:
                    raise probes.describe_input_error(self.model, x, error) from error
        return xd, model

    def _choose(self, exact_only: bool = False) -> str:
        n, d = self._report.endpoint_size, self._report.input_size
        method = self.method
        if method == "auto":
            if min(n, d) > EXACT_MAX:
                return "lanczos"
            method = "exact"
        if method == "exact" or exact_only:
            return "forward" if d <= n else "reverse"
        return method

    def batch_points(self, dtype: torch.dtype) -> int:
        """Points per batch that :meth:`maximal` uses for inputs of ``dtype`` (after a first
        evaluation). Chunks that are multiples of it give results identical to one big call."""
        if self._report is None:
            raise RuntimeError("the batch size is known after the first evaluation")
        device = model_device(self.model) or torch.device("cpu")
        itemsize = torch.empty((), dtype=dtype).element_size()
        return self._auto_batch(self._choose(), device, itemsize)

    def _auto_batch(self, method: str, device: torch.device, itemsize: int) -> int:
        if self.batch_size is not None:
            return self.batch_size
        n, d = self._report.endpoint_size, self._report.input_size
        k = {"forward": d, "reverse": n}.get(method, 2)
        per_point = itemsize * (self._report.activation_elements * (k + 2) * 2 + k * (n + d))
        if method == "lanczos":
            per_point += itemsize * (min(LANCZOS_MAX_STEPS, min(n, d)) + 3) * min(n, d)
        cuda = device.type == "cuda"
        budget, cap = (_GPU_BUDGET, _GPU_CAP) if cuda else (_CPU_BUDGET, _CPU_CAP)
        size = max(1, min(cap, budget // max(per_point, 1)))
        return 1 << (size.bit_length() - 1)

    def _chain(self, model: nn.Module, input_shape: tuple[int, ...]) -> list | None:
        """The endpoint's chain for ``model`` with convolutions written out, or ``None``."""
        if self.endpoint.chain is None:
            return None
        key = (id(model), input_shape)
        stamp = weights_fingerprint(model)  # written-out convolutions follow the weights
        held = self._chains.get(key)
        if held is None or held[0] != stamp:
            live = _stages_of(model, self.model, self.endpoint.chain)
            self._chains[key] = held = (stamp, densify(live, input_shape))
        return held[1]

    def _jacobian(
        self, model: nn.Module, x: torch.Tensor, want_output: bool, method: str = ""
    ) -> Jacobian:
        chain = self._chain(model, tuple(x.shape[1:]))
        if chain is not None:
            tangents = None
            if method == "forward":  # one fused pass carrying J's columns
                peel = chain[0].module.weight.detach()
                tangents = peel.T.expand(x.shape[0], *peel.T.shape)
            jac = ChainJacobian(
                chain, self.endpoint.chain_end, x, want_output=want_output, tangents=tangents
            )
            jac.gram_cache = self._grams
            return jac
        return FuncJacobian(self.endpoint.function(model), x, want_output=want_output, model=model)

    # ------------------------------------------------------------------ evaluation
    def maximal(
        self, x: torch.Tensor, *, direction: bool = False, output: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """λ₁ per point, and optionally v₁ (shaped like x) and the model's output (B, C)."""
        xd, model = self._prepare(x)
        count = x.shape[0]
        lam = torch.empty(count, dtype=xd.dtype, device=xd.device)
        vec = torch.empty_like(xd) if direction else None
        out_rows: list[torch.Tensor] = []
        if count:
            method = self._choose()
            size = self._auto_batch(method, xd.device, xd.element_size())
            bad = 0
            with torch.no_grad(), evaluation_mode(model):
                for start in range(0, count, size):
                    xb = xd[start : start + size].clone()
                    jac = self._jacobian(model, xb, output, method)
                    theta, v, finite = _top(jac, method, direction, self.depth)
                    bad += int((~finite).sum())
                    lam_b = 0.5 * torch.log(theta.clamp_min(0)) / self.depth
                    lam[start : start + size] = torch.where(
                        finite, lam_b, torch.full_like(lam_b, math.nan)
                    ).to(lam.dtype)
                    if vec is not None:
                        v = torch.where(finite[:, None], v, torch.full_like(v, math.nan))
                        vec[start : start + size] = v.reshape(xb.shape)
                    if output:
                        out_rows.append(_output_of(jac, model, xb))
            _warn_non_finite(bad, count)
        out = torch.cat(out_rows) if out_rows else None
        back = x.device
        return (
            lam.to(back),
            None if vec is None else vec.to(back),
            None if out is None else out.to(back),
        )

    def spectrum(self, x: torch.Tensor, k: int) -> torch.Tensor:
        """The top ``k`` exponents per point, (B, k), descending, from the dense Jacobian."""
        xd, model = self._prepare(x)
        count = x.shape[0]
        if count == 0:
            return torch.empty((0, k), dtype=x.dtype, device=x.device)
        n, d = self._report.endpoint_size, self._report.input_size
        if not isinstance(k, int) or not 1 <= k <= min(n, d):
            raise ValueError(
                f"k={k!r} is out of range: J is {n}×{d}, so it has at most {min(n, d)} singular "
                "values"
            )
        method = self._choose(exact_only=True)
        size = self._auto_batch(method, xd.device, xd.element_size())
        rows = []
        bad = 0
        with torch.no_grad(), evaluation_mode(model):
            for start in range(0, count, size):
                xb = xd[start : start + size].clone()
                jac = self._jacobian(model, xb, False)
                if method == "forward":
                    j = jac.jvp(_identity(xb.shape[0], d, xb))
                else:
                    j = jac.vjp(_identity(xb.shape[0], n, xb))
                finite = torch.isfinite(j).all(dim=(1, 2)) & _endpoint_finite(jac)
                bad += int((~finite).sum())
                j = torch.where(finite[:, None, None], j, torch.zeros_like(j))
                sigma = torch.linalg.svdvals(j)[:, :k]
                lam_b = torch.log(sigma) / self.depth
                rows.append(torch.where(finite[:, None], lam_b, torch.full_like(lam_b, math.nan)))
        _warn_non_finite(bad, count)
        return torch.cat(rows).to(x.device)


def _warn_non_finite(bad: int, count: int) -> None:
    if bad:
        warnings.warn(
            f"the endpoint or its Jacobian is not finite at {bad} of {count} point(s): "
            "their exponents are NaN",
            RuntimeWarning,
            stacklevel=4,
        )


def _stages_of(model: nn.Module, original: nn.Module, stages: list[probes.Stage]):
    """The chain's stages, pointing into ``model`` (a converted copy) instead of ``original``."""
    if model is original:
        return stages
    lookup = {id(m): name for name, m in original.named_modules()}
    return [
        s if s.module is None else probes.Stage(s.kind, model.get_submodule(lookup[id(s.module)]))
        for s in stages
    ]


def _identity(batch: int, size: int, like: torch.Tensor) -> torch.Tensor:
    eye = torch.eye(size, dtype=like.dtype, device=like.device)
    return eye.expand(batch, size, size)


def _endpoint_finite(jac: Jacobian) -> torch.Tensor:
    return torch.isfinite(jac.ensure_endpoint()).all(dim=1)


def _output_of(jac: Jacobian, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    if jac.output is not None:
        return jac.output
    out = model(x)
    return out.reshape(out.shape[0], -1) if out.ndim > 1 else out.reshape(-1, 1)


def _top(
    jac: Jacobian, method: str, direction: bool, depth: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """(θ = Λ₁², v₁ or None, finite mask) for one batch."""
    b, d = jac.batch, jac.d
    if method == "forward":
        if jac.pushed is not None:  # the chain carried P e_i (the peeled layer's columns)
            rows = jac.pushed
        else:
            rows = jac.jvp(_identity(b, d, _like(jac)))  # (B, d, n): row i is (J e_i)ᵀ
        gram = _gram_rows(rows)
        theta, v, finite = _top_symmetric(gram, direction)
    elif method == "reverse":
        n = jac.n
        m_rows = jac.vjp_z(_identity(b, n, _like(jac)))  # (B, n, m): row i is (Jᵀ e_i) in z
        if jac.peel is not None and jac.m <= jac.d:
            gram = m_rows @ jac.z_gram() @ m_rows.transpose(1, 2)
        else:
            full = m_rows if jac.peel is None else m_rows @ jac.peel
            gram = full @ full.transpose(1, 2)
        theta, u, finite = _top_symmetric(gram, direction)
        v = None
        if direction:
            v = (u[:, None, :] @ m_rows)[:, 0]
            if jac.peel is not None:
                v = v @ jac.peel
            v = v / v.norm(dim=1, keepdim=True).clamp_min(torch.finfo(v.dtype).tiny)
    else:
        theta, v, finite = _lanczos(jac, direction, depth)
    finite = finite & _endpoint_finite(jac)
    if v is not None:
        v = sign_fixed(v)
    return theta, v, finite


def _gram_rows(rows: torch.Tensor) -> torch.Tensor:
    """rows @ rowsᵀ per point; elementwise for two rows (bmm of tiny matrices is slow)."""
    if rows.shape[1] == 2:
        r0, r1 = rows[:, 0], rows[:, 1]
        a, b, c = (r0 * r0).sum(-1), (r0 * r1).sum(-1), (r1 * r1).sum(-1)
        return torch.stack([torch.stack([a, b], -1), torch.stack([b, c], -1)], -2)
    return rows @ rows.transpose(1, 2)


def _like(jac: Jacobian) -> torch.Tensor:
    if isinstance(jac, FuncJacobian):
        return jac.x
    return jac.endpoint


def _top_symmetric(
    gram: torch.Tensor, want_vector: bool
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Largest eigenvalue (and unit eigenvector) of symmetric PSD matrices (B, k, k)."""
    finite = torch.isfinite(gram).all(dim=(1, 2))
    gram = torch.where(finite[:, None, None], gram, torch.zeros_like(gram))
    size = gram.shape[1]
    if size == 1:
        theta = gram[:, 0, 0]
        return theta, torch.ones_like(gram[:, 0]) if want_vector else None, finite
    if size == 2:
        a, b, c = gram[:, 0, 0], gram[:, 0, 1], gram[:, 1, 1]
        half = 0.5 * (a - c)
        radius = torch.sqrt(half * half + b * b)
        theta = 0.5 * (a + c) + radius
        vec = None
        if want_vector:
            # eigenvector of the larger eigenvalue: (b, θ − a) or (θ − c, b), whichever is longer
            v1 = torch.stack([b, theta - a], dim=1)
            v2 = torch.stack([theta - c, b], dim=1)
            vec = torch.where((v1.norm(dim=1) >= v2.norm(dim=1))[:, None], v1, v2)
            norm = vec.norm(dim=1, keepdim=True)
            unit = torch.zeros_like(vec)
            unit[:, 0] = 1
            vec = torch.where(norm > 0, vec / norm.clamp_min(torch.finfo(vec.dtype).tiny), unit)
        return theta, vec, finite
    if want_vector:
        evals, evecs = torch.linalg.eigh(gram)
        return evals[:, -1], evecs[:, :, -1], finite
    return torch.linalg.eigvalsh(gram)[:, -1], None, finite


class _GramOperator(Operator):
    """A = J Jᵀ (endpoint side, ``side="n"``) or JᵀJ (input side, ``side="d"``) per point."""

    def __init__(self, jac: Jacobian, side: str):
        self.jac = jac
        self.side = side

    def matvec(self, v: torch.Tensor) -> torch.Tensor:
        jac = self.jac
        if self.side == "n":
            if jac.peel is not None and jac.m > jac.d:  # cheaper through the input space
                return jac.jvp(jac.vjp(v[:, None, :]))[:, 0]
            w = jac.vjp_z(v[:, None, :])
            if jac.peel is not None:
                w = w @ jac.z_gram()
            return jac.jvp_z(w)[:, 0]
        return jac.vjp(jac.jvp(v[:, None, :]))[:, 0]

    def keep(self, mask: torch.Tensor) -> None:
        self.jac = self.jac.select(mask.nonzero()[:, 0])


def _lanczos(jac: Jacobian, direction: bool, depth: float):
    n, d = jac.n, jac.d
    side = "n" if n <= d else "d"
    size = min(n, d)
    like = _like(jac)
    generator = torch.Generator().manual_seed(0)
    start = torch.randn((jac.batch, size), generator=generator, dtype=like.dtype)
    start = start.to(like.device)
    # |Δθ| ≤ residual and λ = log(θ)/(2·depth): a residual ≤ tol·θ bounds |Δλ| by tol/(2·depth)
    target = 1e-5 if like.dtype != torch.float64 else 1e-11
    tol = 2 * target * depth
    operator = _GramOperator(jac, side)
    vectors = None
    if direction:
        vectors = torch.zeros((jac.batch, d), dtype=like.dtype, device=like.device)
    state = {"active": torch.arange(jac.batch, device=like.device)}

    def on_done(index: torch.Tensor, ritz: torch.Tensor | None) -> None:
        active = state["active"]
        if vectors is not None and ritz is not None:
            if side == "n":
                sub = operator.jac.select(index)
                v = sub.vjp(ritz[:, None, :])[:, 0]
                v = v / v.norm(dim=1, keepdim=True).clamp_min(torch.finfo(v.dtype).tiny)
            else:
                v = ritz
            vectors[active[index]] = v
        keep = torch.ones(len(active), dtype=torch.bool, device=active.device)
        keep[index] = False
        state["active"] = active[keep]

    theta, _, _steps = top_eigenpairs(
        operator,
        start,
        tol=tol,
        max_steps=LANCZOS_MAX_STEPS,
        on_done=on_done if direction else None,
    )
    finite = torch.isfinite(theta)
    return theta.to(like.dtype), vectors, finite


def maximal_ftle(
    model: nn.Module,
    x: torch.Tensor,
    *,
    layer: int | str | None = None,
    depth: float | None = None,
    direction: bool = False,
    method: str = "auto",
    batch_size: int | None = None,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """The maximal FTLE λ₁ = log(Λ₁)/depth of ``model`` at each point of the batch ``x``.

    Parameters
    ----------
    model : the network; it runs in eval mode (restored afterwards) on its own device and is
        never modified. Inputs of another dtype use a converted copy.
    x : (B, *input_shape) floating tensor on any device. float64 inputs give float64 results.
    layer : where the network is read: ``None`` (last hidden layer), an int ℓ (hidden layer ℓ of
        an ``nn.Sequential``), a submodule name, ``"logits"`` or ``"probabilities"``.
    depth : divisor of log Λ₁; default: affine layers from the input to the endpoint.
    direction : also return v₁, the top right-singular vector of J, shaped like x, unit norm,
        its sign fixed so that its entry of largest magnitude is positive.
    method : ``"auto"``, ``"exact"``, ``"forward"``, ``"reverse"`` or ``"lanczos"``; see the
        module docstring. ``"auto"``: forward mode when the input is small (d ≤ 64, d ≤ n),
        reverse mode with the n×n Gram matrix when the endpoint is small (n ≤ 64), Lanczos when
        both are large.
    batch_size : points per batch; default: chosen from the network's size (memory stays
        bounded for any B).

    Returns
    -------
    λ₁ of shape (B,) on x's device, or ``(λ₁, v₁)`` with ``direction=True``. Points where the
    endpoint or its Jacobian is not finite get NaN, with a warning that counts them.
    """
    engine = Engine(model, layer=layer, depth=depth, method=method, batch_size=batch_size)
    lam, vec, _ = engine.maximal(x, direction=direction)
    return (lam, vec) if direction else lam


def ftle_spectrum(
    model: nn.Module,
    x: torch.Tensor,
    k: int,
    *,
    layer: int | str | None = None,
    depth: float | None = None,
) -> torch.Tensor:
    """The top ``k`` FTLEs λ₁ ≥ … ≥ λ_k per point, shape (B, k), from the dense Jacobian.

    Arguments as in :func:`maximal_ftle`; ``k`` is at most min(n, d), the number of singular
    values of the n×d Jacobian. A zero singular value gives −inf.
    """
    return Engine(model, layer=layer, depth=depth).spectrum(x, k)
