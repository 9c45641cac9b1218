"""The scheduler's jobs, and the previews of the latest request that reorder its queue.

A :class:`Job` is one tile to compute, ordered in the queue by its ``priority`` (phase, order).
:class:`Previews` collects the latest request's preview tiles as they arrive; once all are in,
the queued tiles of the view are reordered by them (:func:`~.previews.variation_order`). A zoom
or pan of a slow model whose stand-ins the receiver holds has no preview: its view's tiles are
reordered at once by the cached tiles one level coarser (:meth:`Previews.from_held`).
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..maths.exponents import Engine
from ..maths.planes import Plane
from .planning import VIEW
from .previews import variation_order
from .pyramid import Pyramid, TileKey


class Cancel:
    """A job's cancellation: a flag that also calls hooks when set (an executor elsewhere
    cancels its remote task); a hook added after it is set is called at once. Lighter than a
    ``threading.Event`` (nothing waits on it): a view plans a hundred jobs per request."""

    _lock = threading.Lock()  # shared: hooks are rare and quick

    def __init__(self) -> None:
        self._set = False
        self._hooks: list[Callable[[], None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def when_set(self, hook: Callable[[], None]) -> None:
        with Cancel._lock:
            if not self._set:
                self._hooks = [*(self._hooks or []), hook]
                return
        hook()

    def set(self) -> None:
        with Cancel._lock:
            self._set = True
            hooks, self._hooks = self._hooks or [], None
        for hook in hooks:
            hook()


@dataclass(order=True)
class Job:
    """A tile to compute: ``tile_px`` pixels per side (fewer than the pyramid's for a preview)."""

    priority: tuple
    key: TileKey = field(compare=False)
    generation: int = field(compare=False)
    version: int = field(compare=False)
    dtype: torch.dtype = field(compare=False)
    directions: bool = field(compare=False, default=False)
    tile_px: int = field(compare=False, default=0)
    cancel: Cancel = field(compare=False, default_factory=Cancel)
    lower: bool = field(compare=False, default=False)  # λ₂ and λ_min too


# compute_tile's arguments but the last (should_stop)
TileArguments = tuple[
    Engine, Plane, TileKey, tuple[float, float, float, float], int, torch.dtype, bool, int, int,
    bool,
]  # fmt: skip


def pending_phase(running: list[Job], queue: list[Job], generation: int) -> int | None:
    """The earliest phase among the running jobs of ``generation`` and the queued ones (a heap:
    its first is the earliest); None when there is none."""
    phases = [
        j.priority[0] for j in running if j.generation == generation and not j.cancel.is_set()
    ]
    if queue:
        phases.append(queue[0].priority[0])
    return min(phases, default=None)


class Previews:
    """The preview tiles of the latest request: those awaited, and the values of those in."""

    def __init__(self) -> None:
        self.left: set[TileKey] = set()
        self.values: dict[TileKey, np.ndarray] = {}

    def start(self, keys: set[TileKey]) -> None:
        """A new request awaits previews of ``keys`` (none: nothing to reorder)."""
        self.left, self.values = set(keys), {}

    def arrived(
        self, key: TileKey, values: np.ndarray | None, queue: list[Job], pyramid: Pyramid
    ) -> None:
        """A preview of the latest request is in (``values`` None: it failed); the last one
        awaited reorders the view's tiles in ``queue`` (:meth:`reorder`)."""
        if key not in self.left:
            return
        self.left.discard(key)
        if values is not None:
            self.values[key] = values
        if not self.left:
            self.reorder(queue, pyramid)

    def from_held(
        self,
        queue: list[Job],
        pyramid: Pyramid,
        extent: Sequence[float],
        held: Callable[[TileKey, torch.dtype], np.ndarray | None],
        slow: bool,
    ) -> None:
        """A request with no preview (the receiver holds stand-ins): for a ``slow`` model, reorder
        the view's queued tiles by the λ₁ of the tiles one level coarser over ``extent`` that are
        cached (``held(key, dtype)``), as a preview would; a fast model keeps centre first."""
        view = [job for job in queue if job.priority[0] == VIEW]
        if not slow or not view:
            return
        z, dtype = view[0].key[0] - 1, view[0].dtype
        found = {key: held(key, dtype) for key in pyramid.covering(extent, z)}
        self.values = {key: values for key, values in found.items() if values is not None}
        self.reorder(queue, pyramid)

    def reorder(self, queue: list[Job], pyramid: Pyramid) -> None:
        """Reorder the queued tiles of the view (a heap, changed in place) by the previews:
        where they vary most first, ties centre first as planned."""
        view = sorted(job for job in queue if job.priority[0] == VIEW)
        if not view or not self.values:
            return
        order = variation_order(pyramid, [job.key for job in view], self.values)
        rank = {key: n for n, key in enumerate(order)}
        for job in view:
            job.priority = (VIEW, rank[job.key])
        heapq.heapify(queue)
