"""How live a view feels: the tile scheduler's latencies, measured in one process.

Toy net 2 → 50×8 tanh → 1 and an MNIST-shaped net 784 → 20×16 tanh → 10, each on a plane
through three inputs. Figures (medians of several runs):

* ``first_coarse_ms_*``: a new view is requested → the first (coarse) tile is delivered;
* ``full_view_s_toy``: a 512×512 view → all its tiles delivered (the margin ring excluded);
* ``storm_ratio``: 200 view changes in 2 s, then the time until the last view is complete,
  divided by the time that view takes alone (no backlog means ≈ 1);
* ``cache_hit_ms``: a cached view is requested → its first tile is delivered;
* ``request_ms_512``: what one view message costs the kernel: ``request()`` for a 512×512 view
  panned by a pixel or so over cached tiles (planning and cached deliveries), median of 300.

A slow model, a small ResNet on 3×32×32 inputs (``slow_model.py``; a few hundred points per
second here, its λ₁ of class probabilities):

* ``first_picture_s_resnet``: a new 512×512 view → every pixel covered by some delivered tile
  (the preview, :mod:`ftle_widget.lazy.previews`); the full tiles take minutes;
* ``ridge_first_gain``: the time until the pixels within 2 px of the field's strongest ridge are
  covered by full tiles, centre first ÷ where the preview varies most first (the scheduler's
  order), same preview, same process. A 128×128 view of 16-px tiles (8 × 8 tiles, as a 512×512
  view of 64-px tiles has, at 1/16 of the work: the latter's full tiles take many minutes here)
  planned as for a 512×512 view (the measured speed ÷ 16: a preview); ``--quick``: 64×64 of 8 px.

Run: ``python benchmarks/bench_tiles.py`` (``--quick``: one run of each).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import numpy as np
import torch
from ftle_widget.models import mlp
from slow_model import PICTURE_EXTENT, RIDGE_EXTENT, resnet_points, ridge_pixels, small_resnet

from ftle_widget import Plane
from ftle_widget.lazy.pyramid import View
from ftle_widget.lazy.scheduler import TileScheduler
from ftle_widget.lazy.tiles import TileCache


class Timer:
    """Records when tiles arrive; tells when a set of tiles is complete."""

    def __init__(self):
        self.start = 0.0
        self.arrivals: list[tuple[float, tuple, int]] = []
        self.lock = threading.Lock()
        self.event = threading.Event()
        self.waiting_for: set | None = None
        self.generation = -1

    def reset(self, generation: int, waiting_for: set | None = None) -> None:
        with self.lock:
            self.arrivals = []
            self.generation = generation
            self.waiting_for = None if waiting_for is None else set(waiting_for)
            self.event.clear()
            self.start = time.perf_counter()

    def on_tile(self, tile) -> None:
        now = time.perf_counter()
        with self.lock:
            if tile.generation != self.generation:
                return
            self.arrivals.append((now, tile.key, tile.generation))
            if self.waiting_for is None:
                self.event.set()
            else:
                self.waiting_for.discard(tile.key)
                if not self.waiting_for:
                    self.event.set()

    def first_ms(self) -> float:
        return (self.arrivals[0][0] - self.start) * 1000


def view_keys(sched: TileScheduler, view: View) -> set:
    pyr = sched.pyramid
    return set(pyr.covering(view.extent, pyr.level_for(view)))


def make(name: str):
    gen = torch.Generator().manual_seed(1)
    if name == "toy":
        model = mlp(2, 50, 8, 1, seed=0)
        points = torch.tensor([[0.0, 0.0], [1.0, 0.2], [0.3, 1.0]])
    else:
        model = mlp(784, 20, 16, 10, seed=1)
        points = torch.rand((3, 784), generator=gen)
    plane = Plane.through(*points)
    return model, plane


def scheduler(model, plane, timer: Timer) -> TileScheduler:
    return TileScheduler(model, plane, on_tile=timer.on_tile, cache=TileCache())


def first_coarse(name: str, runs: int) -> float:
    model, plane = make(name)
    timer = Timer()
    sched = scheduler(model, plane, timer)
    sched.request(View((-1.5, 1.5, -1.5, 1.5), 64, 64), 0)  # sets the pyramid
    sched.wait()
    print(f"{name}: tile_px {sched.tile_px} (auto)")
    values = []
    for g in range(1, runs + 1):
        shift = 7.3 * g  # a new place: nothing cached
        view = View((shift - 1.5, shift + 1.5, -1.5, 1.5), 512, 512)
        timer.reset(g)
        sched.request(view, g)
        timer.event.wait(30)
        values.append(timer.first_ms())
        sched.wait()
    sched.close()
    return statistics.median(values)


def full_view(runs: int) -> tuple[float, float]:
    """Seconds for a whole 512×512 toy view, and the cache-hit latency in ms."""
    model, plane = make("toy")
    times, hits = [], []
    for r in range(runs):
        timer = Timer()
        sched = scheduler(model, plane, timer)
        view = View((-1.5 + r, 1.5 + r, -1.5, 1.5), 512, 512)
        sched.request(View((-1.5, 1.5, -1.5, 1.5), 64, 64), 0)  # sets the pyramid
        sched.wait()
        sched.cache.clear()
        timer.reset(1, view_keys(sched, view))
        sched.request(view, 1)
        timer.event.wait(60)
        times.append(time.perf_counter() - timer.start)
        sched.wait()
        timer.reset(2)
        sched.request(view, 2)  # all cached now
        timer.event.wait(5)
        hits.append(timer.first_ms())
        sched.close()
    return statistics.median(times), statistics.median(hits)


def storm(runs: int) -> float:
    model, plane = make("toy")
    ratios = []
    for r in range(runs):
        timer = Timer()
        sched = scheduler(model, plane, timer)
        sched.request(View((-1.5, 1.5, -1.5, 1.5), 64, 64), 0)  # sets the pyramid
        sched.wait()
        sched.cache.clear()
        gen = torch.Generator().manual_seed(r)
        views = []
        for _ in range(200):  # pans and zooms around the start view
            du, dv = (torch.rand(2, generator=gen) - 0.5).tolist()
            zoom = 2 ** (float(torch.rand(1, generator=gen)) * 2 - 1)
            half = 1.5 * zoom
            views.append(View((du - half, du + half, dv - half, dv + half), 512, 512))
        start = time.perf_counter()
        for g, view in enumerate(views, start=1):
            timer.reset(g, view_keys(sched, view))
            sched.request(view, g)
            time.sleep(max(0.0, start + g * 0.01 - time.perf_counter()))
        last_start = timer.start
        timer.event.wait(120)
        in_storm = time.perf_counter() - last_start
        sched.wait()
        sched.close()
        # the same view alone, on a fresh scheduler with an empty cache
        timer = Timer()
        sched = scheduler(model, plane, timer)
        sched.request(View((-1.5, 1.5, -1.5, 1.5), 64, 64), 0)  # sets the pyramid
        sched.wait()
        sched.cache.clear()
        timer.reset(1, view_keys(sched, views[-1]))
        sched.request(views[-1], 1)
        timer.event.wait(120)
        alone = time.perf_counter() - timer.start
        sched.close()
        ratios.append(in_storm / alone)
    return statistics.median(ratios)


def request_cost() -> float:
    model, plane = make("toy")
    sched = TileScheduler(model, plane)  # deliveries go nowhere: the kernel's own work
    sched.request(View((-1.5, 1.5, -1.5, 1.5), 512, 512), 0)
    sched.wait()
    times = []
    for g in range(1, 301):
        view = View((-1.5 + 0.003 * g, 1.5 + 0.003 * g, -1.5, 1.5), 512, 512)
        start = time.perf_counter()
        sched.request(view, g)
        times.append(time.perf_counter() - start)
    sched.close()
    return statistics.median(times) * 1e3


class Deliveries:
    """The tiles delivered for one generation, with their arrival times."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset(-1)

    def reset(self, generation: int) -> None:
        with self.lock:
            self.generation, self.got = generation, []
            self.start = time.perf_counter()

    def on_tile(self, tile) -> None:
        now = time.perf_counter()
        with self.lock:
            if tile.generation == self.generation:
                self.got.append((now - self.start, tile))

    def painted(self, view: View, full_only: bool) -> tuple[np.ndarray, np.ndarray]:
        """The view's pixels as the canvas shows the tiles (finest level on top): λ₁, and the
        time each pixel was first covered (inf: not yet)."""
        u0, u1, v0, v1 = view.extent
        us = u0 + (np.arange(view.width) + 0.5) * (u1 - u0) / view.width
        vs = v0 + (np.arange(view.height) + 0.5) * (v1 - v0) / view.height
        field = np.full((view.height, view.width), np.nan, dtype=np.float32)
        when = np.full(field.shape, np.inf)
        with self.lock:
            got = [(t, tile) for t, tile in self.got if not (full_only and tile.preview)]
        for t, tile in sorted(got, key=lambda item: item[1].key[0]):
            a0, a1, b0, b1 = tile.extent
            cols = np.nonzero((us >= a0) & (us < a1))[0]
            rows = np.nonzero((vs >= b0) & (vs < b1))[0]
            n = tile.tile_px
            tj = np.minimum(((us[cols] - a0) / (a1 - a0) * n).astype(int), n - 1)
            ti = np.minimum(((vs[rows] - b0) / (b1 - b0) * n).astype(int), n - 1)
            field[np.ix_(rows, cols)] = tile.ftle[np.ix_(ti, tj)]
            when[np.ix_(rows, cols)] = np.minimum(when[np.ix_(rows, cols)], t)
        return field, when

    def wait_covered(self, view: View, mask: np.ndarray | None, full_only: bool, limit: float):
        """Wait until the pixels of ``mask`` (all: None) are covered; the time they were."""
        end = time.perf_counter() + limit
        while True:
            when = self.painted(view, full_only)[1]
            covered = when if mask is None else when[mask]
            if np.isfinite(covered).all() or time.perf_counter() > end:
                return float(covered.max())
            time.sleep(0.05)


