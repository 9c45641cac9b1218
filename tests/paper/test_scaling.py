"""Fig. 3b over seeds: seed means with standard errors, the centre's C_c fit and the crossing
width N_c, on sweeps whose answers are known, and one real sweep of trained nets."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch

from ftle_widget.paper import nets, scaling
from ftle_widget.paper.scaling import Mean, SeedSweep
from ftle_widget.paper.statistics import boundary_and_centre

WIDTHS, DEPTHS, SEEDS = (4, 8, 16, 32, 64, 128, 250), (2, 4, 8, 12), (0, 1, 2)
LEVEL = {2: 1.2, 4: 2.2, 8: 3.0, 12: 3.2}


def _law(c_c: float = 0.3, const: float = -1.0, noise: float = 0.0, level=LEVEL) -> SeedSweep:
    """A sweep that follows the paper's laws exactly (plus seeded noise): boundary = level(L),
    centre = log N − C_c L + const."""
    rng = np.random.default_rng(7)
    samples = {
        (n, d, s): (
            level[d] + noise * rng.standard_normal(),
            math.log(n) - c_c * d + const + noise * rng.standard_normal(),
            0.99,
        )
        for n in WIDTHS
        for d in DEPTHS
        for s in SEEDS
    }
    return SeedSweep.from_samples(samples)


def test_mean_is_the_mean_with_its_standard_error():
    m = Mean.of([1.0, 2.0, 4.0])
    assert m.value == pytest.approx(7 / 3)
    assert m.error == pytest.approx(np.std([1, 2, 4], ddof=1) / math.sqrt(3))
    assert Mean.of([5.0]).error == 0.0
    with pytest.raises(ValueError, match="at least one sample"):
        Mean.of([])


def test_centre_fit_recovers_c_c_and_the_constant():
    fit = _law(c_c=0.3, const=-1.0).centre_fit()
    assert fit.slope == pytest.approx(-0.3, abs=1e-12)
    assert fit.intercept == pytest.approx(-1.0, abs=1e-12)
    assert fit.rms < 1e-12 and fit.points == len(WIDTHS) * len(DEPTHS)
    noisy = _law(c_c=0.25, noise=0.05).centre_fit(min_width=16)
    assert noisy.slope == pytest.approx(-0.25, abs=0.02)
    assert noisy.points == 5 * len(DEPTHS)


def test_crossings_extrapolated_follow_n_c_law():
    # boundary flat in N at level(L), centre = log N − C_c L + c: N_c = exp(level + C_c L − c)
    sweep = _law(c_c=0.3, const=-1.0)
    for crossing in sweep.crossings():
        expected = math.exp(LEVEL[crossing.depth] + 0.3 * crossing.depth + 1.0)
        assert crossing.width == pytest.approx(expected, rel=1e-9)
        assert crossing.measured is (expected < 250)
    # with a boundary level that is the same at every depth, log N_c = C_d + C_c L exactly
    same = _law(c_c=0.3, const=-1.0, level=dict.fromkeys(DEPTHS, 2.0)).crossing_fit()
    assert same.slope == pytest.approx(0.3, abs=1e-9)
    assert same.intercept == pytest.approx(3.0, abs=1e-9)


def test_crossing_inside_the_sweep_is_interpolated_in_log_n():
    # boundary 1, centre log N − 2: the contrast 3 − log N vanishes at N = e³ ≈ 20.1
    samples = {(n, 2, 0): (1.0, math.log(n) - 2.0) for n in WIDTHS}
    (crossing,) = SeedSweep.from_samples(samples).crossings()
    assert crossing.measured and crossing.width == pytest.approx(math.exp(3.0), rel=1e-9)
    assert SeedSweep.from_samples(samples).seeds() == 1


def test_flat_in_width_within_error_bars():
    flat = _law(noise=0.05)
    assert all(flat.flat_in_width(d) for d in DEPTHS)
    rising = {(n, 4, s): (1.0 + 0.3 * math.log(n) + 0.01 * s, 0.0) for n in WIDTHS for s in SEEDS}
    rising_sweep = SeedSweep.from_samples(rising)
    change, error = rising_sweep.boundary_drift(4)
    assert change == pytest.approx(0.3 * math.log(250 / 4), rel=1e-9)
    logs = np.log(WIDTHS)  # seeds 0, 1, 2: ±0.01, a standard error of 0.01 / √3 per mean
    spread = np.log(250 / 4) / np.sqrt(((logs - logs.mean()) ** 2).sum())
    assert error == pytest.approx(0.01 / math.sqrt(3) * spread, rel=1e-9)
    assert not rising_sweep.flat_in_width(4)


def test_table_lists_every_net_with_errors_and_the_paper():
    text = _law(noise=0.05).table()
    lines = text.splitlines()
    assert len(lines) == 1 + len(WIDTHS) * len(DEPTHS)
    first = lines[1].split()
    assert first[:2] == ["2", "4"] and first[3] == "±" and first[-1] == "1.20"


def test_sweep_of_real_nets_averages_boundary_and_centre_over_seeds(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # trained here, then loaded again
    train = functools.partial(nets.trained_circle_mlp, protocol="paper", quick=True)
    result = scaling.sweep(lambda n, d, s: train(n, d, seed=s), (4,), (2,), (0, 1), n=60)
    (key,) = result.boundary
    assert key == (4, 2)
    expected = [boundary_and_centre(train(4, 2, seed=s)[0], n=60) for s in (0, 1)]
    assert result.boundary[key].samples == tuple(e.boundary for e in expected)
    assert result.centre[key].value == pytest.approx(np.mean([e.centre for e in expected]))
    assert 0.5 < result.accuracy[key].value <= 1.0


def test_sweep_leaves_out_nets_that_did_not_learn_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    learned, _ = nets.trained_circle_mlp(4, 2, protocol="paper", quick=True)
    flat = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    with torch.no_grad():  # output tanh(1) > 0 everywhere: no decision boundary
        for p in flat.parameters():
            p.zero_()
        flat[2].bias.fill_(1.0)
    nets_by_seed = {0: (learned, 0.99), 1: (learned, 0.5), 2: (flat, 0.99)}

    def train(n, d, seed):
        model, accuracy = nets_by_seed[seed]
        return model, {"test_accuracy": accuracy}

    result = scaling.sweep(train, (4,), (2,), (0, 1, 2), n=60, min_accuracy=0.9)
    assert result.boundary[4, 2].samples == (boundary_and_centre(learned, n=60).boundary,)
    assert [(n, d, s) for n, d, s, _ in result.excluded] == [(4, 2, 1), (4, 2, 2)]
    assert "test accuracy 50.00% < 90%" in result.excluded[0][3]
    assert "no sign change" in result.excluded[1][3]
