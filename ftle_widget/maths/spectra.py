"""Spectra of Jacobians: the top singular value Λ₁ (and v₁) of a batch of Jacobians.

Three ways (see :mod:`ftle_widget.maths.exponents` for when each is used):

* forward: the d×d Gram matrix JᵀJ from J's columns (closed form for d ≤ 2);
* reverse: the n×n Gram matrix J Jᵀ from J's rows (the first layer factored out for MLPs);
* Lanczos: batched, for many symmetric positive semi-definite operators at once (JᵀJ or J Jᵀ,
  applied by one JVP and one VJP per step). Full reorthogonalisation keeps the Krylov basis
  orthonormal; every point stops on its own once the residual of its top Ritz pair is small, and
  finished points leave the batch (compaction), so a few slow points, where the top two singular
  values nearly coincide (on ridges), do not make the whole batch pay for them.

Lanczos stopping rule: for the top Ritz pair (θ, y) the residual ‖Ay − θy‖ = β_j |s_j| bounds the
distance from θ to an eigenvalue of A. A point stops when that bound is below ``tol·θ``, when the
Krylov space is invariant (β_j ≈ 0) or complete (j = dimension).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .general import FuncJacobian
from .jacobians import Jacobian


class Operator:
    """A batch of operators: ``matvec`` applies the active ones, ``keep`` drops finished points."""

    def matvec(self, v: torch.Tensor) -> torch.Tensor:  # (b, m) -> (b, m)
        raise NotImplementedError

    def keep(self, mask: torch.Tensor) -> None:
        raise NotImplementedError


def top_eigenpairs(
    operator: Operator,
    start: torch.Tensor,
    *,
    tol: float,
    max_steps: int,
    check_every: int = 2,
    first_check: int = 4,
    on_done: Callable[[torch.Tensor, torch.Tensor | None], None] | None = None,
    want_vectors: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Largest eigenvalue (and optionally eigenvector) per point.

    Parameters
    ----------
    operator : the active operators, initially all ``B`` points.
    start : (B, m) starting vectors (need not be normalised).
    tol : relative residual bound, see the module docstring.
    max_steps : at most this many Lanczos steps (capped at m).
    on_done : called as ``on_done(index, vectors)`` for each group of finished points, before
        they leave the operator (so that the caller can use it on them once more).

    Returns
    -------
    theta : (B,) float64 top eigenvalues; vectors : (B, m) unit Ritz vectors or None;
    steps : (B,) the number of steps each point took.
    """
    batch, m = start.shape
    dtype, device = start.dtype, start.device
    max_steps = max(1, min(max_steps, m))
    theta_out = torch.zeros(batch, dtype=torch.float64, device=device)
    vec_out = torch.zeros((batch, m), dtype=dtype, device=device) if want_vectors else None
    steps_out = torch.zeros(batch, dtype=torch.long, device=device)

    active = torch.arange(batch, device=device)
    basis = torch.empty((batch, max_steps + 1, m), dtype=dtype, device=device)
    norms = start.norm(dim=1, keepdim=True)
    basis[:, 0] = start / torch.where(norms > 0, norms, torch.ones_like(norms))
    alpha = torch.zeros((batch, max_steps), dtype=torch.float64, device=device)
    beta = torch.zeros((batch, max_steps), dtype=torch.float64, device=device)
    scale = torch.ones(batch, dtype=torch.float64, device=device)  # ‖A‖ estimate per point
    tiny = torch.finfo(dtype).eps

    for j in range(max_steps):
        q = basis[:, j]
        w = operator.matvec(q)
        a = (w * q).sum(-1)
        w = w - a[:, None] * q
        if j > 0:
            w = w - beta[:, j - 1, None].to(dtype) * basis[:, j - 1]
        done_basis = basis[:, : j + 1]  # full reorthogonalisation (one classical pass)
        coef = torch.bmm(done_basis, w[:, :, None])
        w = w - torch.bmm(done_basis.transpose(1, 2), coef)[:, :, 0]
        b = w.norm(dim=1)
        alpha[:, j] = a.double()
        beta[:, j] = b.double()
        scale = torch.maximum(scale, a.double().abs())
        last = j + 1 == max_steps
        if last or (j + 1 >= first_check and (j + 1 - first_check) % check_every == 0):
            theta, s = _tridiagonal_top(alpha[:, : j + 1], beta[:, :j])
            residual = beta[:, j] * s[:, -1].abs()
            breakdown = beta[:, j] <= 10 * tiny * scale
            done = (residual <= tol * theta.abs()) | breakdown | ~torch.isfinite(theta)
            if last:
                done = torch.ones_like(done)
            if done.any():
                idx = done.nonzero()[:, 0]
                theta_out[active[idx]] = theta[idx]
                steps_out[active[idx]] = j + 1
                vectors = None
                if want_vectors or on_done is not None:
                    coeffs = s[idx].to(dtype)
                    vectors = torch.bmm(coeffs[:, None, :], basis[idx, : j + 1])[:, 0]
                    vectors = vectors / vectors.norm(dim=1, keepdim=True).clamp_min(tiny)
                    if vec_out is not None:
                        vec_out[active[idx]] = vectors
                if on_done is not None:
                    on_done(idx, vectors)
                keep = ~done
                if not keep.any():
                    break
                operator.keep(keep)
                compact = torch.empty(
                    (int(keep.sum()), max_steps + 1, m), dtype=dtype, device=device
                )
                compact[:, : j + 1] = basis[keep, : j + 1]  # only the used part moves
                active, basis, alpha, beta, scale = (
                    active[keep],
                    compact,
                    alpha[keep],
                    beta[keep],
                    scale[keep],
                )
                w, b = w[keep], b[keep]
        basis[:, j + 1] = w / torch.where(b > 0, b, torch.ones_like(b))[:, None]
    return theta_out, vec_out, steps_out