def resnet_scheduler(deliveries: Deliveries, **kw) -> TileScheduler:
    points = resnet_points()
    model, plane = small_resnet(points), Plane.through(*points)
    return TileScheduler(model, plane, layer="probabilities", on_tile=deliveries.on_tile,
                         cache=TileCache(), margin=0, **kw)  # fmt: skip


def first_picture(runs: int) -> tuple[float, float]:
    """Seconds from a new 512×512 view to its first complete picture; the measured speed."""
    deliveries = Deliveries()
    sched = resnet_scheduler(deliveries, home=PICTURE_EXTENT)
    rate = sched._rate[torch.float32]  # measured when it was made
    values = []
    u0, u1, v0, v1 = PICTURE_EXTENT
    for g in range(1, runs + 1):
        shift = 2.0 * (u1 - u0) * (g - 1)  # a new place: nothing cached
        view = View((u0 + shift, u1 + shift, v0, v1), 512, 512)
        deliveries.reset(g)
        sched.request(view, g)
        values.append(deliveries.wait_covered(view, None, False, 120))
        kinds = sorted({(t.tile_px, t.key[0]) for _, t in deliveries.got})
    sched.close()
    print(f"resnet: tile_px {sched.tile_px} (auto), {rate:.0f} px/s, first picture {kinds}")
    return statistics.median(values), rate


