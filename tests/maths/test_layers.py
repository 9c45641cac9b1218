"""Depth as time: ftle_layers gives every hidden layer's λ₁ in one pass, value for value what
ftle_field computes layer by layer; the fallback for models without a forward-mode chain;
errors for models without numbered layers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import reference_ftle
from torch import nn

from ftle_widget import LayerField, Plane, ftle_field, ftle_layers
from ftle_widget.paper.models import default_model, mlp

SQUARE = (-1.5, 1.5, -1.5, 1.5)


@pytest.mark.parametrize(
    "model",
    [default_model(), mlp(2, 30, 5, 1, seed=3).double(), mlp(3, 12, 3, 4, seed=4)],
    ids=["trained toy (float32)", "float64", "3 inputs, 4 outputs"],
)
def test_every_layer_equals_ftle_field_of_that_layer(model):
    d = next(model.parameters()).shape[1]
    plane = Plane.standard(d, 0, d - 1)
    found = ftle_layers(model, plane, SQUARE, (24, 31))
    assert isinstance(found, LayerField) and found.ftle.shape == (found.layers, 24, 31)
    assert found.depths == tuple(float(k) for k in range(1, found.layers + 1))
    for layer in range(1, found.layers + 1):
        alone = ftle_field(model, plane, SQUARE, (24, 31), layer=layer)
        np.testing.assert_array_equal(found.ftle[layer - 1], alone.ftle)
    np.testing.assert_allclose(found.log_stretch[-1], found.ftle[-1] * found.layers)


def test_against_the_dense_reference_at_each_layer():
    model = mlp(2, 8, 4, 1, seed=5).double()
    found = ftle_layers(model, Plane.standard(2), (-1.0, 1.0, -0.5, 0.5), (3, 4))
    x = Plane.standard(2).to_input(
        np.stack(
            np.meshgrid(np.linspace(-0.75, 0.75, 4), np.linspace(-1 / 3, 1 / 3, 3)), -1
        ).reshape(-1, 2)
    )
    for layer in range(1, 5):
        trunk = model[: 2 * layer]  # Linear, Tanh per hidden layer
        expected = reference_ftle(trunk, x, depth=layer)[:, 0].numpy().reshape(3, 4)
        np.testing.assert_allclose(
            found.ftle[layer - 1], expected, rtol=0, atol=1e-6
        )  # float32 out


def test_a_large_input_falls_back_to_a_field_per_layer():
    model = mlp(100, 16, 3, 2, seed=6)  # reverse mode: no forward chain to carry
    plane = Plane.standard(100, 3, 50)
    found = ftle_layers(model, plane, (-1.0, 1.0, -1.0, 1.0), (6, 5))
    for layer in (1, 3):
        alone = ftle_field(model, plane, (-1.0, 1.0, -1.0, 1.0), (6, 5), layer=layer)
        np.testing.assert_array_equal(found.ftle[layer - 1], alone.ftle)


def test_models_without_numbered_layers_are_told_what_to_use():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(2, 4), nn.Linear(4, 1)

        def forward(self, x):
            return self.b(torch.tanh(self.a(x)))

    with pytest.raises(ValueError, match=r"ftle_field\(model, plane, extent, shape, layer=name\)"):
        ftle_layers(Net(), Plane.standard(2), SQUARE, (4, 4))
