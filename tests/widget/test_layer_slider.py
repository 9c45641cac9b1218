"""Depth as time: the ``shown_layer`` trait (the layer slider) moves a view through the hidden
layers. The tiles sent are ``ftle_field(model, layer=ℓ)`` value for value, a layer seen before
comes from the cache (no tile computed), the depth and the endpoint's description follow, a
History's epochs are read at the layer shown, and the state reopens the layer."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
import traitlets
from helpers import browser_sends
from torch import nn

from ftle_widget import FTLEView, History, ftle_field
from ftle_widget.paper.models import mlp
from ftle_widget.widget.compare import compare
from ftle_widget.widget.layering import endpoint_layer

EXTENT = (-1.5, 1.5, -1.5, 1.5)


def watch(view):
    """The messages the view sends, and a count of the tiles its scheduler computes."""
    sent: list = []
    view.send = lambda content, buffers=None: sent.append((content, buffers or []))
    computed = [0]
    put = view.scheduler.cache.put

    def counting(key, tile):
        computed[0] += 1
        put(key, tile)

    view.scheduler.cache.put = counting
    return sent, computed


def tiles_of(sent, version):
    return [
        (m, np.frombuffer(b[0], np.float32))
        for m, b in sent
        if m["kind"] == "tile" and m["model_version"] == version
    ]


def assert_layer(view, sent, net, layer):
    """Every tile of the current version is ftle_field(net, layer=layer) on its extent."""
    assert view.scheduler.wait(60)
    tiles = tiles_of(sent, view.scheduler.model_version)
    assert len(tiles) >= 4
    for message, values in tiles:
        t = message["tile_px"]
        field = ftle_field(net, view.plane, message["extent"], (t, t), layer=layer)
        np.testing.assert_array_equal(values.reshape(t, t), field.ftle)
        assert message["depth"] == float(layer)  # each tile coloured at its own layer's depth
    return tiles


@pytest.fixture
def net():
    return mlp(2, 12, 4, 1, seed=0)


def ask(view, generation=1, size=96):
    message = {"kind": "view", "generation": generation, "extent": list(EXTENT)}
    browser_sends(view, {**message, "width": size, "height": size})
    assert view.scheduler.wait(60)


def test_the_slider_starts_at_the_endpoints_layer(net):
    view = FTLEView(net, extent=EXTENT, show_data=False)
    assert (view.layers, view.shown_layer, view.depth) == (4, 4, 4.0)
    view.close()
    view = FTLEView(net, layer=2, extent=EXTENT, show_data=False)
    assert (view.layers, view.shown_layer, view.depth) == (4, 2, 2.0)
    view.close()
    view = FTLEView(net, layer="logits", extent=EXTENT, show_data=False)
    assert (view.layers, view.shown_layer, view.depth) == (4, 0, 5.0)  # not a hidden layer
    view.shown_layer = 1
    assert view.depth == 1.0 and "hidden layer 1" in view.layer
    view.shown_layer = 0  # back to the endpoint
    assert view.depth == 5.0 and view.layer.startswith("logits")
    view.close()
    assert endpoint_layer(net, -1, None) == 4 and endpoint_layer(net, 3, 2.0) == 0


def test_switching_layers_sends_each_layers_field_and_revisits_from_the_cache(net):
    view = FTLEView(net, extent=EXTENT, show_data=False)
    sent, computed = watch(view)
    ask(view)
    assert_layer(view, sent, net, 4)
    first = computed[0]
    assert first >= 4
    seen = {}
    for layer in (1, 3):
        view.shown_layer = layer
        assert view.depth == float(layer) and f"hidden layer {layer}" in view.layer
        seen[layer] = assert_layer(view, sent, net, layer)
    assert computed[0] == 3 * first  # each layer's tiles computed once
    for layer in (1, 4, 3):  # seen before: from the cache, delivered at once
        view.shown_layer = layer
        assert not view.scheduler._queue and not view.scheduler._running
        assert view.depth == float(layer)
        assert_layer(view, sent, net, layer)
    assert computed[0] == 3 * first  # nothing computed again
    # the fields differ from layer to layer (the slider shows something)
    assert not np.array_equal(seen[1][0][1], seen[3][0][1])
    # log Λ₁ = depth·λ₁: the colours fitted to layer 3's field at its depth
    view.quantity = "log_stretch"
    _, hi = view.fit_colors()
    values = [v for _, v in seen[3]]
    assert hi == pytest.approx(3 * max(float(v.max()) for v in values), rel=1e-5)
    view.close()


def test_an_epoch_is_read_at_the_layer_shown(net):
    history = History()
    trained = copy.deepcopy(net)
    for epoch in range(3):
        with torch.no_grad():
            for p in trained.parameters():
                p.mul_(1.3)
        history.record(trained, epoch=epoch, loss=1.0)
    view = FTLEView(net, history=history, extent=EXTENT, show_data=False)
    sent, computed = watch(view)
    ask(view)
    view.shown_layer = 2
    at = {}
    for epoch in (0, 2):
        view.epoch = epoch
        assert view.shown_layer == 2 and view.depth == 2.0 and "hidden layer 2" in view.layer
        weights = copy.deepcopy(net)
        weights.load_state_dict(history[epoch])
        at[epoch] = assert_layer(view, sent, weights, 2)
    before = computed[0]
    view.epoch = 0  # epoch 0 at layer 2 again: the cache
    assert not view.scheduler._queue and not view.scheduler._running
    assert computed[0] == before
    view.shown_layer = 1  # the epoch shown stays, read at layer 1
    weights.load_state_dict(history[0])
    assert view.epoch == 0
    assert_layer(view, sent, weights, 1)
    view.close()


def test_the_state_reopens_the_layer_shown(net):
    view = FTLEView(net, extent=EXTENT, show_data=False)
    assert view.state()["shown_layer"] == 0  # the endpoint (layer 4): reopened as layer=None
    view.shown_layer = 2
    state = json.loads(json.dumps(view.state()))
    assert state["shown_layer"] == 2 and "hidden layer 2" in state["endpoint"]
    again = FTLEView.from_state(net, state)
    assert (again.shown_layer, again.depth, again.layer) == (2, 2.0, view.layer)
    sent, _ = watch(again)
    ask(again)
    assert_layer(again, sent, net, 2)
    # a new plane keeps the layer
    again.set_plane(again.plane, EXTENT)
    assert again.depth == 2.0 and again.scheduler.engine().depth == 2.0
    again.close()
    view.close()


class Bumpy(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(2, 6), nn.Linear(6, 1)

    def forward(self, x):
        return self.b(torch.tanh(self.a(x)))


def test_views_that_cannot_switch_refuse_a_layer(net):
    view = FTLEView(net, extent=EXTENT, show_data=False)
    with pytest.raises(traitlets.TraitError, match="out of range"):
        view.shown_layer = 5
    other = FTLEView(Bumpy(), extent=EXTENT, input_shape=(2,))  # no numbered hidden layers
    assert other.layers == 0 and other.shown_layer == 0
    with pytest.raises(traitlets.TraitError, match="shown_layer needs"):
        other.shown_layer = 1
    with pytest.raises(traitlets.TraitError, match="shown_layer needs"):
        FTLEView(Bumpy(), extent=EXTENT, input_shape=(2,), shown_layer=1)
    view.shown_layer = 2
    shown = compare(view, FTLEView(net, extent=EXTENT), "difference")
    assert shown.difference.layers == 0  # a DifferenceView has no slider
    # the difference of the layer shown (2) and the other view's endpoint (layer 4)
    two, four = (ftle_field(net, view.plane, EXTENT, (12, 12), layer=k).ftle for k in (2, 4))
    np.testing.assert_array_equal(shown.difference.field((12, 12)).ftle, two - four)
    with pytest.raises(traitlets.TraitError):
        shown.difference.shown_layer = 2
    view.shown_layer = 1  # the slider of a side moves: the difference follows
    one = ftle_field(net, view.plane, EXTENT, (12, 12), layer=1).ftle
    np.testing.assert_array_equal(shown.difference.field((12, 12)).ftle, one - four)
    shown.close()
    other.close()
    view.close()
