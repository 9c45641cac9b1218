"""Layers written as products in forward (``h @ W``, ``torch.matmul``, ``F.linear``, ``einsum``,
``addmm``, functional convolutions): the last one is the last affine layer, whose input is read
exactly; the ones before count in the depth; products of two data factors do not; a product that
cannot be read is an error naming layer=."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
import torch.nn.functional as F
from helpers import SmallResNet, assert_untouched, module_state, reference_ftle
from torch import nn

from ftle_widget import maximal_ftle
from ftle_widget.maths import general
from ftle_widget.maths.exponents import Engine

F64 = torch.float64


def batch(n: int = 6, shape=(4,), seed: int = 7) -> torch.Tensor:
    return torch.randn((n, *shape), generator=torch.Generator().manual_seed(seed), dtype=F64)


class WrittenHead(nn.Module):
    """``a`` (nn.Linear, tanh), then a head written as a product of the hidden features and the
    parameters ``W`` (6 × 3) and ``bias`` in the way ``how`` names."""

    def __init__(self, how: str):
        super().__init__()
        torch.manual_seed(8)
        self.a = nn.Linear(4, 6)
        self.W = nn.Parameter(torch.randn(6, 3) / 2)
        self.bias = nn.Parameter(torch.randn(3) / 4)
        self.register_buffer("mask", (torch.rand(6, 3) > 0.3).double())
        self.how = how
        self.double()

    def hidden(self, x):
        return torch.tanh(self.a(x))

    def forward(self, x):
        h, W, b = self.hidden(x), self.W, self.bias
        return {
            "@": lambda: h @ W + b,
            "matmul": lambda: torch.matmul(h, W) + b,
            "Tensor.matmul": lambda: h.matmul(W),
            "F.linear": lambda: F.linear(h, W.T, b),
            "F.linear keywords": lambda: F.linear(input=h, weight=W.t(), bias=b),
            "einsum": lambda: torch.einsum("bi,io->bo", h, W),
            "einsum, weight first": lambda: torch.einsum("io,bi->bo", W, h),
            "addmm": lambda: torch.addmm(b, h, W),
            "mm": lambda: torch.mm(h, W),
            "W from parameters and a buffer": lambda: h @ (2.0 * W * self.mask),
            "W cast like h": lambda: F.linear(h, W.T.to(h), b.type_as(h)) + h.new_zeros(3),
            "column vectors": lambda: (W.T @ h[:, :, None])[:, :, 0],
        }[self.how]()


FORMS = [
    ("@", "@"),
    ("matmul", "torch.matmul"),
    ("Tensor.matmul", "@"),
    ("F.linear", "F.linear"),
    ("F.linear keywords", "F.linear"),
    ("einsum", "torch.einsum"),
    ("einsum, weight first", "torch.einsum"),
    ("addmm", "torch.addmm"),
    ("mm", "torch.mm"),
    ("W from parameters and a buffer", "@"),
    ("W cast like h", "F.linear"),
    ("column vectors", "@"),
]


@pytest.mark.parametrize("how,shown", FORMS, ids=[f for f, _ in FORMS])
def test_a_written_head_is_the_last_affine_layer(how, shown):
    model = WrittenHead(how)
    x = batch()
    before = module_state(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        engine = Engine(model)
        lam, _, _ = engine.maximal(x)
    assert engine.endpoint.description == f"input of {shown} (affine call 2, last hidden layer)"
    assert engine.depth == 1
    ref = reference_ftle(model.hidden, x, 1)[:, 0]
    assert (lam - ref).abs().max() < 1e-12
    assert_untouched(model, before)
    assert torch._C._len_torch_function_stack() == 0  # no mode left behind


@pytest.mark.parametrize("method", ["forward", "reverse", "lanczos", "reverse, vmapped"])
def test_every_method_reads_a_written_head(method, monkeypatch):
    if method == "reverse, vmapped":  # VJPs as on CUDA: vmap over torch.func.vjp
        monkeypatch.setattr(general, "graph_vjps", lambda device: False)
        method = "reverse"
    model = WrittenHead("@")
    x = batch(9)
    lam = maximal_ftle(model, x, method=method, batch_size=4)
    assert isinstance(lam, torch.Tensor)
    assert (lam - reference_ftle(model.hidden, x, 1)[:, 0]).abs().max() < 1e-10


def test_written_heads_are_read_in_the_worker_threads_and_in_float32():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        model = WrittenHead("F.linear")
        x = batch(37)
        ref = reference_ftle(model.hidden, x, 1)[:, 0]
        engine = Engine(model, method="reverse", batch_size=4)  # 10 batches on 2 workers
        lam, vec, _ = engine.maximal(x, direction=True)
        assert (lam - ref).abs().max() < 1e-12 and vec is not None
        single = Engine(model, method="reverse").maximal(x.float())[0]
        assert single.dtype == torch.float32 and (single.double() - ref).abs().max() < 1e-4
    finally:
        torch.set_num_threads(before)


class WrittenMLP(nn.Module):
    """Three tanh layers and a head, all written as products: ``x @ W1``, ``F.linear``,
    ``einsum``, and the head ``head`` (a Linear module) or ``h @ W4`` with ``head="product"``."""

    def __init__(self, head: str = "module"):
        super().__init__()
        gen = torch.Generator().manual_seed(9)
        self.W1 = nn.Parameter(torch.randn(4, 7, generator=gen) / 2)
        self.b1 = nn.Parameter(torch.randn(7, generator=gen) / 4)
        self.W2 = nn.Parameter(torch.randn(5, 7, generator=gen) / 2)
        self.W3 = nn.Parameter(torch.randn(5, 6, generator=gen) / 2)
        self.W4 = nn.Parameter(torch.randn(6, 2, generator=gen) / 2)
        self.head = nn.Linear(6, 2)
        self.use = head
        self.double()

    def hidden(self, x):
        h = torch.tanh(x @ self.W1 + self.b1)
        h = torch.tanh(F.linear(h, self.W2))
        return torch.tanh(torch.einsum("bi,ij->bj", h, self.W3))

    def forward(self, x):
        h = self.hidden(x)
        return self.head(h) if self.use == "module" else h @ self.W4


@pytest.mark.parametrize(
    "head,described",
    [
        ("module", "input of head (last hidden layer)"),
        ("product", "input of @ (affine call 4, last hidden layer)"),
    ],
)
def test_products_before_the_last_layer_count_in_the_depth(head, described):
    model = WrittenMLP(head)
    x = batch()
    engine = Engine(model)
    lam, _, _ = engine.maximal(x)
    assert (engine.endpoint.description, engine.depth) == (described, 3)
    assert (lam - reference_ftle(model.hidden, x, 3)[:, 0]).abs().max() < 1e-12
    logits = Engine(model, layer="logits")
    assert (logits.maximal(x)[0] - reference_ftle(model, x, 4)[:, 0]).abs().max() < 1e-12
    assert logits.depth == 4


class WrittenAttention(nn.Module):
    """Self-attention written by hand on 3 tokens × 4 features: q, k, v projections (products
    with weights, 3 affine calls), scores q kᵀ and their mix with v (products of two data factors:
    none), mean over tokens, an F.linear head."""

    def __init__(self):
        super().__init__()
        gen = torch.Generator().manual_seed(10)
        self.Wq, self.Wk, self.Wv = (
            nn.Parameter(torch.randn(4, 4, generator=gen) / 2) for _ in range(3)
        )
        self.Wo = nn.Parameter(torch.randn(2, 4, generator=gen) / 2)
        self.double()

    def hidden(self, x):
        q, k, v = x @ self.Wq, x @ self.Wk, x @ self.Wv
        weights = torch.softmax(q @ k.transpose(1, 2) / 2, dim=-1)
        return (weights @ v).mean(dim=1)

    def forward(self, x):
        return F.linear(self.hidden(x), self.Wo)


def test_products_of_two_data_factors_are_no_affine_calls():
    model = WrittenAttention()
    x = batch(5, (3, 4))
    engine = Engine(model)
    lam, _, _ = engine.maximal(x)
    assert engine.endpoint.description == "input of F.linear (affine call 4, last hidden layer)"
    assert engine.depth == 3
    assert (lam - reference_ftle(model.hidden, x, 3)[:, 0]).abs().max() < 1e-12


class ResNetWrittenHead(SmallResNet):
    """The small ResNet with ``fc`` applied as a product of its parameters: the engine's fast
    copy (BatchNorms folded by torch.fx, channels_last) must read it too."""

    def forward(self, x):
        return self.features(x) @ self.fc.weight.T + self.fc.bias


class ConvWritten(nn.Module):
    """A functional convolution, tanh, then a written 1×1 convolution head, pooled."""

    def __init__(self):
        super().__init__()
        gen = torch.Generator().manual_seed(11)
        self.k1 = nn.Parameter(torch.randn(4, 2, 3, 3, generator=gen) / 3)
        self.k2 = nn.Parameter(torch.randn(3, 4, 1, 1, generator=gen) / 2)
        self.double()

    def hidden(self, x):
        return torch.tanh(F.conv2d(x, self.k1, padding=1))

    def forward(self, x):
        return F.conv2d(self.hidden(x), self.k2).mean(dim=(2, 3))


def test_written_heads_of_convolutional_models():
    model = ResNetWrittenHead()
    x = batch(4, (3, 8, 8))
    engine = Engine(model)
    lam, _, _ = engine.maximal(x)
    assert engine.endpoint.description == "input of @ (affine call 4, last hidden layer)"
    assert engine.depth == 3
    reference = copy.deepcopy(model).eval()
    assert (lam - reference_ftle(reference.features, x, 3)[:, 0]).abs().max() < 1e-10
    conv = ConvWritten()
    engine = Engine(conv)
    lam, _, _ = engine.maximal(batch(3, (2, 4, 4)))
    assert engine.endpoint.description == "input of F.conv2d (affine call 2, last hidden layer)"
    assert engine.depth == 1
    ref = reference_ftle(conv.hidden, batch(3, (2, 4, 4)), 1)[:, 0]
    assert (lam - ref).abs().max() < 1e-10


class Transposed(nn.Module):
    """A head written as ``(W @ hᵀ)ᵀ``: its data factor leads with the features, not the batch."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(12)
        self.a = nn.Linear(4, 6)
        self.W = nn.Parameter(torch.randn(3, 6))
        self.double()

    def forward(self, x):
        return (self.W @ torch.tanh(self.a(x)).T).T


def test_a_product_that_cannot_be_read_is_an_error_naming_layer():
    model = Transposed()
    with pytest.raises(ValueError, match=r"W @ h\.T\)\. Pass layer='<submodule name>'"):
        maximal_ftle(model, batch())
    lam = maximal_ftle(model, batch(), layer="a")  # the fix the message names
    assert isinstance(lam, torch.Tensor) and torch.isfinite(lam).all()
