"""Tiles on a dask cluster: a ``distributed.Client`` as the scheduler's executor.

* as many tiles in flight as the cluster has threads (``client.nthreads()``, read again every
  :data:`REFRESH` seconds while there is work: workers that join or leave count), and
  :data:`WAITING` more per thread, queued on the workers: a thread that finishes a tile starts
  the next at once instead of waiting for its result's round trip to the kernel and back;
* the engine of a model version (its weights) goes to every worker once, ``client.scatter(...,
  broadcast=True, hash=False)``; a task carries the tile's key, the plane and the version's
  future, submitted with ``pure=False`` (nothing is hashed);
* a cancelled job (a newer view no longer wants its tile) cancels its remote task
  (``client.cancel``); a task that is already running stops before its next chunk of pixels
  (:func:`remote_tile` watches its own state on the worker);
* a worker that dies mid-tile: the cluster computes the tile elsewhere (dask reschedules it), or
  the tile is reported as an error with its key; results come back in completion order.

Everything that talks to the cluster runs in one thread of its own ("ftle-cluster"): the caller
(the kernel's thread, answering a view message) only puts jobs in its queue. Results are fetched
in dask's callback thread, which then hands them to the scheduler.

The worker side needs only :mod:`ftle_widget.maths` and :mod:`ftle_widget.lazy`.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import torch

from ..maths.exponents import Engine
from ..maths.planes import Plane
from .compute import compute_tile
from .engines import Engines
from .jobs import Job, TileArguments
from .placement import EXTRA, TileExecutor
from .pyramid import TileKey
from .tiles import Tile

REFRESH = 0.5  # seconds between two readings of the cluster's threads while there is work
WAITING = 1  # tiles queued on the workers per thread, beyond those running
KEEP = 3  # scattered engines of this many recent model versions are held


def require_distributed() -> Any:
    """The ``distributed`` package, or an ImportError naming the extra that installs it."""
    try:
        import distributed
    except ImportError as missing:
        raise ImportError(
            f"computing tiles on a dask cluster needs the distributed package: {EXTRA}"
        ) from missing
    return distributed


class Unpicklable(TypeError):
    """The model cannot be sent to the cluster's workers."""


def remote_tile(
    engine: Engine,
    plane: Plane,
    key: TileKey,
    extent: tuple[float, float, float, float],
    tile_px: int,
    dtype: torch.dtype,
    directions: bool,
    version: int,
    chunk: int,
    lower: bool = False,
) -> Tile | None:
    """:func:`~.compute.compute_tile` on a dask worker: it stops before its next chunk once its
    task is cancelled (or released), and the tile names the worker that computed it."""
    from distributed import get_worker
    from distributed.worker import thread_state

    worker = get_worker()
    task_key = thread_state.key  # set by the worker for the task it runs

    def stale() -> bool:
        task = worker.state.tasks.get(task_key)
        return task is None or task.state not in ("executing", "long-running")

    tile = compute_tile(
        engine, plane, key, extent, tile_px, dtype, directions, version, chunk, lower, stale
    )
    if tile is not None:
        tile.computed_by = str(worker.address)
    return tile


