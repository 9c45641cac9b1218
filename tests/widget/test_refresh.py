"""Refreshes (the Directions toggle, new weights) as the browser takes them (#12.17): tagged with
the browser's newest request, never answering an older view after a newer one, and no tile of a
superseded request sent after a newer request's."""

from __future__ import annotations

import copy
import threading

from helpers import browser_sends

from ftle_widget import FTLEView
from ftle_widget.lazy.pyramid import View
from ftle_widget.paper.models import mlp

HOME = (-1.5, 1.5, -1.5, 1.5)


def make(**kw):
    view = FTLEView(mlp(2, 10, 3, 1, seed=0), **kw)
    sent = []
    view.send = lambda content, buffers=None: sent.append((content, buffers or []))
    return view, sent


def ask(view, generation, extent=HOME, size=128):
    message = {"kind": "view", "generation": generation, "extent": list(extent)}
    browser_sends(view, {**message, "width": size, "height": size})


def tiles(sent):
    return [m for m, _ in sent if m["kind"] == "tile"]


def test_a_refresh_after_a_refused_request_is_tagged_with_its_generation():
    """The browser drops tiles older than its newest request: answered or refused."""
    view, sent = make()
    ask(view, 1)
    assert view.scheduler.wait(60)
    ask(view, 2, extent=(0.5, 0.5 + 1e-15, 0.5, 0.5 + 1e-15))  # finer than float64 resolves
    assert view.error.startswith("refused: zoomed in beyond float64")
    sent.clear()
    view.show_directions = True
    assert view.scheduler.wait(60)
    got = tiles(sent)
    assert got and all(m["generation"] == 2 and m["has_direction"] for m in got)
    assert view._last_view == (View(HOME, 128, 128), 2)  # the view that was answered
    view.close()


def test_a_refresh_from_another_thread_never_answers_an_older_view_after_a_newer_one():
    """Following a training run refreshes from a timer thread: if it read the last view before
    a browser request set the next one and asked after it, the old view (tagged with an older
    generation, which the browser drops) replaced the browser's view for the rest of the run."""
    view, _ = make()
    ask(view, 1)
    assert view.scheduler.wait(60)
    original = view.scheduler.request
    entered, answered = threading.Event(), threading.Event()
    asked: list[View] = []

    def request(v, generation, held=True):
        if threading.current_thread() is threading.main_thread():
            refresher.start()  # a refresh while the browser's request is being made
            entered.wait(0.5)  # the refresher reached the scheduler (it cannot, serialized)
            original(v, generation, held=held)
            answered.set()
        else:
            entered.set()
            answered.wait(5)  # it read the last view before, and asks after the browser's
            original(v, generation, held=held)
        asked.append(v)

    refresher = threading.Thread(target=view._refresh)
    view.scheduler.request = request
    zoomed = View((-0.5, 0.5, -0.5, 0.5), 128, 128)
    ask(view, 2, extent=zoomed.extent)
    refresher.join(10)
    assert view.scheduler.wait(60)
    assert asked == [zoomed, zoomed], "the refresh asked for the browser's newest view"
    assert view._last_view == (zoomed, 2)
    assert view._generations.browser(view.scheduler.generation) == 2
    view.close()


def test_a_superseded_requests_tile_is_not_sent_after_a_newer_requests():
    """A worker's tile, current when it finished, is sent only if no request came since: else a
    tile without directions could follow (and replace) the same tile with directions."""
    view, sent = make()
    ask(view, 1)
    assert view.scheduler.wait(60)
    old = view.scheduler.generation
    late = copy.copy(next(iter(view._shown[1].values())))  # a tile of request 1
    view.show_directions = True  # a new scheduler request, as the browser's generation 1
    assert view.scheduler.wait(60)
    sent.clear()
    late.generation = old
    view._send_tile(late)
    assert tiles(sent) == []
    late.generation = view.scheduler.generation
    view._send_tile(late)
    assert len(tiles(sent)) == 1
    view.close()


def test_rapid_toggles_end_with_every_tiles_last_copy_holding_directions():
    view, sent = make()
    ask(view, 1)
    assert view.scheduler.wait(60)
    for k, extent in enumerate([(-1.4, 1.6, -1.5, 1.5), (-1.3, 1.7, -1.5, 1.5)]):
        for on in (True, False, True):
            view.show_directions = on
        ask(view, 2 + k, extent=extent)  # a pan between the toggles
        view.show_directions = False
    view.show_directions = True
    assert view.scheduler.wait(60)
    last = {(m["z"], m["i"], m["j"]): m for m in tiles(sent)}  # the last copy of each
    final = view._shown[1]  # the tiles of the last request
    assert final and all(t.direction is not None for t in final.values())
    assert all(last[tuple(key)]["has_direction"] for key in final)
    assert all(last[tuple(key)]["generation"] == 3 for key in final)
    view.close()
