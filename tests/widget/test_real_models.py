"""FTLEView on real models: a ResNet and a transformer, their last hidden layer named in
``view.layer`` (a head written as a product too), input_shape= for models whose first layer
does not fix it."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import SmallResNet, SmallTransformer, assert_untouched, module_state

from ftle_widget import FTLEView, Plane, ftle_field
from ftle_widget.maths.planes import default_plane


def test_view_of_a_resnet_in_train_mode_from_its_input_shape():
    model = SmallResNet().train()
    before = module_state(model)
    with pytest.raises(
        ValueError, match=r"input shape: pass input_shape= \(.*input_shape=\(3, 32, 32\)"
    ):
        FTLEView(model)
    view = FTLEView(model, input_shape=(3, 8, 8), extent=(-1, 1, -1, 1))
    try:
        assert view.layer == "input of fc (last hidden layer)" and view.depth == 3
        assert view.plane == default_plane((3, 8, 8))
        field = view.field((2, 2))
        same = ftle_field(model, view.plane, (-1, 1, -1, 1), (2, 2))
        np.testing.assert_array_equal(field.ftle, same.ftle)
        assert field.endpoint == view.layer
    finally:
        view.close()
    assert_untouched(model, before)


def test_view_of_a_transformer_names_its_head():
    view = FTLEView(SmallTransformer(), input_shape=(4, 16))
    try:
        assert view.layer == "input of head (last hidden layer)" and view.depth == 4
        assert view.plane.input_shape == (4, 16)
    finally:
        view.close()


class WrittenHead(SmallResNet):
    """The small ResNet with its head written as a product, ``features @ fc.weight.T``."""

    def forward(self, x):
        return self.features(x) @ self.fc.weight.T + self.fc.bias


def test_view_of_a_model_whose_head_is_written_as_a_product():
    model = WrittenHead()
    view = FTLEView(model, input_shape=(3, 8, 8), extent=(-1, 1, -1, 1))
    try:
        assert view.layer == "input of @ (affine call 4, last hidden layer)" and view.depth == 3
        field = view.field((2, 2))
        plain = ftle_field(SmallResNet(), view.plane, (-1, 1, -1, 1), (2, 2))
        assert plain.endpoint == "input of fc (last hidden layer)"
        np.testing.assert_allclose(field.ftle, plain.ftle, rtol=1e-6)  # the same features
    finally:
        view.close()


def test_input_shape_is_checked():
    model = SmallResNet()
    with pytest.raises(ValueError, match="plane lives in inputs shaped"):
        FTLEView(model, Plane.standard((3, 8, 8)), input_shape=(3, 4, 4))
    with pytest.raises(ValueError, match="does not match the data"):
        FTLEView(model, input_shape=(3, 4, 4), data=np.zeros((3, 3, 8, 8)))
    with pytest.raises(TypeError, match="input_shape"):  # the known keywords are listed
        FTLEView(model, input_shap=(3, 8, 8))
