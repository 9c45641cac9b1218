"""One module instance called at several places: an activation reused in an nn.Sequential and in
a custom forward, a Linear reused (tied weights). Layer names, endpoints by name and int, depths,
the layer chain's fast path and the general path all see each call."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import reference_ftle
from torch import nn

from ftle_widget import Plane, ftle_layers, maximal_ftle
from ftle_widget.maths.exponents import Engine

F64 = torch.float64


def batch(n: int = 7, d: int = 3, seed: int = 13) -> torch.Tensor:
    return torch.randn((n, d), generator=torch.Generator().manual_seed(seed), dtype=F64)


def shared_tanh() -> nn.Sequential:
    """Linear, tanh, Linear, the same tanh, Linear: two hidden layers."""
    torch.manual_seed(14)
    act = nn.Tanh()
    return nn.Sequential(nn.Linear(3, 5), act, nn.Linear(5, 5), act, nn.Linear(5, 2)).double()


# layer → (described, depth, the modules up to the endpoint)
CASES = {
    None: ("hidden layer 2 (module '3')", 2, 4),
    2: ("hidden layer 2 (module '3')", 2, 4),
    -1: ("hidden layer 2 (module '3')", 2, 4),
    1: ("hidden layer 1 (module '1')", 1, 2),
    "3": ("module '3' at its call 2 of 2", 2, 4),
    "1": ("module '1' at its call 1 of 2", 1, 2),
    "logits": ("logits (the model's output)", 3, 5),
}


@pytest.mark.parametrize("method", ["auto", "reverse", "lanczos"])
@pytest.mark.parametrize("layer", list(CASES), ids=[repr(k) for k in CASES])
def test_an_activation_reused_in_a_sequential(layer, method):
    model = shared_tanh()
    x = batch()
    engine = Engine(model, layer=layer, method=method)
    lam, _, _ = engine.maximal(x)
    described, depth, upto = CASES[layer]
    assert (engine.endpoint.description, engine.depth) == (described, depth)
    assert engine.endpoint.chain is not None  # the layer chain's fast path
    assert (lam - reference_ftle(model[:upto], x, depth)[:, 0]).abs().max() < 1e-12


def test_the_general_path_reads_the_call_a_place_names():
    torch.manual_seed(15)
    act = nn.Tanh()  # a LayerNorm leaf: no layer chain, the module's output read by a hook
    model = nn.Sequential(
        nn.Linear(3, 5), act, nn.LayerNorm(5), nn.Linear(5, 5), act, nn.Linear(5, 2)
    ).double()
    x = batch()
    for layer, depth, upto in [(None, 2, 5), (1, 1, 3), ("4", 2, 5), ("1", 1, 2)]:
        engine = Engine(model, layer=layer)
        lam, _, _ = engine.maximal(x)
        assert engine.endpoint.chain is None and engine.depth == depth
        assert (lam - reference_ftle(model[:upto], x, depth)[:, 0]).abs().max() < 1e-12


def test_every_layer_of_a_sequential_with_a_reused_activation():
    model = shared_tanh()
    plane = Plane.standard(3, 0, 2)
    found = ftle_layers(model, plane, (-1.0, 1.0, -1.0, 1.0), (3, 4))
    assert found.depths == (1.0, 2.0)
    us, vs = np.meshgrid((np.arange(4) + 0.5) / 2 - 1, (np.arange(3) + 0.5) * 2 / 3 - 1)
    x = torch.as_tensor(plane.to_input(np.stack([us.ravel(), vs.ravel()], axis=1)), dtype=F64)
    for layer, upto in [(1, 2), (2, 4)]:
        ref = reference_ftle(model[:upto], x, layer)[:, 0].numpy().reshape(3, 4)
        np.testing.assert_allclose(found.ftle[layer - 1], ref, rtol=1e-5, atol=1e-6)


class Reused(nn.Module):
    """``act`` called after each of two Linear layers in a custom forward."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(16)
        self.a, self.b, self.c = nn.Linear(3, 5), nn.Linear(5, 5), nn.Linear(5, 2)
        self.act = nn.Tanh()
        self.double()

    def hidden(self, x):
        return self.act(self.b(self.act(self.a(x))))

    def forward(self, x):
        return self.c(self.hidden(x))


def test_an_activation_reused_in_a_custom_forward():
    model = Reused()
    x = batch()
    engine = Engine(model)
    lam, _, _ = engine.maximal(x)
    assert (engine.endpoint.description, engine.depth) == ("input of c (last hidden layer)", 2)
    assert (lam - reference_ftle(model.hidden, x, 2)[:, 0]).abs().max() < 1e-12
    engine = Engine(model, layer="act")  # read at its first call, and said so
    lam, _, _ = engine.maximal(x)
    assert (engine.endpoint.description, engine.depth) == ("module 'act' at its call 1 of 2", 1)
    first = lambda z: model.act(model.a(z))  # noqa: E731
    assert (lam - reference_ftle(first, x, 1)[:, 0]).abs().max() < 1e-12


def test_a_linear_reused_in_a_sequential_counts_at_each_call():
    torch.manual_seed(17)
    tied = nn.Linear(5, 5)
    model = nn.Sequential(
        nn.Linear(3, 5), nn.Tanh(), tied, nn.Tanh(), tied, nn.Tanh(), nn.Linear(5, 2)
    ).double()
    x = batch()
    for layer, depth, upto in [(None, 3, 6), (2, 2, 4), ("logits", 4, 7)]:
        engine = Engine(model, layer=layer)
        lam, _, _ = engine.maximal(x)
        assert engine.endpoint.chain is not None and engine.depth == depth
        assert (lam - reference_ftle(model[:upto], x, depth)[:, 0]).abs().max() < 1e-12
    with pytest.raises(ValueError, match="3 hidden layer"):
        maximal_ftle(model, x, layer=4)
