"""The GPU path, wherever a CUDA device is lent (skipped elsewhere; `pytest -m cuda` runs only
these): the device= arguments, inputs on another device than the model, general modules and
Lanczos on CUDA, the scheduler and the widget computing their tiles there. Float32 on a GPU
differs from the CPU by its kernels' rounding (cuDNN convolutions may use TF32): 1e-4; float64
by 1e-10."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from helpers import SmallResNet, browser_sends, tanh_mlp

from ftle_widget import FTLEView, Plane, ftle_field, maximal_ftle
from ftle_widget.lazy.pyramid import View
from ftle_widget.lazy.scheduler import TileScheduler
from ftle_widget.paper.models import mlp

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]
SQUARE = (-1.5, 1.5, -1.5, 1.5)


def test_ftle_field_with_device_cuda_matches_the_cpu():
    model = mlp(2, 20, 6, 1, seed=3)
    on_gpu = ftle_field(model, Plane.standard(2), SQUARE, (48, 40), device="cuda", directions=True)
    on_cpu = ftle_field(model, Plane.standard(2), SQUARE, (48, 40), directions=True)
    assert next(model.parameters()).device.type == "cpu"  # a copy went to the GPU
    np.testing.assert_allclose(on_gpu.ftle, on_cpu.ftle, rtol=0, atol=1e-4)
    assert (on_gpu.prediction == on_cpu.prediction).mean() > 0.99
    agree = np.abs((on_gpu.direction * on_cpu.direction).sum(-1))
    assert (agree > 0.999).mean() > 0.99
    model64 = mlp(2, 20, 6, 1, seed=3).double()
    a = ftle_field(model64, Plane.standard(2), SQUARE, (16, 16), device="cuda")
    b = ftle_field(model64, Plane.standard(2), SQUARE, (16, 16))
    np.testing.assert_allclose(a.ftle, b.ftle, rtol=0, atol=1e-6)  # float32 arrays out


def test_inputs_on_another_device_than_the_model():
    model = tanh_mlp([5, 30, 30, 3], seed=4, dtype=torch.float32).cuda()
    x = torch.rand((50, 5), generator=torch.Generator().manual_seed(1))
    from_cpu = maximal_ftle(model, x)  # computed where the model is, returned where x is
    assert from_cpu.device.type == "cpu"
    on_gpu = maximal_ftle(model, x.cuda())
    assert on_gpu.device.type == "cuda"
    assert torch.equal(from_cpu, on_gpu.cpu())


@pytest.mark.parametrize("method", ["forward", "reverse", "lanczos"])
def test_general_modules_and_lanczos_on_cuda(method):
    resnet = SmallResNet().eval()
    x = torch.rand((16, 3, 32, 32), generator=torch.Generator().manual_seed(2))
    cpu = maximal_ftle(resnet, x, method=method if method != "forward" else "auto")
    gpu = maximal_ftle(resnet.cuda(), x.cuda(), method=method if method != "forward" else "auto")
    assert (gpu.cpu() - cpu).abs().max() < 1e-4
    wide = tanh_mlp([784, 300, 300, 200], seed=5, dtype=torch.float64)
    x = torch.rand((8, 784), dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    ref = maximal_ftle(wide, x, method="exact")
    gpu = maximal_ftle(wide.cuda(), x.cuda(), method=method)
    assert (gpu.cpu() - ref).abs().max() < 1e-9


def test_the_scheduler_computes_its_tiles_on_cuda():
    model = mlp(2, 16, 4, 1, seed=6)
    tiles, errors, lock = [], [], threading.Lock()

    def keep(tile):
        with lock:
            tiles.append(tile)

    sched = TileScheduler(
        model, Plane.standard(2), device="cuda", tile_px=16, base_side=1.0, margin=0,
        coarse_levels=0, preview_seconds=None, on_tile=keep,
        on_error=lambda key, message, generation: errors.append(message),
    )  # fmt: skip
    try:
        sched.request(View((0.0, 3.0, 0.0, 3.0), 48, 48), 0)
        assert sched.wait(120)
        assert not errors and len(tiles) == 9
        for tile in tiles:
            field = ftle_field(model, Plane.standard(2), tile.extent, (16, 16))
            np.testing.assert_allclose(tile.ftle, field.ftle, rtol=0, atol=1e-4)
    finally:
        sched.close()


def test_the_widget_on_cuda_sends_the_cpus_field():
    model = mlp(2, 10, 4, 1, seed=0)
    view = FTLEView(model, device="cuda", show_data=False)
    sent = []
    view.send = lambda content, buffers=None: sent.append((content, buffers or []))
    try:
        browser_sends(
            view,
            {"kind": "view", "generation": 1, "extent": list(SQUARE), "width": 64, "height": 64},
        )
        assert view.scheduler.wait(120)
        assert not view.error
        assert any(m["kind"] == "tile" for m, _ in sent)
        shown = view.field((32, 32))
        cpu = ftle_field(model, view.plane, view.visible_extent, (32, 32))
        np.testing.assert_allclose(shown.ftle, cpu.ftle, rtol=0, atol=1e-4)
    finally:
        view.close()
