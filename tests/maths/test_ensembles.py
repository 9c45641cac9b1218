"""An ensemble's predictive entropy and mutual information, against cases worked by hand."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ftle_widget.maths.ensembles import (
    member_probabilities,
    mutual_information,
    predictive_entropy,
    uncertainty,
)


def test_agreeing_members_have_no_mutual_information():
    p = torch.tensor([[0.7, 0.2, 0.1]], dtype=torch.float64)
    same = torch.stack([p, p, p])  # (M, B, C)
    expected = -(0.7 * math.log(0.7) + 0.2 * math.log(0.2) + 0.1 * math.log(0.1))
    assert predictive_entropy(same).item() == pytest.approx(expected, abs=1e-15)
    assert mutual_information(same).item() == pytest.approx(0.0, abs=1e-15)


def test_confident_members_that_disagree_are_all_mutual_information():
    a = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    b = torch.tensor([[0.0, 1.0]], dtype=torch.float64)
    p = torch.stack([a, b])
    assert predictive_entropy(p).item() == pytest.approx(math.log(2), abs=1e-15)
    assert mutual_information(p).item() == pytest.approx(math.log(2), abs=1e-15)


def test_uniform_prediction_has_the_largest_entropy_log_c():
    p = torch.full((4, 3, 5), 0.2, dtype=torch.float64)
    assert torch.allclose(predictive_entropy(p), torch.full((3,), math.log(5), dtype=torch.float64))
    assert torch.all(mutual_information(p) == 0)


def test_uncertainty_of_models_reads_their_softmax():
    torch.manual_seed(0)
    members = [nn.Linear(4, 3).double() for _ in range(3)]
    x = torch.randn(7, 4, dtype=torch.float64)
    probs = torch.stack([torch.softmax(m(x), -1) for m in members]).detach()
    mean = probs.mean(0)
    h_mean = -(mean * mean.log()).sum(-1)
    h_each = -(probs * probs.log()).sum(-1).mean(0)
    assert torch.allclose(uncertainty(members, x, "entropy"), h_mean, atol=1e-14)
    assert torch.allclose(
        uncertainty(members, x, "mutual_information"), h_mean - h_each, atol=1e-14
    )
    assert torch.all(uncertainty(members, x, "mutual_information") >= 0)
    with pytest.raises(ValueError, match="quantity must be one of entropy, mutual_information"):
        uncertainty(members, x, "variance")
    with pytest.raises(ValueError, match=r"class logits \(B, C\) with C ≥ 2"):
        member_probabilities([nn.Linear(4, 1).double()], x)
