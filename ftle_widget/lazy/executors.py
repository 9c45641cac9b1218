"""Where tiles are computed: the scheduler's executor from what the caller passed.

* nothing: one worker thread of this process (the scheduler's engines, cancellation, speed);
* any ``concurrent.futures.Executor``: :func:`~.compute.compute_tile` with picklable arguments,
  as many tiles in flight as its ``_max_workers`` (else one);
* a :class:`TileExecutor`, which places tile jobs itself and says how many it can run at once:
  a ``distributed.Client`` (wrapped in :class:`~.cluster.ClusterExecutor`: the weights go to the
  cluster once per model version) or a :class:`~.devices.DevicePool` (a thread per device).

The functions here never import ``distributed``: a client is recognised by its class's module.
"""

from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor

from .placement import EXTRA, TileExecutor


def is_client(executor: object) -> bool:
    """Whether ``executor`` is a ``distributed.Client`` (or a subclass), without importing it."""
    return any(
        cls.__name__ == "Client" and cls.__module__.split(".")[0] == "distributed"
        for cls in type(executor).__mro__
    )


def tile_executor(executor: object) -> tuple[Executor, bool]:
    """The scheduler's executor for what was passed, and whether the scheduler owns it (shuts it
    down when closed): a new worker thread, a client wrapped, else the caller's own."""
    if executor is None:
        return ThreadPoolExecutor(1, thread_name_prefix="ftle-tiles"), True
    if type(executor).__module__ == "distributed.cfexecutor":  # Client.get_executor()
        executor = getattr(executor, "_client", executor)
    if is_client(executor):
        from .cluster import ClusterExecutor

        return ClusterExecutor(executor), True
    if isinstance(executor, Executor):
        return executor, False
    raise TypeError(
        "executor must be a concurrent.futures.Executor, a distributed.Client (needs "
        f"{EXTRA}) or an ftle_widget.DevicePool, not {type(executor).__name__}"
    )


def slots(executor: Executor) -> int:
    """How many tiles ``executor`` computes at once."""
    if isinstance(executor, TileExecutor):
        return executor.slots()
    return int(getattr(executor, "_max_workers", 1))
