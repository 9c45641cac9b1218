"""Model versions: every way training code changes weights is noticed."""

from __future__ import annotations

import torch

from ftle_widget.lazy.versions import ModelVersions
from ftle_widget.paper.models import mlp


def test_writes_through_param_data_make_a_new_version_with_a_fresh_snapshot():
    model = mlp(2, 8, 2, 1, seed=0)
    versions = ModelVersions(model)
    first = versions.current()
    assert versions.current() == first  # nothing changed: no new version
    with torch.no_grad():
        for p in model.parameters():
            p.data.mul_(1.5)  # older training code: no version counter moves
    second = versions.current()
    assert second == first + 1
    for (name, p), (_, q) in zip(
        model.named_parameters(), versions.snapshot(second).named_parameters(), strict=True
    ):
        assert torch.equal(p, q), name
    # the other ways, as before: in place (an optimizer step), and a replaced tensor
    with torch.no_grad():
        next(model.parameters()).add_(0.1)
    assert versions.current() == second + 1
    model[0].weight = torch.nn.Parameter(torch.zeros_like(model[0].weight))
    assert versions.current() == second + 2


def test_a_data_write_to_every_value_of_a_large_tensor_is_seen():
    model = torch.nn.Sequential(
        torch.nn.Linear(1000, 1000), torch.nn.Tanh(), torch.nn.Linear(1000, 1)
    )
    versions = ModelVersions(model)
    first = versions.current()
    model[0].weight.data -= 1e-3 * torch.sign(model[0].weight.data)  # a sign-SGD step
    assert versions.current() == first + 1
