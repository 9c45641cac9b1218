"""maximal_ftle and ftle_spectrum against analytic cases and the dense autograd reference."""

from __future__ import annotations

import warnings

import pytest
import torch
from helpers import dense_jacobians, reference_ftle, tanh_mlp
from torch import nn

from ftle_widget import ftle_spectrum, maximal_ftle

METHODS = ["auto", "exact", "forward", "reverse", "lanczos"]


def _x(shape, n=12, seed=1, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn((n, *shape), generator=gen, dtype=dtype)


# ----------------------------------------------------------------------------- analytic


@pytest.mark.parametrize("method", METHODS)
def test_linear_network_is_constant_and_analytic(method):
    torch.manual_seed(0)
    layers = [nn.Linear(6, 5), nn.Linear(5, 7), nn.Linear(7, 4), nn.Linear(4, 3)]
    model = nn.Sequential(*layers).double()
    x = _x((6,), n=9)
    ws = [lin.weight.detach() for lin in layers]
    hidden = ws[2] @ ws[1] @ ws[0]  # last hidden layer: the input of the last Linear
    expected = torch.log(torch.linalg.svdvals(hidden)[0]) / 3
    lam = maximal_ftle(model, x, method=method)
    assert torch.allclose(lam, expected.expand(9), atol=1e-12, rtol=0)
    logits = torch.log(torch.linalg.svdvals(ws[3] @ hidden)[0]) / 4
    lam = maximal_ftle(model, x, layer="logits", method=method)
    assert torch.allclose(lam, logits.expand(9), atol=1e-12, rtol=0)


def test_identity_network_has_zero_exponent():
    model = nn.Sequential(nn.Linear(3, 3, bias=False), nn.Linear(3, 3, bias=False)).double()
    with torch.no_grad():
        for lin in model:
            lin.weight.copy_(torch.eye(3))
    assert maximal_ftle(model, _x((3,)), layer="logits").abs().max() < 1e-15


def test_scaled_identity_gives_log_scale():
    model = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.diag(torch.tensor([3.0, 0.5])))
        model[1].weight.copy_(torch.eye(2))
    lam, v = maximal_ftle(model, _x((2,)), direction=True)
    assert torch.allclose(lam, torch.full_like(lam, torch.log(torch.tensor(3.0)).item()))
    assert torch.allclose(v, torch.tensor([1.0, 0.0], dtype=torch.float64).expand_as(v))


# ----------------------------------------------------------------------------- reference

MLPS = [
    ([2, 50, 50, 50, 50, 1], "paper toy (d=2)"),
    ([30, 20, 20, 20, 10], "n < d"),
    ([5, 40, 40, 3], "d < n"),
    ([70, 80, 80, 80, 5], "both large: lanczos"),
]


@pytest.mark.parametrize("sizes,_name", MLPS)
@pytest.mark.parametrize("method", METHODS)
def test_tanh_mlp_matches_dense_reference_float64(sizes, _name, method):
    model = tanh_mlp(sizes, seed=3)
    x = _x((sizes[0],), n=10)
    hidden_layers = len(sizes) - 2
    ref = reference_ftle(model[:-1], x, hidden_layers)
    lam = maximal_ftle(model, x, method=method)
    assert lam.dtype == torch.float64
    assert (lam - ref[:, 0]).abs().max() < 1e-10


@pytest.mark.parametrize("sizes,_name", MLPS)
@pytest.mark.parametrize("method", ["auto", "lanczos"])
def test_tanh_mlp_float32_within_1e5(sizes, _name, method):
    model64 = tanh_mlp(sizes, seed=4)
    x = _x((sizes[0],), n=16)
    ref = reference_ftle(model64[:-1], x, len(sizes) - 2)[:, 0]
    lam = maximal_ftle(model64.float(), x.float(), method=method)
    assert lam.dtype == torch.float32
    assert (lam.double() - ref).abs().max() < 1e-5  # the documented float32 bound (Lanczos)


def small_cnn(dtype=torch.float64, pool=False):
    torch.manual_seed(5)
    layers = [nn.Conv2d(1, 4, 3), nn.Tanh()]
    layers += [nn.MaxPool2d(2)] if pool else [nn.Conv2d(4, 6, 3, stride=2), nn.Tanh()]
    flat = 4 * 3 * 3 if pool else 6 * 2 * 2
    layers += [nn.Flatten(), nn.Linear(flat, 12), nn.Tanh(), nn.Linear(12, 3)]
    return nn.Sequential(*layers).to(dtype)


