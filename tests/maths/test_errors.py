"""Tests of error messages, warnings and non-finite outputs of maximal_ftle and ftle_field."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from ftle_widget import Plane, ftle_field, maximal_ftle

F64 = torch.float64


def dense_ftle(fn, x: torch.Tensor, depth: float) -> torch.Tensor:
    lams = []
    for xi in x.to(F64):
        jac = torch.autograd.functional.jacobian(lambda z: fn(z[None]).reshape(-1), xi)
        lams.append(torch.log(torch.linalg.svdvals(jac.reshape(jac.shape[0], -1))[0]) / depth)
    return torch.stack(lams)


def mlp(seed=0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1)
    ).double()


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.fc1 = nn.Linear(2, 6)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(6, 3)
        self.double()

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class ConstantOutput(nn.Module):
    def __init__(self):
        super().__init__()
        self.p = nn.Parameter(torch.tensor([1.0, -2.0, 0.5], dtype=F64))

    def forward(self, x):
        return self.p.expand(x.shape[0], 3)


class DetachedInput(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 3).double()

    def forward(self, x):
        return self.fc(x.detach())


class NaNRightHalf(nn.Module):
    """tanh(W x + b), but NaN wherever x₀ > 0."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(2)
        self.fc = nn.Linear(2, 4).double()

    def forward(self, x):
        return torch.where(x[:, :1] > 0, math.nan, torch.tanh(self.fc(x)))


X = torch.tensor([[0.1, -0.2], [0.5, 0.3], [-1.0, 2.0]], dtype=F64)


# ---------------------------------------------------------------------- inputs


@pytest.mark.parametrize("shape", [(5, 3), (2,), (4, 2, 1)])
def test_wrong_input_shape_names_expected_shape(shape):
    with pytest.raises(ValueError, match=r"\(B, 2\)"):
        maximal_ftle(mlp(), torch.zeros(shape, dtype=F64))


def test_single_point_without_batch_dimension_hints_x_none():
    with pytest.raises(ValueError, match=r"x\[None\]"):
        maximal_ftle(mlp(), torch.zeros(2, dtype=F64))


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.bool])
def test_integer_input_is_a_type_error(dtype):
    with pytest.raises(TypeError, match="float"):
        maximal_ftle(mlp(), torch.ones(3, 2, dtype=dtype))


# ---------------------------------------------------------------------- layers and methods


def test_unknown_layer_name_lists_near_name():
    with pytest.raises(ValueError, match="'fc3'") as info:
        maximal_ftle(TwoLayer(), X, layer="fc3")
    assert "Did you mean" in str(info.value)
    assert "'fc2'" in str(info.value)


def test_known_layer_name_works():
    model = TwoLayer()
    lam = maximal_ftle(model, X, layer="act")
    ref = dense_ftle(lambda z: model.act(model.fc1(z)), X, depth=1)
    torch.testing.assert_close(lam, ref, rtol=0, atol=1e-10)


@pytest.mark.parametrize("layer", [0, 3, -3, 10])
def test_int_layer_out_of_range_names_range(layer):
    with pytest.raises(ValueError, match=r"out of range.*1\.\.2"):
        maximal_ftle(mlp(), X, layer=layer)


def test_int_layer_in_range_works():
    model = mlp()
    torch.testing.assert_close(
        maximal_ftle(model, X, layer=1), dense_ftle(model[:2], X, 1), rtol=0, atol=1e-10
    )
    torch.testing.assert_close(
        maximal_ftle(model, X, layer=-1), dense_ftle(model[:4], X, 2), rtol=0, atol=1e-10
    )


def test_int_layer_on_general_module_is_rejected():
    with pytest.raises(ValueError, match=r"nn\.Sequential"):
        maximal_ftle(TwoLayer(), X, layer=1)


@pytest.mark.parametrize("method", ["svd", "Exact", ""])
def test_bad_method_name(method):
    with pytest.raises(ValueError, match=r"method=.*is not one of.*'lanczos'"):
        maximal_ftle(mlp(), X, method=method)


@pytest.mark.parametrize("model_cls", [ConstantOutput, DetachedInput])
def test_endpoint_independent_of_x(model_cls):
    with pytest.raises(ValueError, match="does not depend"):
        maximal_ftle(model_cls(), X, layer="logits")
    with pytest.raises(ValueError, match="does not depend"):
        ftle_field(model_cls(), Plane.standard(2), (0, 1, 0, 1), (2, 2), layer="logits")


# ---------------------------------------------------------------------- ftle_field arguments


def test_plane_of_wrong_shape():
    with pytest.raises(ValueError, match=r"\(3,\)"):
        ftle_field(mlp(), Plane.standard(3), (0, 1, 0, 1), (2, 2))
    conv = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.Flatten(), nn.Linear(18, 2))
    with pytest.raises(ValueError, match=r"\(2, 5, 5\)"):
        ftle_field(conv, Plane.standard((2, 5, 5)), (0, 1, 0, 1), (2, 2), layer="logits")


def test_not_a_plane_is_a_type_error():
    with pytest.raises(TypeError, match="Plane"):
        ftle_field(mlp(), (0.0, 1.0), (0, 1, 0, 1), (2, 2))


