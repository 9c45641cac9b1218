"""Fig. 3a's nets with frozen hidden layers, and the circle nets' training protocols."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from ftle_widget.paper import frozen, nets


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "ftle_widget"


@pytest.fixture
def calls(monkeypatch):
    """The keyword arguments of every call of the trainer (which still trains)."""
    seen: list[dict] = []
    real = nets.train

    def spy(model, data, **kwargs):
        seen.append({**kwargs, "points": len(data.x_train) + len(data.x_test)})
        return real(model, data, **kwargs)

    monkeypatch.setattr(nets, "train", spy)
    return seen


def _linears(model: nn.Sequential) -> list[nn.Linear]:
    return [m for m in model if isinstance(m, nn.Linear)]


# ---------------------------------------------------------------------------- protocols
def test_the_protocols_settings_are_the_documented_ones():
    paper = nets.circle_settings("paper", quick=False)
    assert paper == {"n": 40_000, "epochs": 200, "lr": 0.05, "batch_size": 8192, "optimizer": "sgd"}
    assert nets.circle_settings("paper", quick=True) == {**paper, "n": 10_000}
    ours = nets.circle_settings("ours", quick=False)
    assert ours == {
        "n": 40_000,
        "epochs": 21,
        "lr": (0.05, 0.01, 0.002),
        "batch_size": 32,
        "optimizer": "sgd",
    }
    assert nets.circle_settings(quick=True) == {**ours, "n": 10_000, "epochs": 7}
    # a copy: changing it changes nothing
    nets.circle_settings("paper", quick=False)["epochs"] = 3
    assert nets.circle_settings("paper", quick=False)["epochs"] == 200


def test_an_unknown_protocol_is_refused_naming_the_known_ones(cache):
    with pytest.raises(ValueError, match=r"unknown training protocol 'adam'.*'ours', 'paper'"):
        nets.trained_circle_mlp(4, 2, protocol="adam", quick=True)
    with pytest.raises(ValueError, match="'ours', 'paper'"):
        frozen.frozen_circle_mlp(4, protocol="Paper", quick=True)
    assert not cache.exists() or not any(cache.iterdir())


def test_the_paper_protocol_trains_with_its_settings(cache, calls):
    _, info = nets.trained_circle_mlp(4, 2, protocol="paper", epochs=3, quick=True)
    # one phase at a constant 0.05, batch 8192, MSE, on 10 000 points (quick)
    assert calls == [
        {
            "epochs": 3,
            "lr": 0.05,
            "seed": 0,
            "progress": False,
            "loss": "mse",
            "optimizer": "sgd",
            "batch_size": 8192,
            "points": 10_000,
        }
    ]
    key = json.loads(info["settings"])
    assert key["protocol"] == "paper" and key["batch_size"] == 8192 and key["lr"] == 0.05
    # ours: three phases at batch 32, and another file; its key has no protocol (old caches)
    calls.clear()
    _, ours = nets.trained_circle_mlp(4, 2, epochs=7, quick=True)
    assert [(c["epochs"], c["lr"], c["batch_size"]) for c in calls] == [
        (4, 0.05, 32),
        (2, 0.01, 32),
        (1, 0.002, 32),
    ]
    assert "protocol" not in json.loads(ours["settings"])
    assert ours["path"] != info["path"] and len(list(cache.iterdir())) == 2


# ---------------------------------------------------------------------------- Fig. 3a
def test_frozen_training_moves_only_the_output_layer(cache, calls):
    for thresholds in frozen.THRESHOLDS:
        start = frozen.frozen_mlp(6, seed=3, thresholds=thresholds)
        model, info = frozen.frozen_circle_mlp(
            6, thresholds=thresholds, seed=3, epochs=2, quick=True
        )
        assert not info["cached"] and info["epochs"] == 2
        before, after = _linears(start), _linears(model)
        for a, b in zip(before[:-1], after[:-1]):  # the hidden layers: bit for bit
            assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
            assert not b.weight.requires_grad and not b.bias.requires_grad
        moved = (after[-1].weight - before[-1].weight).abs().max()
        assert moved > 1e-3 and after[-1].bias != before[-1].bias
        assert after[-1].weight.requires_grad
    assert [c["batch_size"] for c in calls] == [32, 32, 32, 32]  # ours: two phases each


def test_the_thresholds_are_zero_or_drawn_from_a_unit_normal():
    zero = frozen.frozen_mlp(200, seed=1, thresholds="zero")
    random = frozen.frozen_mlp(200, seed=1, thresholds="random")
    for z, r in zip(_linears(zero)[:-1], _linears(random)[:-1]):
        assert torch.equal(z.weight, r.weight)  # the same weights, only the thresholds differ
        assert torch.count_nonzero(z.bias) == 0
        assert abs(float(r.bias.mean())) < 0.25 and 0.85 < float(r.bias.std()) < 1.15
    assert not torch.equal(_linears(random)[1].bias, _linears(random)[0].bias)
    assert torch.equal(_linears(frozen.frozen_mlp(200, seed=1))[0].bias, _linears(random)[0].bias)
    with pytest.raises(ValueError, match=r"unknown thresholds 'none'.*'random', 'zero'"):
        frozen.frozen_mlp(5, thresholds="none")


def test_zero_thresholds_make_odd_features_random_ones_do_not():
    x = torch.rand(100, 2) * 3 - 1.5
    zero = frozen.frozen_mlp(8, thresholds="zero")[:-2]  # the last hidden layer's output
    random = frozen.frozen_mlp(8, thresholds="random")[:-2]
    with torch.no_grad():
        assert torch.equal(zero(-x), -zero(x))
        assert (random(-x) + random(x)).abs().max() > 0.1


def test_zero_thresholds_stay_at_the_disc_fraction_random_ones_learn(cache):
    data = nets.circle_data(quick=True)
    inside = float((data.y_test < 0).float().mean())
    assert abs(inside - math.pi / 9) < 0.02  # the disc's share of the square
    errors = frozen.errors_against_width((20,), quick=True)
    assert set(errors) == {"random", "zero", "trained"}
    assert errors["zero"][20] == pytest.approx(inside, abs=0.01)
    assert errors["random"][20] < 0.12
    assert errors["trained"][20] < 0.02
