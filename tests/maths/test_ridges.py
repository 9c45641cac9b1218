"""Ridges as objects: a straight ridge known in closed form found to a small fraction of a
pixel with its analytic width; the embedded circle model's ridge a closed loop on the unit
circle along its decision boundary; filters, a field without a boundary, the view's ridges."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from ftle_widget import FTLEView, Plane, Ridge, ftle_field, ridges
from ftle_widget.maths.ridges import ACROSS
from ftle_widget.paper.models import default_model

A, B = 3.0, 0.01  # x⁽¹⁾ = tanh(diag(A, B) x − θ): λ₁ = log(A sech²(A x − θ₁)) where it dominates


def straight(offset: float) -> nn.Module:
    lin = nn.Linear(2, 2).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[A, 0.0], [0.0, B]]))
        lin.bias.copy_(torch.tensor([-A * offset, 0.0]))
    head = nn.Linear(2, 1).double()
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[1.0, 0.0]]))
        head.bias.zero_()
    return nn.Sequential(lin, nn.Tanh(), head)


def exact(x: np.ndarray, offset: float) -> np.ndarray:
    return math.log(A) - 2 * np.log(np.cosh(A * (x - offset)))


@pytest.mark.parametrize("offset", [0.0, 0.2037, -0.31])
def test_a_straight_ridge_is_found_where_the_argument_crosses_zero(offset):
    shape, extent = (81, 101), (-1.0, 1.0, -0.8, 0.8)
    field = ftle_field(straight(offset), Plane.standard(2), extent, shape)
    found = ridges(field)
    assert len(found) == 1
    ridge = found[0]
    pixel = 2.0 / 101
    assert np.abs(ridge.points[:, 0] - offset).max() < 0.01 * pixel  # on the line x = offset
    assert ridge.length > 1.5 and not ridge.closed  # across the whole field
    np.testing.assert_allclose(ridge.values, math.log(A), atol=1e-3)
    # height and width against the profile across: it falls to ACROSS pixels out on each side
    flank = exact(np.array([offset + ACROSS * pixel]), offset)[0]
    assert ridge.height == pytest.approx(math.log(A) - flank, rel=2e-3)
    half = (math.log(A) + flank) / 2  # log A − 2 log cosh(A d) = half at d = the half width
    d = math.acosh(math.exp((math.log(A) - half) / 2)) / A
    assert ridge.width == pytest.approx(2 * d, abs=0.2 * pixel)
    # the boundary: the head reads tanh(A(x − offset)) = 0 on the same line
    assert ridge.boundary_distance is not None and ridge.boundary_distance < 0.6 * pixel


def test_the_circle_models_ridge_is_one_loop_on_its_decision_boundary():
    field = ftle_field(default_model(), Plane.standard(2), (-1.5, 1.5, -1.5, 1.5), (128, 128))
    found = ridges(field)
    ring = found[0]
    assert isinstance(ring, Ridge) and ring.closed
    radius = np.hypot(*ring.points.T)
    assert np.abs(radius - 1).mean() < 0.03  # measured 0.017 (the boundary lies at r ≈ 0.97)
    assert ring.length == pytest.approx(2 * math.pi * radius.mean(), rel=0.03)
    assert ring.boundary_distance is not None and ring.boundary_distance < 2 * 3 / 128
    assert ring.height > 0.4 and 0.05 < ring.width < 0.3
    # the others are far weaker
    assert all(r.height < 0.5 * ring.height for r in found[1:])
    # filters
    assert ridges(field, min_height=10.0) == []
    assert all(not r.closed for r in ridges(field, min_length=7.0))


def test_without_smoothing_a_crest_with_undulations_splits_and_with_it_does_not():
    field = ftle_field(default_model(), Plane.standard(2), (-1.5, 1.5, -1.5, 1.5), (128, 128))
    assert not any(r.closed for r in ridges(field, scale=0))
    assert ridges(field, scale=2)[0].closed


def test_a_field_without_a_boundary_and_bad_fields():
    inside = ftle_field(default_model(), Plane.standard(2), (-0.3, 0.3, -0.3, 0.3), (32, 32))
    assert (inside.prediction == inside.prediction[0, 0]).all()
    assert all(r.boundary_distance is None for r in ridges(inside, min_height=0.0))
    with pytest.raises(ValueError, match="at least 3×3"):
        ridges(inside, values=np.zeros((2, 5)))


def test_the_views_ridges_are_those_of_what_it_shows():
    view = FTLEView(default_model(), extent=(-1.5, 1.5, -1.5, 1.5), show_data=False)
    try:
        found = view.ridges(shape=(96, 96))
    finally:
        view.close()
    assert found[0].closed and np.abs(np.hypot(*found[0].points.T) - 1).mean() < 0.03
