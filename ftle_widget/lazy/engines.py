"""Engines per model version: each made on its version's snapshot and first run where the view
will be (its centre, else a corner), so a model that fails elsewhere still opens."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ..maths.endpoints import mark_warned
from ..maths.exponents import Engine
from ..maths.fields import check_extent
from ..maths.modules import model_float_dtype
from ..maths.planes import Plane
from .compute import measure_tile_px
from .versions import ModelVersions

KEEP = 3  # engines of this many recent versions are held


class Engines:
    """The :class:`~ftle_widget.maths.exponents.Engine` of each model version, made on demand.

    ``home`` is the extent the first view shows (default [−1, 1]²): each engine is first run at
    its centre, else at the first corner where the model works; tile sizes are measured there.
    """

    def __init__(
        self,
        versions: ModelVersions,
        plane: Plane,
        *,
        layer: int | str | None,
        depth: float | None,
        home: Sequence[float] | None = None,
    ):
        self.versions, self.plane, self.layer, self.depth = versions, plane, layer, depth
        self.home = check_extent(home) if home is not None else (-1.0, 1.0, -1.0, 1.0)
        u0, u1, v0, v1 = self.home
        self._probes = [(0.5 * (u0 + u1), 0.5 * (v0 + v1)), (u0, v0), (u1, v0), (u0, v1), (u1, v1)]
        self._lock = threading.Lock()
        self._held: OrderedDict[int, Engine] = OrderedDict()

    def get(self, version: int) -> Engine:
        """The engine of a model version (made, and run on one point, outside the lock)."""
        with self._lock:
            engine = self._held.get(version)
        if engine is not None:
            return engine
        snapshot = self.versions.snapshot(version)
        mark_warned(snapshot, self.versions.model)  # one warning for the model and its snapshots
        layer = self.versions.layer_of(version)  # a hidden layer read instead (read_at)
        engine = self.make(snapshot) if layer is None else Engine(snapshot, layer=layer)
        dtype = model_float_dtype(snapshot) or torch.float32
        for k, point in enumerate(self._probes):  # the first point where the model works
            try:
                engine.maximal(self.plane.to_input(np.array([point])).to(dtype))
                self._probes = [point, *self._probes[:k], *self._probes[k + 1 :]]
                break
            except (RuntimeError, ValueError):  # it fails there: another point of the view
                if k == len(self._probes) - 1:
                    raise
        with self._lock:
            engine = self._held.setdefault(version, engine)
            while len(self._held) > KEEP:
                self._held.popitem(last=False)
        return engine

    def make(self, snapshot: nn.Module) -> Engine:
        """A new engine on a version's snapshot (not run yet)."""
        return Engine(snapshot, layer=self.layer, depth=self.depth)

    def endpoint(self, version: int) -> tuple[int | str | None, float | None]:
        """(layer, depth) an engine of ``version`` reads: the scheduler's, or a hidden layer
        (:meth:`~.versions.ModelVersions.read_at`) at its own depth."""
        layer = self.versions.layer_of(version)
        return (self.layer, self.depth) if layer is None else (layer, None)

    @property
    def probe(self) -> tuple[float, float]:
        """The plane point where the model first worked (a new engine is first run there)."""
        return self._probes[0]

    def clear(self) -> None:
        with self._lock:
            self._held.clear()

    def measure_tile_px(self, engine: Engine) -> tuple[int, float | None]:
        """:func:`~ftle_widget.lazy.compute.measure_tile_px` near the point where the model
        first worked: (tile side, pixels per second); (64, None) where the model fails there
        too (the view opens anyway: tiles report their own errors)."""
        dtype = model_float_dtype(self.versions.model) or torch.float32
        (u, v), (u0, u1, _, _) = self._probes[0], self.home
        half = 0.01 * (u1 - u0)
        try:
            return measure_tile_px(
                engine, self.plane, dtype, (u - half, u + half, v - half, v + half)
            )
        except Exception:  # the model raises near there too: the safe size
            return 64, None