@pytest.mark.parametrize("pool", [False, True], ids=["conv-chain", "with-maxpool(torch.func)"])
@pytest.mark.parametrize("method", METHODS)
def test_cnn_on_8x8_images(pool, method):
    model = small_cnn(pool=pool)
    x = torch.rand((8, 1, 8, 8), generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    ref = reference_ftle(model[:-1], x, 2 if pool else 3)[:, 0]  # affine layers to the end
    lam, v = maximal_ftle(model, x, method=method, direction=True)
    assert (lam - ref).abs().max() < 1e-10
    assert v.shape == x.shape
    lam32 = maximal_ftle(model.float(), x.float(), method=method)
    assert (lam32.double() - ref).abs().max() < 1e-5


class Residual(nn.Module):
    """A model with a non-Sequential forward (skip connection, functional activations)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(6)
        self.inp = nn.Linear(4, 16)
        self.block = nn.Linear(16, 16)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        h = torch.tanh(self.inp(x))
        h = h + torch.sin(self.block(h))
        return self.head(h)


@pytest.mark.parametrize("method", METHODS)
def test_non_sequential_model(method):
    model = Residual().double()
    x = _x((4,), n=10)

    def trunk(z):
        h = torch.tanh(model.inp(z))
        return model.block(h)

    ref = reference_ftle(trunk, x, 2)[:, 0]
    lam = maximal_ftle(model, x, layer="block", method=method)
    assert (lam - ref).abs().max() < 1e-10
    ref_logits = reference_ftle(model, x, 3)[:, 0]
    lam = maximal_ftle(model, x, layer="logits", method=method)
    assert (lam - ref_logits).abs().max() < 1e-10

    def last_hidden(z):  # the input of head
        h = torch.tanh(model.inp(z))
        return h + torch.sin(model.block(h))

    ref_hidden = reference_ftle(last_hidden, x, 2)[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lam = maximal_ftle(model, x, method=method)  # the input of head, found without a warning
    assert (lam - ref_hidden).abs().max() < 1e-10


# ----------------------------------------------------------------------------- layers, depth


def test_layer_rules_for_sequential():
    model = tanh_mlp([3, 10, 10, 10, 2], seed=7)  # L = 3 hidden layers
    x = _x((3,))
    last = maximal_ftle(model, x)
    assert torch.equal(last, maximal_ftle(model, x, layer=3))
    assert torch.equal(last, maximal_ftle(model, x, layer=-1))
    assert torch.equal(last, maximal_ftle(model, x, layer="5"))  # the Tanh feeding Linear 4
    for ell in (1, 2, 3):
        ref = reference_ftle(model[: 2 * ell], x, ell)[:, 0]
        assert (maximal_ftle(model, x, layer=ell) - ref).abs().max() < 1e-10
    ref = reference_ftle(model, x, 4)[:, 0]
    assert (maximal_ftle(model, x, layer="logits") - ref).abs().max() < 1e-10


def test_depth_defaults_and_explicit_depth():
    model = tanh_mlp([3, 10, 10, 10, 2], seed=7)
    x = _x((3,))
    for layer, depth in ((1, 1), (2, 2), (None, 3), ("logits", 4), ("probabilities", 4)):
        log_stretch = maximal_ftle(model, x, layer=layer, depth=1)
        assert torch.allclose(maximal_ftle(model, x, layer=layer) * depth, log_stretch)
        assert torch.allclose(maximal_ftle(model, x, layer=layer, depth=2.5) * 2.5, log_stretch)


def test_probabilities_softmax_and_sigmoid():
    model = tanh_mlp([3, 10, 10, 4], seed=8)
    x = _x((3,))
    ref = reference_ftle(lambda z: torch.softmax(model(z), dim=1), x, 3)[:, 0]
    for method in METHODS:
        lam = maximal_ftle(model, x, layer="probabilities", method=method)
        assert (lam - ref).abs().max() < 1e-10
    single = tanh_mlp([3, 10, 10, 1], seed=9)
    ref = reference_ftle(lambda z: torch.sigmoid(single(z)), x, 3)[:, 0]
    assert (maximal_ftle(single, x, layer="probabilities") - ref).abs().max() < 1e-10


def test_nested_sequential_names_and_dropout():
    torch.manual_seed(10)
    model = nn.Sequential(
        nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Dropout(0.5)),
        nn.Sequential(nn.Linear(8, 8), nn.ReLU()),
        nn.Linear(8, 2),
    ).double()
    x = _x((3,))
    lam = maximal_ftle(model, x)  # hidden layer 2: the ReLU "1.1"
    assert torch.equal(lam, maximal_ftle(model, x, layer="1.1"))
    assert torch.equal(lam, maximal_ftle(model, x, layer="1"))  # the block's output
    model.eval()
    ref = reference_ftle(model[:2], x, 2)[:, 0]
    assert (lam - ref).abs().max() < 1e-10


@pytest.mark.parametrize(
    "act", [nn.ReLU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Softplus, nn.ELU, nn.LeakyReLU]
)
def test_other_elementwise_activations(act):
    torch.manual_seed(11)
    model = nn.Sequential(nn.Linear(3, 12), act(), nn.Linear(12, 12), act(), nn.Linear(12, 2))
    model = model.double()
    x = _x((3,))
    ref = reference_ftle(model[:4], x, 2)[:, 0]
    for method in ("forward", "reverse", "lanczos"):
        assert (maximal_ftle(model, x, method=method) - ref).abs().max() < 1e-10


# ----------------------------------------------------------------------------- directions


@pytest.mark.parametrize(
    "sizes", [[2, 30, 30, 1], [12, 20, 20, 5], [5, 40, 40, 3], [70, 80, 80, 5]]
)
@pytest.mark.parametrize("method", METHODS)
def test_direction_is_top_right_singular_vector(sizes, method):
    model = tanh_mlp(sizes, seed=12)
    x = _x((sizes[0],), n=8)
    lam, v = maximal_ftle(model, x, direction=True, method=method)
    assert v.shape == x.shape
    assert torch.allclose(v.norm(dim=1), torch.ones(8, dtype=torch.float64), atol=1e-12)
    jac = dense_jacobians(model[:-1], x)
    stretch = (jac @ v[:, :, None])[:, :, 0].norm(dim=1)
    assert torch.allclose(stretch, torch.exp(lam * (len(sizes) - 2)), rtol=1e-9, atol=0)
    # sign rule: the entry of largest magnitude is positive
    idx = v.abs().argmax(dim=1)
    assert (v[torch.arange(8), idx] > 0).all()


# ----------------------------------------------------------------------------- spectrum


@pytest.mark.parametrize("sizes", [[2, 20, 20, 1], [12, 20, 20, 5], [4, 30, 30, 30, 3]])
def test_spectrum_matches_reference_and_is_descending(sizes):
    model = tanh_mlp(sizes, seed=13)
    x = _x((sizes[0],), n=6)
    k = min(sizes[0], sizes[-2])
    spec = ftle_spectrum(model, x, k)
    assert spec.shape == (6, k)
    ref = reference_ftle(model[:-1], x, len(sizes) - 2, k=k)
    assert (spec - ref).abs().max() < 1e-10
    assert (spec[:, :-1] >= spec[:, 1:]).all()
    assert torch.allclose(spec[:, 0], maximal_ftle(model, x), atol=1e-12)
    with pytest.raises(ValueError, match="at most"):
        ftle_spectrum(model, x, k + 1)


def test_spectrum_float32_and_cnn():
    model = small_cnn()
    x = torch.rand((4, 1, 8, 8), generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    ref = reference_ftle(model[:-1], x, 3, k=3)
    assert (ftle_spectrum(model, x, 3) - ref).abs().max() < 1e-10
    spec32 = ftle_spectrum(model.float(), x.float(), 3)
    assert (spec32.double() - ref).abs().max() < 1e-5


# ----------------------------------------------------------------------------- state, dtypes


def test_model_state_is_untouched():
    torch.manual_seed(14)
    model = nn.Sequential(
        nn.Linear(3, 8), nn.Tanh(), nn.Dropout(0.3), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 2)
    )
    model.train()
    model[3].eval()  # mixed modes must come back as they were
    before = {k: v.clone() for k, v in model.state_dict().items()}
    modes = [m.training for m in model.modules()]
    x = torch.randn(20, 3)
    a = maximal_ftle(model, x)
    b = maximal_ftle(model, x)
    assert torch.equal(a, b)  # dropout is off: eval mode during the computation
    assert [m.training for m in model.modules()] == modes
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    assert all(p.grad is None and p.requires_grad for p in model.parameters())
    maximal_ftle(model, x.double())  # float64 inputs use a converted copy
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_float64_inputs_on_float32_model_give_float64():
    model64 = tanh_mlp([3, 20, 20, 2], seed=15)
    model32 = tanh_mlp([3, 20, 20, 2], seed=15, dtype=torch.float32)
    x = _x((3,))
    lam = maximal_ftle(model32, x)
    assert lam.dtype == torch.float64
    ref = maximal_ftle(model64.float().double(), x)
    assert (lam - ref).abs().max() < 1e-12


@pytest.mark.parametrize("method", ["forward", "reverse", "lanczos"])
def test_batching_does_not_change_results(method):
    model = tanh_mlp([70, 80, 80, 4], seed=16)
    x = _x((70,), n=23)
    whole = maximal_ftle(model, x, method=method)
    small = maximal_ftle(model, x, method=method, batch_size=4)
    assert (whole - small).abs().max() < 1e-11
    assert maximal_ftle(model, x[:0]).shape == (0,)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("method", METHODS)
def test_gpu_matches_cpu(method):
    for sizes in ([2, 50, 50, 50, 1], [784, 20, 20, 20, 10], [100, 120, 120, 10]):
        model = tanh_mlp(sizes, seed=17, dtype=torch.float32)
        x = torch.rand((300, sizes[0]), generator=torch.Generator().manual_seed(4))
        cpu, vcpu = maximal_ftle(model, x, method=method, direction=True)
        gpu, vgpu = maximal_ftle(model.cuda(), x.cuda(), method=method, direction=True)
        assert gpu.device.type == "cuda" and vgpu.device.type == "cuda"
        assert (gpu.cpu() - cpu).abs().max() < 1e-4
        agree = (vgpu.cpu() * vcpu).sum(dim=1).abs()  # same direction (ties aside)
        assert (agree > 0.999).float().mean() > 0.99
        model64 = model.double()
        gpu64 = maximal_ftle(model64, x.double().cuda(), method=method)
        cpu64 = maximal_ftle(model64.cpu(), x.double(), method=method)
        assert (gpu64.cpu() - cpu64).abs().max() < 1e-10
    cnn = small_cnn(dtype=torch.float32)
    x = torch.rand((64, 1, 8, 8))
    on_gpu = maximal_ftle(cnn.cuda(), x.cuda()).cpu()
    assert (on_gpu - maximal_ftle(cnn.cpu(), x)).abs().max() < 1e-4


def test_half_precision_inputs_are_computed_in_float32():
    model = tanh_mlp([3, 20, 20, 2], seed=18, dtype=torch.float32)
    x = _x((3,), dtype=torch.float32)
    lam = maximal_ftle(model.half(), x.half())
    assert lam.dtype == torch.float32
    # .half() rounded the weights in place: the float32 copy of them, the same computation
    ref = maximal_ftle(model.float(), x.half().float())
    assert torch.equal(lam, ref)


def test_engine_follows_weight_changes_between_calls():
    from ftle_widget.maths.exponents import Engine

    mlp_model = tanh_mlp([30, 12, 12, 3], seed=19, dtype=torch.float32)  # reverse: P Pᵀ cached
    cnn = small_cnn(dtype=torch.float32)  # convolutions written out as matrices
    for model, shape in ((mlp_model, (30,)), (cnn, (1, 8, 8))):
        x = torch.rand((6, *shape), generator=torch.Generator().manual_seed(5))
        engine = Engine(model)
        engine.maximal(x)
        engine.maximal(x.double())  # a float64 copy is made
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(1.3)  # an in-place "training step"
        for xx in (x, x.double()):
            fresh = maximal_ftle(model, xx)
            assert torch.equal(engine.maximal(xx)[0], fresh)
