"""A slow model in real headless Chromium: its preview tiles (few pixels each, first from the
kernel) draw a complete picture, stretched; its full tiles then cover them (the rule that a
preview never replaces a full tile of its key is js/test/tiles.test.ts's)."""

from __future__ import annotations

import base64

import numpy as np
import torch
from helpers import browser_sends
from test_widget_page import STATE, _drawn_from, _frame, canvas_rgba, open_page

from ftle_widget import Plane, ftle_field
from ftle_widget.paper.models import mlp
from ftle_widget.widget.export import colorize
from ftle_widget.widget.view import FTLEView


def slow_tiles(request: dict) -> tuple[list, int]:
    """The tile messages the widget sends for the browser's ``request`` when its model computes
    50 points per second (as measured), in the order sent; and the full tiles' pixels."""
    sent = []
    view = FTLEView(mlp(2, 10, 4, 1, seed=0))
    view.send = lambda content, buffers=None: sent.append((content, buffers or []))
    view.scheduler._rate[torch.float32] = 50.0  # a slow model: the whole view takes minutes
    browser_sends(view, {key: request[key] for key in ("kind", "generation", "extent", "width",
                                                        "height")})  # fmt: skip
    assert view.scheduler.wait(60)
    view.close()
    tiles = [(m, [base64.b64encode(b).decode() for b in bufs]) for m, bufs in sent
             if m["kind"] == "tile"]  # fmt: skip
    return tiles, view.tile_px


def test_a_slow_models_preview_draws_the_whole_view_then_full_tiles_replace_it(browser):
    page = open_page(browser, dict(STATE, show_boundary=False))
    request = page.evaluate("window.sent")[0]
    tiles, full_px = slow_tiles(request)
    previews = [t for t in tiles if t[0]["tile_px"] < full_px]
    assert previews and tiles[: len(previews)] == previews  # the previews come first
    assert {m["tile_px"] for m, _ in previews} == {4}
    for msg, bufs in previews:
        page.evaluate("([m, b]) => window.deliver(m, b)", [msg, bufs])
    _frame(page)
    image = canvas_rgba(page)
    # a complete picture from the previews alone: each pixel the LUT colour of the preview pixel
    # under it, exactly (but where a preview pixel's edge falls inside a screen pixel)
    assert _drawn_from(image, previews, STATE["extent"]).all()
    h, w = image.shape[:2]
    model, plane = mlp(2, 10, 4, 1, seed=0), Plane.standard(2)
    field = ftle_field(model, plane, (-1.5, 1.5, -1.5, 1.5), (h, w))
    expected = colorize(field.ftle, "RdBu_r", -1.0, 1.0)[::-1]

    def gap_to_field(img):
        return np.abs(img[:, :, :3].astype(int) - expected[:, :, :3].astype(int)).max(axis=2)

    coarse = gap_to_field(image)
    for msg, bufs in tiles[len(previews) :]:
        page.evaluate("([m, b]) => window.deliver(m, b)", [msg, bufs])
    _frame(page)
    final = canvas_rgba(page)
    # the full tiles cover the previews: the LUT colours of the full tiles' pixels, and so the
    # field's own colours within 3/255 (measured; adjacent samples of a smooth field), where the
    # previews were far off
    assert _drawn_from(final, tiles, STATE["extent"]).all()
    assert gap_to_field(final).max() <= 4 and coarse.max() > 40
    # previews arriving again after the full tiles change nothing: the full tiles stay on top
    for msg, bufs in previews:
        page.evaluate("([m, b]) => window.deliver(m, b)", [msg, bufs])
    _frame(page)
    assert (canvas_rgba(page) == final).all()
    page.close()
