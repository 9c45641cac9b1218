"""The fast copy of general modules: BatchNorm folded, channels_last, the model untouched."""

from __future__ import annotations

import pytest
import torch
from helpers import reference_ftle
from torch import nn

from ftle_widget import maximal_ftle
from ftle_widget.maths.exponents import Engine
from ftle_widget.maths.folding import agrees, fast_copy, fold_batchnorms


class Block(nn.Module):
    """A residual block: conv-BN-ReLU-conv-BN plus a projected (conv-BN) shortcut."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, 2, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        return torch.tanh(self.bn2(self.conv2(h)) + self.short(x))


class TinyResNet(nn.Module):
    def __init__(self, dtype=torch.float64, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.stem = nn.Conv2d(2, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.block = Block(4, 6)
        self.head = nn.Linear(6 * 4 * 4, 5)
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.normal_(0, 0.3)
                    m.running_var.uniform_(0.3, 2.0)
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.normal_(0, 0.2)
        self.to(dtype)

    def forward(self, x):
        h = self.block(torch.tanh(self.bn(self.stem(x))))
        return self.head(h.flatten(1))


def _x(n=6, dtype=torch.float64, seed=3):
    return torch.randn((n, 2, 8, 8), generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _state(model):
    return (
        {k: v.clone() for k, v in model.state_dict().items()},
        [m.training for m in model.modules()],
        [(p.requires_grad, p.is_contiguous()) for p in model.parameters()],
    )


def test_folded_copy_equals_the_model_and_leaves_it_untouched():
    model = TinyResNet()
    model.train()
    model.block.eval()  # mixed modes come back as they were
    before = _state(model)
    clone = model.__class__()
    clone.load_state_dict(model.state_dict())
    clone.eval()
    folded, count = fold_batchnorms(clone)
    assert count == 4 and not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    x = _x()
    with torch.no_grad():
        assert (folded(x) - model.eval()(x)).abs().max() < 1e-12
    model.train()
    model.block.eval()
    fast = fast_copy(model)
    assert fast is not None and fast is not model
    after = _state(model)
    for key, value in before[0].items():
        assert torch.equal(value, after[0][key]), key  # parameters and running stats bitwise
    assert before[1:] == after[1:]  # modes, requires_grad, memory format


@pytest.mark.parametrize("method", ["reverse", "lanczos"])
def test_exponents_with_batchnorm_match_the_dense_reference(method):
    model = TinyResNet()
    model.train()  # the engine runs it in eval mode
    before = _state(model)
    x = _x()
    with torch.no_grad():
        ref = reference_ftle(model.eval(), x, 5)[:, 0]  # stem, conv1, conv2, shortcut, head
    model.train()
    lam, v = maximal_ftle(model, x, layer="logits", method=method, direction=True)
    assert (lam - ref).abs().max() < 1e-10
    assert v.shape == x.shape
    after = _state(model)
    assert all(torch.equal(before[0][k], after[0][k]) for k in before[0])
    assert before[1:] == after[1:]
    lam32 = maximal_ftle(TinyResNet(torch.float32), x.float(), layer="logits", method=method)
    assert (lam32.double() - ref).abs().max() < 1e-5


def test_an_endpoint_inside_a_folded_pair_is_read_where_it_is():
    model = TinyResNet().eval()
    x = _x(n=4)
    for layer in ("block.conv2", "block.bn2", "bn"):
        module = model.get_submodule(layer)
        seen = []
        hook = module.register_forward_hook(lambda _m, _i, out, seen=seen: seen.append(out))

        def trunk(z, seen=seen):
            seen.clear()
            model(z)
            return seen[0]

        ref = reference_ftle(trunk, x, 1)[:, 0]
        hook.remove()
        lam = maximal_ftle(model, x, layer=layer, depth=1, method="lanczos")
        assert (lam - ref).abs().max() < 1e-10, layer


def test_the_engine_refolds_when_running_statistics_change():
    model = TinyResNet(torch.float32)
    x = _x(n=4, dtype=torch.float32)
    engine = Engine(model, layer="logits")
    first = engine.maximal(x)[0]
    assert engine._fast._held[torch.float32][1] is not None  # the fast copy is in use
    with torch.no_grad():
        model.bn.running_var.mul_(4)  # an in-place update, as a training step makes
    again = engine.maximal(x)[0]
    assert not torch.allclose(first, again)
    assert torch.equal(again, maximal_ftle(model, x, layer="logits"))


class Untraceable(nn.Module):
    """Data-dependent control flow (fx cannot trace it) and a view that channels_last breaks."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.conv = nn.Conv2d(2, 3, 3)
        self.bn = nn.BatchNorm2d(3)
        self.head = nn.Linear(3 * 6 * 6, 4)

    def forward(self, x):
        h = self.bn(self.conv(x))
        if float(h.detach().abs().max()) > 1e6:
            h = h / 2
        return self.head(torch.tanh(h).view(h.shape[0], -1))


def test_untraceable_and_layout_bound_models_fall_back_to_the_model():
    model = Untraceable().double().eval()
    assert fold_batchnorms(model)[1] == 0
    x = _x(n=5)
    engine = Engine(model, layer="logits")
    lam = engine.maximal(x)[0]
    assert engine._fast._held[torch.float64][1] is None  # channels_last breaks .view: not used
    ref = reference_ftle(model, x, 2)[:, 0]
    assert (lam - ref).abs().max() < 1e-10


def test_shared_convolutions_and_batch_statistics_are_not_folded():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1)
            self.bn = nn.BatchNorm2d(2)
            self.free = nn.BatchNorm2d(2, track_running_stats=False)

        def forward(self, x):
            return self.free(self.conv(self.bn(self.conv(x))))

    model = Shared().eval()
    folded, count = fold_batchnorms(model)
    assert count == 0 and folded is model


def test_agrees_compares_to_rounding():
    a = torch.tensor([1.0, 2.0, float("nan")], dtype=torch.float64)
    assert agrees(a, a + 1e-12)
    assert not agrees(a, a + 1e-6)
    assert not agrees(a, torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    assert not agrees(a, a[:2])


def test_vmapped_vjps_equal_the_graph_vjps(monkeypatch):
    from ftle_widget.maths import general

    model = TinyResNet()
    x = _x(n=5)
    graph = maximal_ftle(model, x, layer="logits", method="reverse", direction=True)
    monkeypatch.setattr(general, "graph_vjps", lambda device: False)  # the path GPUs take
    vmapped = maximal_ftle(model, x, layer="logits", method="reverse", direction=True)
    assert (graph[0] - vmapped[0]).abs().max() < 1e-12
    assert (graph[1] - vmapped[1]).abs().max() < 1e-9
