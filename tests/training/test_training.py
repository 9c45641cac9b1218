"""The trainer and the embedded default model."""

from __future__ import annotations

import pytest
import torch

from ftle_widget import FTLEView, datasets, demo_view
from ftle_widget.paper.models import default_model, default_model_info, mlp
from ftle_widget.training.trainer import evaluate, predicted_label, train


def test_training_lowers_the_loss_and_reports_metrics_per_epoch():
    data = datasets.circle(2000, seed=3)
    model = mlp(2, 10, 2, 1, seed=0)
    seen = []
    result = train(
        model,
        data,
        epochs=4,
        progress=False,
        on_epoch=lambda e, m: seen.append((e, m["test_accuracy"])),
    )
    assert result.epochs == [0, 1, 2, 3, 4] and [e for e, _ in seen] == result.epochs
    assert result.test_loss[-1] < result.test_loss[0]
    loss, accuracy = evaluate(model, data.x_test, data.y_test, "mse")
    assert loss == pytest.approx(result.test_loss[-1]) and accuracy == result.final_accuracy
    out = model(data.x_test).detach()
    assert accuracy == pytest.approx(float((torch.sign(out[:, 0]) == data.y_test).double().mean()))


def test_cross_entropy_adam_and_stopping():
    data = datasets.digits()
    model = mlp(64, 20, 2, 10, seed=0)
    result = train(model, data, epochs=3, optimizer="adam", lr=3e-3, progress=False)
    assert result.final_accuracy > 0.5  # ten classes: chance is 0.1
    assert predicted_label(torch.tensor([[0.1, 2.0, -1.0]])).tolist() == [1]
    calls = []
    stopped = train(
        mlp(64, 20, 2, 10, seed=0),
        data,
        epochs=5,
        progress=False,
        should_stop=lambda: len(calls) > 3 or calls.append(1) is not None,
    )
    assert stopped.stopped and stopped.epochs == [0]
    with pytest.raises(ValueError, match="loss"):
        train(model, data, loss="hinge")
    with pytest.raises(ValueError, match="optimizer"):
        train(model, data, optimizer="lbfgs")


def test_the_embedded_default_model_is_the_papers_toy_net_and_classifies_the_circle():
    model = default_model()
    info = default_model_info()
    assert info["architecture"] == {"n_in": 2, "width": 10, "depth": 8, "n_out": 1}
    assert len([m for m in model if isinstance(m, torch.nn.Linear)]) == 9
    data = datasets.circle()
    _, accuracy = evaluate(model, data.x_test, data.y_test, "mse")
    assert accuracy >= 0.98 and accuracy == pytest.approx(info["test_accuracy"])
    assert default_model() is not model  # a fresh copy each time


def test_demo_view_opens_the_default_model_as_in_fig_2():
    view = demo_view()
    assert isinstance(view, FTLEView) and view.quantity == "log_stretch"
    assert (view.vmin, view.vmax, view.cmap) == (-4.0, 4.0, "RdBu_r")
    assert view.depth == 8.0 and view.layer.startswith("hidden layer 8")
    assert view.extent == [-1.5, 1.5, -1.5, 1.5]
    view.close()
