"""CPU batches on single-threaded workers: order, thread counts, grad mode, same results."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from helpers import reference_ftle, tanh_mlp
from torch import nn

from ftle_widget.maths import parallel
from ftle_widget.maths.exponents import Engine


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_workers_run_one_thread_each_and_leave_the_default(two_threads):
    def work(start: int) -> tuple[int, int, bool, str]:
        name = threading.current_thread().name
        return start, torch.get_num_threads(), torch.is_grad_enabled(), name

    with torch.no_grad():
        done = parallel.run_batches(work, range(0, 50, 10), torch.device("cpu"))
    assert [d[0] for d in done] == [0, 10, 20, 30, 40]  # in order
    assert all(d[1] == 1 and not d[2] and d[3].startswith("ftle-batch") for d in done)
    assert torch.get_num_threads() == 2  # the caller's count and the process default stay
    fresh = ThreadPoolExecutor(1).submit(torch.get_num_threads).result()
    assert fresh == 2
    nested = parallel.run_batches(
        lambda s: parallel.run_batches(work, [s], torch.device("cpu"))[0], [0], torch.device("cpu")
    )
    assert nested[0][3].startswith("ftle-batch")  # a worker runs its own batches inline
    assert parallel.workers(torch.device("meta")) == 1


@pytest.mark.parametrize("activation", [None, nn.GELU, lambda: nn.ReLU(inplace=True)])
def test_results_do_not_depend_on_the_workers(two_threads, monkeypatch, activation):
    model = tanh_mlp([30, 40, 40, 5], seed=3)
    if activation is not None:  # slopes of other activations come from autograd, in workers
        model = nn.Sequential(*[activation() if isinstance(m, nn.Tanh) else m for m in model])
    x = torch.randn((37, 30), generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    ref = reference_ftle(model[:-1], x, 2)[:, 0]
    for method in ("reverse", "lanczos"):
        pooled = Engine(model, method=method, batch_size=4).maximal(x, direction=True)
        monkeypatch.setattr(parallel, "_local", type("Worker", (), {"worker": True})())
        inline = Engine(model, method=method, batch_size=4).maximal(x, direction=True)
        monkeypatch.undo()
        assert torch.allclose(pooled[0], inline[0], rtol=0, atol=1e-13)
        assert (pooled[0] - ref).abs().max() < 1e-10
        assert pooled[1] is not None and inline[1] is not None
        assert torch.allclose(pooled[1], inline[1], rtol=0, atol=1e-10)


def test_general_modules_in_forward_mode_stay_in_the_callers_thread(two_threads):
    class Bent(nn.Module):  # a general module: forward mode runs torch.func.jvp
        def __init__(self):
            super().__init__()
            torch.manual_seed(4)
            self.a, self.b = nn.Linear(2, 9), nn.Linear(9, 4)

        def forward(self, x):
            return self.b(torch.sin(self.a(x)))

    model = Bent().double()
    x = torch.randn((11, 2), generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    engine = Engine(model, layer="logits", method="forward", batch_size=2)
    with ThreadPoolExecutor(2) as pool:  # two calls at once, as a view and its scheduler make
        done = list(pool.map(lambda _: engine.maximal(x)[0], range(4)))
    ref = reference_ftle(model, x, 2)[:, 0]
    assert all((lam - ref).abs().max() < 1e-12 for lam in done)
