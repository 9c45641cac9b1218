"""UncertaintyView: an ensemble's entropy or mutual information over a plane, as tiles that hold
exactly what the members give at each pixel; beside a view of λ₁ with one pan and zoom."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ftle_widget import FTLEView, UncertaintyView, compare
from ftle_widget.maths.ensembles import uncertainty
from ftle_widget.maths.fields import pixel_coordinates
from ftle_widget.paper.models import mlp

EXTENT = (-2.0, 2.0, -2.0, 2.0)


@pytest.fixture
def members():
    return [mlp(2, 16, 2, 3, seed=s) for s in range(4)]


@pytest.mark.parametrize("quantity", ["entropy", "mutual_information"])
def test_the_views_field_is_the_ensembles_quantity_at_every_pixel(members, quantity):
    view = UncertaintyView(members, extent=EXTENT, quantity=quantity, show_data=False)
    try:
        field = view.field((12, 16))
        uv = pixel_coordinates(EXTENT, (12, 16))
        x = view.plane.to_input(uv).to(torch.float32)
        expected = uncertainty(members, x, quantity).float().numpy().reshape(12, 16)
        np.testing.assert_allclose(field.ftle, expected, rtol=0, atol=1e-6)
        probs = torch.stack([torch.softmax(m(x), -1) for m in members]).mean(0)
        assert (field.prediction.reshape(-1) == probs.argmax(-1).numpy()).all()  # the ensemble's
        assert view.vmin == 0.0 and view.vmax == pytest.approx(math.log(3))  # [0, log C]
        assert view.cmap == "viridis" and view.quantity_label.startswith(quantity.split("_")[0])
        assert view.ensemble_quantity == quantity
    finally:
        view.close()


def test_tiles_carry_it_and_fit_colors_spans_zero_to_the_largest(members):
    view = UncertaintyView(members, extent=EXTENT, show_data=False)
    sent = []
    view.send = lambda content, buffers=None: sent.append((content, buffers or []))
    try:
        view._on_message(
            view,
            {"kind": "view", "generation": 1, "extent": list(EXTENT), "width": 64, "height": 64},
            [],
        )
        assert view.scheduler.wait(60)
        tiles = [(c, b) for c, b in sent if c["kind"] == "tile"]
        assert tiles
        values = np.concatenate([np.frombuffer(b[0], "<f4") for _, b in tiles])
        assert 0 <= values.min() and values.max() <= math.log(3) + 1e-6
        lo, hi = view.fit_colors()
        assert lo == 0.0 and hi == pytest.approx(float(max(c["vmax"] for c, _ in tiles)), rel=1e-6)
    finally:
        view.close()


def test_bad_arguments_are_named(members):
    with pytest.raises(ValueError, match=r"at least two torch\.nn\.Module members"):
        UncertaintyView(members[:1])
    with pytest.raises(ValueError, match="quantity must be one of entropy, mutual_information"):
        UncertaintyView(members, quantity="variance")
    with pytest.raises(ValueError, match="no stretching directions"):
        UncertaintyView(members, show_directions=True)
    with pytest.raises(ValueError, match="has no layer="):
        UncertaintyView(members, layer=1)
    with pytest.raises(TypeError, match=r"unknown keyword argument\(s\) bogus; it takes members"):
        UncertaintyView(members, bogus=1)


def test_beside_a_view_of_lambda_with_one_pan_and_zoom(members):
    lam = FTLEView(members[0], extent=EXTENT, show_data=False)
    unsure = UncertaintyView(members, extent=EXTENT, show_data=False)
    both = compare(lam, unsure, mode="side", link_colors=False)
    try:
        lam.zoom_to([-0.5, 0.5, -0.5, 0.5])
        assert list(unsure.extent) == [-0.5, 0.5, -0.5, 0.5]
        assert unsure.cmap == "viridis" and lam.cmap == "RdBu_r"
    finally:
        both.close()
