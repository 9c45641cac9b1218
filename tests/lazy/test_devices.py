"""DevicePool: a worker thread per device, each with its own copy of the model (two "cpu"
workers here; the CUDA test runs where there are two GPUs)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch
from helpers import Sleepy

from ftle_widget import DevicePool, FTLEView, Plane, ftle_field
from ftle_widget.lazy.pyramid import View
from ftle_widget.lazy.scheduler import TileScheduler
from ftle_widget.paper.models import mlp

PLANE = Plane.standard(2)


class Recorder:
    def __init__(self):
        self.tiles, self.errors, self.lock = [], [], threading.Lock()

    def tile(self, tile):
        with self.lock:
            self.tiles.append((time.perf_counter(), tile))

    def error(self, key, message, generation):
        with self.lock:
            self.errors.append((key, message, generation))

    def scheduler(self, model, executor, **kw):
        kw.setdefault("layer", "logits" if isinstance(model, Sleepy) else None)
        return TileScheduler(
            model,
            PLANE,
            executor=executor,
            tile_px=16,
            base_side=1.0,
            margin=0,
            coarse_levels=0,
            preview_seconds=None,
            on_tile=self.tile,
            on_error=self.error,
            **kw,
        )


def check_field(pool, model, layer=None):
    rec = Recorder()
    sched = rec.scheduler(model, pool, layer=layer)
    assert sched.executor is pool
    sched.request(View((0.0, 3.0, 0.0, 3.0), 48, 48), 0)
    assert sched.wait(60)
    assert not rec.errors and len(rec.tiles) == 9
    for _, tile in rec.tiles:
        field = ftle_field(model.cpu(), PLANE, tile.extent, (16, 16), layer=layer)
        np.testing.assert_allclose(tile.ftle, field.ftle, rtol=0, atol=1e-5)
    return sched, rec


def test_two_cpu_workers_compute_the_field_each_with_its_own_model():
    pool = DevicePool(["cpu", "cpu"])
    model = Sleepy(0.03)  # sleeping batches: both threads get tiles
    sched, rec = check_field(pool, model, layer="logits")
    for _, tile in rec.tiles:  # equal value for value on the CPU
        field = ftle_field(model, PLANE, tile.extent, (16, 16), layer="logits")
        np.testing.assert_array_equal(tile.ftle, field.ftle)
    assert {tile.computed_by for _, tile in rec.tiles} == {"cpu #0", "cpu #1"}
    copies = [held[(id(sched.engines), 0)][1].model for held in pool._engines]
    assert copies[0] is not copies[1] and model not in copies  # a copy per device
    # new weights: a new version, a new copy on each device
    with torch.no_grad():
        model.b.weight.mul_(3)
    rec.tiles.clear()
    sched.request(View((0.0, 2.0, 0.0, 2.0), 32, 32), 1)
    assert sched.wait(60) and sched.model_version == 1
    for _, tile in rec.tiles:
        field = ftle_field(model, PLANE, tile.extent, (16, 16), layer="logits")
        np.testing.assert_array_equal(tile.ftle, field.ftle)
    sched.close()
    assert pool.submit(lambda: 42).result() == 42  # the caller's pool is left open
    pool.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(lambda: 42)


def test_a_new_generation_stops_stale_work_on_every_device():
    pool = DevicePool(["cpu", "cpu"])
    rec = Recorder()
    sched = rec.scheduler(Sleepy(0.05), pool, chunk_px=16)  # a tile: 16 chunks of ≥ 50 ms
    sched.request(View((0.0, 4.0, 0.0, 4.0), 64, 64), 0)
    deadline = time.monotonic() + 30
    while len(sched._running) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    switched = time.perf_counter()
    sched.request(View((10.0, 11.0, 0.0, 1.0), 16, 16), 1)
    assert sched.wait(30)
    finished = time.perf_counter()
    sched.close()
    pool.shutdown()
    late = [t for t, tile in rec.tiles if t > switched and tile.generation == 0]
    assert not late and not rec.errors  # stale tiles were stopped, not delivered
    # the new tile waited at most one chunk (~0.1 s) for a thread, then took 16 chunks
    assert finished - switched < 16 * 0.1 + 2.0


def test_bad_devices_and_a_view_on_a_pool():
    for bad in ("cpu", [], None):
        with pytest.raises(ValueError, match="non-empty list of devices"):
            DevicePool(bad)  # type: ignore[arg-type]
    pool = DevicePool(["cpu", "cpu"])
    with pytest.raises(TypeError, match=r"unknown keyword argument\(s\) executer.*executor"):
        FTLEView(mlp(2, 10, 3, 1, seed=0), executer=pool)
    view = FTLEView(mlp(2, 10, 3, 1, seed=0), executor=pool)
    try:
        assert view.scheduler.executor is pool and view.scheduler.executor.slots() == 2
        view.scheduler.request(View((-1.5, 1.5, -1.5, 1.5), 128, 128), 0)
        assert view.scheduler.wait(60)
    finally:
        view.close()
        pool.shutdown()


@pytest.mark.cuda
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA devices")
def test_two_gpus_compute_the_field():
    pool = DevicePool(["cuda:0", "cuda:1"])
    sched, rec = check_field(pool, mlp(2, 16, 3, 1, seed=3))
    sched.close()
    pool.shutdown()
    assert {tile.computed_by for _, tile in rec.tiles} <= {"cuda:0 #0", "cuda:1 #1"}


def test_devices_gives_a_view_a_pool_of_its_own_closed_with_it():
    model = mlp(2, 10, 3, 1, seed=0)
    with pytest.raises(ValueError, match="give executor= or devices=, not both"):
        FTLEView(model, executor=DevicePool(["cpu"]), devices=["cpu", "cpu"])
    view = FTLEView(model, devices=["cpu", "cpu"])
    pool = view.scheduler.executor
    assert isinstance(pool, DevicePool) and pool.slots() == 2
    view.scheduler.request(View((-1.5, 1.5, -1.5, 1.5), 64, 64), 0)
    assert view.scheduler.wait(60) and len(view.scheduler.cache) > 0  # computed there
    view.close()
    assert pool._closed  # the view's own pool stops with it
    for thread in pool._threads:
        thread.join(10)
        assert not thread.is_alive()