def _tridiagonal_top(alpha: torch.Tensor, beta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Top eigenpair of the symmetric tridiagonal matrices (diagonal alpha, off-diagonal beta)."""
    k = alpha.shape[1]
    t = torch.diag_embed(alpha)
    if k > 1:
        t = t + torch.diag_embed(beta, 1) + torch.diag_embed(beta, -1)
    finite = torch.isfinite(t).all(dim=(1, 2))
    t = torch.where(finite[:, None, None], t, torch.zeros_like(t))
    evals, evecs = torch.linalg.eigh(t)
    theta = torch.where(finite, evals[:, -1], torch.full_like(evals[:, -1], float("nan")))
    return theta, evecs[:, :, -1]


LANCZOS_MAX_STEPS = 100


def sign_fixed(v: torch.Tensor) -> torch.Tensor:
    """Flip each row so that its entry of largest magnitude (the first such) is positive."""
    idx = v.abs().argmax(dim=-1, keepdim=True)
    sign = torch.sign(torch.gather(v, -1, idx))
    return v * torch.where(sign == 0, torch.ones_like(sign), sign)


def identity(batch: int, size: int, like: torch.Tensor) -> torch.Tensor:
    eye = torch.eye(size, dtype=like.dtype, device=like.device)
    return eye.expand(batch, size, size)


def all_finite(*values: torch.Tensor) -> torch.Tensor:
    """Per row, whether every value of ``values`` (each (B,) or (B, ...)) is finite: x·0 is 0 for
    a finite x and NaN otherwise, so the sum of the zeros is 0 exactly where all are. The mask of
    ``isfinite(...).all(dim=1)`` in fewer passes (measured: a third of the time of λ₁ at all
    layers, which checks every layer)."""
    total: torch.Tensor | None = None
    for v in values:
        zeros = v.mul(0)
        if zeros.ndim > 1:
            zeros = zeros.reshape(len(zeros), -1).sum(dim=1)
        total = zeros if total is None else total + zeros
    assert total is not None, "all_finite of nothing"
    return total == 0


def endpoint_finite(jac: Jacobian) -> torch.Tensor:
    return all_finite(jac.ensure_endpoint())


def top_pair(
    jac: Jacobian, method: str, direction: bool, depth: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """(θ = Λ₁², v₁ or None, finite mask) for one batch."""
    b = jac.batch
    if method == "forward":
        gram = _gram_rows(_forward_rows(jac))
        theta, v, finite = _top_symmetric(gram, direction)
    elif method == "reverse":
        n = jac.n
        m_rows = jac.vjp_z(identity(b, n, _like(jac)))  # (B, n, m): row i is (Jᵀ e_i) in z
        z_apply = jac.z_apply() if jac.peel is not None else None
        if z_apply is not None:  # P Pᵀ as a convolution
            gram = z_apply(m_rows) @ m_rows.transpose(1, 2)
        elif jac.peel is not None and jac.m <= jac.d:
            z_gram = jac.z_gram()
            assert z_gram is not None  # P is peeled
            gram = m_rows @ z_gram @ m_rows.transpose(1, 2)
        else:
            full = m_rows if jac.peel is None else m_rows @ jac.peel
            gram = full @ full.transpose(1, 2)
        theta, u, finite = _top_symmetric(gram, direction)
        v = None
        if direction:
            assert u is not None  # _top_symmetric gives the vector when asked
            v = _pulled_back(u, m_rows, jac.peel)
    else:
        theta, v, finite = _lanczos(jac, direction, depth)
    finite = finite & endpoint_finite(jac)
    if v is not None:
        v = sign_fixed(v)
    return theta, v, finite


def _pulled_back(
    u: torch.Tensor, rows: torch.Tensor, peel: torch.Tensor | None = None
) -> torch.Tensor:
    """v₁ = Jᵀu₁ / ‖Jᵀu₁‖ from the top eigenvector u₁ of J Jᵀ and J's rows (in z, then through
    the peeled layer ``peel``)."""
    v = (u[:, None, :] @ rows)[:, 0]
    if peel is not None:
        v = v @ peel
    return v / v.norm(dim=1, keepdim=True).clamp_min(torch.finfo(v.dtype).tiny)


def _forward_rows(jac: Jacobian) -> torch.Tensor:
    """(B, d, n): row i is (J e_i)ᵀ, J's columns (carried by the chain's pass where it can)."""
    if jac.pushed is not None:  # the chain carried P e_i (the peeled layer's columns)
        return jac.pushed
    return jac.jvp(identity(jac.batch, jac.d, _like(jac)))


def dense_jacobian(jac: Jacobian, method: str) -> tuple[torch.Tensor, torch.Tensor]:
    """J itself, (B, d, n) from JVPs (``"forward"``) or (B, n, d) from VJPs (else), zero where
    it or the endpoint is not finite, and the mask of the finite points."""
    if method == "forward":
        j = _forward_rows(jac)
    else:
        j = jac.vjp(identity(jac.batch, jac.n, _like(jac)))
    finite = all_finite(j, jac.ensure_endpoint())
    return torch.where(finite[:, None, None], j, torch.zeros_like(j)), finite


def spectrum_ends(
    jac: Jacobian, method: str, direction: bool, depth: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """:func:`top_pair` with θ of shape (B, 3): Λ₁², Λ₂², Λ_min² per point, Λ_min the smallest
    of J's min(n, d) singular values (Λ₂ NaN where min(n, d) = 1).

    Two input directions and n ≥ 2 (forward mode): Λ₁ as :func:`top_pair` gives it, Λ₂ = Λ₁Λ₂/Λ₁
    with Λ₁Λ₂ the area ‖r₀‖·‖r₁ − (r₀·r₁/‖r₀‖²) r₀‖ spanned by J's two columns (Gram–Schmidt: as
    accurate as an SVD, where the 2×2 Gram matrix's λ₁λ₂ = ac − b² cancels). Otherwise all three
    from ``torch.linalg.svdvals`` of the dense J (``method`` forward or reverse, never Lanczos).
    """
    if method == "forward" and jac.d == 2 and jac.n >= 2:
        rows = _forward_rows(jac)
        gram = _gram_rows(rows)
        theta, v, finite = _top_symmetric(gram, direction)
        a, b = gram[:, 0, 0], gram[:, 0, 1]
        tiny = torch.finfo(a.dtype).tiny
        rest = rows[:, 1] - (b / a.clamp_min(tiny))[:, None] * rows[:, 0]
        area2 = a * (rest * rest).sum(-1)  # (Λ₁Λ₂)²
        second = torch.minimum(area2 / theta.clamp_min(tiny), theta)
        thetas = torch.stack([theta, second, second], dim=1)
        finite = finite & endpoint_finite(jac)
        return thetas, None if v is None else sign_fixed(v), finite
    j, finite = dense_jacobian(jac, method)
    v = None
    if direction:  # from the same J, as top_pair takes it (not Lanczos)
        gram = _gram_rows(j) if method == "forward" else j @ j.transpose(1, 2)
        _, top, _ = _top_symmetric(gram, True)
        assert top is not None  # _top_symmetric gives the vector when asked
        v = sign_fixed(top if method == "forward" else _pulled_back(top, j))
    s2 = torch.linalg.svdvals(j).square()
    second = s2[:, 1] if s2.shape[1] > 1 else torch.full_like(s2[:, 0], float("nan"))
    return torch.stack([s2[:, 0], second, s2[:, -1]], dim=1), v, finite


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
    assert jac.endpoint is not None  # a ChainJacobian's pass sets it
    return jac.endpoint


def _top_symmetric(
    gram: torch.Tensor, want_vector: bool
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Largest eigenvalue (and unit eigenvector) of symmetric PSD matrices (B, k, k)."""
    finite = all_finite(gram)
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
            z_apply = jac.z_apply() if jac.peel is not None else None
            if z_apply is None and jac.peel is not None and jac.m > jac.d:
                return jac.jvp(jac.vjp(v[:, None, :]))[:, 0]  # cheaper through the input space
            w = jac.vjp_z(v[:, None, :])
            if z_apply is not None:
                w = z_apply(w)
            elif jac.peel is not None:
                z_gram = jac.z_gram()
                assert z_gram is not None  # P is peeled
                w = w @ z_gram
            return jac.jvp_z(w)[:, 0]
        return jac.vjp(jac.jvp(v[:, None, :]))[:, 0]

    def keep(self, mask: torch.Tensor) -> None:
        self.jac = self.jac.select(mask.nonzero()[:, 0])


def _lanczos(
    jac: Jacobian, direction: bool, depth: float
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
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
