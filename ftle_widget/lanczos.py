"""Batched Lanczos for the largest eigenvalue of many symmetric positive semi-definite operators.

Each point has its own operator A (JᵀJ or J Jᵀ), applied to a batch of vectors at once. Full
reorthogonalisation keeps the Krylov basis orthonormal; every point stops on its own once the
residual of its top Ritz pair is small, and finished points leave the batch (compaction), so a few
slow points, where the top two singular values nearly coincide (on ridges), do not make the whole
batch pay for them.

Stopping rule: for the top Ritz pair (θ, y) the residual ‖Ay − θy‖ = β_j |s_j| bounds the distance
from θ to an eigenvalue of A. A point stops when that bound is below ``tol·θ``, when the Krylov
space is invariant (β_j ≈ 0) or complete (j = dimension).
"""

from __future__ import annotations

from collections.abc import Callable

import torch


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
