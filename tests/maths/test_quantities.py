"""λ₂ and λ_min (``lower=True``) and the quantities lambda_min, gap, anisotropy, against the dense
autograd reference (``torch.linalg.svdvals`` of the Jacobian), for 2-D and 64-D inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import dense_jacobians, tanh_mlp

from ftle_widget import Plane, ftle_field
from ftle_widget.maths.exponents import Engine
from ftle_widget.maths.quantities import QUANTITIES, needs_lower, quantity_values

METHODS = ["auto", "exact", "forward", "reverse", "lanczos"]
NETS = {
    "toy 2-D": [2, 50, 50, 50, 50, 1],  # forward mode: the 2×2 Gram's closed form
    "digits 64-D": [64, 32, 32, 32, 10],  # n < d: reverse mode, the dense J's SVD
    "d < n": [5, 40, 40, 3],
    "both large": [70, 80, 80, 80, 5],  # λ₁ by Lanczos without lower; with it, the SVD
}


def _reference(model, x, depth):
    """(λ₁, λ₂, λ_min) per point from the dense Jacobian of the last hidden layer."""
    sigma = torch.linalg.svdvals(dense_jacobians(model[:-1], x.double()))
    lam = torch.log(sigma) / depth
    return lam[:, 0], lam[:, 1], lam[:, -1]


@pytest.mark.parametrize("name", NETS)
@pytest.mark.parametrize("method", METHODS)
def test_lower_exponents_match_the_dense_reference_float64(name, method):
    sizes = NETS[name]
    model = tanh_mlp(sizes, seed=5)
    x = torch.randn((9, sizes[0]), generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    engine = Engine(model, method=method)
    lam, _, _ = engine.maximal(x, lower=True)
    assert lam.shape == (9, 3) and lam.dtype == torch.float64
    top, second, smallest = _reference(model, x, len(sizes) - 2)
    assert (lam[:, 0] - top).abs().max() < 1e-10
    assert (lam[:, 1] - second).abs().max() < 1e-10
    assert (lam[:, 2] - smallest).abs().max() < 1e-10
    assert (lam[:, 0] >= lam[:, 1]).all() and (lam[:, 1] >= lam[:, 2]).all()
    if sizes[0] == 2:  # two singular values: λ_min is λ₂, and λ₁ is the one without lower
        assert torch.equal(lam[:, 1], lam[:, 2])
        if method in ("auto", "exact", "forward"):
            assert torch.equal(lam[:, 0], engine.maximal(x)[0])


def test_the_2d_closed_form_is_as_accurate_as_an_svd_in_float32():
    """Λ₂/Λ₁ ~ 1e-4: where the 2×2 Gram's λ₁λ₂ = ac − b² cancels in float32."""
    model = tanh_mlp([2, 40, 40, 40, 1], seed=1)
    with torch.no_grad():
        model[0].weight[:, 1] *= 1e-4
    x = torch.rand((64, 2), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    top, second, _ = _reference(model, x, 3)
    assert ((top - second) * 3).min() > 7  # log(Λ₁/Λ₂) > 7: ill-conditioned
    lam32, _, _ = Engine(model.float()).maximal(x.float(), lower=True)
    svd32 = torch.log(torch.linalg.svdvals(dense_jacobians(model[:-1].float(), x.float()))) / 3
    ours = (lam32[:, 1].double() - second).abs().max()
    assert ours < 1e-5
    assert ours <= 4 * (svd32[:, 1].double() - second).abs().max() + 1e-6


def test_one_singular_value_has_no_second_exponent():
    model = tanh_mlp([3, 8, 1, 2], seed=0)  # the last hidden layer is 1 wide: n = 1
    x = torch.randn((4, 3), dtype=torch.float64)
    lam, _, _ = Engine(model).maximal(x, lower=True)
    assert torch.isnan(lam[:, 1]).all()
    assert torch.equal(lam[:, 2], lam[:, 0])  # λ_min = λ₁


def test_directions_are_v1_with_lower_too():
    model = tanh_mlp([6, 20, 20, 4], seed=3)
    x = torch.randn((5, 6), dtype=torch.float64)
    engine = Engine(model)
    lam, v, _ = engine.maximal(x, lower=True, direction=True)
    _, v1, _ = engine.maximal(x, direction=True)
    assert v is not None and v1 is not None and torch.allclose(v, v1, atol=1e-10)
    stretch = (dense_jacobians(model[:-1], x) @ v[:, :, None])[:, :, 0].norm(dim=1)
    assert torch.allclose(torch.log(stretch) / 2, lam[:, 0], atol=1e-10)


@pytest.mark.parametrize("d", [2, 64])
def test_a_fields_quantities_are_the_reference_at_its_pixels(d):
    model = tanh_mlp([d, 24, 24, 24, 10], seed=7)
    plane = Plane.standard(d, 3, 17) if d == 64 else Plane.standard(d)
    extent = (-1.0, 1.0, -0.5, 0.5)
    field = ftle_field(model, plane, extent, (6, 8), lower=True)
    assert field.lambda_2 is not None and field.lambda_min is not None
    assert field.lambda_2.shape == field.lambda_min.shape == (6, 8)
    from ftle_widget.maths.fields import pixel_coordinates

    x = plane.to_input(pixel_coordinates(extent, (6, 8))).double()
    top, second, smallest = (r.reshape(6, 8).numpy() for r in _reference(model, x, 3))
    assert np.abs(field.ftle - top).max() < 2e-6  # float32 fields
    assert np.abs(field.lambda_2 - second).max() < 2e-6
    assert np.abs(field.lambda_min - smallest).max() < 2e-6
    gap, anisotropy = field.gap, field.anisotropy
    assert gap.dtype == anisotropy.dtype == np.float32 and (gap >= 0).all()
    assert np.abs(gap - (top - second)).max() < 4e-6
    assert np.abs(anisotropy - (top - smallest)).max() < 4e-6
    assert np.array_equal(field.values("lambda_min"), field.lambda_min)
    if d == 2:
        assert np.array_equal(field.gap, field.anisotropy)
    else:
        assert (anisotropy > gap).all()
    plain = ftle_field(model, plane, extent, (6, 8))
    assert plain.lambda_2 is None and np.array_equal(plain.ftle, field.ftle)
    with pytest.raises(ValueError, match="lower=True"):
        plain.values("gap")


def test_quantities_are_the_canvas_arithmetic_and_unknown_ones_are_named():
    ftle = np.array([1.0, 0.1, np.inf, np.nan], dtype=np.float32)
    lower = np.array([0.3, 0.1 - 1e-8, -np.inf, 0.0], dtype=np.float32)
    gap = quantity_values("gap", ftle, lower, lower)
    expected = (ftle.astype(np.float64) - lower.astype(np.float64)).astype(np.float32)
    assert gap.dtype == np.float32
    np.testing.assert_array_equal(gap, expected)  # float64 difference, rounded once
    stretch = quantity_values("log_stretch", ftle, depth=3)
    assert np.array_equal(stretch, ftle * np.float32(3), equal_nan=True)
    assert [needs_lower(q) for q in QUANTITIES] == [False, False, True, True, True]
    with pytest.raises(ValueError, match="lambda, log_stretch, lambda_min, gap, anisotropy"):
        needs_lower("lambda_2")
