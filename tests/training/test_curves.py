"""TrainingCurves: bqplot lines of a History's metrics, epoch picking, live growth, link."""

from __future__ import annotations

import threading

import bqplot as bq
import numpy as np
import pytest
import torch
import traitlets
from torch import nn

from ftle_widget.training.curves import TrainingCurves, group_of, link
from ftle_widget.training.history import History


def layer(value: float = 0.0) -> nn.Linear:
    lin = nn.Linear(2, 1)
    with torch.no_grad():
        lin.weight.fill_(value)
        lin.bias.fill_(value)
    return lin


def sample_history(epochs: int = 12, every: int = 3) -> History:
    """loss every epoch, test_loss every 5 epochs, an accuracy and an FTLE statistic."""
    history = History(every=every)
    for epoch in range(epochs):
        extra = {"test_loss": 1.5 - 0.1 * epoch} if epoch % 5 == 0 else {}
        history.record(
            layer(epoch),
            loss=1.0 / (epoch + 1),
            train_acc=0.05 * epoch,
            ftle_boundary=0.3 + 0.01 * epoch,
            **extra,
        )
    return history


def assert_lines_match(curves: TrainingCurves, history: History) -> None:
    for name, line in curves.lines.items():
        x, y = history.metric(name)
        np.testing.assert_array_equal(line.x, x)
        np.testing.assert_array_equal(line.y, y)
        assert list(line.labels) == [name]


def click(scatter: bq.Scatter, index: int, *, with_x: bool = True) -> None:
    """What bqplot's front end sends on a click on a scatter point: ``{event, data}``, data being
    the point's mark data (x, y, color, size, opacity, rotation, index)."""
    data = {
        "y": 0.04,
        "color": None,
        "size": None,
        "opacity": None,
        "rotation": None,
        "index": index,
    }
    if with_x:
        data["x"] = float(scatter.x[index])
    scatter._handle_custom_msgs(scatter, {"event": "element_click", "data": data}, [])


def test_lines_equal_the_metric_arrays_in_grouped_figures():
    history = sample_history()
    curves = TrainingCurves(history)
    assert set(curves.lines) == {"loss", "test_loss", "train_acc", "ftle_boundary"}
    assert_lines_match(curves, history)
    np.testing.assert_array_equal(curves.lines["test_loss"].x, [0, 5, 10])
    assert list(curves.figures) == ["loss", "accuracy", "other"]
    assert list(curves.children) == [
        *(curves.figures[g] for g in ("loss", "accuracy", "other")),
        curves.strip,
    ]
    loss_figure = curves.figures["loss"]
    assert [m.labels[0] for m in loss_figure.marks if isinstance(m, bq.Lines)] == [
        "loss",
        "test_loss",
    ]
    assert loss_figure.marks[-1] is curves.scatters["loss"]  # the markers on top
    assert isinstance(loss_figure.interaction, bq.interacts.IndexSelector)
    assert loss_figure.interaction is curves.selectors["loss"]
    assert len({id(s) for s in curves.selectors.values()}) == 3  # one interaction per figure
    for scatter in curves.scatters.values():
        np.testing.assert_array_equal(scatter.x, [0, 3, 6, 9, 11])
    colours = [line.colors[0] for line in curves.lines.values()]
    assert len(set(colours)) == 4


def test_only_figures_with_series_and_chosen_metrics_in_order():
    history = History()
    history.record(layer(), val_loss=2.0, loss=1.0, lr=0.1)
    curves = TrainingCurves(history, metrics=["loss", "val_loss", "acc"])
    assert list(curves.figures) == ["loss"]  # lr not asked for, acc not recorded yet
    labels = [m.labels[0] for m in curves.figures["loss"].marks if isinstance(m, bq.Lines)]
    assert labels == ["loss", "val_loss"]
    history.record(layer(), val_loss=1.5, loss=0.5, lr=0.1, acc=0.7)
    assert list(curves.figures) == ["loss", "accuracy"]
    assert "lr" not in curves.lines
    assert_lines_match(curves, history)
    with pytest.raises(TypeError, match="sequence of names"):
        TrainingCurves(history, metrics="loss")
    with pytest.raises(TypeError, match="must be a History"):
        TrainingCurves({"loss": [1.0]})


