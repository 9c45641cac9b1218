"""The ridge overlay without a browser: the held tiles laid out as one field (value for value the
field computed), the ridges sent when a view is complete and ``show_ridges`` is on, the
toolbar's fly request, and the protocol of both."""

from __future__ import annotations

import time

import numpy as np
import pytest
from helpers import browser_sends

from ftle_widget import FTLEView, ftle_field, ridges
from ftle_widget.lazy.tiles import Tile
from ftle_widget.paper.models import default_model
from ftle_widget.widget import protocol
from ftle_widget.widget.ridge_overlay import held_field

HOME = (-1.5, 1.5, -1.5, 1.5)


def make(**kw):
    view = FTLEView(default_model(), extent=HOME, show_data=False, **kw)
    sent = []
    view.send = lambda content, buffers=None: sent.append((content, buffers or []))
    return view, sent


def ask(view, generation=1, extent=HOME, size=128):
    message = {"kind": "view", "generation": generation, "extent": list(extent)}
    browser_sends(view, {**message, "width": size, "height": size})
    assert view.scheduler.wait(120)


def ridge_messages(sent, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [(c, b) for c, b in sent if c.get("kind") == "ridges"]
        if found:
            return found
        time.sleep(0.05)
    return []


def decoded(content, buffers):
    points = np.frombuffer(buffers[0], dtype="<f8").reshape(-1, 2)
    return np.split(points, np.cumsum(content["counts"])[:-1])


def test_held_tiles_make_the_field_value_for_value():
    field = ftle_field(default_model(), extent=(0.0, 1.0, -0.5, 0.5), shape=(8, 12))
    tiles = []
    for r in range(2):
        for c in range(3):
            extent = (c / 3, (c + 1) / 3, -0.5 + r / 2, r / 2)
            part = np.s_[4 * r : 4 * r + 4, 4 * c : 4 * c + 4]
            tiles.append(
                Tile((5, c, r), extent, field.ftle[part], field.prediction[part], None, 0, "f32")
            )
    coarse = Tile((4, 0, 0), (0.0, 2.0, -0.5, 1.5), np.zeros((4, 4), np.float32),
                  np.zeros((4, 4), np.float32), None, 0, "f32")  # fmt: skip
    held = held_field([coarse, *tiles[1:]], depth=8.0)  # one tile of the finest level missing
    assert held.shape == (8, 12) and held.depth == 8.0
    assert held.extent == pytest.approx((0.0, 1.0, -0.5, 0.5), abs=1e-12)
    assert np.isnan(held.ftle[:4, :4]).all()
    np.testing.assert_array_equal(held.ftle[4:], field.ftle[4:])
    np.testing.assert_array_equal(held.ftle[:4, 4:], field.ftle[:4, 4:])
    np.testing.assert_array_equal(held.prediction[4:], field.prediction[4:])
    assert held_field([]) is None


def test_ridges_are_sent_when_the_view_is_complete_and_the_overlay_on():
    view, sent = make()
    try:
        ask(view)
        time.sleep(0.3)
        assert ridge_messages(sent, timeout=0.5) == []  # off by default: nothing traced
        view.show_ridges = True  # on: the complete view's ridges at once
        (content, buffers), *_ = ridge_messages(sent)
        assert content["generation"] == 1
        lines = decoded(content, buffers)
        assert len(lines) == len(content["heights"]) >= 1
        ring = lines[0]  # the strongest: the decision boundary's ridge near the unit circle
        assert abs(np.hypot(*ring.T).mean() - 1) < 0.1
        # the same ridges as ridges() of the tiles sent, traced over their whole rectangle
        expected = ridges(view._held(crop=False))
        assert content["counts"] == [len(r.points) for r in expected]
        np.testing.assert_array_equal(ring, expected[0].points)
        sent.clear()
        ask(view, generation=2, extent=(0.5, 1.5, -0.5, 0.5))  # a new view: traced again
        (content, buffers), *_ = ridge_messages(sent)
        assert content["generation"] == 2
        assert all(
            abs(np.hypot(*line.T).mean() - 1) < 0.15 for line in decoded(content, buffers)[:1]
        )
        assert view.state()["show_ridges"] is True
    finally:
        view.close()


def test_ridges_of_a_complete_view_come_from_its_tiles():
    view, _ = make()
    try:
        ask(view)
        held = view.ridges()  # from the tiles: the visible pixels of the 128² view
        computed = view.ridges(shape=(128, 128))  # computed afresh at the same pixels
        assert len(held) == len(computed)
        np.testing.assert_allclose(held[0].points, computed[0].points, atol=1e-6)
    finally:
        view.close()


def test_the_toolbar_flies_to_the_ridge_nearest_the_last_hovered_point():
    view, _ = make()
    try:
        ask(view)
        browser_sends(view, {"kind": "fly_request", "which": "nearest", "u": 0.0, "v": -0.9})
        u0, u1, v0, v1 = view.extent
        assert u1 - u0 == pytest.approx(0.75)
        centre = np.array([(u0 + u1) / 2, (v0 + v1) / 2])
        assert abs(np.hypot(*centre) - 1) < 0.08 and centre[1] < -0.8  # on the ring, below
        ask(view, generation=2, extent=view.extent)  # the browser follows, asks for its tiles
        browser_sends(view, {"kind": "fly_request", "which": "strongest", "u": None, "v": None})
        assert view.extent[1] - view.extent[0] == pytest.approx(0.75 / 4)
    finally:
        view.close()


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ({"kind": "fly_request", "which": "widest"}, "which must be one of strongest, nearest"),
        ({"kind": "fly_request", "which": "nearest", "u": 1.0}, "u and v must be finite"),
        ({"kind": "fly_request", "which": "nearest", "u": 1.0, "v": "x"}, "u and v must be"),
        ({"kind": "fly_request", "which": "nearest", "u": float("nan"), "v": 0}, "u and v"),
    ],
)
def test_bad_fly_requests_are_refused_by_name(message, problem):
    with pytest.raises(protocol.ProtocolError, match=problem):
        protocol.parse(message)


def test_fly_request_parses_with_and_without_a_point():
    assert protocol.parse({"kind": "fly_request", "which": "strongest"}) == protocol.FlyRequest(
        "strongest", None
    )
    parsed = protocol.parse({"kind": "fly_request", "which": "nearest", "u": 1, "v": -2.5})
    assert parsed == protocol.FlyRequest("nearest", (1.0, -2.5))
