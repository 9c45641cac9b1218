"""layer=None on any module: the input of the last affine call (ResNet, transformer, conv heads,
shared and functional layers), its depth, the model left as it was; input_shape= for fields."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import SmallResNet, SmallTransformer, assert_untouched, module_state, reference_ftle
from torch import nn

from ftle_widget import Plane, ftle_field, maximal_ftle
from ftle_widget.maths.exponents import Engine
from ftle_widget.maths.planes import default_plane

F64 = torch.float64


def images(n: int = 5, shape=(3, 8, 8), seed: int = 3) -> torch.Tensor:
    return torch.randn((n, *shape), generator=torch.Generator().manual_seed(seed), dtype=F64)


def attention_switches() -> tuple:
    return (
        torch.backends.mha.get_fastpath_enabled(),
        torch.backends.cuda.flash_sdp_enabled(),
        torch.backends.cuda.mem_efficient_sdp_enabled(),
        torch.backends.cuda.math_sdp_enabled(),
    )


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_resnet_reads_the_pooled_features_entering_fc(mode):
    model = SmallResNet().train(mode == "train")
    reference = copy.deepcopy(model).eval()  # the engine evaluates in eval mode
    x = images()
    before = module_state(model)
    engine = Engine(model)
    lam, _, _ = engine.maximal(x)
    ref = reference_ftle(reference.features, x, 3)[:, 0]
    assert (lam - ref).abs().max() < 1e-10
    assert engine.endpoint.description == "input of fc (last hidden layer)"
    assert engine.depth == 3  # stem, conv1, conv2
    torch.testing.assert_close(maximal_ftle(model, x), lam, rtol=0, atol=0)
    assert_untouched(model, before)  # modes, BatchNorm statistics, weights; no hooks left
    assert all(m.training == (mode == "train") for m in model.modules())


@pytest.mark.parametrize("mode,method", [("eval", "auto"), ("eval", "forward"), ("train", "auto")])
def test_transformer_reads_the_mean_pooled_features_entering_its_head(mode, method):
    model = SmallTransformer().train(mode == "train")
    reference = copy.deepcopy(model).eval()  # no dropout
    x = images(4, (4, 16))
    before, switches = module_state(model), attention_switches()
    engine = Engine(model, method=method)  # forward mode: JVPs through the attention
    lam, _, _ = engine.maximal(x)
    ref = reference_ftle(reference.features, x, 4)[:, 0]
    assert (lam - ref).abs().max() < 1e-10
    assert engine.endpoint.description == "input of head (last hidden layer)"
    assert engine.depth == 4  # attention's input and output projections, linear1, linear2
    assert_untouched(model, before)
    assert attention_switches() == switches  # torch's attention switches restored


class ConvHead(nn.Module):
    """A fully convolutional classifier: a 1×1 convolution head, then global pooling."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(4)
        self.body = nn.Conv2d(2, 4, 3, padding=1)
        self.head = nn.Conv2d(4, 3, 1)
        self.double()

    def forward(self, x):
        return self.head(torch.tanh(self.body(x))).mean(dim=(2, 3))


def test_a_one_by_one_conv_head_is_the_last_affine_layer():
    model = ConvHead()
    x = images(4, (2, 4, 4))
    engine = Engine(model)
    lam, _, _ = engine.maximal(x)
    ref = reference_ftle(lambda z: torch.tanh(model.body(z)), x, 1)[:, 0]
    assert (lam - ref).abs().max() < 1e-10
    assert engine.endpoint.description == "input of head (last hidden layer)"
    assert engine.depth == 1


class Shared(nn.Module):
    """``a`` called twice; ``ends``: "b" (a Linear head), "a" (``a`` is the head too) or
    "functional" (an F.linear head); ``start`` "functional" makes the first layer F.linear."""

    def __init__(self, ends: str = "b", start: str = "a"):
        super().__init__()
        torch.manual_seed(5)
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 2)
        self.w = nn.Parameter(torch.randn(4, 4) / 2)
        self.ends, self.start = ends, start
        self.double()

    def hidden(self, x):
        h = torch.tanh(F.linear(x, self.w) if self.start == "functional" else self.a(x))
        return h if self.ends == "a" else torch.tanh(self.a(h))

    def forward(self, x):
        h = self.hidden(x)
        if self.ends == "functional":
            return F.linear(h, self.b.weight)
        return self.a(h) if self.ends == "a" else self.b(h)