def test_group_of():
    assert group_of("Train_Loss") == "loss"
    assert group_of("val_accuracy") == "accuracy"
    assert group_of("test_error") == "accuracy"
    assert group_of("ftle_centre") == "other"


def test_grows_live_with_x_and_y_sent_together():
    history = sample_history(epochs=4)
    curves = TrainingCurves(history)
    assert list(curves.figures) == ["loss", "accuracy", "other"]
    sent = []
    line = curves.lines["loss"]
    original = line.send_state

    def spy(key=None):
        sent.append(set(key) if isinstance(key, set | list | tuple) else key)
        return original(key)

    line.send_state = spy
    history.record(layer(), loss=0.01, train_acc=0.9, ftle_boundary=0.2, grad_norm=3.0)
    assert_lines_match(curves, history)
    np.testing.assert_array_equal(curves.lines["loss"].x, [0, 1, 2, 3, 4])
    assert sent == [{"x", "y"}]  # one message: x and y never disagree in the browser
    assert "grad_norm" in curves.lines  # a new metric gets a new line
    assert curves.lines["grad_norm"] in curves.figures["other"].marks
    np.testing.assert_array_equal(curves.scatters["other"].x, history.epochs)


def test_a_new_group_appears_when_its_first_metric_does():
    history = History()
    curves = TrainingCurves(history)
    assert list(curves.children) == [curves.strip] and curves.figures == {}
    history.record(layer(), acc=0.5)
    assert list(curves.figures) == ["accuracy"]
    history.record(layer(), acc=0.6, loss=0.3)
    assert list(curves.children) == [
        curves.figures["loss"],
        curves.figures["accuracy"],
        curves.strip,
    ]
    np.testing.assert_array_equal(curves.lines["loss"].x, [1])
    np.testing.assert_array_equal(curves.scatters["loss"].x, [0, 1])


def test_index_selector_picks_the_nearest_snapshot():
    history = sample_history()  # snapshots at 0, 3, 6, 9, 11
    curves = TrainingCurves(history)
    assert curves.epoch is None
    curves.selectors["accuracy"].selected = np.array([4.2])
    assert curves.epoch == 3
    for selector in curves.selectors.values():  # every selector snaps to the epoch
        np.testing.assert_array_equal(selector.selected, [3])
    for scatter in curves.scatters.values():
        np.testing.assert_array_equal(scatter.selected, [1])
    curves.selectors["loss"].selected = np.array([10.6])
    assert curves.epoch == 11
    curves.selectors["loss"].selected = None  # the selector was reset: the epoch stays
    assert curves.epoch == 11


def test_setting_epoch_moves_selectors_and_highlights():
    history = sample_history()
    curves = TrainingCurves(history)
    curves.epoch = 6
    for group in curves.figures:
        np.testing.assert_array_equal(curves.selectors[group].selected, [6])
        np.testing.assert_array_equal(curves.scatters[group].selected, [2])
    curves.epoch = 7  # an epoch without a snapshot (e.g. from a linked view): no highlight
    assert curves.epoch == 7
    for group in curves.figures:
        np.testing.assert_array_equal(curves.selectors[group].selected, [7])
        assert curves.scatters[group].selected is None
    curves.epoch = None
    assert all(s.selected is None for s in curves.selectors.values())
    curves.epoch = 11
    history.record(layer(), loss=0.0, train_acc=1.0, ftle_boundary=0.0)  # 11 is dropped
    assert history.epochs == [0, 3, 6, 9, 12]
    assert curves.scatters["loss"].selected is None
    curves.epoch = 12
    np.testing.assert_array_equal(curves.scatters["loss"].selected, [4])


