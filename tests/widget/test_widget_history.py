"""FTLEView through training: epochs from a History, the per-epoch cache, following live."""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np
import pytest
import torch
from helpers import browser_sends

from ftle_widget import FTLEView, History, Plane, TrainingCurves, ftle_field, link
from ftle_widget.paper.models import mlp


def make(model, history, **kw):
    view = FTLEView(model, history=history, **kw)
    sent = []
    view.send = lambda content, buffers=None: sent.append((content, buffers or []))
    return view, sent


def ask(view, generation=1, extent=(-1.5, 1.5, -1.5, 1.5)):
    browser_sends(
        view,
        {
            "kind": "view",
            "generation": generation,
            "extent": list(extent),
            "width": 64,
            "height": 64,
        },
    )
    assert view.scheduler.wait(60)


def trained_history(model, epochs=4):
    """A history of ``epochs`` + 1 snapshots where each epoch scales the weights."""
    history = History()
    for epoch in range(epochs + 1):
        if epoch:
            with torch.no_grad():
                for p in model.parameters():
                    p.mul_(1.3)
        history.record(model, epoch=epoch, loss=1.0 / (epoch + 1))
    return history


def tiles_of(sent):
    return {
        (m["z"], m["i"], m["j"]): np.frombuffer(b[0], np.float32)
        for m, b in sent
        if m["kind"] == "tile"
    }


def test_epochs_show_their_weights_on_a_copy_and_come_back_from_the_cache():
    model = mlp(2, 8, 3, 1, seed=0)
    history = trained_history(model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    view, sent = make(model, history)
    assert view.epoch == 4  # the newest epoch
    ask(view)
    view.epoch = 1
    assert view.scheduler.wait(60)
    current = view.scheduler.model_version
    epoch1 = tiles_of([s for s in sent if s[0].get("model_version") == current])
    reference = mlp(2, 8, 3, 1)
    reference.load_state_dict(history[1])
    for (z, i, j), values in epoch1.items():
        extent = view.scheduler.pyramid.extent((z, i, j))
        t = view.tile_px
        field = ftle_field(reference, Plane.standard(2), extent, (t, t))
        np.testing.assert_array_equal(values, field.ftle.reshape(-1))
    for key, value in model.state_dict().items():  # the user's model is untouched
        assert torch.equal(value, before[key])
    computed = []
    original = view.scheduler._compute_here
    view.scheduler._compute_here = lambda job: computed.append(job) or original(job)
    view.epoch = 4
    assert view.scheduler.wait(60)
    view.epoch = 1  # scrubbing back: every tile from the cache, nothing computed
    assert view.scheduler.wait(60)
    assert computed == []
    view.epoch = 3
    assert view.epoch == 3
    with pytest.raises(Exception, match="history"):
        FTLEView(model).epoch = 2
    view.close()


def test_epochs_without_snapshots_snap_to_the_nearest_kept_one():
    model = mlp(2, 8, 2, 1, seed=0)
    history = History(every=5)
    for epoch in range(11):
        history.record(model, epoch=epoch, loss=float(epoch))
    view, _ = make(model, history)
    view.epoch = 7
    assert view.epoch == 5
    view.close()


def following(model):
    """A view on a history holding epoch 0 of ``model``, asked for one view."""
    history = History()
    history.record(model, epoch=0)
    view, sent = make(model, history)
    ask(view)
    return view, sent, history


def test_follow_is_rate_limited_and_always_shows_the_last_epoch():
    model = mlp(2, 8, 2, 1, seed=0)
    view, _, history = following(model)
    shown = []
    view.observe(lambda change: shown.append((time.monotonic(), change["new"])), names="epoch")
    view.follow(interval=0.3)
    assert view.following
    start = time.monotonic()
    for epoch in range(1, 21):  # 20 records in ~0.6 s
        with torch.no_grad():
            model[0].weight.mul_(1.05)
        history.record(model, epoch=epoch)
        time.sleep(0.03)
    deadline = time.monotonic() + 60
    while view.epoch != 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert view.epoch == 20  # the last epoch is always shown
    elapsed = time.monotonic() - start
    assert len(shown) <= elapsed / 0.3 + 2  # at most one refresh per interval
    times = [t for t, _ in shown]
    assert all(b - a >= 0.25 for a, b in itertools.pairwise(times))
    view.unfollow()
    history.record(model, epoch=21)
    time.sleep(0.4)
    assert view.epoch == 20 and not view.following
    view.close()


def test_training_in_a_thread_while_zooming_never_mixes_epochs():
    model = mlp(2, 8, 3, 1, seed=0)
    view, sent, history = following(model)
    view.follow(interval=0.05)

    def train():
        for epoch in range(1, 9):
            with torch.no_grad():
                for p in model.parameters():
                    p.mul_(1.2)
            history.record(model, epoch=epoch)
            time.sleep(0.05)

    worker = threading.Thread(target=train)
    worker.start()
    for g in range(2, 12):  # the user zooms meanwhile
        ask(view, generation=g, extent=(-1.5 + 0.05 * g, 1.5, -1.5, 1.5 - 0.05 * g))
    worker.join()
    deadline = time.monotonic() + 60
    while view.epoch != 8 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert view.scheduler.wait(60)
    # every tile equals the field of one epoch's weights (or of several that draw it alike)
    versions = {}
    for msg, buffers in sent:
        if msg["kind"] != "tile":
            continue
        t = msg["tile_px"]
        values = np.frombuffer(buffers[0], np.float32).reshape(t, t)
        matches = []
        for epoch in history.epochs:
            reference = mlp(2, 8, 3, 1)
            reference.load_state_dict(history[epoch])
            field = ftle_field(reference, Plane.standard(2), msg["extent"], (t, t))
            if np.array_equal(values, field.ftle):
                matches.append(epoch)
        assert matches, f"tile {msg['z'], msg['i'], msg['j']} matches no epoch"
        if len(matches) == 1:  # far out, saturated epochs can draw the same tile (-inf alike)
            versions.setdefault(msg["model_version"], set()).update(matches)
    # a model version shows one epoch; later versions later epochs, the last one epoch 8
    assert all(len(epochs) == 1 for epochs in versions.values()), versions
    shown = [versions[v].pop() for v in sorted(versions)]
    assert shown == sorted(shown) and shown[-1] == 8 and len(shown) > 1, shown
    assert view.epoch == 8
    view.close()


def test_link_keeps_view_and_curves_on_one_epoch():
    model = mlp(2, 8, 2, 1, seed=0)
    history = trained_history(model, epochs=6)
    view, _ = make(model, history)
    curves = TrainingCurves(history)
    link(view, curves)
    curves.epoch = 2
    assert view.epoch == 2
    view.epoch = 5
    assert curves.epoch == 5
    assert all(list(s.selected) == [5] for s in curves.selectors.values())
    curves.close()
    view.close()
