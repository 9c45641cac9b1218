"""A lone CPU batch: on one single-threaded worker (what ``maths/parallel.py`` does) against in
the calling thread with all of its intra-op threads, measured in the same process.

A call whose points make one batch (a small field, one big model call) leaves the other cores
idle on a worker; this measures whether handing that batch all threads pays. Each case runs one
batch either way (``batch_size`` = all points, or a field smaller than one batch); median of
``--repeats`` after a warm-up, the worker measured before and after the caller. Also checks that
the two give bit-identical λ₁.

Run: ``python benchmarks/bench_lone_batch.py``. The last line is ``lone_batch_ratio`` (the
geometric mean of worker ÷ caller: above 1 the caller with all threads is faster). Give the load
average with the figures: on a busy machine multi-threaded kernels stall (the reason batches run
single-threaded, see ``ftle_widget/maths/parallel.py``).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable

import torch
from bench_ftle import small_resnet, tanh_mlp

from ftle_widget import Plane, ftle_field, maximal_ftle
from ftle_widget.maths import parallel


def median_time(fn: Callable[[], object], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def in_caller(fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` with the batches run in this thread (as on a worker: ``workers()`` is 1)."""

    def run() -> object:
        parallel._local.worker = True
        try:
            return fn()
        finally:
            del parallel._local.worker

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    gen = torch.Generator().manual_seed(0)
    toy = tanh_mlp([2, 64, 64, 64, 64, 1], seed=0)
    wide = tanh_mlp([784, 256, 256, 10], seed=1)
    resnet = small_resnet(2)
    x_toy = torch.randn(1024, 2, generator=gen)
    x_wide = torch.randn(512, 784, generator=gen)
    x_res = torch.randn(16, 3, 32, 32, generator=gen)
    plane, square = Plane.standard(2), (-2.0, 2.0, -2.0, 2.0)
    cases: dict[str, Callable[[], object]] = {
        "toy 2-64x4-1 ftle_field 32x32": lambda: ftle_field(toy, plane, square, (32, 32)),
        "toy maximal_ftle 1024 points, reverse": lambda: maximal_ftle(
            toy, x_toy, method="reverse", batch_size=1024
        ),
        "wide 784-256x2-10 maximal_ftle 512 points": lambda: maximal_ftle(
            wide, x_wide, batch_size=512
        ),
        "resnet 3x32x32 maximal_ftle 16 points": lambda: maximal_ftle(resnet, x_res, batch_size=16),
    }
    print(f"threads {torch.get_num_threads()}, load average {os.getloadavg()}", flush=True)
    ratios = []
    for name, fn in cases.items():
        first = median_time(fn, args.repeats)
        caller = median_time(in_caller(fn), args.repeats)
        again = median_time(fn, args.repeats)
        worker = min(first, again)
        a, b = fn(), in_caller(fn)()
        same = isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and torch.equal(a, b)
        same = same or (hasattr(a, "ftle") and (a.ftle == b.ftle).all())
        ratios.append(worker / caller)
        print(
            f"{name:44s} worker (1 thread) {first * 1e3:8.1f} / {again * 1e3:8.1f} ms, caller "
            f"({torch.get_num_threads()} threads) {caller * 1e3:8.1f} ms, ratio "
            f"{worker / caller:5.2f}, bit-identical {bool(same)}",
            flush=True,
        )
    print(f"load average {os.getloadavg()}")
    print(f"lone_batch_ratio {math.exp(statistics.mean(map(math.log, ratios))):.2f}")


if __name__ == "__main__":
    main()