@pytest.mark.parametrize(
    ("extent", "match"),
    [
        ((1.0, 0.0, 0.0, 1.0), "u0 < u1"),
        ((0.0, 0.0, 0.0, 1.0), "u0 < u1"),
        ((0.0, 1.0, 1.0, 1.0), "v0 < v1"),
        ((0.0, math.nan, 0.0, 1.0), "finite"),
        ((0.0, 1.0, -math.inf, 1.0), "finite"),
        ((0.0, 1.0, 0.0), "four"),
        ("abcd", "four numbers"),
    ],
)
def test_bad_extent(extent, match):
    with pytest.raises(ValueError, match=match):
        ftle_field(mlp(), Plane.standard(2), extent, (2, 2))


@pytest.mark.parametrize("shape", [(0, 5), (3, -1), (3,), (2, 3, 4), (2.5, 3), "ab", None])
def test_bad_field_shape(shape):
    with pytest.raises(ValueError, match=r"shape must be"):
        ftle_field(mlp(), Plane.standard(2), (0, 1, 0, 1), shape)


# ---------------------------------------------------------------------- non-finite outputs


def test_nan_outputs_give_nan_exponents_and_a_counting_warning():
    model = NaNRightHalf()
    x = torch.tensor(
        [
            [-0.5, 0.1],
            [0.5, 0.1],
            [-1.0, -1.0],
            [2.0, 0.0],
            [-0.1, 3.0],
            [0.3, -0.3],
            [-2.0, 0.4],
            [1.0, 1.0],
            [-0.7, -0.2],
            [-0.01, 0.0],
        ],
        dtype=F64,
    )
    bad = x[:, 0] > 0
    assert int(bad.sum()) == 4
    with pytest.warns(RuntimeWarning, match=r"\b4 of 10\b"):
        lam = maximal_ftle(model, x, layer="logits")
    assert torch.isnan(lam[bad]).all()
    assert torch.isfinite(lam[~bad]).all()
    ref = dense_ftle(lambda z: torch.tanh(model.fc(z)), x[~bad], depth=1)
    torch.testing.assert_close(lam[~bad], ref, rtol=0, atol=1e-10)


def test_nan_outputs_in_a_field():
    model = NaNRightHalf()
    # column centres -0.75, -0.25, 0.25, 0.75: two of four columns are NaN, 3 rows → 6 of 12
    with pytest.warns(RuntimeWarning, match=r"\b6 of 12\b"):
        field = ftle_field(
            model, Plane.standard(2), (-1, 1, -1, 1), (3, 4), layer="logits", directions=True
        )
    assert np.isnan(field.ftle[:, 2:]).all()
    assert np.isfinite(field.ftle[:, :2]).all()
    assert np.isfinite(field.direction[:, :2]).all()
    x = torch.tensor([[u, v] for v in (-2 / 3, 0.0, 2 / 3) for u in (-0.75, -0.25)], dtype=F64)
    ref = dense_ftle(lambda z: torch.tanh(model.fc(z)), x, depth=1)
    np.testing.assert_allclose(field.ftle[:, :2].reshape(-1), ref.numpy(), rtol=1e-6)


def test_nan_input_in_sequential_mlp():
    model = mlp(seed=3)
    x = torch.tensor([[0.2, 0.1], [math.nan, 0.0], [-0.4, 0.9]], dtype=F64)
    with pytest.warns(RuntimeWarning, match=r"\b1 of 3\b"):
        lam = maximal_ftle(model, x)
    assert torch.isnan(lam[1])
    ref = dense_ftle(model[:4], x[[0, 2]], depth=2)
    torch.testing.assert_close(lam[[0, 2]], ref, rtol=0, atol=1e-10)


# ---------------------------------------------------------------------- general modules


def test_general_module_default_layer_is_the_input_of_its_last_linear():
    model = TwoLayer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lam = maximal_ftle(model, X)
        field = ftle_field(model, Plane.standard(2), (0, 1, 0, 1), (2, 2))
    ref = dense_ftle(lambda z: model.act(model.fc1(z)), X, depth=1)  # the input of fc2
    torch.testing.assert_close(lam, ref, rtol=0, atol=1e-10)
    assert field.depth == 1 and field.endpoint == "input of fc2 (last hidden layer)"


class OneLayer(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.fc = nn.Linear(2, 3).double()

    def forward(self, x):
        return self.fc(torch.tanh(x))


def test_general_module_without_hidden_layer_warns_once_and_uses_logits():
    model = OneLayer()
    with pytest.warns(UserWarning, match="no hidden layer.*'fc'.*logits"):
        first = maximal_ftle(model, X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = maximal_ftle(model, X)
        field = ftle_field(model, Plane.standard(2), (0, 1, 0, 1), (2, 2))
    ref = dense_ftle(model, X, depth=1)  # logits: one Linear call
    torch.testing.assert_close(first, ref, rtol=0, atol=1e-10)
    torch.testing.assert_close(second, first, rtol=0, atol=0)
    assert field.depth == 1 and field.endpoint.startswith("logits")
    # another instance warns again
    with pytest.warns(UserWarning, match="logits"):
        maximal_ftle(OneLayer(), X)


def test_explicit_logits_on_general_module_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        maximal_ftle(TwoLayer(), X, layer="logits")
