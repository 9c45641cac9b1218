"""Tiles on a real dask cluster (a LocalCluster of 2 worker processes, one thread each): values,
both workers, stale tasks cancelled, a worker killed mid-view, an unpicklable model."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import cloudpickle
import helpers
import numpy as np
import pytest
import torch
from distributed import Client, LocalCluster
from helpers import Sleepy
from torch import nn

from ftle_widget import FTLEView, Plane, ftle_field
from ftle_widget.lazy.cluster import WAITING, ClusterExecutor, require_distributed
from ftle_widget.lazy.executors import tile_executor
from ftle_widget.lazy.pyramid import View
from ftle_widget.lazy.scheduler import TileScheduler
from ftle_widget.paper.models import mlp

PLANE = Plane.standard(2)
# the workers cannot import tests/: this module and helpers travel by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])
cloudpickle.register_pickle_by_value(helpers)


class Guarded(nn.Module):
    """Copies (deepcopy keeps functions as they are) but does not pickle: its hook closes over a
    lock."""

    def __init__(self):
        super().__init__()
        lock = threading.Lock()
        self.lin = nn.Linear(2, 2)
        self.hook = lambda: lock

    def forward(self, x):
        return torch.tanh(self.lin(x))


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as made,
    ):
        yield made


class Recorder:
    def __init__(self):
        self.tiles, self.errors, self.lock = [], [], threading.Lock()

    def tile(self, tile):
        with self.lock:
            self.tiles.append(tile)

    def error(self, key, message, generation):
        with self.lock:
            self.errors.append((key, message, generation))

    def scheduler(self, model, client, **kw):
        kw.setdefault("layer", "logits" if isinstance(model, Sleepy | Guarded) else None)
        return TileScheduler(
            model,
            PLANE,
            executor=client,
            tile_px=16,
            base_side=1.0,
            margin=0,
            coarse_levels=0,
            preview_seconds=None,
            on_tile=self.tile,
            on_error=self.error,
            **kw,
        )


def running(client) -> set[str]:
    """The keys of the tasks the workers are executing now."""
    return {key for tasks in client.call_stack().values() for key in tasks}


def wait_for(condition, timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def test_a_field_through_the_cluster_equals_ftle_field_and_uses_both_workers(client):
    model, rec = mlp(2, 16, 3, 1, seed=3), Recorder()
    sched = rec.scheduler(model, client)
    assert isinstance(sched.executor, ClusterExecutor)
    assert sched.executor.slots() == sum(client.nthreads().values()) * (1 + WAITING) == 4
    sched.request(View((0.0, 4.0, 0.0, 4.0), 64, 64), 0)  # 4 × 4 tiles
    assert sched.wait(60)
    sched.close()
    assert not rec.errors and len(rec.tiles) == 16
    for tile in rec.tiles:
        np.testing.assert_array_equal(
            tile.ftle, ftle_field(model, PLANE, tile.extent, (16, 16)).ftle
        )
    assert {tile.computed_by for tile in rec.tiles} == set(client.nthreads())


def test_a_new_generation_leaves_no_stale_task_running_a_second_later(client):
    rec = Recorder()
    sched = rec.scheduler(Sleepy(0.05), client, chunk_px=16)  # a tile: 16 chunks of ≥ 50 ms
    executor = sched.executor
    sched.request(View((-2.0, 0.0, -2.0, 0.0), 32, 32), 0)  # both workers warm (torch's first
    assert sched.wait(60)  # use in a fresh process takes seconds here, and cannot be stopped)
    assert len({t.computed_by for t in rec.tiles}) == 2
    sched.request(View((0.0, 4.0, 0.0, 4.0), 64, 64), 1)
    assert wait_for(lambda: len(running(client)) == 2)
    for g in range(2, 22):  # a storm of pans, far from where the first view was
        last = View((10.0 + 0.05 * g, 12.0 + 0.05 * g, 0.0, 2.0), 32, 32)
        sched.request(last, g)
        time.sleep(0.03)
    stale = set(executor.cancelled)
    assert stale  # the first view's running tasks, at least
    time.sleep(1.0)  # the measure: nothing stale is still running one second later
    assert not running(client) & stale
    assert sched.wait(60)
    pyramid = sched.pyramid
    assert pyramid is not None and not rec.errors
    wanted = set(pyramid.covering(last.extent, pyramid.level_for(last)))
    assert {t.key for t in rec.tiles if t.generation == 21} == wanted
    sched.close()


def test_an_unpicklable_model_is_a_tile_error_naming_the_fix(client):
    rec = Recorder()
    sched = rec.scheduler(Guarded(), client)
    sched.request(View((0.0, 1.0, 0.0, 1.0), 16, 16), 0)
    assert sched.wait(60)
    sched.close()
    assert not rec.tiles and len(rec.errors) == 1
    key, message, _ = rec.errors[0]
    assert key == (0, 0, 0)
    assert "cannot be sent to the cluster" in message and "lock" in message
    assert "pickle" in message and "compute in this process" in message
    assert client.submit(sum, [1, 2]).result() == 3  # nothing was killed


def test_a_view_takes_a_client_as_its_executor(client):
    view = FTLEView(mlp(2, 10, 3, 1, seed=0), executor=client)
    try:
        assert isinstance(view.scheduler.executor, ClusterExecutor)
        view.scheduler.request(View((-1.5, 1.5, -1.5, 1.5), 128, 128), 0)
        assert view.scheduler.wait(60)
        where = {tile.computed_by for tile in view.scheduler.cache._items.values()}
        assert where and where <= set(client.nthreads())
    finally:
        view.close()
    wrapped, owned = tile_executor(client.get_executor())  # a client's Executor: the client
    assert isinstance(wrapped, ClusterExecutor) and wrapped.client is client and owned
    wrapped.shutdown()
    with pytest.raises(TypeError, match=r"distributed\.Client.*DevicePool"):
        FTLEView(mlp(2, 10, 3, 1, seed=0), executor="dask")


def test_killing_a_worker_mid_view_still_completes_the_view(client):
    model, rec = Sleepy(0.05), Recorder()
    sched = rec.scheduler(model, client, chunk_px=64)
    sched.request(View((0.0, 4.0, 0.0, 4.0), 64, 64), 0)
    assert wait_for(lambda: len(rec.tiles) >= 1 and len(running(client)) == 2)
    pids = client.run(os.getpid)
    victim = next(iter(pids))
    os.kill(pids[victim], signal.SIGKILL)
    assert sched.wait(120)
    sched.close()
    failed = {key for key, _, _ in rec.errors}
    assert len(rec.tiles) + len(failed) == 16 and len(rec.tiles) >= 14  # each tile: value or key
    for tile in rec.tiles[:3]:
        field = ftle_field(model, PLANE, tile.extent, (16, 16), layer="logits")
        np.testing.assert_array_equal(tile.ftle, field.ftle)
    client.wait_for_workers(2, timeout=60)  # the nanny brings the worker back


def test_workers_joining_and_leaving_change_the_tiles_in_flight(client):
    executor = ClusterExecutor(client)
    try:
        assert executor.slots() == 2 * (1 + WAITING)
        client.cluster.scale(3)
        client.wait_for_workers(3, timeout=120)
        # read again while there is work: a call keeps the executor busy
        assert wait_for(lambda: executor.submit(time.sleep, 0.2).result(60) is None
                        and executor.slots() == 3 * (1 + WAITING), timeout=60)  # fmt: skip
        # a view keeps three tiles running at once on three single-threaded workers
        model, rec = Sleepy(0.05), Recorder()
        sched = rec.scheduler(model, executor, chunk_px=64)
        sched.request(View((0.0, 4.0, 0.0, 4.0), 64, 64), 0)
        assert wait_for(lambda: len(running(client)) == 3, timeout=60)
        assert sched.wait(120) and not rec.errors
        sched.close()
        client.cluster.scale(2)
        assert wait_for(lambda: len(client.nthreads()) == 2, timeout=60)
        assert wait_for(lambda: executor.submit(time.sleep, 0.2).result(60) is None
                        and executor.slots() == 2 * (1 + WAITING), timeout=60)  # fmt: skip
    finally:
        executor.shutdown()


def test_the_cluster_is_optional():
    code = "import ftle_widget, sys; assert 'distributed' not in sys.modules, 'imported'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    saved = sys.modules.get("distributed")
    sys.modules["distributed"] = None  # type: ignore[assignment]  # as if not installed
    try:
        with pytest.raises(ImportError, match=r"pip install 'ftle_widget\[distributed\]'"):
            require_distributed()
    finally:
        sys.modules["distributed"] = saved
