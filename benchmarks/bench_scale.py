"""Beyond one machine: tiles on a dask ``LocalCluster`` (processes, one thread each).

* ``scale_2_workers``, ``scale_4_workers``: tiles per second with 2 and 4 workers ÷ with 1, on a
  model whose cost per tile is dominated by sleeping (each batch of points sleeps ``DELAY``
  seconds, as a GPU kernel would keep a worker busy without its CPU): so that a 2-core machine
  can show how the scheduler scales, not how many cores it has. A view of 4 × 4 tiles of 32 px,
  after a first view that warms every worker (engines scattered, torch loaded);
* ``cluster_overhead_ms``: per tile, a view of 8 × 8 tiles of 64 px of the toy net (2 → 50×8
  tanh → 1, milliseconds of compute per tile) through a 1-worker cluster minus in this process
  (one worker thread each), the two alternating, medians of 2 × runs + 1;
* ``view_message_ms_streaming``: the widget's handler of a view message (parse, plan, cached
  tiles encoded and sent) while 4 workers stream tiles; goal ≤ 5 ms;
* ``request_ms_streaming``: what a view message costs the kernel (``request()``, a pan) while 4
  workers stream tiles: the median (and 95th percentile) of 60 pans 30 ms apart;
* ``stale_running_after_1s``: tasks of earlier views still running 1 s after the last of those
  pans (a storm leaves no backlog: 0).

Run: ``python benchmarks/bench_scale.py`` (``--quick``: fewer repetitions).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from distributed import Client, LocalCluster
from ftle_widget.models import mlp
from torch import nn

from ftle_widget import Plane
from ftle_widget.lazy.pyramid import View
from ftle_widget.lazy.scheduler import TileScheduler
from ftle_widget.lazy.tiles import TileCache

DELAY = 0.1  # seconds per batch of points of the sleeping model
PLANE = Plane.standard(2)


class Sleeping(nn.Module):
    """A small tanh net whose every batch (not the engine's one-point probes) sleeps DELAY."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.a, self.b = nn.Linear(2, 8), nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] > 1:
            time.sleep(DELAY)
        return self.b(torch.tanh(self.a(x)))


def cluster(workers: int) -> tuple[LocalCluster, Client]:
    made = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    return made, Client(made)


def scheduler(model: nn.Module, executor, tile_px: int) -> TileScheduler:
    return TileScheduler(
        model,
        PLANE,
        layer="logits" if isinstance(model, Sleeping) else None,
        executor=executor,
        tile_px=tile_px,
        base_side=1.0,
        margin=0,
        coarse_levels=0,
        preview_seconds=None,
        cache=TileCache(),
    )


def view_seconds(sched: TileScheduler, generation: int, tiles: int, px: int) -> float:
    """Seconds to compute a new view of ``tiles`` × ``tiles`` tiles (nothing cached)."""
    left = 10.0 * generation  # a new place each time
    view = View((left, left + tiles, 0.0, float(tiles)), tiles * px, tiles * px)
    start = time.perf_counter()
    sched.request(view, generation)
    assert sched.wait(600)
    return time.perf_counter() - start


def warm(sched: TileScheduler, client: Client, px: int) -> int:
    """Small views until every worker has computed a tile (torch's first use in a fresh worker
    takes seconds here); the next generation."""
    where: set[str] = set()
    sched.on_tile = lambda tile: where.add(tile.computed_by)
    generation = 0
    while where != set(client.nthreads()) and generation < 10:
        view_seconds(sched, generation, 2, px)  # each generation: a new place
        generation += 1
    sched.on_tile = None
    return generation


def tiles_per_second(workers: int, runs: int) -> float:
    made, client = cluster(workers)
    sched = scheduler(Sleeping(), client, 32)
    first = warm(sched, client, 32)
    rates = [16 / view_seconds(sched, first + g, 4, 32) for g in range(runs)]
    sched.close()
    client.close()
    made.close()
    print(f"{workers} worker(s): {statistics.median(rates):.2f} tiles/s")
    return statistics.median(rates)


def overhead_ms(runs: int) -> float:
    """Per tile: through a 1-worker cluster minus in process, the two runs alternating (the
    machine's load changes from minute to minute; it must weigh on both alike)."""
    model = mlp(2, 50, 8, 1, seed=0)
    made, client = cluster(1)
    here, there = scheduler(model, None, 64), scheduler(model, client, 64)
    view_seconds(here, 0, 2, 64)  # warm
    first = max(1, warm(there, client, 64))
    local, remote = [], []
    for g in range(first, first + 2 * runs + 1):
        local.append(view_seconds(here, g, 8, 64))
        remote.append(view_seconds(there, g, 8, 64))
    here.close()
    there.close()
    client.close()
    made.close()
    local_s, remote_s = statistics.median(local), statistics.median(remote)
    print(f"toy, 64 tiles: {local_s:.2f} s in process, {remote_s:.2f} s through the cluster")
    return (remote_s - local_s) / 64 * 1000


def streaming(pans: int) -> tuple[float, float, int]:
    """request() times while 4 workers stream tiles; stale tasks 1 s after the last pan."""
    made, client = cluster(4)
    sched = scheduler(Sleeping(), client, 32)
    first = warm(sched, client, 32)
    times = []
    for g in range(first, first + pans):
        view = View((0.05 * g, 0.05 * g + 6, 0.0, 6.0), 192, 192)
        start = time.perf_counter()
        sched.request(view, g)
        times.append((time.perf_counter() - start) * 1000)
        time.sleep(0.03)
    time.sleep(1.0)
    running = {k for w in client.call_stack().values() for k in w}
    stale = len(running & set(sched.executor.cancelled))
    sched.close()
    client.close()
    made.close()
    return statistics.median(times), statistics.quantiles(times, n=20)[-1], stale


def widget_streaming(pans: int) -> tuple[float, float]:
    """The widget's own handler of a view message (what the comm calls: parse, plan, cached
    tiles encoded and sent) while 4 workers stream tiles: median and 95th percentile (ms)."""
    from ftle_widget import FTLEView

    made, client = cluster(4)
    view = FTLEView(Sleeping(), PLANE, layer="logits", executor=client, show_data=False)
    view.send = lambda content, buffers=None: None  # no browser: the messages are dropped
    times = []
    for g in range(1, pans + 1):
        message = {"kind": "view", "generation": g, "extent": [0.05 * g, 0.05 * g + 3, 0, 3],
                   "width": 384, "height": 384}  # fmt: skip
        start = time.perf_counter()
        view._on_message(view, message, [])
        times.append((time.perf_counter() - start) * 1000)
        time.sleep(0.03)
    view.close()
    client.close()
    made.close()
    return statistics.median(times), statistics.quantiles(times, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    runs = 1 if parser.parse_args().quick else 3
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    one, two, four = (tiles_per_second(n, runs) for n in (1, 2, 4))
    overhead = overhead_ms(runs)
    median, p95, stale = streaming(60)
    widget_median, widget_p95 = widget_streaming(60)
    print(f"scale_2_workers: {two / one:.2f}")
    print(f"scale_4_workers: {four / one:.2f}")
    print(f"cluster_overhead_ms: {overhead:.1f}")
    print(f"request_ms_streaming: {median:.2f} (95th percentile {p95:.2f})")
    print(f"stale_running_after_1s: {stale}")
    print(f"view_message_ms_streaming: {widget_median:.2f} (95th percentile {widget_p95:.2f})")


if __name__ == "__main__":
    main()
