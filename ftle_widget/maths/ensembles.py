"""An ensemble's uncertainty at a point, from its members' class probabilities (the paper's
Fig. 4b compares it with λ₁): the predictive entropy H[p̄] of the mean probabilities p̄, and the
mutual information H[p̄] − mean H[pₘ] between the prediction and the member (the part of the
entropy that comes from the members disagreeing; 0 where they all agree). In nats; both lie in
[0, log C] for C classes.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence

import torch
from torch import nn

from .modules import evaluation_mode

QUANTITIES = ("entropy", "mutual_information")
LABELS = {"entropy": "entropy (nats)", "mutual_information": "mutual information (nats)"}


def check_quantity(quantity: str) -> str:
    """``quantity`` if it is one of :data:`QUANTITIES`, else a ValueError naming them."""
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {', '.join(QUANTITIES)}, not {quantity!r}")
    return quantity


def member_probabilities(models: Sequence[nn.Module], x: torch.Tensor) -> torch.Tensor:
    """(M, B, C) float64 softmax probabilities of each member's output (logits) at ``x``, each
    member in eval mode (its training flags restored after); differentiable where the caller
    records gradients."""
    with contextlib.ExitStack() as modes:
        for model in models:
            modes.enter_context(evaluation_mode(model))
        out = [m(x) for m in models]
    for k, logits in enumerate(out):
        if logits.ndim != 2 or logits.shape[1] < 2:
            raise ValueError(
                f"member {k} gives outputs shaped {tuple(logits.shape)}: an ensemble's "
                "uncertainty needs class logits (B, C) with C ≥ 2"
            )
    return torch.softmax(torch.stack(out).double(), dim=-1)


def mean_log_probabilities(p: torch.Tensor) -> torch.Tensor:
    """log of the members' mean class probabilities (M, B, C) → (B, C): the ensemble's output."""
    return torch.log(p.mean(0).clamp_min(1e-300))


def _entropy(p: torch.Tensor) -> torch.Tensor:
    return -(p * torch.log(p.clamp_min(1e-300))).sum(-1)


def predictive_entropy(probabilities: torch.Tensor) -> torch.Tensor:
    """H[p̄] (B,) of the mean over members of ``probabilities`` (M, B, C)."""
    return _entropy(probabilities.mean(0)).clamp(0.0, math.log(probabilities.shape[-1]))


def mutual_information(probabilities: torch.Tensor) -> torch.Tensor:
    """H[p̄] − mean over members of H[pₘ] (B,), the disagreement of ``probabilities`` (M, B, C);
    clamped at 0 against rounding."""
    spread = _entropy(probabilities.mean(0)) - _entropy(probabilities).mean(0)
    return spread.clamp_min(0.0)


def quantity_of(probabilities: torch.Tensor, quantity: str) -> torch.Tensor:
    """The ensemble's ``quantity`` (``"entropy"`` or ``"mutual_information"``), (B,), from its
    members' ``probabilities`` (M, B, C)."""
    if check_quantity(quantity) == "entropy":
        return predictive_entropy(probabilities)
    return mutual_information(probabilities)


@torch.no_grad()
def uncertainty(models: Sequence[nn.Module], x: torch.Tensor, quantity: str) -> torch.Tensor:
    """The ensemble's ``quantity`` (``"entropy"`` or ``"mutual_information"``) at each row of
    ``x``, (B,) float64."""
    check_quantity(quantity)  # before any member runs
    return quantity_of(member_probabilities(models, x), quantity)
