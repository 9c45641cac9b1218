"""History: exact snapshots, the keep policy, metrics, probes, observers and threads."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest
import torch
from torch import nn

from ftle_widget import maximal_ftle
from ftle_widget.paper.models import mlp
from ftle_widget.training.history import History


def bn_model(seed: int = 0) -> nn.Sequential:
    """A small net with buffers (BatchNorm's running statistics and its int64 counter)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 1))


def train_step(model: nn.Module, gen: torch.Generator) -> float:
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(16, 2, generator=gen)
    loss = ((model(x) - x[:, :1].sign()) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def copy_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_state_equal(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        assert a[key].device.type == "cpu"
        assert torch.equal(a[key], b[key]), key


def filled(value: float) -> nn.Linear:
    """A Linear whose every weight and bias equals ``value``."""
    layer = nn.Linear(3, 2)
    with torch.no_grad():
        layer.weight.fill_(value)
        layer.bias.fill_(value)
    return layer


# ---------------------------------------------------------------------- exact snapshots
@pytest.mark.parametrize("on_disk", [False, True])
def test_record_and_restore_are_exact_while_training_goes_on(tmp_path, on_disk):
    model = bn_model()
    gen = torch.Generator().manual_seed(1)
    history = History(directory=tmp_path / "run" if on_disk else None)
    expected = {}
    for epoch in range(6):
        loss = train_step(model, gen)
        assert history.record(model, loss=loss) == epoch
        expected[epoch] = copy_state(model)
    for _ in range(3):  # the model trains on; the snapshots must not follow
        train_step(model, gen)
    assert not torch.equal(model[0].weight, expected[5]["0.weight"])
    for epoch, state in expected.items():
        assert_state_equal(history[epoch], state)
    assert history[5]["1.num_batches_tracked"].item() == 6
    assert history[5]["1.running_mean"].abs().sum() > 0
    restored = bn_model(seed=7)
    restored.load_state_dict(history[2])
    assert_state_equal(copy_state(restored), expected[2])
    if on_disk:
        assert history.directory.parent == tmp_path / "run"  # made, with its own folder inside
        files = sorted(p.name for p in history.directory.iterdir())
        assert files == sorted(f"epoch_{e}.pt" for e in range(6))
        assert history.nbytes == 0
    else:
        per = sum(v.nbytes for v in expected[0].values())
        assert history.nbytes == 6 * per


def test_snapshots_of_a_float64_model_and_a_state_dict():
    model = mlp(2, 10, 4, 1, seed=0).double()
    history = History()
    history.record(model.state_dict(), epoch=10)
    state = history[10]
    assert state["0.weight"].dtype == torch.float64
    assert_state_equal(state, copy_state(model))


@pytest.mark.parametrize("on_disk", [False, True])
def test_getitem_returns_a_fresh_copy(tmp_path, on_disk):
    model = mlp(2, 10, 4, 1, seed=0)
    history = History(directory=tmp_path if on_disk else None)
    history.record(model)
    expected = copy_state(model)
    first = history[0]
    first["0.weight"].add_(1.0)
    del first["0.bias"]
    first["extra"] = torch.zeros(1)
    assert first is not history[0]
    assert_state_equal(history[0], expected)


# ---------------------------------------------------------------------- keep policy
def test_every_keeps_each_every_th_record_and_always_the_latest():
    history = History(every=3)
    layer = filled(0.0)
    for epoch in range(10):
        history.record(layer, loss=float(epoch))
    assert history.epochs == [0, 3, 6, 9]
    history.record(layer, loss=10.0)  # record 10: not an every-th one, but the latest
    assert history.epochs == [0, 3, 6, 9, 10]
    assert history.latest == 10 and 10 in history
    history.record(layer, loss=11.0)  # a newer latest replaces it
    assert history.epochs == [0, 3, 6, 9, 11]
    assert 10 not in history and 9 in history
    assert history.recorded == list(range(12))
    assert len(history) == 5
    assert list(history) == [0, 3, 6, 9, 11]
    np.testing.assert_array_equal(history.metric("loss")[0], np.arange(12))


def test_every_counts_records_not_epoch_numbers():
    history = History(every=2)
    for epoch in (0, 5, 7, 20, 21):
        history.record(filled(epoch), epoch=epoch)
    assert history.epochs == [0, 7, 21]  # records 0, 2, 4
    assert history[7]["weight"].eq(7).all()


def test_last_bounds_memory_over_100_epochs():
    history = History(last=5)
    per = sum(v.nbytes for v in filled(0).state_dict().values())
    for epoch in range(100):
        history.record(filled(float(epoch)), loss=1.0 / (epoch + 1))
        assert len(history) == min(epoch + 1, 5)
        assert history.nbytes == per * len(history)
    assert history.epochs == [95, 96, 97, 98, 99]
    assert history[97]["weight"].eq(97).all()
    assert len(history.recorded) == 100
    assert len(history.metric("loss")[1]) == 100  # metrics are kept for every record


def test_last_counts_the_latest_too():
    history = History(every=10, last=3)
    for epoch in range(100):
        history.record(filled(float(epoch)))
        assert len(history) <= 3
        assert history.latest in history
    assert history.epochs == [80, 90, 99]


def test_files_on_disk_stay_bounded(tmp_path):
    history = History(every=2, last=4, directory=tmp_path)
    for epoch in range(40):
        history.record(filled(float(epoch)))
        files = sorted(int(p.stem.split("_")[1]) for p in tmp_path.rglob("epoch_*.pt"))
        assert files == history.epochs
        assert len(files) <= 4
    assert history.epochs == [34, 36, 38, 39]
    assert history[36]["bias"].eq(36).all()


def test_histories_sharing_a_directory_keep_their_own_files(tmp_path):
    # a file there before (an earlier run's snapshot, written by an older version) stays unread
    (tmp_path / "epoch_0.pt").write_bytes(b"stale")
    first, second = History(directory=tmp_path), History(directory=tmp_path)
    assert first.directory != second.directory
    assert first.directory.parent == second.directory.parent == tmp_path
    assert first.directory.name.startswith("run-") and not any(first.directory.iterdir())
    for epoch in range(3):  # the same epochs, different weights, interleaved
        first.record(filled(float(epoch)))
        second.record(filled(100.0 + epoch))
    for epoch in range(3):
        assert first[epoch]["bias"].eq(epoch).all()
        assert second[epoch]["bias"].eq(100 + epoch).all()
    assert sorted(p.name for p in first.directory.iterdir()) == [f"epoch_{e}.pt" for e in range(3)]
    assert (tmp_path / "epoch_0.pt").read_bytes() == b"stale"
    # a rerun (a notebook cell run again) starts empty, next to the earlier run's files
    rerun = History(directory=tmp_path)
    assert len(rerun) == 0 and not any(rerun.directory.iterdir())
    rerun.record(filled(7.0))
    assert rerun[0]["bias"].eq(7).all() and first[0]["bias"].eq(0).all()
    with pytest.raises(NotADirectoryError, match="is a file"):
        History(directory=tmp_path / "epoch_0.pt")


# ---------------------------------------------------------------------- metrics
def test_metric_arrays_per_metric_epochs_and_number_types():
    history = History()
    layer = filled(0.0)
    for epoch in range(12):
        extra = {"test_loss": np.float32(0.5 * epoch)} if epoch % 5 == 0 else {}
        loss = torch.tensor(2.0 - 0.1 * epoch, requires_grad=True) * 1.0
        history.record(layer, loss=loss, acc=epoch, lr=np.array(0.25), **extra)
    epochs, values = history.metric("loss")
    assert epochs.dtype == np.int64 and values.dtype == np.float64
    np.testing.assert_array_equal(epochs, np.arange(12))
    np.testing.assert_allclose(values, 2.0 - 0.1 * np.arange(12), rtol=1e-6)
    np.testing.assert_array_equal(history.metric("acc")[1], np.arange(12, dtype=float))
    np.testing.assert_array_equal(history.metric("lr")[1], np.full(12, 0.25))
    test_epochs, test_values = history.metric("test_loss")
    np.testing.assert_array_equal(test_epochs, [0, 5, 10])
    np.testing.assert_array_equal(test_values, [0.0, 2.5, 5.0])
    assert history.metric_names == ["loss", "acc", "lr", "test_loss"]


def test_explicit_epochs_and_default_continuation():
    history = History()
    assert history.latest is None
    assert history.record(filled(0)) == 0
    assert history.record(filled(0), epoch=10) == 10
    assert history.record(filled(0)) == 11
    assert history.recorded == [0, 10, 11]
    assert history.nearest(4.9) == 0
    assert history.nearest(5) == 0  # a tie goes to the earlier epoch
    assert history.nearest(5.1) == 10
    assert history.nearest(-3) == 0 and history.nearest(1e6) == 11
    assert history.nearest(np.float64(10.4)) == 10


# ---------------------------------------------------------------------- errors
def test_errors_are_clear():
    history = History(every=5)
    for _ in range(12):
        history.record(filled(0))
    assert history.epochs == [0, 5, 10, 11]
    with pytest.raises(KeyError, match=r"epoch 7; the nearest held: 5, 10"):
        history[7]
    with pytest.raises(KeyError, match=r"nearest held: 11"):
        history[40]
    with pytest.raises(ValueError, match="epochs must increase: epoch 11 recorded after 11"):
        history.record(filled(0), epoch=11)
    with pytest.raises(ValueError, match="epoch 3 recorded after 11"):
        history.record(filled(0), epoch=3)
    with pytest.raises(TypeError, match="epoch must be an int"):
        history.record(filled(0), epoch=12.5)
    with pytest.raises(TypeError, match=r"metric 'name' must be a real number.*str"):
        history.record(filled(0), loss=1.0, name="resnet")
    with pytest.raises(TypeError, match=r"metric 'loss' must be a real number.*Tensor"):
        history.record(filled(0), loss=torch.ones(3))
    with pytest.raises(TypeError, match=r"metric 'z'.*complex"):
        history.record(filled(0), z=1j)
    with pytest.raises(TypeError, match=r"record needs a torch\.nn\.Module or a state dict"):
        history.record([1, 2, 3])
    assert history.recorded == list(range(12))  # failed records leave no trace
    with pytest.raises(KeyError, match="no metric 'loss'; recorded: none yet"):
        history.metric("loss")
    with pytest.raises(ValueError, match="every must be a positive int"):
        History(every=0)
    with pytest.raises(ValueError, match="last must be a positive int or None"):
        History(last=0)
    with pytest.raises(LookupError, match="no snapshots"):
        History().nearest(3)
    with pytest.raises(KeyError, match="no snapshots are held"):
        History()[0]


# ---------------------------------------------------------------------- probes
def test_probes_store_the_mean_maximal_ftle():
    model = mlp(2, 10, 4, 1, seed=0)
    gen = torch.Generator().manual_seed(3)
    boundary = torch.randn(6, 2, generator=gen)
    centre = np.zeros((1, 2))  # any array-like
    history = History(probes={"boundary": boundary, "centre": centre})
    expected = {"boundary": [], "centre": []}
    for _ in range(3):
        history.record(model, loss=train_step(model, gen))
        expected["boundary"].append(float(maximal_ftle(model, boundary).double().nanmean()))
        expected["centre"].append(float(maximal_ftle(model, torch.zeros(1, 2)).double()[0]))
    assert history.metric_names == ["loss", "ftle_boundary", "ftle_centre"]
    for name, values in expected.items():
        epochs, got = history.metric(f"ftle_{name}")
        np.testing.assert_array_equal(epochs, [0, 1, 2])
        np.testing.assert_allclose(got, values, rtol=1e-12)
        assert len(set(values)) == 3  # the network trained between records
    with pytest.raises(TypeError, match="probes, which need the model"):
        history.record(model.state_dict())
    with pytest.raises(ValueError, match="ftle_centre are computed from the probes"):
        history.record(model, ftle_centre=0.0)


def test_probes_follow_layer_and_depth():
    model = mlp(2, 10, 4, 1, seed=0)
    points = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    history = History(probes={"p": points}, layer="logits", depth=2.0)
    history.record(model)
    expected = maximal_ftle(model, points, layer="logits", depth=2.0).double().nanmean()
    assert history.metric("ftle_p")[1][0] == pytest.approx(float(expected), rel=1e-12)


def test_probes_must_be_batches():
    with pytest.raises(ValueError, match="probe 'x' must be a batch of points"):
        History(probes={"x": [0.0, 1.0]})


# ---------------------------------------------------------------------- observers
def test_observers_are_called_and_can_unsubscribe(caplog):
    history = History()
    seen, other = [], []
    unsubscribe = history.observe(seen.append)
    history.observe(other.append)
    history.record(filled(0))
    history.record(filled(0), epoch=4)
    unsubscribe()
    unsubscribe()  # twice is harmless
    history.record(filled(0))
    assert seen == [0, 4]
    assert other == [0, 4, 5]

    def broken(epoch):
        raise RuntimeError("view gone")

    history.observe(broken)
    with caplog.at_level(logging.ERROR, logger="ftle_widget.training.history"):
        assert history.record(filled(0)) == 6  # the training goes on
    assert other == [0, 4, 5, 6]
    assert "observer" in caplog.text and "view gone" in caplog.text
    with pytest.raises(TypeError, match="callable"):
        history.observe(3)


def test_observers_run_in_the_recording_thread():
    history = History()
    threads = []
    history.observe(lambda epoch: threads.append(threading.current_thread().name))
    worker = threading.Thread(target=lambda: history.record(filled(0)), name="trainer")
    worker.start()
    worker.join()
    assert threads == ["trainer"]


# ---------------------------------------------------------------------- threads
@pytest.mark.parametrize("on_disk", [False, True])
def test_recording_in_a_thread_while_reading(tmp_path, on_disk):
    history = History(every=2, last=8, directory=tmp_path if on_disk else None)
    total = 150 if on_disk else 400
    errors = []

    def train():
        try:
            for epoch in range(total):
                history.record(filled(float(epoch)), loss=float(epoch), acc=-float(epoch))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    worker = threading.Thread(target=train)
    worker.start()
    reads = 0
    while worker.is_alive() or reads == 0:
        for epoch in history.epochs:
            try:
                state = history[epoch]
            except KeyError:
                continue  # dropped between the listing and the read
            assert state["weight"].eq(epoch).all() and state["bias"].eq(epoch).all()
            reads += 1
        epochs, values = history.metric("loss") if history.metric_names else ([], [])
        np.testing.assert_array_equal(epochs, values)
        assert len(history) <= 8
    worker.join()
    assert not errors
    assert reads > 0
    assert history.recorded == list(range(total))
    assert len(history) == 8 and history.latest == total - 1


def test_repr_is_short_and_useful(tmp_path):
    history = History(every=2)
    assert repr(history) == "History(empty, every=2, last=None)"
    for _ in range(9):
        history.record(filled(0), loss=0.5, acc=0.9)
    text = repr(history)
    assert text.startswith("History(9 records, epochs 0–8; 5 snapshots [0, 2, 4, 6, 8], 160 B;")
    assert text.endswith("metrics: loss, acc)")
    on_disk = History(directory=tmp_path)
    on_disk.record(filled(0))
    assert f"on disk at {tmp_path}" in repr(on_disk)
