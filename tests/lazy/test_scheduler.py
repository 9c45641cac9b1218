"""The tile scheduler: order, cancellation, cache, model versions, deep zoom, errors, threads."""

from __future__ import annotations

import threading
import time
from collections import Counter

import numpy as np
import pytest
import torch
from helpers import FailsBeyond
from torch import nn

from ftle_widget import Plane, ftle_field, maximal_ftle
from ftle_widget.lazy.pyramid import View
from ftle_widget.lazy.scheduler import TileScheduler
from ftle_widget.paper.models import mlp

PLANE = Plane.standard(2)


class Recorder:
    """Collects what the scheduler reports, with timestamps and the reporting threads."""

    def __init__(self):
        self.tiles, self.errors, self.progress, self.threads = [], [], [], []
        self.lock = threading.Lock()

    def tile(self, tile):
        with self.lock:
            self.tiles.append((time.perf_counter(), tile))
            self.threads.append(threading.get_ident())

    def error(self, key, message, generation):
        with self.lock:
            self.errors.append((key, message, generation))

    def prog(self, done, total, generation):
        with self.lock:
            self.progress.append((done, total, generation))

    def scheduler(self, model, **kw):
        if isinstance(model, SlowModel):
            kw.setdefault("layer", "logits")
        return TileScheduler(
            model,
            kw.pop("plane", PLANE),
            on_tile=self.tile,
            on_error=self.error,
            on_progress=self.prog,
            **kw,
        )


class CallLog(list):
    """Shared by a model and its snapshots (deep copies): records (time, first point)."""

    def __deepcopy__(self, memo):
        return self


class SlowModel(nn.Module):
    """A tanh net that sleeps in every forward call and records the batches it saw."""

    def __init__(self, delay=0.03):
        super().__init__()
        torch.manual_seed(0)
        self.a, self.b = nn.Linear(2, 8), nn.Linear(8, 1)
        self.delay = delay
        self.calls = CallLog()

    def forward(self, x):
        if x.shape[0] > 1:  # the engine's one-sample probes aside
            first = x[0].detach()
            if not isinstance(first, torch.Tensor) or first.__class__ is not torch.Tensor:
                first = x[0]
            try:
                point = (float(first[0]), float(first[1]))
            except Exception:  # inside torch.func transforms
                point = (float("nan"), float("nan"))
            self.calls.append((time.perf_counter(), point))
            time.sleep(self.delay)
        return self.b(torch.tanh(self.a(x)))


class Gate:
    """Events that a model and its snapshots (deep copies) share: ``entered`` once a batch is
    inside the forward call, which holds it there until ``opened`` (at most 120 s)."""

    def __init__(self):
        self.entered, self.opened = threading.Event(), threading.Event()

    def __deepcopy__(self, memo):
        return self


class GatedModel(nn.Module):
    """A tanh net whose batches wait at a :class:`Gate` until it opens: idle, or (``busy``)
    doing real torch work meanwhile, as a computing tile does."""

    def __init__(self, busy=False):
        super().__init__()
        torch.manual_seed(0)
        self.a, self.b = nn.Linear(2, 8), nn.Linear(8, 1)
        self.gate, self.busy = Gate(), busy

    def forward(self, x):
        if x.shape[0] > 1 and not self.gate.opened.is_set():  # the one-sample probes aside
            self.gate.entered.set()
            deadline, work = time.monotonic() + 120, torch.full((128, 128), 1 / 128)
            while not self.gate.opened.wait(0 if self.busy else 1):
                if time.monotonic() > deadline:
                    break
                work = torch.tanh(work @ work) if self.busy else work
        return self.b(torch.tanh(self.a(x)))


