"""A view's ridges and flying to them: zoom onto the ridge, again further along it; turning the
plane to run along the ridge (the field then constant along u, peaked across v)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ftle_widget import FTLEView, Plane
from ftle_widget.paper.models import default_model
from ftle_widget.widget.ridging import along


@pytest.fixture
def view():
    view = FTLEView(default_model(), extent=(-1.5, 1.5, -1.5, 1.5), show_data=False)
    yield view
    view.close()


def centre(extent):
    return np.array([(extent[0] + extent[1]) / 2, (extent[2] + extent[3]) / 2])


def test_flying_zooms_onto_the_ridge_and_further_along_it(view):
    ridge = view.fly_to_ridge(zoom=4)
    first = list(view.extent)
    assert first[1] - first[0] == pytest.approx(0.75) and first[3] - first[2] == pytest.approx(0.75)
    assert abs(np.hypot(*centre(first)) - 1) < 0.08  # on the ridge (r = 0.94…0.99 here)
    assert np.hypot(*(ridge.points - centre(first)).T).min() < 1e-9  # a point of the ridge
    view.fly_to_ridge(zoom=4)
    second = list(view.extent)
    assert second[1] - second[0] == pytest.approx(0.1875)
    assert np.hypot(*(centre(second) - centre(first))) < 0.05  # the same stretch of ridge
    assert abs(np.hypot(*centre(second)) - 1) < 0.08


def test_nearest_picks_the_ridge_nearest_a_point(view):
    view.fly_to_ridge("nearest", near=(0.0, -0.95), zoom=2)
    # the loop is one ridge: centred on its point nearest the view's centre
    assert abs(np.hypot(*centre(view.extent)) - 1) < 0.08
    with pytest.raises(ValueError, match="which must be one of strongest, nearest"):
        view.fly_to_ridge("widest")
    with pytest.raises(ValueError, match="zoom must be a positive number"):
        view.fly_to_ridge(zoom=0)


def test_rotate_turns_the_plane_to_run_along_the_ridge(view):
    view.fly_to_ridge(zoom=8, rotate=True)
    plane = view.plane
    assert plane.orthonormal
    field = view.field((33, 33))
    middle = field.ftle[:, 16]  # across the ridge (along v) through the centre
    # the crest near v = 0 (found at the home view's resolution, 8× coarser, on its 2-px scale)
    assert abs(int(np.argmax(middle)) - 16) <= 3
    along_u = field.ftle[16]
    assert np.ptp(along_u) < 0.1 * np.ptp(middle)  # nearly constant along the ridge
    # the radius grows across v at the top (a turn of at most 90°: the inside stays below)
    inside = plane.to_input(torch.tensor([[0.0, -0.1]], dtype=torch.float64))[0]
    outside = plane.to_input(torch.tensor([[0.0, 0.1]], dtype=torch.float64))[0]
    assert float(inside.norm()) < float(outside.norm())


def test_along_keeps_orientation_and_units():
    plane = Plane(torch.tensor([1.0, 2.0]), torch.tensor([2.0, 0.0]), torch.tensor([0.0, 3.0]))
    turned = along(plane, (0.5, 0.5), (-0.6, -0.8))  # backwards: flipped to turn less than 90°
    assert torch.allclose(turned.origin, torch.tensor([2.0, 3.5], dtype=torch.float64))
    t = torch.tensor([1.2, 2.4], dtype=torch.float64) / 5**0.5 / 1.2  # 0.6·(2, 0) + 0.8·(0, 3)
    assert torch.allclose(turned.u, t)
    assert torch.allclose(turned.v, torch.stack([-t[1], t[0]]))  # a turn, not a mirror
