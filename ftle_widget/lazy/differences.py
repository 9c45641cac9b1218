"""The difference of two fields on one plane, λ₁ᵃ − λ₁ᵇ, as tiles: two models (or two
checkpoints, two layers, two endpoints of one model) held as one :class:`ModelPair`, whose
snapshots a :class:`DifferenceScheduler` evaluates through a :class:`DifferenceEngine`.

Each tile is both fields of its square computed by each side's own :class:`Engine`, in the same
batches, and subtracted: value for value ``ftle_field(a) − ftle_field(b)``, no interpolation. The
class index and the stretching direction are side a's (the decision boundary drawn is a's).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import torch
from torch import nn

from ..maths.exponents import Engine
from ..maths.planes import Plane
from .derived import DerivedScheduler
from .engines import Engines

LABEL = "λ₁ᵃ − λ₁ᵇ"


class ModelPair(nn.Module):
    """Two models read at their own endpoints (``layers``, ``depths``: as for
    :func:`ftle_widget.maximal_ftle`), held as one module so that a snapshot freezes both weights
    at once and an in-place change of either is a new version. Its output is ``a``'s: the class
    and the decision boundary shown are a's. ``a`` and ``b`` may be one module (two layers)."""

    def __init__(
        self,
        a: nn.Module,
        b: nn.Module,
        layers: Sequence[int | str | None] = (None, None),
        depths: Sequence[float | None] = (None, None),
        tile_px: int = 64,
    ):
        super().__init__()
        for name, model in (("a", a), ("b", b)):
            if not isinstance(model, nn.Module):
                raise TypeError(f"model {name} must be a torch.nn.Module, not {type(model)}")
        self.a, self.b = a, b
        self.layers, self.depths, self.tile_px = tuple(layers), tuple(depths), tile_px

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a(x)


class DifferenceEngine(Engine):
    """λ₁ of engine ``a`` minus λ₁ of engine ``b`` at the same points (an :class:`Engine` for
    :func:`~ftle_widget.maths.fields.compute_field`: ``maximal`` only). Its depth is 1: the
    difference is of λ₁, not of log Λ₁."""

    def __init__(self, a: Engine, b: Engine):  # no Engine.__init__: a and b are prepared
        self.a, self.b = a, b
        self.model = a.model
        label = f"{LABEL}: {a.endpoint.description} − {b.endpoint.description}"
        self.endpoint = dataclasses.replace(a.endpoint, description=label)

    @property
    def depth(self) -> float:
        return 1.0

    def batch_points(self, dtype: torch.dtype) -> int:
        """A common multiple of both sides' batches (capped): chunks of it are batched alike on
        both sides, as for each side's own field."""
        return min(math.lcm(self.a.batch_points(dtype), self.b.batch_points(dtype)), 2**16)

    def maximal(
        self, x: torch.Tensor, *, direction: bool = False, output: bool = False, lower: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """λ₁ᵃ − λ₁ᵇ per point; v₁ and the output are a's. No ``lower`` exponents: a difference
        of λ₂ or λ_min is asked of each side."""
        if lower:
            raise ValueError("a difference view shows λ₁ᵃ − λ₁ᵇ only: quantity must be 'lambda'")
        lam_a, vec, out = self.a.maximal(x, direction=direction, output=output)
        lam_b = self.b.maximal(x)[0]
        return lam_a - lam_b.to(lam_a), vec, out

    def spectrum(self, x: torch.Tensor, k: int) -> torch.Tensor:
        raise NotImplementedError("a difference of two fields has no spectrum: ask each side")


class PairEngines(Engines):
    """The engines of a :class:`ModelPair`'s versions: a :class:`DifferenceEngine` on each."""

    def make(self, snapshot: nn.Module) -> Engine:
        assert isinstance(snapshot, ModelPair)  # DifferenceScheduler checks its model
        (la, lb), (da, db) = snapshot.layers, snapshot.depths
        return DifferenceEngine(
            Engine(snapshot.a, layer=la, depth=da), Engine(snapshot.b, layer=lb, depth=db)
        )


class DifferenceScheduler(DerivedScheduler):
    """A :class:`TileScheduler` of λ₁ᵃ − λ₁ᵇ over a :class:`ModelPair` (same parameters; the
    layer and depth are the pair's, the tile size its ``tile_px``)."""

    model_type, engines_type, what = ModelPair, PairEngines, "the difference of two fields"
    remedy = "give the layers and depths to the ModelPair"

    def __init__(self, model: nn.Module, plane: Plane, **options):
        if isinstance(model, ModelPair):  # the plain engine's speed would mislead "auto"
            options["tile_px"] = model.tile_px
        super().__init__(model, plane, **options)
