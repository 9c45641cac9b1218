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
J layer by layer; any other module goes through autograd (VJPs: backward passes on one graph of
the batch; JVPs: ``torch.func``), which assumes the samples of a batch are independent (true in
eval mode for the usual layers). It runs on a copy with BatchNorms folded into the convolutions
before them and 2-D convolutions in channels_last (:mod:`~ftle_widget.maths.folding`). Models
run in eval mode (see :mod:`.probing`), attention through torch's plain kernel
(:func:`~ftle_widget.maths.modules.differentiable_kernels`).
"""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import torch
from torch import nn

from .endpoints import Stage, resolve, warn_once
from .folding import FastCopies, channels_last_input
from .general import FuncJacobian
from .jacobians import ChainJacobian, Jacobian, affine_module, densify
from .modules import (
    check_input,
    describe_input_error,
    differentiable_kernels,
    evaluation_mode,
    model_device,
    model_float_dtype,
    weights_fingerprint,
)
from .parallel import run_batches, workers
from .probing import EndpointReport, inspect_endpoint
from .spectra import LANCZOS_MAX_STEPS, dense_jacobian, spectrum_ends, top_pair

METHODS = ("auto", "exact", "forward", "reverse", "lanczos")
EXACT_MAX = 64  # "auto" forms a Gram matrix up to this size, else iterates
_CPU_BUDGET = 192 * 2**20  # bytes of intermediates per batch
_GPU_BUDGET = 2 * 2**30
_CPU_CAP, _GPU_CAP = 4096, 16384


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
        self.endpoint = resolve(model, layer)
        self.method = method
        self.batch_size = batch_size
        self._depth = None if depth is None else float(depth)
        self._report: EndpointReport | None = None
        self._copies: dict[torch.dtype, tuple[tuple, nn.Module]] = {}
        self._chains: dict[tuple, tuple[tuple, list[Stage] | None]] = {}
        self._fast = FastCopies()
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
        check_input(self.model, x)
        if x.dtype in (torch.float16, torch.bfloat16):  # eigensolvers need single precision
            x = x.float()
        device = model_device(self.model) or x.device
        xd = x.detach().to(device)
        model = self._runtime_model(x.dtype)
        if self._report is None and x.shape[0] > 0:
            with evaluation_mode(model):
                try:
                    self._report = inspect_endpoint(model, self.endpoint, xd[:1])
                except RuntimeError as error:
                    raise describe_input_error(self.model, x, error) from error
            if self._report.warning:
                warn_once(self.model, self._report.warning, stacklevel=4)
        return xd, model

    def _choose(self, exact_only: bool = False) -> str:
        assert self._report is not None  # set by the first evaluation
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
        assert self._report is not None  # set by the first evaluation
        n, d = self._report.endpoint_size, self._report.input_size
        k = {"forward": d, "reverse": n}.get(method, 2)
        copies = (k + 2) * 2  # activations per point: vmap carries k tangents at once
        if method == "reverse" and self.endpoint.chain is None and device.type == "cpu":
            copies = 4  # one graph, one backward pass at a time (FuncJacobian.vjp_z)
        per_point = itemsize * (self._report.activation_elements * copies + k * (n + d))
        if method == "lanczos":
            per_point += itemsize * (min(LANCZOS_MAX_STEPS, min(n, d)) + 3) * min(n, d)
        cuda = device.type == "cuda"
        budget, cap = (_GPU_BUDGET, _GPU_CAP) if cuda else (_CPU_BUDGET, _CPU_CAP)
        threads = self._threads(method, device)
        if threads > 1:  # batches run at once, one per worker
            budget, cap = max(budget // threads, budget // 8), max(cap // threads, cap // 16)
        size = max(1, min(cap, budget // max(per_point, 1)))
        return 1 << (size.bit_length() - 1)

    def _threads(self, method: str, device: torch.device) -> int:
        """Batches computed at once (:mod:`~.parallel`); one where ``torch.func.jvp`` runs, whose
        forward-AD levels are process-wide (not thread-safe)."""
        forward_ad = self.endpoint.chain is None and method != "reverse"
        return 1 if forward_ad else workers(device)

    def _chain(self, model: nn.Module, input_shape: tuple[int, ...]) -> list[Stage] | None:
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
                peel = affine_module(chain[0]).weight.detach()
                tangents = peel.T.expand(x.shape[0], *peel.T.shape)
            jac = ChainJacobian(
                chain, self.endpoint.chain_end, x, want_output=want_output, tangents=tangents
            )
            jac.gram_cache = self._grams
            return jac
        fast = self._fast_model(model, x)
        if fast is not None:
            model, x = fast, channels_last_input(x)
        assert self._report is not None  # set by the first evaluation
        function = self.endpoint.function(model)
        n = self._report.endpoint_size
        return FuncJacobian(function, x, want_output=want_output, model=model, n=n)

    def _fast_model(self, model: nn.Module, x: torch.Tensor) -> nn.Module | None:
        """``model``'s checked fast copy, or ``None`` (:class:`~.folding.FastCopies`)."""
        return self._fast.get(model, self.endpoint.function, self.endpoint.module_name, x)

    # ------------------------------------------------------------------ evaluation
    def maximal(
        self, x: torch.Tensor, *, direction: bool = False, output: bool = False, lower: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """λ₁ per point, and optionally v₁ (shaped like x) and the model's output (B, C).
        ``lower``: λ of shape (B, 3), λ₁, λ₂ and λ_min per point, in one pass (see
        :func:`~.spectra.spectrum_ends`; never by Lanczos)."""
        xd, model = self._prepare(x)
        count = x.shape[0]
        lam = torch.empty((count, 3) if lower else count, dtype=xd.dtype, device=xd.device)
        vec = torch.empty_like(xd) if direction else None
        out_rows: list[torch.Tensor] = []
        if count:
            method = self._choose(exact_only=lower)
            size = self._auto_batch(method, xd.device, xd.element_size())

            def batch(start: int) -> tuple[int, torch.Tensor | None]:
                xb = xd[start : start + size].clone()
                jac = self._jacobian(model, xb, output, method)
                pair = spectrum_ends if lower else top_pair
                theta, v, finite = pair(jac, method, direction, self.depth)
                lam_b = 0.5 * torch.log(theta.clamp_min(0)) / self.depth
                keep = finite[:, None] if lower else finite
                lam[start : start + size] = torch.where(
                    keep, lam_b, torch.full_like(lam_b, math.nan)
                ).to(lam.dtype)
                if vec is not None:
                    assert v is not None  # asked for with direction
                    v = torch.where(finite[:, None], v, torch.full_like(v, math.nan))
                    vec[start : start + size] = v.reshape(xb.shape)
                return int((~finite).sum()), _output_of(jac, model, xb) if output else None

            with torch.no_grad(), evaluation_mode(model), differentiable_kernels():
                parallel = self._threads(method, xd.device) > 1
                if self._chain(model, tuple(xd.shape[1:])) is None:
                    self._fast_model(model, xd)  # made once, here, before the workers start
                    parallel = parallel and method == "reverse"  # no forward AD in threads
                done = run_batches(batch, range(0, count, size), xd.device, parallel)
            _warn_non_finite(sum(bad for bad, _ in done), count)
            out_rows = [rows for _, rows in done if rows is not None]
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
        assert self._report is not None  # set by _prepare on a non-empty batch
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
        with torch.no_grad(), evaluation_mode(model), differentiable_kernels():
            for start in range(0, count, size):
                xb = xd[start : start + size].clone()
                j, finite = dense_jacobian(self._jacobian(model, xb, False), method)
                bad += int((~finite).sum())
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


def _stages_of(model: nn.Module, original: nn.Module, stages: list[Stage]) -> list[Stage]:
    """The chain's stages, pointing into ``model`` (a converted copy) instead of ``original``."""
    if model is original:
        return stages
    lookup = {id(m): name for name, m in original.named_modules()}
    return [
        s if s.module is None else Stage(s.kind, model.get_submodule(lookup[id(s.module)]))
        for s in stages
    ]


def _output_of(jac: Jacobian, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    if jac.output is not None:
        return jac.output
    out = model(x)
    return out.reshape(out.shape[0], -1) if out.ndim > 1 else out.reshape(-1, 1)


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
    layer : where the network is read: ``None`` (last hidden layer: the input of the last affine
        layer, for any module), an int ℓ (hidden layer ℓ of an ``nn.Sequential``), a submodule
        name, ``"logits"`` or ``"probabilities"``; see :mod:`ftle_widget.maths.endpoints`.
    depth : divisor of log Λ₁; default: the affine calls made before the endpoint
        (:mod:`ftle_widget.maths.probing`).
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
    if direction:
        assert vec is not None  # maximal gives v₁ when asked
        return lam, vec
    return lam


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
