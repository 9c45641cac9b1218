"""An ensemble's uncertainty at a point, from its members' class probabilities (the paper's
Fig. 4b compares it with λ₁): the predictive entropy H[p̄] of the mean probabilities p̄, and the
mutual information H[p̄] − mean H[pₘ] between the prediction and the member (the part of the
entropy that comes from the members disagreeing; 0 where they all agree). In nats; both lie in
[0, log C] for C classes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

QUANTITIES = ("entropy", "mutual_information")
LABELS = {"entropy": "entropy (nats)", "mutual_information": "mutual information (nats)"}


def member_probabilities(models: Sequence[nn.Module], x: torch.Tensor) -> torch.Tensor:
    """(M, B, C) float64 softmax probabilities of each member's output (logits) at ``x``."""
    with torch.no_grad():
        out = [m(x) for m in models]
    for k, logits in enumerate(out):
        if logits.ndim != 2 or logits.shape[1] < 2:
            raise ValueError(
                f"member {k} gives outputs shaped {tuple(logits.shape)}: an ensemble's "
                "uncertainty needs class logits (B, C) with C ≥ 2"
            )
    return torch.softmax(torch.stack(out).double(), dim=-1)


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


def uncertainty(models: Sequence[nn.Module], x: torch.Tensor, quantity: str) -> torch.Tensor:
    """The ensemble's ``quantity`` (``"entropy"`` or ``"mutual_information"``) at each row of
    ``x``, (B,) float64."""
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {', '.join(QUANTITIES)}, not {quantity!r}")
    p = member_probabilities(models, x)
    return predictive_entropy(p) if quantity == "entropy" else mutual_information(p)