def test_clicking_a_snapshot_marker_sets_the_epoch():
    history = sample_history()
    curves = TrainingCurves(history)
    click(curves.scatters["loss"], 2)
    assert curves.epoch == 6
    np.testing.assert_array_equal(curves.selectors["other"].selected, [6])
    click(curves.scatters["other"], 4, with_x=False)  # index only: read from the mark
    assert curves.epoch == 11
    curves.scatters["loss"]._element_click_handlers(
        curves.scatters["loss"], {"data": {"index": 0, "x": 0.0}}
    )
    assert curves.epoch == 0


def test_close_unsubscribes():
    history = sample_history(epochs=3)
    curves = TrainingCurves(history)
    lines = dict(curves.lines)
    curves.close()
    history.record(layer(), loss=0.0, train_acc=1.0, ftle_boundary=0.0)
    np.testing.assert_array_equal(lines["loss"].x, [0, 1, 2])
    assert curves.comm is None and lines["loss"].comm is None


def test_records_from_a_training_thread_reach_the_lines():
    history = History(every=4, last=5)
    curves = TrainingCurves(history)

    def train():
        for epoch in range(60):
            history.record(layer(epoch), loss=float(epoch), acc=0.01 * epoch)

    worker = threading.Thread(target=train)
    worker.start()
    while worker.is_alive():
        if history.epochs:
            curves.epoch = history.nearest(30)
    worker.join()
    assert_lines_match(curves, history)
    assert len(curves.lines["loss"].x) == 60
    np.testing.assert_array_equal(curves.scatters["accuracy"].x, history.epochs)


class Stand(traitlets.HasTraits):
    """A stand-in for FTLEView: anything with an ``epoch`` trait."""

    epoch = traitlets.Int(None, allow_none=True)


def test_link_both_ways_and_unlink():
    history = sample_history()
    curves = TrainingCurves(history)
    view = Stand(epoch=9)
    tie = link(view, curves)
    assert curves.epoch == 9  # the view's epoch wins at the start
    click(curves.scatters["loss"], 1)
    assert view.epoch == 3
    view.epoch = 6
    assert curves.epoch == 6
    np.testing.assert_array_equal(curves.selectors["loss"].selected, [6])
    tie.unlink()
    view.epoch = 0
    assert curves.epoch == 6


def test_link_takes_the_epoch_from_whichever_has_one():
    curves = TrainingCurves(sample_history())
    curves.epoch = 3
    view = Stand()
    tie = link(view, curves)
    assert view.epoch == 3 and curves.epoch == 3
    view.epoch = 9
    assert curves.epoch == 9
    tie.unlink()
    other = Stand()
    link(Stand(epoch=2), other)
    assert other.epoch == 2
    with pytest.raises(TypeError, match="view needs an 'epoch' trait"):
        link(object(), curves)
    with pytest.raises(TypeError, match="curves needs an 'epoch' trait"):
        link(view, traitlets.HasTraits())


def test_the_snapshot_strip_picks_an_epoch_with_one_click():
    history = History(every=2)
    model = torch.nn.Linear(2, 1)
    for epoch in range(7):
        history.record(model, epoch=epoch, loss=1.0 / (epoch + 1))
    curves = TrainingCurves(history)
    strip = curves.scatters["epochs"]
    assert curves.strip.interaction is None  # nothing above the points: clicks reach them
    np.testing.assert_array_equal(strip.x, history.epochs)
    index = history.epochs.index(2)
    strip._handle_custom_msgs(
        None, {"event": "element_click", "data": {"x": 2.0, "y": 0.04, "index": index}}
    )
    assert curves.epoch == 2 and list(strip.selected) == [index]
    history.record(model, epoch=7, loss=0.1)  # grows with the history
    np.testing.assert_array_equal(strip.x, history.epochs)
    curves.close()
