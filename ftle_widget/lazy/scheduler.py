"""The scheduler: a queue of tile jobs, generations (cancellation) and executors.

A :class:`TileScheduler` turns view requests into tiles of a
:class:`~ftle_widget.lazy.pyramid.Pyramid` (the order is planned by :mod:`.planning`):

* it delivers cached tiles at once and computes the others in the planned order (coarse, the
  view centre first, a margin); views finer than float64 resolves are refused; for a slow model
  the coarse pass is a preview of few pixels per tile and the view's tiles follow where it (or,
  zooming, the held coarser tiles) varies most (:mod:`.previews`, :mod:`.jobs`);
* a request carries a generation number: a newer one drops the queued jobs of older generations
  (jobs for tiles the new view still needs are kept and retagged) and a running job that is no
  longer wanted stops before its next chunk of pixels (chunks are sized to ~80 ms of work);
* compute runs on an executor (:mod:`.executors`: a worker thread, a dask cluster, devices),
  never in the caller's thread: :meth:`TileScheduler.request` returns at once;
* every job computes on a snapshot of the model taken when it was scheduled: a tile never mixes
  two versions of the weights (in-place changes are seen by the tensors' version counters; a
  training thread holds :attr:`TileScheduler.model_lock` while it changes the weights); deep
  zooms, below the resolution of float32 inputs, are computed in float64.

Callbacks run in the worker's thread (for cached tiles, the caller's): ``on_tile(tile)``,
``on_progress(done, total, generation)`` (:meth:`TileScheduler.pending_phase`: the phase),
``on_error(key, message, generation)``: a failing tile is reported, never stops the worker.
"""

from __future__ import annotations

import copy
import heapq
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from functools import partial

import numpy as np
import torch
from torch import nn

from ..maths.endpoints import resolve
from ..maths.exponents import Engine
from ..maths.fields import check_plane
from ..maths.modules import model_float_dtype
from ..maths.planes import Plane
from .compute import chunk_pixels, compute_tile, speed_for
from .engines import Engines
from .executors import TileExecutor, slots, tile_executor
from .jobs import Job, Previews, TileArguments, pending_phase
from .planning import PREVIEW, PlannedTile, check_resolution, deep_zoom_dtype, plan_view
from .previews import PREVIEW_SECONDS, is_slow
from .pyramid import Pyramid, TileKey, View
from .tiles import Tile, TileCache
from .versions import ModelVersions

MEASURED_PX = 256  # tiles of at least this many pixels update the measured speed