def test_coarse_first_then_view_centre_first_then_margin():
    rec = Recorder()
    sched = rec.scheduler(mlp(2, 10, 3, 1, seed=0), tile_px=16)
    view = View((-0.9, 0.6, -0.4, 1.1), 96, 96)
    sched.request(view, 0)
    assert sched.wait(30)
    sched.close()
    pyr = sched.pyramid
    z = pyr.level_for(view)
    levels = [t.key[0] for _, t in rec.tiles]
    fine = pyr.covering(view.extent, z)
    coarse = pyr.covering(view.extent, z - 2)
    ring = [k for k in pyr.covering(view.extent, z, 1) if k not in fine]
    assert levels[: len(coarse)] == [z - 2] * len(coarse)
    keys = [t.key for _, t in rec.tiles]
    assert keys[len(coarse) : len(coarse) + len(fine)] == fine  # centre first
    assert set(keys[len(coarse) + len(fine) :]) == set(ring)
    assert pyr.side(z - 2) / pyr.side(z) == 4  # ≤ ¼ resolution
    assert rec.progress[-1] == (len(keys), len(keys), 0)


def test_a_zoom_skips_the_coarse_pass_when_the_receiver_holds_a_neighbouring_level():
    rec = Recorder()
    sched = rec.scheduler(mlp(2, 10, 3, 1, seed=0), tile_px=16, margin=0)
    view = View((-1.0, 1.0, -1.0, 1.0), 96, 96)
    sched.request(view, 0)
    assert sched.wait(30)
    z = sched.pyramid.level_for(view)
    zoomed = View((-0.5, 0.5, -0.5, 0.5), 96, 96)  # one level finer, inside the cached tiles
    assert sched.pyramid.level_for(zoomed) == z + 1
    rec.tiles.clear()
    sched.request(zoomed, 1)  # held: level z stands in, the first tiles are level z + 1
    assert sched.wait(30)
    assert [t.key[0] for _, t in rec.tiles] == [z + 1] * len(rec.tiles)
    assert [t.key for _, t in rec.tiles] == sched.pyramid.covering(zoomed.extent, z + 1)
    panned = View((-0.75, 0.25, -0.5, 0.5), 96, 96)  # a receiver that starts empty: coarse first
    cached = set(sched.pyramid.covering(zoomed.extent, z + 1))
    rec.tiles.clear()
    sched.request(panned, 2, held=False)
    assert sched.wait(30)
    keys = [t.key for _, t in rec.tiles]
    coarse = sched.pyramid.covering(panned.extent, z - 1)
    computed_fine = [k for k in keys if k[0] == z + 1 and k not in cached]
    assert computed_fine and set(coarse) <= set(keys)
    assert max(keys.index(k) for k in coarse) < keys.index(computed_fine[0])
    sched.close()


def test_cached_tiles_arrive_at_once_without_compute():
    rec = Recorder()
    model = SlowModel(delay=0.0)
    sched = rec.scheduler(model, tile_px=16, margin=0)
    view = View((-1, 1, -1, 1), 64, 64)
    sched.request(view, 0)
    assert sched.wait(30)
    first = [t for _, t in rec.tiles if t.key[0] == sched.pyramid.level_for(view)]
    calls = len(model.calls)
    rec.tiles.clear()
    rec.threads.clear()
    sched.request(view, 1)  # cached: delivered inside request(), in the caller's thread
    assert len(rec.tiles) == len(first)
    assert set(rec.threads) == {threading.get_ident()}
    assert all(t.generation == 1 for _, t in rec.tiles)
    assert sched.wait(5) and len(model.calls) == calls  # nothing recomputed
    sched.close()


def test_new_generation_cancels_stale_work_within_one_chunk():
    rec = Recorder()
    model = SlowModel(delay=0.03)
    sched = rec.scheduler(model, tile_px=16, chunk_px=32, margin=0, coarse_levels=0)
    view_a = View((0, 1, 0, 1), 64, 64)  # 16 tiles of 256 px = 8 chunks each
    sched.request(view_a, 0)
    deadline = time.time() + 30
    while len({p for _, p in model.calls}) < 2 and time.time() < deadline:
        time.sleep(0.005)  # until A's second chunk has started
    switch = time.perf_counter()
    view_b = View((-5, -4.75, -5, -4.75), 16, 16)  # one tile far away: nothing of A wanted
    sched.request(view_b, 1)
    assert sched.wait(60)
    sched.close()
    in_a = [(t, p) for t, p in model.calls if 0 <= p[0] <= 1 and 0 <= p[1] <= 1]
    before = {p for t, p in in_a if t < switch}
    after = {p for t, p in in_a if t >= switch}
    assert len(before) >= 2  # A was being computed, chunk by chunk
    assert after <= before  # no chunk of A started after the switch (the running one finished)
    assert len(in_a) < 16 * 8  # most of A never ran
    late = [t for when, t in rec.tiles if t.generation == 0 and when >= switch]
    assert late == []  # nothing stale delivered as current
    gen1 = [t for _, t in rec.tiles if t.generation == 1]
    assert len(gen1) == 1 and gen1[0].extent == (-5.0, -4.75, -5.0, -4.75)
    assert rec.progress[-1][2] == 1 and rec.progress[-1][0] == rec.progress[-1][1]


