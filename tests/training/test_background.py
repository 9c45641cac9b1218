"""run_in_background: results, errors, stopping, and training that feeds a History and curves."""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
import pytest
import torch

from ftle_widget.paper.models import mlp
from ftle_widget.training.background import TrainingRun, run_in_background
from ftle_widget.training.curves import TrainingCurves
from ftle_widget.training.history import History


def test_result_and_state():
    gate = threading.Event()

    def add(a, b, *, scale=1):
        gate.wait(5)
        return (a + b) * scale

    run = run_in_background(add, 2, 3, scale=10)
    assert isinstance(run, TrainingRun)
    assert run.running and not run.done
    assert run.join(timeout=0.01) is False
    assert repr(run) == "<TrainingRun 'test_result_and_state.<locals>.add' running>"
    gate.set()
    assert run.join(timeout=5) is True
    assert run.result == 50 and run.error is None
    assert run.done and not run.running
    assert repr(run) == "<TrainingRun 'test_result_and_state.<locals>.add' done, result=50>"


def test_the_thread_is_a_named_daemon():
    seen = {}

    def train():
        thread = threading.current_thread()
        seen.update(name=thread.name, daemon=thread.daemon)

    run_in_background(train).join(5)
    assert seen == {
        "name": "ftle_widget training: test_the_thread_is_a_named_daemon.<locals>.train",
        "daemon": True,
    }


def test_an_error_is_kept_and_logged_once_and_never_propagates(caplog, monkeypatch):
    hooked = []
    monkeypatch.setattr(threading, "excepthook", hooked.append)

    def train():
        raise ValueError("diverged at epoch 3")

    with caplog.at_level(logging.ERROR, logger="ftle_widget.training.background"):
        run = run_in_background(train)
        assert run.join(5)
    assert isinstance(run.error, ValueError) and str(run.error) == "diverged at epoch 3"
    assert run.result is None and run.done and not run.running
    records = [r for r in caplog.records if r.name == "ftle_widget.training.background"]
    assert len(records) == 1
    assert records[0].exc_info[1] is run.error  # with its traceback
    assert "diverged at epoch 3" in caplog.text and "Traceback" in caplog.text
    assert hooked == []  # not re-raised in the thread
    assert repr(run).endswith("failed: ValueError('diverged at epoch 3')>")
    assert run_in_background(lambda: 7).join(5)  # threads still start fine afterwards


def test_stop_ends_a_loop_that_polls_should_stop():
    ticks = []

    def train(period, should_stop):
        while not should_stop():
            ticks.append(1)
            time.sleep(period)
        return len(ticks)

    run = run_in_background(train, 0.001)
    while not ticks:
        time.sleep(0.001)
    assert not run.should_stop()
    assert run.stop(timeout=5) is True
    assert run.should_stop()
    assert run.done and run.error is None
    assert run.result == len(ticks) > 0


def test_should_stop_only_where_asked_for():
    received = {}

    def plain(**kwargs):
        received.update(kwargs)

    run_in_background(plain, a=1).join(5)
    assert received == {"a": 1}  # **kwargs does not count as a should_stop parameter

    def keyword_only(*, should_stop):
        return should_stop()

    run = run_in_background(keyword_only)
    run.join(5)
    assert run.result is False
    with pytest.raises(TypeError, match="should_stop is passed by run_in_background"):
        run_in_background(keyword_only, should_stop=lambda: True)
    with pytest.raises(TypeError, match="fn must be callable"):
        run_in_background(3)
    run = run_in_background(print, end="")  # builtins without a signature work too
    assert run.join(5) and run.error is None


def test_stop_from_inside_the_run_does_not_deadlock():
    holder = {}
    started = threading.Event()

    def train(should_stop):
        started.wait(5)
        finished = holder["run"].stop(timeout=5)
        return finished, should_stop()

    holder["run"] = run = run_in_background(train)
    started.set()
    assert run.join(5)
    assert run.result == (False, True)


def test_training_in_the_background_feeds_history_and_curves():
    model = mlp(2, 10, 4, 1, seed=0)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 2, generator=gen)
    y = torch.sign(x[:, :1] * x[:, 1:])
    history = History(every=2, last=6, probes={"centre": torch.zeros(4, 2)})
    curves = TrainingCurves(history)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)

    def train(epochs, should_stop):
        for _ in range(epochs):
            if should_stop():
                break
            loss = ((model(x) - y) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history.record(model, loss=loss)
        return history.latest

    run = run_in_background(train, 10_000)
    try:
        while len(history.recorded) < 5:
            assert not run.done, run.error
            time.sleep(0.005)
            if history.epochs:
                curves.epoch = history.nearest(2)  # the main thread stays free to interact
    finally:
        assert run.stop(timeout=30)
    assert run.error is None
    last = run.result
    assert last == history.latest and last >= 4
    assert history.recorded == list(range(last + 1))
    assert len(history) <= 6
    for name in ("loss", "ftle_centre"):
        x_line, y_line = curves.lines[name].x, curves.lines[name].y
        epochs, values = history.metric(name)
        np.testing.assert_array_equal(x_line, epochs)
        np.testing.assert_array_equal(y_line, values)
    state = history[last]
    for key, value in model.state_dict().items():  # the latest snapshot is the final model
        assert torch.equal(state[key], value)
    curves.close()
