"""Hostile view messages: refused with a short status, the state unchanged, queued work kept."""

from __future__ import annotations

import pytest
import torch
from helpers import FailsInside, browser_sends

from ftle_widget import FTLEView, Plane
from ftle_widget.lazy.planning import finest_pixel
from ftle_widget.paper.models import mlp

GOOD = {"kind": "view", "generation": 1, "extent": [-1.5, 1.5, -1.5, 1.5], "width": 96,
        "height": 96}  # fmt: skip
HOSTILE = [
    [0.0, 1e-320, 0.0, 1e-320],  # below float64's resolution (and subnormal)
    [0.1, 0.1 + 1e-15, 0.2, 0.2 + 1e-15],  # a staircase of equal inputs
    [-1e300, 1e300, -1e300, 1e300],  # far beyond any data
    [0, 10**309, 0, 1],  # an integer no float holds
    [1e15, 1e15 + 1, 0, 1],
    [0.0] * 10**6,  # a huge message
]


def make():
    view = FTLEView(mlp(2, 10, 3, 1, seed=0))
    sent = []
    view.send = lambda content, buffers=None: sent.append(content)
    return view, sent


@pytest.mark.parametrize("extent", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_extents_are_refused_and_nothing_is_lost(extent):
    view, sent = make()
    browser_sends(view, GOOD)
    browser_sends(view, {**GOOD, "generation": 2, "extent": extent})  # while 1 is computing
    assert view.status.startswith("refused") and len(view.status) < 300
    assert view.error == view.status
    assert view.scheduler.wait(60)
    # the work of view 1 was delivered, all of it
    tiles = [m for m in sent if m["kind"] == "tile"]
    assert tiles and {m["generation"] for m in tiles} == {1}
    assert view.progress[0] == view.progress[1] > 0
    assert view.visible_extent == (-1.5, 1.5, -1.5, 1.5)
    # and the view still works from user code: new weights, directions on, another view; view 1
    # again, as generation 2: the browser, whose newest request that was, drops older ones
    sent.clear()
    view.update_model(mlp(2, 10, 3, 1, seed=1).state_dict())
    view.show_directions = True
    assert view.scheduler.wait(60)
    again = [m for m in sent if m["kind"] == "tile"]
    assert again and all(m["generation"] == 2 for m in again)
    assert view.visible_extent == (-1.5, 1.5, -1.5, 1.5)
    assert any(m["has_direction"] for m in again)
    browser_sends(view, {**GOOD, "generation": 3, "extent": [0, 1, 0, 1]})
    assert view.scheduler.wait(60) and view.error == ""
    view.close()


def test_zoom_to_stops_where_float64_runs_out_and_says_so():
    view, _ = make()
    browser_sends(view, GOOD)
    view.zoom_to((0.3, 0.3 + 1e-14, -0.2, -0.2 + 1e-14))  # pixels of 1e-16: a staircase
    u0, u1, v0, v1 = view.extent
    pixel = max((u1 - u0) / 96, (v1 - v0) / 96)
    finest = finest_pixel(view.plane, (u0, u1, v0, v1))
    assert finest <= pixel <= 1.01 * finest  # as far in as float64 resolves, no further
    assert abs(0.5 * (u0 + u1) - 0.3) < 1e-14 and abs(0.5 * (v0 + v1) + 0.2) < 1e-14
    assert "float64" in view.status
    view.zoom_to((0.3, 0.31, -0.2, -0.19))  # resolvable: taken as given
    assert view.extent == [0.3, 0.31, -0.2, -0.19]
    with pytest.raises(ValueError, match="beyond"):
        view.zoom_to((1e13, 1e13 + 1, 0, 1))
    view.close()


def test_a_model_that_fails_near_the_origin_still_opens_and_shows_the_rest():
    # the view is centred on the hole, and the old tile-size probe ran over (−1, 1)²
    view = FTLEView(FailsInside(0.4), Plane.standard(2), layer="lin", extent=(-2, 2, -2, 2))
    sent = []
    view.send = lambda content, buffers=None: sent.append(content)
    # fast, as measured on a quiet machine (a loaded one measured a slow model: its preview tiles,
    # of few pixels, may miss the hole)
    view.scheduler._rate[torch.float32] = 1e6
    browser_sends(view, {**GOOD, "extent": [-2, 2, -2, 2]})
    assert view.scheduler.wait(60)
    tiles = [m for m in sent if m["kind"] == "tile"]
    errors = [m for m in sent if m["kind"] == "error"]
    assert tiles and errors and "within 0.4 of the origin" in view.error
    assert all(m["extent"][1] <= -0.4 or m["extent"][0] >= 0.4 or m["extent"][3] <= -0.4
               or m["extent"][2] >= 0.4 for m in tiles)  # fmt: skip
    view.close()
