"""Several devices of one machine without a cluster: :class:`DevicePool`, one worker thread per
device, each with its own copy of the model (per model version).

The scheduler keeps as many tiles in flight as there are devices, in its order (coarse, the
view's centre, the margin); a cancelled job stops before its next chunk of pixels, as in one
worker thread. ``DevicePool(["cuda:0", "cuda:1"])``; CPU devices work the same way (two
``"cpu"`` workers: two threads computing at once).
"""

from __future__ import annotations

import copy
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import numpy as np
import torch

from ..maths.endpoints import mark_warned
from ..maths.exponents import Engine
from ..maths.modules import model_float_dtype
from .compute import compute_tile
from .engines import Engines
from .jobs import Job, TileArguments
from .placement import TileExecutor
from .tiles import Tile

KEEP = 3  # engines of this many recent model versions are held per device


class DevicePool(TileExecutor):
    """Computes tiles on ``devices`` (e.g. ``["cuda:0", "cuda:1"]``): one thread each, each with
    its own copy of the model. Pass it as ``executor=`` to :class:`~ftle_widget.FTLEView` or
    :class:`~ftle_widget.lazy.TileScheduler`; it may serve several views. Plain functions
    (:meth:`submit`) run on the next free device's thread."""

    def __init__(self, devices: Sequence[str | torch.device]):
        if isinstance(devices, str | torch.device) or not devices:
            raise ValueError(
                f"devices must be a non-empty list of devices, e.g. ['cuda:0', 'cuda:1'], "
                f"not {devices!r}"
            )
        self.devices = [torch.device(device) for device in devices]
        self._work: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._engines: list[OrderedDict[tuple[int, int], tuple[Engines, Engine]]] = [
            OrderedDict() for _ in self.devices
        ]
        self._closed = False
        self._threads = [
            threading.Thread(target=self._run, args=(n,), name=f"ftle-{device}-{n}", daemon=True)
            for n, device in enumerate(self.devices)
        ]
        for thread in self._threads:
            thread.start()

    def __repr__(self) -> str:
        return f"DevicePool({[str(device) for device in self.devices]!r})"

    def slots(self) -> int:
        return len(self.devices)

    def submit_tile(
        self, job: Job, engines: Engines, arguments: Callable[[Engine], TileArguments]
    ) -> Future:
        return self._put(lambda n: self._tile(n, job, engines, arguments))

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        return self._put(lambda _: fn(*args, **kwargs))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
        if cancel_futures:
            while not self._work.empty():
                item = self._work.get_nowait()
                if item is not None:
                    item[1].cancel()
        for _ in self._threads:
            self._work.put(None)
        if wait:
            for thread in self._threads:
                thread.join()

    # ------------------------------------------------------------------ the devices' threads
    def _put(self, work: Callable[[int], Any]) -> Future:
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the device pool is shut down")
            self._work.put((work, future))
        return future

    def _run(self, n: int) -> None:
        while (item := self._work.get()) is not None:
            work, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(work(n))
            except BaseException as error:  # reported with the tile's key by the scheduler
                future.set_exception(error)

    def _tile(
        self,
        n: int,
        job: Job,
        engines: Engines,
        arguments: Callable[[Engine], TileArguments],
    ) -> Tile | None:
        if job.cancel.is_set():
            return None
        tile = compute_tile(*arguments(self._engine(n, engines, job.version)), job.cancel.is_set)
        if tile is not None:
            tile.computed_by = f"{self.devices[n]} #{n}"  # which worker thread
        return tile

    def _engine(self, n: int, engines: Engines, version: int) -> Engine:
        """Device ``n``'s engine of a model version: its own copy of the snapshot, first run at
        the point where the scheduler's engine first worked."""
        held = self._engines[n].get((id(engines), version))
        if held is not None and held[0] is engines:
            return held[1]
        snapshot = engines.versions.snapshot(version)
        model = copy.deepcopy(snapshot).to(self.devices[n])
        mark_warned(model, engines.versions.model)  # warned about once, as the model
        layer, depth = engines.endpoint(version)
        engine = Engine(model, layer=layer, depth=depth)
        dtype = model_float_dtype(model) or torch.float32
        engine.maximal(engines.plane.to_input(np.array([engines.probe])).to(dtype))
        self._engines[n][(id(engines), version)] = (engines, engine)
        while len(self._engines[n]) > KEEP:
            self._engines[n].popitem(last=False)
        return engine