@pytest.mark.parametrize("busy", [False, True], ids=["waiting", "computing"])
def test_request_returns_at_once_while_a_tile_computes(busy):
    """Requests never wait for a tile: they all return while one is held inside its forward
    call (idle, or doing torch work that contends for the GIL)."""
    rec = Recorder()
    model = GatedModel(busy)
    sched = rec.scheduler(model, layer="logits", tile_px=16, chunk_px=256)
    sched.request(View((0, 1, 0, 1), 64, 64), 0)
    assert model.gate.entered.wait(60)  # a job is inside a forward call, held there
    returned = threading.Event()

    def pan():
        for g in range(1, 20):
            sched.request(View((0.01 * g, 1 + 0.01 * g, 0, 1), 64, 64), g)
        returned.set()

    panning = threading.Thread(target=pan)
    panning.start()
    try:  # the gate would let the tile go after 120 s: a request waiting for it fails here
        assert returned.wait(60), "a request waited for the computing tile"
        assert rec.tiles == []  # no tile was finished meanwhile
    finally:
        model.gate.opened.set()
        panning.join()
    assert sched.wait(60)
    sched.close()
    assert not rec.errors and {t.generation for _, t in rec.tiles} == {19}


def test_retagged_job_is_kept_for_an_overlapping_view():
    rec = Recorder()
    model = GatedModel()
    sched = rec.scheduler(model, layer="logits", tile_px=16, chunk_px=64, margin=0, coarse_levels=0)
    started = []  # (job, its generation) as each job starts computing
    compute = sched._compute_here
    sched._compute_here = lambda job: started.append((job, job.generation)) or compute(job)
    sched.request(View((0, 1, 0, 1), 64, 64), 0)
    assert model.gate.entered.wait(60)  # the first tile is inside its first chunk, held
    sched.request(View((0.05, 1.05, 0, 1), 64, 64), 1)  # a short pan: most tiles still wanted
    model.gate.opened.set()
    assert sched.wait(60)
    sched.close()
    assert not rec.errors
    keys = [t.key for _, t in rec.tiles if t.generation == 1]
    assert len(keys) == len(set(keys)) == 20  # 5 columns × 4 rows, each once
    held, generation = started[0]
    assert generation == 0 and held.generation == 1 and held.key in keys  # retagged
    computed = Counter(job.key for job, _ in started)
    assert computed == Counter(keys)  # each tile computed once: the held one was not redone
    tile = next(t for _, t in rec.tiles if t.key == held.key)
    field = ftle_field(model, PLANE, tile.extent, (16, 16), layer="logits")
    np.testing.assert_array_equal(tile.ftle, field.ftle)