@pytest.mark.parametrize(
    "ends,start,described,depth",
    [
        ("b", "a", "input of b (last hidden layer)", 2),
        ("a", "a", "input of a at its call 2 of 2 (last hidden layer)", 1),
        ("b", "functional", "input of b (last hidden layer)", 2),  # F.linear counts
        ("functional", "a", "input of F.linear (affine call 3, last hidden layer)", 2),
    ],
)
def test_shared_and_functional_layers_before_the_last_one(ends, start, described, depth):
    model = Shared(ends, start)
    x = images(6, (4,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        engine = Engine(model)
        lam, _, _ = engine.maximal(x)
    assert (engine.endpoint.description, engine.depth) == (described, depth)
    ref = reference_ftle(model.hidden, x, depth)[:, 0]
    assert (lam - ref).abs().max() < 1e-10


class AttentionLast(nn.Module):
    """A Linear layer, then self-attention (two affine calls no hook can read), pooled."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(6)
        self.a = nn.Linear(4, 4)
        self.att = nn.MultiheadAttention(4, 1, batch_first=True)
        self.double()

    def forward(self, x):
        h = torch.tanh(self.a(x))
        return self.att(h, h, h, need_weights=False)[0].mean(dim=1)


class NoAffine(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=F64))

    def forward(self, x):
        return torch.tanh(x) * self.scale


@pytest.mark.parametrize(
    "model,problem",
    [(AttentionLast(), "in attention 'att"), (NoAffine(), "no affine layer")],
)
def test_where_no_last_hidden_layer_can_be_read_the_logits_are_with_a_warning(model, problem):
    x = images(3, (3, 4) if isinstance(model, AttentionLast) else (4,))
    engine = Engine(model)
    with pytest.warns(UserWarning, match=rf"{problem}.*using layer='logits'"):
        lam, _, _ = engine.maximal(x)
    assert engine.endpoint.description == "logits (the model's output)"
    depth = 3 if isinstance(model, AttentionLast) else 1
    assert engine.depth == depth
    assert (lam - reference_ftle(model, x, depth)[:, 0]).abs().max() < 1e-10


class Trunk(nn.Module):
    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.fc = nn.Linear(n_in, n_out)

    def forward(self, x):
        return torch.tanh(self.fc(x))


def test_a_sequential_of_blocks_reads_the_input_of_the_last_linear_inside_them():
    torch.manual_seed(2)
    model = nn.Sequential(Trunk(4, 6), Trunk(6, 6), nn.Sequential(nn.Linear(6, 3))).double()
    x = images(4, (4,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        engine = Engine(model)
        lam, _, _ = engine.maximal(x)
    assert engine.endpoint.description == "input of 2.0 (last hidden layer)"
    assert engine.depth == 2
    assert (lam - reference_ftle(model[:2], x, 2)[:, 0]).abs().max() < 1e-10


def test_ftle_field_takes_input_shape_for_the_default_plane():
    model = SmallResNet()
    extent = (-1.0, 1.0, -0.5, 0.5)
    with pytest.raises(
        ValueError, match=r"input shape: pass input_shape= \(.*input_shape=\(3, 32, 32\)"
    ):
        ftle_field(model, extent=extent, shape=(2, 3))
    field = ftle_field(model, extent=extent, shape=(2, 3), input_shape=(3, 8, 8))
    plane = default_plane((3, 8, 8))
    assert field.endpoint == "input of fc (last hidden layer)" and field.depth == 3
    us, vs = np.meshgrid([-2 / 3, 0, 2 / 3], [-0.25, 0.25])
    x = plane.to_input(np.stack([us.ravel(), vs.ravel()], axis=1))
    ref = reference_ftle(copy.deepcopy(model).eval().features, x, 3)[:, 0]
    np.testing.assert_allclose(field.ftle.ravel(), ref.numpy(), rtol=1e-6)
    same = ftle_field(model, plane, extent, (2, 3))
    np.testing.assert_array_equal(same.ftle, field.ftle)
    with pytest.raises(ValueError, match="plane lives in inputs shaped"):
        ftle_field(model, Plane.standard((3, 8, 8)), extent, (2, 2), input_shape=(3, 4, 4))
    with pytest.raises(ValueError, match="expects inputs shaped"):  # the first conv fixes 1 channel
        ftle_field(nn.Sequential(nn.Conv2d(1, 2, 3)), input_shape=(3, 8, 8))
    with pytest.raises(ValueError, match="positive ints"):
        ftle_field(model, input_shape=(3, 0, 8))
