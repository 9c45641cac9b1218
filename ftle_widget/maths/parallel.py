"""Batches on CPU worker threads, one intra-op thread each.

Small kernels split over several OpenMP threads stall whenever another process holds a core: each
parallel region waits for its slowest thread, so a busy machine slowed the engine 10–30× where
the larger kernels of ``vmap(jacrev)`` slowed much less. Independent batches on single-threaded
workers degrade gracefully instead, and on a quiet machine run as fast. The workers are started
once per process; their thread count is thread-local (OpenMP, MKL), and the process default that
``torch.set_num_threads`` also sets is restored at once. A call with a single batch runs it on one
worker too: handing it all threads instead was 2–25× slower on a busy 2-core machine, with the
same values (``benchmarks/bench_lone_batch.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import torch

T = TypeVar("T")

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_local = threading.local()


def _start_worker() -> None:
    _local.worker = True
    torch.set_num_threads(1)
    torch.get_num_threads()  # torch fixes a thread's count at its first use: now, at one


def _workers(count: int) -> ThreadPoolExecutor:
    """The pool, with at least ``count`` started workers."""
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < count:
            threads = torch.get_num_threads()
            old, _pool = _pool, ThreadPoolExecutor(count, "ftle-batch", _start_worker)
            barrier = threading.Barrier(count)  # every worker started (and set) before ...
            list(_pool.map(lambda _: barrier.wait(timeout=60), range(count)))
            torch.set_num_threads(threads)  # ... the process default is restored
            _pool_size = count
            if old is not None:
                old.shutdown(wait=False)
        return _pool


def workers(device: torch.device) -> int:
    """How many batches run at once on ``device``: one per intra-op thread of the caller on the
    CPU (1 on a worker itself, so that nested calls do not wait on their own pool)."""
    if device.type != "cpu" or getattr(_local, "worker", False):
        return 1
    return max(1, torch.get_num_threads())


def run_batches(
    work: Callable[[int], T], starts: Sequence[int], device: torch.device, parallel: bool = True
) -> list[T]:
    """``[work(s) for s in starts]``, on single-threaded CPU workers (in the caller's grad mode)
    where ``parallel`` and the caller has more than one intra-op thread, else in this thread.
    One batch, too, runs on one thread: a point's result does not depend on how many share its
    call."""
    count = workers(device) if parallel else 1
    if count <= 1:
        return [work(s) for s in starts]
    grad = torch.is_grad_enabled()

    def task(start: int) -> T:
        with torch.set_grad_enabled(grad):
            return work(start)

    return list(_workers(count).map(task, starts))