class ClusterExecutor(TileExecutor):
    """Computes the scheduler's tiles on the workers of a ``distributed.Client`` (see the module
    docstring). Shutting it down cancels its tasks and leaves the client open."""

    def __init__(self, client: Any):
        require_distributed()
        self.client = client
        self._threads = max(1, sum(client.nthreads().values()))
        self._read = time.monotonic()
        self._work: queue.SimpleQueue = queue.SimpleQueue()
        self._engines: OrderedDict[tuple[int, int], tuple[Engines, Any]] = OrderedDict()
        self._remote: dict[str, Any] = {}  # tasks in flight, by key
        self.cancelled: deque[str] = deque(maxlen=4096)  # keys of the last tasks cancelled
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="ftle-cluster", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ the caller's side
    def slots(self) -> int:
        return self._threads * (1 + WAITING)

    def submit_tile(
        self, job: Job, engines: Engines, arguments: Callable[[Engine], TileArguments]
    ) -> Future:
        future: Future = Future()
        self._work.put(("tile", job, engines, arguments, future))
        return future

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        """Any function on the cluster (``pure=False``), as a ``concurrent.futures`` future."""
        future: Future = Future()
        self._work.put(("call", fn, args, kwargs, future))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._closed = True
        self._work.put(None)
        if wait:
            self._thread.join()

    # ------------------------------------------------------------------ the cluster's side
    def _run(self) -> None:
        items: list = []
        while None not in items and not self._closed:
            try:
                items = [self._work.get(timeout=REFRESH)]
            except queue.Empty:
                items = []
            while not self._work.empty():  # a burst (a storm of pans) in one go
                items.append(self._work.get())
            self._step([item for item in items if item is not None])
        self._stop()

    def _step(self, items: list) -> None:
        """Cancel, then submit; a failure settles its own item's future (a tile error)."""
        stale = [item[1] for item in items if item[0] == "cancel"]
        try:
            if (items or self._remote) and time.monotonic() - self._read > REFRESH:
                self._threads = max(1, sum(self.client.nthreads().values()))
                self._read = time.monotonic()
            if stale:  # first: frees the workers' threads for the current view's tiles
                self.client.cancel(stale)  # (an RPC: it can overtake the task's submission)
        except Exception:  # the cluster is busy or closing: read again, cancelled below
            pass
        for task in stale:  # so released too, on the stream that submitted it, after it
            task.release()
        self.cancelled.extend(task.key for task in stale)
        for item in items:
            if item[0] == "tile":
                self._send(*item[1:])
            elif item[0] == "call":
                _, fn, args, kwargs, future = item
                try:
                    self._watch(self.client.submit(fn, *args, pure=False, **kwargs), future)
                except Exception as error:
                    _settle(future, error=error)

    def _send(
        self,
        job: Job,
        engines: Engines,
        arguments: Callable[[Engine], TileArguments],
        future: Future,
    ) -> None:
        if job.cancel.is_set() or self._closed:
            _settle(future, None)
            return
        try:
            engine, remote = self._engine(engines, job.version)
            _, *rest = arguments(engine)
        except Exception as error:  # unpicklable, the version no longer held: a tile error
            _settle(future, error=error)
            return
        key = f"ftle-tile-{uuid.uuid4().hex}"
        try:
            task = self.client.submit(remote_tile, remote, *rest, key=key, pure=False)
        except Exception as error:  # the client is closing
            _settle(future, error=error)
            return
        self._watch(task, future)
        job.cancel.when_set(lambda: self._work.put(("cancel", task)))

    def _engine(self, engines: Engines, version: int) -> tuple[Engine, Any]:
        """The scheduler's engine of ``version`` and its future on the cluster (scattered to
        every worker the first time)."""
        held = self._engines.get((id(engines), version))
        engine = engines.get(version)
        if held is not None and held[0] is engines:
            return engine, held[1]
        try:
            remote = self.client.scatter(engine, broadcast=True, hash=False)
        except Exception as error:
            raise Unpicklable(
                f"the model cannot be sent to the cluster's workers: {type(error).__name__}: "
                f"{error}. Tiles computed elsewhere need a model that pickles: keep locks, open "
                "files, threads and the like out of its attributes (or make them in "
                "__setstate__), or compute in this process (no executor, or a DevicePool)"
            ) from error
        self._engines[(id(engines), version)] = (engines, remote)
        while len(self._engines) > KEEP:
            self._engines.popitem(last=False)
        return engine, remote

    def _watch(self, task: Any, future: Future) -> None:
        with self._lock:
            self._remote[task.key] = task
        task.add_done_callback(lambda done: self._landed(done, future))

    def _landed(self, task: Any, future: Future) -> None:
        """In dask's callback thread: the task's result (fetched now) to ``future``."""
        with self._lock:
            self._remote.pop(task.key, None)
        if task.status == "cancelled":
            _settle(future, None)
            return
        try:
            _settle(future, task.result())
        except Exception as error:
            _settle(future, error=error)

    def _stop(self) -> None:
        while not self._work.empty():  # submitted after the end: never computed
            item = self._work.get()
            if item is not None and item[0] in ("tile", "call"):
                _settle(item[-1], None)
        with self._lock:
            tasks = list(self._remote.values())
        if tasks and self.client.status == "running":
            try:
                self.client.cancel(tasks)
            except Exception:
                pass
        self._engines.clear()


def _settle(future: Future, result: object = None, error: BaseException | None = None) -> None:
    """Give ``future`` its result (or error) unless it is done already."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
