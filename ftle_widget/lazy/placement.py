"""What an executor that places tile jobs itself (a cluster, devices) offers the scheduler."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future

from ..maths.exponents import Engine
from .engines import Engines
from .jobs import Job, TileArguments

EXTRA = "pip install 'ftle_widget[distributed]'"


class TileExecutor(Executor):
    """An executor that runs the scheduler's tile jobs itself (see :meth:`submit_tile`)."""

    def slots(self) -> int:
        """How many tiles it computes at once (the scheduler keeps this many in flight)."""
        raise NotImplementedError

    def submit_tile(
        self, job: Job, engines: Engines, arguments: Callable[[Engine], TileArguments]
    ) -> Future:
        """Compute ``job``'s tile: a future of the :class:`~.tiles.Tile` (``None`` when the job
        was cancelled). ``engines`` gives the model's version snapshots and the scheduler's
        engine of each; ``arguments(engine)`` are :func:`~.compute.compute_tile`'s for an
        engine (its chunk is sized by that engine's batch). Returns at once: nothing that can
        block runs in the caller's thread (the kernel's, answering a view message)."""
        raise NotImplementedError