class TileScheduler:
    """Computes the tiles a view needs, coarse before fine, latest view first.

    Parameters
    ----------
    model : the network (never modified; jobs run on snapshots of its weights).
    plane : the plane of input space the tiles lie in.
    layer, depth : the endpoint and divisor, as in :func:`ftle_widget.maximal_ftle`.
    directions, lower : also compute the stretching direction on the plane, and λ₂ and λ_min
        (switchable later with :meth:`TileScheduler.set_channels`).
    tile_px : pixels per tile side, or ``"auto"``: the largest of 64, 128 and 256 whose tile takes
        at most ~30 ms, from the model's measured speed and per-call overhead.
    base_side : plane units per tile side at level 0; default: the first view's width.
    executor : where tiles are computed; default: one worker thread. A ``distributed.Client``
        (:mod:`.cluster`) or a :class:`~.devices.DevicePool`; any other ``Executor`` gets
        :func:`compute_tile` with picklable arguments (a running tile is not interrupted).
    cache : a :class:`TileCache` (default: a new one of 256 MiB).
    device : compute on snapshots on this device (default: the model's).
    coarse_levels, margin : how much coarser the first pass is (2: ¼ resolution) and how many
        rings of tiles around the view are computed last.
    preview_seconds : for a slow model, whose coarse pass would take longer than this at its
        measured speed, the coarse pass is a preview of 4 to 32 pixels per tile side taking about
        this long (:mod:`.previews`); ``None``: never.
    ridges_first : once a preview is in, compute the view's tiles where it varies most first
        (ridges before flat regions), else centre first.
    chunk_px : pixels between cancellation checks (default: ~80 ms of work, measured).
    keep_versions : snapshots of this many recent model versions are held.
    home : the extent the first view will show (default [−1, 1]²): the model is first run
        there (its centre, else a corner) and tile sizes are measured there.
    """

    def __init__(
        self,
        model: nn.Module,
        plane: Plane,
        *,
        layer: int | str | None = None,
        depth: float | None = None,
        directions: bool = False,
        lower: bool = False,
        tile_px: int | str = "auto",
        base_side: float | None = None,
        executor: Executor | None = None,
        cache: TileCache | None = None,
        device: torch.device | str | None = None,
        coarse_levels: int = 2,
        margin: int = 1,
        preview_seconds: float | None = PREVIEW_SECONDS,
        ridges_first: bool = True,
        chunk_px: int | None = None,
        keep_versions: int = 3,
        home: Sequence[float] | None = None,
        on_tile: Callable[[Tile], None] | None = None,
        on_progress: Callable[[int, int, int], None] | None = None,
        on_error: Callable[[TileKey, str, int], None] | None = None,
    ):
        if not isinstance(plane, Plane):
            raise TypeError(f"plane must be a Plane, not {type(plane).__name__}")
        check_plane(model, plane)
        resolve(model, layer)  # errors and the once-per-model warning, on the user's model
        self.versions = ModelVersions(model, device, keep=keep_versions)
        self.plane = plane
        self.layer, self.depth, self.directions, self.lower = layer, depth, directions, lower
        self.coarse_levels, self.margin = coarse_levels, margin
        self.preview_seconds, self.ridges_first = preview_seconds, ridges_first
        self._own_cache = cache is None
        self.cache = cache if cache is not None else TileCache()
        self.on_tile, self.on_progress, self.on_error = on_tile, on_progress, on_error
        self.executor, self._own_executor = tile_executor(executor)
        self._local, self._token = isinstance(self.executor, ThreadPoolExecutor), uuid.uuid4().hex
        self._what: tuple = (repr(layer), depth)  # what a tile holds, for cache keys
        self._lock = threading.RLock()
        self._queue: list[Job] = []
        self._running: list[Job] = []
        self._generation = -1
        self._done = self._total = self._delivering = 0  # tiles being delivered (wait())
        self._previews = Previews()  # the latest request's, once in, reorder its view's tiles
        self._closed = False
        self._rate: dict[torch.dtype, float] = {}
        self._chunk_px, self._base_side = chunk_px, base_side
        self.pyramid: Pyramid | None = None
        self.engines = Engines(self.versions, plane, layer=layer, depth=depth, home=home)
        engine = self.engines.get(self.versions.current())  # checks the model on the plane now
        if isinstance(tile_px, str):
            if tile_px != "auto":
                raise ValueError(f"tile_px must be an int or 'auto', not {tile_px!r}")
            dtype = model_float_dtype(self.versions.model) or torch.float32
            tile_px, rate = self.engines.measure_tile_px(engine)
            if rate is not None:
                self._rate[dtype] = rate
        if not isinstance(tile_px, int) or not 8 <= tile_px <= 1024:
            raise ValueError(f"tile_px must be an int in [8, 1024], not {tile_px!r}")
        self.tile_px = tile_px
        self._what = (*self._what, tile_px)

    # ------------------------------------------------------------------ public
    @property
    def model_lock(self) -> threading.RLock:
        """Hold this while changing the model's weights in another thread."""
        return self.versions.lock

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def model_version(self) -> int:
        return self.versions.current()

    def request(self, view: View, generation: int, *, held: bool = True) -> None:
        """Ask for the tiles of ``view``; returns at once. Older generations are dropped.

        ``held``: the receiver holds the tiles delivered before (a view being panned and
        zoomed), so cached tiles of a neighbouring level stand in and no coarse pass is needed;
        ``False`` for a receiver that starts empty.
        """
        deliver: list[Tile] = []
        with self._lock:
            if self._closed:
                raise RuntimeError("the scheduler is closed")
            if generation < self._generation:
                return  # an older request that arrived late
            check_resolution(self.plane, view)  # refused before anything changes
            pyramid = self.pyramid
            if pyramid is None:
                side = self._base_side or (view.extent[1] - view.extent[0])
                pyramid = Pyramid(float(side), self.tile_px)
            version = self.versions.current()
            plan = self._plan(view, held, pyramid, version)  # may raise: nothing changed yet
            self.pyramid = pyramid
            self._generation = generation
            wanted = {(key, dtype, px or self.tile_px) for _, key, dtype, px in plan}
            self._queue = []
            for job in self._running:
                if (
                    (job.key, job.dtype, job.tile_px) in wanted
                    and job.version == version
                    and job.directions == self.directions
                    and (job.lower or not self.lower)
                ):
                    job.generation = generation
                else:
                    job.cancel.set()
            running = {(j.key, j.dtype, j.tile_px) for j in self._running if not j.cancel.is_set()}
            self._total, self._done = len(plan), 0
            previews = {key for phase, key, _, _ in plan if phase == PREVIEW}
            self._previews.start(previews if self.ridges_first else set())
            for order, (phase, key, dtype, px) in enumerate(plan):
                px = px or self.tile_px
                cached = self._cache_key(version, key, dtype, self.directions, px)
                if (tile := self.cache.get(cached, self.lower)) is not None:
                    self._done += 1
                    deliver.append(tile)
                elif (key, dtype, px) not in running:
                    what = (version, dtype, self.directions, px)
                    job = Job((phase, order), key, generation, *what, lower=self.lower)
                    heapq.heappush(self._queue, job)
            for tile in deliver:  # cached previews: the last one in reorders the view's tiles
                self._previews.arrived(tile.key, tile.ftle, self._queue, pyramid)
            if self.ridges_first and not previews:  # held stand-ins: reorder by the cached ones
                slow = is_slow(self._speed(), self._total, self.tile_px)
                lookup = partial(self._held, version)
                self._previews.from_held(self._queue, pyramid, view.extent, lookup, slow)
            done, total = self._done, self._total
            self._pump()
        for tile in deliver:
            self._emit_tile(tile, generation, version)
        self._emit_progress(done, total, generation)

    def pending_phase(self) -> int | None:
        """The phase (:data:`~.planning.PREVIEW`, ``COARSE``, ``VIEW`` or ``MARGIN``) of the latest
        request's work left, the earliest among its queued and running tiles; None when none is
        left."""
        with self._lock:
            return pending_phase(self._running, self._queue, self._generation)

    def set_channels(self, directions: bool, lower: bool) -> bool:
        """Compute stretching directions, and λ₂ and λ_min, from now on (or stop); the next
        request uses it. Whether the tiles delivered lack what is asked for now (directions
        changed, or lower turned on): then the caller asks again."""
        with self._lock:
            again = bool(directions) != self.directions or (lower and not self.lower)
            self.directions, self.lower = bool(directions), bool(lower)
            return again

    def engine(self, version: int | None = None) -> Engine:
        """The engine computing tiles for a model version (default: the current one)."""
        return self.engines.get(self.versions.current() if version is None else version)

    def update_model(
        self, model_or_state: nn.Module | Mapping[str, torch.Tensor], tag: object = None
    ) -> int:
        """Replace the model or its weights: a new version (cached tiles of others stay).
        Weights given the same ``tag`` before are served from the cache."""
        return self.versions.update(model_or_state, tag)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no job is queued, running or being delivered (for scripts and tests)."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                if not self._queue and not self._running and not self._delivering:
                    return True
            if end is not None and time.monotonic() > end:
                return False
            time.sleep(0.002)

    def close(self) -> None:
        """Stop all work and free its own cache and engines; the scheduler takes no more
        requests (the weight snapshots stay readable until it is dropped)."""
        with self._lock:
            self._closed = True
            self._queue = []
            for job in self._running:
                job.cancel.set()
            self.engines.clear()
            if self._own_cache:
                self.cache.clear()
        if self._own_executor:
            self.executor.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ planning
    def _plan(self, view: View, held: bool, pyramid: Pyramid, version: int) -> list[PlannedTile]:
        model_dtype = model_float_dtype(self.versions.model)

        def dtype_for(z: int) -> torch.dtype:
            pixel = pyramid.side(z) / self.tile_px
            return deep_zoom_dtype(self.plane, pixel, view.centre, model_dtype)

        def is_cached(key: TileKey, dtype: torch.dtype) -> bool:
            cached = self._cache_key(version, key, dtype, self.directions, self.tile_px)
            return self.cache.holds(cached, self.lower)

        return plan_view(
            pyramid,
            view,
            dtype_for=dtype_for,
            is_cached=is_cached,
            coarse_levels=self.coarse_levels,
            margin=self.margin,
            held=held,
            rate=self._speed() if self.preview_seconds else None,
            preview_seconds=self.preview_seconds or 0.0,
        )

    def _held(self, version: int, key: TileKey, dtype: torch.dtype) -> np.ndarray | None:
        tile = self.cache.get(self._cache_key(version, key, dtype, self.directions, self.tile_px))
        return None if tile is None else tile.ftle

    def _speed(self) -> float | None:  # pixels per second measured for the model's dtype
        return self._rate.get(model_float_dtype(self.versions.model) or torch.float32)

    def _cache_key(
        self, version: int, key: TileKey, dtype: torch.dtype, directions: bool, tile_px: int
    ) -> tuple:
        what = (*self._what[:-1], tile_px)  # a preview has fewer pixels than self.tile_px
        content = self.versions.content(version)
        return (self._token, content, self.plane.key, what, directions, dtype, key)

    # ------------------------------------------------------------------ execution
    def _pump(self) -> None:
        """Submit the best queued jobs while workers are free (lock held)."""
        while self._queue and len(self._running) < slots(self.executor) and not self._closed:
            job = heapq.heappop(self._queue)
            self._running.append(job)
            future = self._submit(job)
            future.add_done_callback(partial(self._finished, job))

    def _submit(self, job: Job) -> Future:
        if self._local:  # a thread of this process: shared engines, cancellation, speed
            return self.executor.submit(self._compute_here, job)
        if isinstance(self.executor, TileExecutor):  # places its jobs: a cluster, devices
            return self.executor.submit_tile(job, self.engines, partial(self._arguments, job))
        engine = self.engines.get(job.version)  # elsewhere: everything travels by pickle
        return self.executor.submit(compute_tile, *self._arguments(job, engine))

    def _arguments(self, job: Job, engine: Engine) -> TileArguments:
        """:func:`compute_tile`'s arguments for ``job`` (all picklable)."""
        assert self.pyramid is not None  # made by the request that queued the job
        extent = self.pyramid.extent(job.key)
        speed = speed_for(self._rate, job.dtype)  # chunks of ~80 ms, or as given
        chunk = self._chunk_px or chunk_pixels(engine.batch_points(job.dtype), speed, job.tile_px)
        return (engine, self.plane, job.key, extent, job.tile_px, job.dtype, job.directions,
                job.version, chunk, job.lower)  # fmt: skip

    def _compute_here(self, job: Job) -> Tile | None:
        if job.cancel.is_set():
            return None
        engine = self.engines.get(job.version)
        start = time.perf_counter()
        tile = compute_tile(*self._arguments(job, engine), job.cancel.is_set)
        if tile is not None and job.tile_px**2 >= MEASURED_PX:
            rate = job.tile_px**2 / max(time.perf_counter() - start, 1e-6)
            old = self._rate.get(job.dtype)
            self._rate[job.dtype] = rate if old is None else 0.7 * old + 0.3 * rate
        return tile

    def _finished(self, job: Job, future: Future) -> None:
        error = None if future.cancelled() else future.exception()
        tile = None if (future.cancelled() or error is not None) else future.result()
        with self._lock:
            if job in self._running:
                self._running.remove(job)
            if tile is not None and not self._closed:
                tile.preview = job.tile_px != self.tile_px
                held = (job.version, job.key, job.dtype, job.directions, job.tile_px)
                self.cache.put(self._cache_key(*held), tile)
            settled = tile is not None or error is not None
            current = settled and job.generation == self._generation
            current = current and not job.cancel.is_set() and not future.cancelled()
            if current:
                self._done += 1
                if job.priority[0] == PREVIEW and self.pyramid is not None:
                    values = None if tile is None else tile.ftle
                    self._previews.arrived(job.key, values, self._queue, self.pyramid)
            generation, done, total = self._generation, self._done, self._total
            self._delivering += 1
            self._pump()
        try:
            if current and error is not None and self.on_error is not None:
                message = f"tile {job.key}: {type(error).__name__}: {error}"
                self.on_error(job.key, message, generation)
            elif current and tile is not None:  # always, for a current job without an error
                self._emit_tile(tile, generation, job.version)
            if current:
                self._emit_progress(done, total, generation)
        finally:
            with self._lock:
                self._delivering -= 1

    def _emit_tile(self, tile: Tile, generation: int, version: int) -> None:
        """Deliver a copy tagged with the request's generation and model version (a cached
        tile of an older version with equal content is current again)."""
        if self.on_tile is not None:
            delivered = copy.copy(tile)
            delivered.generation = generation
            delivered.model_version = version
            self.on_tile(delivered)

    def _emit_progress(self, done: int, total: int, generation: int) -> None:
        if self.on_progress is not None:
            self.on_progress(done, total, generation)