def ridge_first(rate: float, side: int) -> float:
    """The time until the ridge's pixels are final: centre first ÷ the preview's order, for a
    ``side``² view of 8 × 8 tiles."""
    view, tile_px, scale = View(RIDGE_EXTENT, side, side), side // 8, (512 / side) ** 2
    times, mask = [], None
    for ridges_first in (True, False):
        deliveries = Deliveries()
        sched = resnet_scheduler(deliveries, tile_px=tile_px, ridges_first=ridges_first)
        sched._rate[torch.float32] = rate / scale  # planned as a 512×512 view would be
        deliveries.reset(1)
        sched.request(view, 1)
        if mask is None:  # the preview's order first: the final field finds the ridge
            sched.wait(600)
            mask = ridge_pixels(deliveries.painted(view, True)[0])
        times.append(deliveries.wait_covered(view, mask, True, 600))
        sched.close()
    kinds = sorted({(t.tile_px, t.key[0]) for _, t in deliveries.got})
    print(f"ridge: {int(mask.sum())} px of {side}×{side} ({kinds}), final after {times[0]:.1f} s "
          f"(preview's order) and {times[1]:.1f} s (centre first)")  # fmt: skip
    return times[1] / times[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="one run of each")
    args = parser.parse_args()
    runs = 1 if args.quick else 5
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    toy = first_coarse("toy", runs)
    mnist = first_coarse("mnist", runs)
    full, hit = full_view(1 if args.quick else 3)
    ratio = storm(1 if args.quick else 3)
    request_ms = request_cost()
    picture, rate = first_picture(runs)
    gain = ridge_first(rate, 64 if args.quick else 128)
    print(f"first_coarse_ms_toy: {toy:.1f}")
    print(f"first_coarse_ms_mnist: {mnist:.1f}")
    print(f"full_view_s_toy: {full:.2f}")
    print(f"storm_ratio: {ratio:.2f}")
    print(f"cache_hit_ms: {hit:.2f}")
    print(f"request_ms_512: {request_ms:.2f}")
    print(f"first_picture_s_resnet: {picture:.2f}")
    print(f"ridge_first_gain: {gain:.2f}")


if __name__ == "__main__":
    main()
