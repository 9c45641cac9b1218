"""attack_path: steps of the asked length towards the target, the crossing found, λ₁ and the
alignment with v₁ as maximal_ftle gives them; on a trained digits net, λ₁ peaks inside the
path near the boundary (the paper's Fig. 4a) and the steps run along v₁."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ftle_widget import AttackPath, attack_path, maximal_ftle
from ftle_widget.paper.models import mlp


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return mlp(6, 12, 3, 4, seed=2)


def test_l2_steps_have_the_asked_length_and_reach_the_target(net):
    x = torch.linspace(-1, 1, 6)
    target = int(net(x[None]).argmin(1))  # the least likely class
    path = attack_path(net, x, target, step_size=0.05, steps=400)
    assert isinstance(path, AttackPath)
    moves = (path.points[1:] - path.points[:-1]).norm(dim=1)
    np.testing.assert_allclose(moves.numpy(), 0.05, rtol=1e-5)
    assert path.crossed is not None and path.predictions[path.crossed] == target
    assert (path.predictions[: path.crossed] != target).all()
    assert len(path.points) - 1 == 2 * path.crossed  # as many steps again beyond (beyond=1)
    # λ₁ and the alignment are maximal_ftle's, v₁ against each step
    lam, v1 = maximal_ftle(net, path.points, direction=True)
    np.testing.assert_allclose(path.ftle, lam.numpy(), rtol=0, atol=0)
    steps = path.points[1:] - path.points[:-1]
    cos = (steps * v1[:-1]).sum(1).abs() / steps.norm(dim=1)
    np.testing.assert_allclose(path.alignment, cos.numpy(), atol=1e-6)


def test_fgsm_steps_and_stopping_at_the_crossing(net):
    x = torch.linspace(0.5, -0.5, 6)
    target = int(net(x[None]).argmin(1))
    path = attack_path(net, x, target, method="fgsm", step_size=0.02, beyond=0, steps=400)
    moves = (path.points[1:] - path.points[:-1]).abs()
    np.testing.assert_allclose(moves.numpy(), 0.02, rtol=1e-5)  # every coordinate moves
    assert path.crossed == len(path.points) - 1  # beyond=0: stops where the target is reached


def test_an_unreachable_target_stops_after_steps_and_says_so():
    class Stubborn(nn.Module):  # class 0 always wins
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            return torch.tanh(self.lin(x)) + torch.tensor([10.0, 0.0])

    path = attack_path(Stubborn(), torch.zeros(2), 1, steps=7, layer="lin")
    assert path.crossed is None and len(path.points) == 8


def test_a_start_already_in_the_target_class_is_a_path_of_one_point(net):
    x = torch.linspace(-1, 1, 6)
    path = attack_path(net, x, int(net(x[None]).argmax(1)))
    assert path.crossed == 0 and len(path.points) == 1 and path.alignment.shape == (0,)


def test_bad_arguments_are_named(net):
    with pytest.raises(ValueError, match="method must be one of l2, fgsm"):
        attack_path(net, torch.zeros(6), 1, method="pgd")
    with pytest.raises(ValueError, match="target 9 is not a class"):
        attack_path(net, torch.zeros(6), 9)
    with pytest.raises(ValueError, match="steps must be a positive int"):
        attack_path(net, torch.zeros(6), 1, steps=0)


def test_on_digits_lambda_peaks_inside_the_path_and_the_attack_follows_v1():
    from ftle_widget.paper import nets

    model, _ = nets.trained_digits_mlp(20, 16, quick=True)  # the paper's 20 × 16, quick training
    data = nets.digits_data()
    nines = data.x_test[data.y_test == 9][:3]
    for nine in nines:
        path = attack_path(model, nine, 4)
        assert path.crossed is not None
        assert 0 < path.peak < len(path.ftle) - 1
        assert path.ftle[path.peak] > max(path.ftle[0], path.ftle[-1])
        assert path.alignment.mean() > 2 * np.sqrt(2 / np.pi / 64)  # random: about 0.1
