"""An ensemble's uncertainty over a plane as tiles: the members held as one
:class:`ModelEnsemble` (a snapshot freezes all their weights at once), evaluated by an
:class:`UncertaintyEngine` (each member's logits at the tile's points: the predictive entropy or
the mutual information of :mod:`ftle_widget.maths.ensembles`, exact, forward passes only) in an
:class:`EnsembleScheduler`. The class shown (and the decision boundary) is the ensemble's: the
argmax of the members' mean probabilities.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch
from torch import nn

from ..maths.endpoints import resolve
from ..maths.ensembles import (
    LABELS,
    check_quantity,
    mean_log_probabilities,
    member_probabilities,
    quantity_of,
)
from ..maths.exponents import Engine
from .derived import DerivedScheduler
from .engines import Engines

BATCH = 4096  # points per forward pass of every member


class ModelEnsemble(nn.Module):
    """Members (at least two ``nn.Module`` mapping inputs to class logits) held as one module;
    its output is the log of the members' mean softmax probabilities (its argmax: the
    ensemble's class). ``quantity``: ``"entropy"`` or ``"mutual_information"``."""

    quantity: str

    def __init__(self, members: Sequence[nn.Module], quantity: str = "entropy"):
        super().__init__()
        members = list(members)
        if len(members) < 2 or not all(isinstance(m, nn.Module) for m in members):
            raise ValueError(
                "an ensemble needs at least two torch.nn.Module members (e.g. the same network "
                f"trained from different seeds), not {len(members)}"
            )
        self.members, self.quantity = nn.ModuleList(members), check_quantity(quantity)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = member_probabilities(list(self.members), x)
        return mean_log_probabilities(p).to(x.dtype)


class UncertaintyEngine(Engine):
    """The ensemble's quantity per point (an :class:`Engine` for the tiles: ``maximal`` gives
    it in λ₁'s place, depth 1); no stretching directions, no lower exponents."""

    def __init__(self, ensemble: ModelEnsemble):  # no Engine.__init__: nothing to differentiate
        self.model, self.ensemble = ensemble, ensemble
        self.endpoint = dataclasses.replace(
            resolve(ensemble.members[0], "logits"),
            description=f"{LABELS[ensemble.quantity]} of {len(ensemble.members)} members",
        )

    @property
    def depth(self) -> float:
        return 1.0

    def batch_points(self, dtype: torch.dtype) -> int:
        return BATCH

    def maximal(
        self, x: torch.Tensor, *, direction: bool = False, output: bool = False, lower: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """The quantity per point, and (``output``) the ensemble's log mean probabilities."""
        ensemble = self.ensemble
        if direction or lower:
            raise ValueError(
                "an uncertainty view shows the ensemble's "
                f"{LABELS[ensemble.quantity]}: no stretching directions or lower exponents"
            )
        values, outs = [], []
        for start in range(0, len(x), BATCH):
            with torch.no_grad():
                p = member_probabilities(list(ensemble.members), x[start : start + BATCH])
            values.append(quantity_of(p, ensemble.quantity))
            outs.append(mean_log_probabilities(p))
        value = torch.cat(values).to(x.dtype) if values else x.new_empty(0)
        out = (torch.cat(outs) if outs else x.new_empty(0, 0)) if output else None
        return value, None, out

    def spectrum(self, x: torch.Tensor, k: int) -> torch.Tensor:
        raise NotImplementedError("an ensemble's uncertainty has no spectrum")


class EnsembleEngines(Engines):
    """An :class:`UncertaintyEngine` on each version of a :class:`ModelEnsemble`."""

    def make(self, snapshot: nn.Module) -> Engine:
        assert isinstance(snapshot, ModelEnsemble)  # EnsembleScheduler checks its model
        return UncertaintyEngine(snapshot)


class EnsembleScheduler(DerivedScheduler):
    """A :class:`TileScheduler` of an ensemble's uncertainty (same parameters, no layer or
    depth)."""

    model_type, engines_type, what = ModelEnsemble, EnsembleEngines, "an ensemble's uncertainty"