def test_no_tile_mixes_two_model_versions():
    base = mlp(2, 16, 3, 1, seed=3)
    original = {k: v.clone() for k, v in base.state_dict().items()}
    rec = Recorder()
    sched = rec.scheduler(
        base, tile_px=16, margin=0, coarse_levels=0, chunk_px=64, keep_versions=10_000
    )
    stop = threading.Event()

    def train():  # rescale every weight by one factor per step, in place
        step = 0
        while not stop.is_set():
            step += 1
            factor = 1 + 0.05 * (step % 7)
            with sched.model_lock:
                with torch.no_grad():
                    for name, p in base.named_parameters():
                        p.copy_(original[name] * factor)
            time.sleep(0.001)

    writer = threading.Thread(target=train)
    writer.start()
    try:
        for g in range(12):
            version = sched.model_version
            sched.request(View((0.1 * g, 0.1 * g + 1, 0, 1), 32, 32), g)
            time.sleep(0.03)
            # on a loaded machine, let each view finish and the writer change the weights
            # before the next (else one version may serve every delivered tile)
            assert sched.wait(60)
            deadline = time.monotonic() + 10
            while sched.model_version == version and time.monotonic() < deadline:
                time.sleep(0.002)
    finally:
        stop.set()
        writer.join()
    sched.close()
    # every view finished: each of its tiles delivered once, none failed
    assert not rec.errors
    pyramid = sched.pyramid
    for g in range(12):
        view = View((0.1 * g, 0.1 * g + 1, 0, 1), 32, 32)
        keys = [t.key for _, t in rec.tiles if t.generation == g]
        assert sorted(keys) == sorted(pyramid.covering(view.extent, pyramid.level_for(view)))
        done, total, _ = [p for p in rec.progress if p[2] == g][-1]
        assert done == total == len(keys)
    versions = {t.model_version for _, t in rec.tiles}
    assert len(versions) > 3  # the weights really changed under the scheduler
    for _, tile in rec.tiles:
        snap = sched.versions.snapshot(tile.model_version)
        ratios = {
            round(float((p / original[n]).mean()), 6)
            for n, p in snap.named_parameters()
            if original[n].abs().min() > 1e-3
        }
        assert len(ratios) == 1  # one factor for every weight: a consistent snapshot
        field = ftle_field(snap, PLANE, tile.extent, (16, 16))
        np.testing.assert_array_equal(tile.ftle, field.ftle)


