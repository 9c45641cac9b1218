"""The paper's experiment helpers: caching of trained nets, Fig. 3b and Fig. 4 statistics."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from ftle_widget import maximal_ftle
from ftle_widget.maths.fields import ftle_field
from ftle_widget.maths.planes import Plane
from ftle_widget.paper import charts, nets, statistics
from ftle_widget.paper.models import mlp
from ftle_widget.widget.export import colorize


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "ftle_widget"


def _no_training(*args, **kwargs):
    raise AssertionError("trained although the net is cached")


def test_quick_reads_the_environment(monkeypatch):
    monkeypatch.delenv("FTLE_WIDGET_QUICK", raising=False)
    assert nets.quick() is False
    for value, expected in (("", False), ("0", False), ("1", True), ("yes", True)):
        monkeypatch.setenv("FTLE_WIDGET_QUICK", value)
        assert nets.quick() is expected


def test_cache_dir_follows_xdg_and_falls_back_to_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert nets.cache_dir() == tmp_path / "xdg" / "ftle_widget"
    assert (tmp_path / "xdg" / "ftle_widget").is_dir()
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert nets.cache_dir() == tmp_path / "home" / ".cache" / "ftle_widget"
    assert nets.cache_dir().is_dir()


def test_phases_split_the_epochs_4_2_1():
    assert nets._phases(7, (0.05, 0.01, 0.002)) == [(4, 0.05), (2, 0.01), (1, 0.002)]
    assert nets._phases(21, (0.05, 0.01, 0.002)) == [(12, 0.05), (6, 0.01), (3, 0.002)]
    assert nets._phases(1, (0.05, 0.01, 0.002)) == [(1, 0.05)]
    assert nets._phases(5, 0.1) == [(5, 0.1)]
    for epochs in range(30):
        assert sum(n for n, _ in nets._phases(epochs, (1, 2, 3))) == epochs


def test_circle_net_is_cached_and_loads_without_training(cache, monkeypatch):
    threads = torch.get_num_threads()
    model, info = nets.trained_circle_mlp(4, 2, epochs=3, quick=True)
    assert torch.get_num_threads() == threads
    assert not info["cached"] and info["epochs"] == 3
    assert len(info["accuracy_per_epoch"]) == 4  # before training, then per epoch
    assert info["test_accuracy"] == info["accuracy_per_epoch"][-1] > 0.6
    assert info["accuracy_per_epoch"][-1] > info["accuracy_per_epoch"][0]
    assert [p.name for p in cache.iterdir()] == [info["path"].rsplit("/", 1)[1]]

    monkeypatch.setattr(nets, "train", _no_training)
    again, info2 = nets.trained_circle_mlp(4, 2, epochs=3, quick=True)
    assert info2["cached"] and info2["test_accuracy"] == info["test_accuracy"]
    assert info2["accuracy_per_epoch"] == info["accuracy_per_epoch"]
    for (name, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), name
    x = torch.rand(50, 2) * 3 - 1.5
    assert torch.equal(model(x), again(x))
    # every setting is part of the key: another seed or width is another net
    with pytest.raises(AssertionError, match="cached"):
        nets.trained_circle_mlp(4, 2, epochs=3, quick=True, seed=1)
    with pytest.raises(AssertionError, match="cached"):
        nets.trained_circle_mlp(5, 2, epochs=3, quick=True)


def test_a_damaged_cache_file_is_trained_again_with_a_warning(cache):
    _, info = nets.trained_circle_mlp(3, 1, epochs=1, quick=True)
    with open(info["path"], "wb") as f:
        f.write(b"not a torch file")
    with pytest.warns(RuntimeWarning, match="cannot read the cached net"):
        _, again = nets.trained_circle_mlp(3, 1, epochs=1, quick=True)
    assert not again["cached"] and again["test_accuracy"] == info["test_accuracy"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nets.trained_circle_mlp(3, 1, epochs=1, quick=True)[1]["cached"]


def _line_net(threshold: float = 0.3) -> torch.nn.Sequential:
    """2 → 2 → 1 with output tanh(tanh(x₁) − threshold): the boundary is the line
    x₁ = atanh(threshold); the hidden Jacobian is diag(sech²x₁, sech²x₂)."""
    net = mlp(2, 2, 1, 1, seed=0)
    with torch.no_grad():
        net[0].weight.copy_(torch.eye(2))
        net[0].bias.zero_()
        net[2].weight.copy_(torch.tensor([[1.0, 0.0]]))
        net[2].bias.fill_(-threshold)
    return net


def test_boundary_points_lie_on_the_known_boundary():
    c = math.atanh(0.3)
    points = statistics.boundary_points(_line_net(), n=360)
    np.testing.assert_allclose(points[:, 0], c, atol=1e-8)
    # exactly the rays (angles (k + ½)°) that meet the line x₁ = c within radius 1.5
    angles = np.deg2rad(np.arange(360) + 0.5)
    hits = (np.cos(angles) > 0) & (c / np.cos(angles) < 1.5)
    assert len(points) == hits.sum()
    np.testing.assert_allclose(
        np.sort(np.arctan2(points[:, 1], points[:, 0]) % (2 * np.pi)),
        np.sort(angles[hits]),
        atol=1e-12,
    )


def test_boundary_points_sit_on_a_sign_change_of_a_trained_net(cache):
    model, _ = nets.trained_circle_mlp(6, 3, epochs=2, quick=True)
    points = statistics.boundary_points(model, n=90)
    assert len(points) >= 90  # every ray leaves the learned disc
    radius = np.hypot(points[:, 0], points[:, 1])
    assert np.all(np.abs(radius - 1) < 0.25)  # the learned boundary is near the unit circle
    net64 = model.double()
    with torch.no_grad():
        inner = net64(torch.from_numpy(points * (1 - 1e-6))).squeeze(1)
        outer = net64(torch.from_numpy(points * (1 + 1e-6))).squeeze(1)
        at = net64(torch.from_numpy(points)).squeeze(1)
    assert torch.all(torch.sign(inner) != torch.sign(outer))
    assert at.abs().max() < 1e-6


def test_boundary_and_centre_match_the_closed_form():
    net = _line_net()
    stats = statistics.boundary_and_centre(net, n=120)
    c = math.atanh(0.3)

    def log_stretch(p: np.ndarray) -> np.ndarray:  # log of the larger of sech²x₁, sech²x₂
        return np.log(np.max(1 / np.cosh(p) ** 2, axis=1))

    assert stats.depth == 1
    np.testing.assert_allclose(stats.boundary_points[:, 0], c, atol=1e-8)
    np.testing.assert_allclose(stats.boundary_values, log_stretch(stats.boundary_points), atol=1e-5)
    np.testing.assert_allclose(stats.centre_values, log_stretch(stats.centre_points), atol=1e-5)
    assert stats.boundary == pytest.approx(log_stretch(stats.boundary_points).mean(), abs=1e-5)
    assert stats.centre == pytest.approx(log_stretch(stats.centre_points).mean(), abs=1e-5)
    assert stats.contrast == pytest.approx(stats.boundary - stats.centre)
    assert np.all(np.hypot(*stats.centre_points.T) <= 0.25) and len(stats.centre_points) == 120
    # depth divides λ₁ only: log Λ₁ stays the same
    deeper = statistics.boundary_and_centre(net, depth=4, n=120)
    assert deeper.boundary == pytest.approx(stats.boundary, abs=1e-6)
    assert deeper.boundary_lambda == pytest.approx(stats.boundary / 4, abs=1e-6)


def test_boundary_and_centre_without_a_boundary_is_an_error():
    with pytest.raises(ValueError, match="no sign change"):
        statistics.boundary_and_centre(_line_net(threshold=0.99))  # x₁ = 2.6: off the disc


def test_centre_points_cover_the_disc_evenly():
    points = statistics.centre_points(1000, radius=0.25)
    r = np.hypot(points[:, 0], points[:, 1])
    assert points.shape == (1000, 2) and r.max() <= 0.25
    assert np.mean(r < 0.25 / math.sqrt(2)) == pytest.approx(0.5, abs=0.01)  # half the area
    np.testing.assert_allclose(points.mean(axis=0), 0, atol=2e-3)


def test_ftle_bins_match_a_direct_computation():
    torch.manual_seed(0)
    model = mlp(64, 12, 3, 10, seed=1)
    members = [model, mlp(64, 12, 3, 10, seed=2), mlp(64, 12, 3, 10, seed=3)]
    x, y = torch.rand(203, 64), torch.randint(0, 10, (203,))
    bins = statistics.ftle_bins(model, x, y, bins=4, ensemble=members)

    lam = maximal_ftle(model, x).double().numpy()
    with torch.no_grad():
        wrong = (model(x).argmax(1) != y).numpy()
        probs = torch.stack([torch.softmax(m(x).double(), 1) for m in members]).mean(0)
    entropy = -(probs * probs.log()).sum(1).numpy()
    order = np.argsort(lam, kind="stable")
    assert bins.count.sum() == 203 and bins.count.max() - bins.count.min() <= 1
    for b in range(4):
        members_of_b = np.flatnonzero(bins.bin_of == b)
        assert np.all(lam[members_of_b] >= bins.edges[b] - 1e-12)
        assert np.all(lam[members_of_b] <= bins.edges[b + 1] + 1e-12)
        assert bins.error[b] == pytest.approx(wrong[members_of_b].mean())
        assert bins.lam[b] == pytest.approx(lam[members_of_b].mean())
        assert bins.entropy[b] == pytest.approx(entropy[members_of_b].mean())
    # bins follow λ₁: the lowest-λ₁ quarter of the points is bin 0
    assert set(bins.bin_of[order[:50]]) == {0} and set(bins.bin_of[order[-50:]]) == {3}
    assert bins.edges[0] == lam.min() and bins.edges[-1] == lam.max()
    assert "entropy" in bins.table() and len(bins.table().splitlines()) == 5
    plain = statistics.ftle_bins(model, x, y, bins=4)
    assert plain.entropy is None and "entropy" not in plain.table()
    np.testing.assert_array_equal(plain.error, bins.error)
    with pytest.raises(ValueError, match="point per bin"):
        statistics.ftle_bins(model, x[:3], y[:3], bins=4)


def test_predictive_entropy_limits():
    silent = mlp(4, 3, 1, 10, seed=0)
    with torch.no_grad():
        silent[2].weight.zero_()
    assert statistics.predictive_entropy([silent], torch.rand(5, 4)) == pytest.approx(
        np.full(5, math.log(10))
    )
    sure = mlp(4, 3, 1, 10, seed=0)
    with torch.no_grad():
        sure[2].weight.zero_()
        sure[2].bias.copy_(torch.tensor([60.0] + [0.0] * 9))
    assert statistics.predictive_entropy([sure], torch.rand(5, 4)).max() < 1e-20
    # two sure members that disagree: half and half, entropy log 2
    other = mlp(4, 3, 1, 10, seed=0)
    with torch.no_grad():
        other[2].weight.zero_()
        other[2].bias.copy_(torch.tensor([0.0, 60.0] + [0.0] * 8))
    assert statistics.predictive_entropy([sure, other], torch.rand(5, 4)) == pytest.approx(
        np.full(5, math.log(2))
    )


def test_digits_net_and_ensemble(cache, monkeypatch):
    model, info = nets.trained_digits_mlp(6, 2, epochs=2, quick=True)
    assert model[0].in_features == 64 and model[-1].out_features == 10
    assert info["epochs"] == 2 and info["test_accuracy"] > 0.3  # chance: 0.1
    members = nets.ensemble(6, 2, members=3, epochs=2, quick=True)
    assert len(members) == 3
    for (name, a), (_, b) in zip(model.state_dict().items(), members[0].state_dict().items()):
        assert torch.equal(a, b), name  # member 0 is the net itself (from the cache)
    assert not torch.equal(members[1][0].weight, members[2][0].weight)
    monkeypatch.setattr(nets, "train", _no_training)
    assert len(nets.ensemble(6, 2, members=3, epochs=2, quick=True)) == 3
    with pytest.raises(ValueError, match="members"):
        nets.ensemble(6, 2, members=0)


def _write_idx(path, array: np.ndarray) -> None:
    kind = 0x08
    header = bytes([0, 0, kind, array.ndim]) + b"".join(
        int(s).to_bytes(4, "big") for s in array.shape
    )
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_mnist_nets_train_on_local_idx_files(tmp_path, cache):
    rng = np.random.default_rng(0)
    folder = tmp_path / "mnist"
    folder.mkdir()
    labels = {"train": rng.integers(0, 10, 64), "t10k": rng.integers(0, 10, 16)}
    for part, y in labels.items():
        images = rng.integers(0, 40, (len(y), 28, 28))
        images[np.arange(len(y)), 2 * y + 4, 4:24] = 255  # a bar whose row tells the class
        _write_idx(folder / f"{part}-images-idx3-ubyte", images)
        _write_idx(folder / f"{part}-labels-idx1-ubyte", y)
    model, info = nets.trained_digits_mlp(8, 2, epochs=2, quick=True, mnist=folder)
    assert model[0].in_features == 784 and model[-1].out_features == 10
    assert not info["cached"] and len(info["accuracy_per_epoch"]) == 3
    again, info2 = nets.trained_digits_mlp(8, 2, epochs=2, quick=True, mnist=folder)
    assert info2["cached"] and torch.equal(again[0].weight, model[0].weight)
    assert any(p.name.startswith("mnist-N8-L2-") for p in cache.iterdir())
    data = nets.digits_data(folder)
    bins = statistics.ftle_bins(model, data.x_test, data.y_test, bins=2)
    assert bins.count.tolist() == [8, 8]


def test_field_panels_show_each_field_through_the_colormap():
    models = {
        (3, 1): mlp(2, 3, 1, 1, seed=0),
        (5, 1): mlp(2, 5, 1, 1, seed=1),
        (3, 2): mlp(2, 3, 2, 1, seed=2),
    }
    size = 40
    image = charts.field_panels(models, size=size, grid=3)
    assert image.size == (44 + 2 * (size + 6) + 70, 18 + 2 * (size + 6))
    pixels = np.asarray(image)
    for (n, depth), model in models.items():
        field = ftle_field(model, Plane.standard(2), (-1.5, 1.5, -1.5, 1.5), (size, size))
        colours = colorize(field.log_stretch, "RdBu_r", -4, 4)[::-1, :, :3]
        col, row = [3, 5].index(n), [1, 2].index(depth)
        x0, y0 = 44 + col * (size + 6), 18 + row * (size + 6)
        # the corner pixels are far from the direction segments (drawn at cell centres)
        for i, j in ((0, 0), (0, size - 1), (size - 1, 0), (size - 1, size - 1)):
            np.testing.assert_array_equal(pixels[y0 + i, x0 + j], colours[i, j])
    # the missing (5, 2) panel stays white
    np.testing.assert_array_equal(pixels[18 + size + 6 + 5, 44 + size + 6 + 5], [255, 255, 255])


def test_line_chart_and_side_by_side():
    chart = charts.line_chart(
        [10, 50, 250],
        {"a": [1, 2, 3], "b": [3, 2, 1]},
        spread={"a": [0.1, 0.1, 0.1]},
        logx=True,
        size=(300, 200),
    )
    assert chart.size == (300, 200)
    colours = {tuple(c) for c in np.asarray(chart).reshape(-1, 3)}
    assert (0x1F, 0x77, 0xB4) in colours and (0xFF, 0x7F, 0x0E) in colours
    both = charts.side_by_side(chart, chart, gap=10)
    assert both.size == (610, 200)