def test_update_model_makes_a_new_version_and_keeps_the_users_model():
    model = mlp(2, 8, 2, 1, seed=4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rec = Recorder()
    sched = rec.scheduler(model, tile_px=16, margin=0, coarse_levels=0)
    view = View((0, 1, 0, 1), 32, 32)
    sched.request(view, 0)
    assert sched.wait(30)
    other = mlp(2, 8, 2, 1, seed=5)
    v1 = sched.update_model(other.state_dict())
    assert v1 == 1
    sched.request(view, 1)
    assert sched.wait(30)
    sched.close()
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    new = [t for _, t in rec.tiles if t.generation == 1]
    assert {t.model_version for t in new} == {1}
    np.testing.assert_array_equal(
        new[0].ftle, ftle_field(other, PLANE, new[0].extent, (16, 16)).ftle
    )


def test_deep_zoom_switches_to_float64_and_stays_smooth():
    model = mlp(2, 10, 6, 1, seed=6)
    rec = Recorder()
    sched = rec.scheduler(model, tile_px=32, margin=0, coarse_levels=0)
    centre = (0.431, -0.219)
    half = 1.5e-6  # a 10⁶× zoom of a 3-wide view
    view = View((centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half), 32, 32)
    sched.request(View((-1.5, 1.5, -1.5, 1.5), 64, 64), 0)
    sched.request(view, 1)
    assert sched.wait(60)
    sched.close()
    coarse = [t for _, t in rec.tiles if t.generation == 0]
    deep = [t for _, t in rec.tiles if t.generation == 1]
    assert all(t.dtype == "float32" for t in coarse)
    assert deep and all(t.dtype == "float64" for t in deep)
    model64 = mlp(2, 10, 6, 1, seed=6).double()
    for tile in deep:
        u0, u1, v0, v1 = tile.extent
        us = u0 + (np.arange(32) + 0.5) * (u1 - u0) / 32
        vs = v0 + (np.arange(32) + 0.5) * (v1 - v0) / 32
        grid = np.stack(np.meshgrid(us, vs), -1).reshape(-1, 2)
        ref = maximal_ftle(model64, torch.tensor(grid)).numpy().reshape(32, 32)
        assert np.abs(tile.ftle - ref).max() < 1e-6
        # smooth: the field is (to float32 storage) a plane here; float32 inputs would step
        second = np.abs(np.diff(tile.ftle.astype(np.float64), 2, axis=1)).max()
        assert second < 1e-6
    field32 = ftle_field(model, PLANE, deep[0].extent, (32, 32))  # what float32 would give
    assert np.abs(np.diff(field32.ftle.astype(np.float64), 2, axis=1)).max() > 10 * second


def test_a_failing_tile_is_reported_and_the_worker_lives_on():
    rec = Recorder()
    model = FailsBeyond(2, "no inputs with u > 2, please", width=4)
    sched = rec.scheduler(model, layer="lin", tile_px=16, margin=0, coarse_levels=0)
    sched.request(View((0, 4, 0, 1), 64, 16), 0)  # tiles at u ≥ 2 fail
    assert sched.wait(30)
    assert rec.errors and all(
        key[2] * sched.pyramid.side(key[0]) >= 2 - 1e-9 for key, _, _ in rec.errors
    )
    key, message, generation = rec.errors[0]
    assert str(key) in message and "u > 2" in message and generation == 0
    good = [t for _, t in rec.tiles]
    assert good and all(t.extent[1] <= 2 + 1e-9 for t in good)
    assert rec.progress[-1][0] == rec.progress[-1][1]  # failures count as done
    sched.request(View((0, 1, 0, 1), 16, 16), 1)  # the worker still serves
    assert sched.wait(30)
    assert any(t.generation == 1 for _, t in rec.tiles)
    sched.close()


def test_bad_arguments():
    with pytest.raises(TypeError, match="Plane"):
        TileScheduler(mlp(2, 4, 1, 1), "plane")
    with pytest.raises(ValueError, match="tile_px"):
        TileScheduler(mlp(2, 4, 1, 1), PLANE, tile_px=3)
    with pytest.raises(ValueError, match="plane lives in inputs"):
        TileScheduler(mlp(3, 4, 1, 1), PLANE, tile_px=16)
    sched = TileScheduler(mlp(2, 4, 1, 1), PLANE, tile_px=16)
    sched.close()
    with pytest.raises(RuntimeError, match="closed"):
        sched.request(View((0, 1, 0, 1), 16, 16), 0)


def test_auto_tile_size_is_a_power_of_two_in_range():
    sched = TileScheduler(mlp(2, 10, 2, 1, seed=1), PLANE)
    assert sched.tile_px in (64, 128, 256)
    sched.close()


def tiles_through(pool, seed, view, timeout):
    """The 16-px tiles of ``view`` computed on ``pool`` for mlp(2, 10, 3, 1, seed)."""
    rec = Recorder()
    model = mlp(2, 10, 3, 1, seed=seed)
    sched = rec.scheduler(model, tile_px=16, margin=0, coarse_levels=0, executor=pool)
    sched.request(view, 0)
    assert sched.wait(timeout)
    sched.close()
    return model, rec


def test_a_pluggable_executor_serves_tiles_and_is_left_open():
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=2)
    model, rec = tiles_through(pool, 7, View((0, 1, 0, 1), 64, 64), 30)
    assert len(rec.tiles) == 16
    for _, tile in rec.tiles:
        np.testing.assert_array_equal(
            tile.ftle, ftle_field(model, PLANE, tile.extent, (16, 16)).ftle
        )
    assert pool.submit(lambda: 42).result() == 42  # the caller's executor is not shut down
    pool.shutdown()


def test_a_process_pool_computes_tiles_through_pickled_arguments():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    model, rec = tiles_through(pool, 9, View((0, 0.5, 0, 0.5), 32, 32), 120)
    pool.shutdown()
    assert len(rec.tiles) == 4 and not rec.errors
    for _, tile in rec.tiles:
        np.testing.assert_array_equal(
            tile.ftle, ftle_field(model, PLANE, tile.extent, (16, 16)).ftle
        )


def test_wait_returns_once_every_tile_is_delivered():
    """wait() waits for the callbacks too: a tile is delivered after its job leaves the running
    list (the loop of issue 18 caught a tile landing after wait() had returned)."""
    delivered, slow = [], threading.Event()

    def on_tile(tile):
        slow.wait(0.3)  # a receiver that takes a while (sending to the browser, say)
        delivered.append(tile.key)

    sched = TileScheduler(
        mlp(2, 4, 1, 1), PLANE, tile_px=8, base_side=1.0, margin=0, coarse_levels=0,
        preview_seconds=None, on_tile=on_tile,
    )  # fmt: skip
    sched.request(View((0.0, 2.0, 0.0, 2.0), 16, 16), 0)
    assert sched.wait(60)
    assert len(delivered) == 4  # every tile of the view, not three and one on its way
    sched.close()
