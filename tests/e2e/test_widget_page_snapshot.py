"""A complete view's picture in the saved widget state (the `snapshot` trait), in headless
Chromium: the browser puts the PNG download's picture there once the view is complete; a display
opened from a state with a snapshot and no kernel shows it under the canvas (pixel read), and
the first tile painted (a kernel back) takes over."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image
from test_widget_page import STATE, _deliver_all, _rgba_of, open_page, python_tiles

PREFIX = "data:image/png;base64,"


def png_pixels(url: str) -> np.ndarray:
    assert url.startswith(PREFIX)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url[len(PREFIX) :]))).convert("RGBA"))


def snapshot_set(page) -> str:
    page.wait_for_function(
        "window.changes.some(([k]) => k === 'snapshot')", timeout=10_000, polling=50
    )
    return [v for k, v in page.evaluate("window.changes") if k == "snapshot"][-1]


def test_a_complete_view_is_kept_as_the_snapshot_and_shown_without_a_kernel(browser):
    state = dict(STATE, show_boundary=False, progress=[0, 0, ""], snapshot="")
    page = open_page(browser, state)
    tiles = python_tiles(STATE["extent"], 420, 420)
    _deliver_all(page, tiles)
    page.evaluate("window.setTrait('progress', [20, 40, 'view'])")  # not complete: no snapshot
    page.wait_for_timeout(700)  # longer than the snapshot's wait (400 ms): nothing may come
    assert not any(k == "snapshot" for k, _ in page.evaluate("window.changes"))
    page.evaluate("window.setTrait('progress', [40, 40, ''])")
    url = snapshot_set(page)
    assert len(url) <= 200_000
    saved = png_pixels(url)
    composed = _rgba_of(page, "document.querySelector('.ftle-widget').composeImage()")
    assert saved.shape == composed.shape == (420, 420 + 70, 4)
    np.testing.assert_array_equal(saved, composed)  # the PNG download's picture, exactly
    field = _rgba_of(page, "document.querySelector('canvas')")
    page.close()

    # a display opened from that saved state, no kernel: the snapshot under the canvas
    page = open_page(browser, dict(state, snapshot=url))
    assert page.locator(".ftle-snapshot").count() == 1
    box = page.locator("canvas.ftle-field").bounding_box()
    shot = np.asarray(
        Image.open(io.BytesIO(page.screenshot(clip=box))).convert("RGBA"), dtype=np.int16
    )
    assert shot.shape[:2] == (420, 420)
    inner = (slice(40, 380), slice(40, 380))  # the field, away from the axes drawn over it
    gap = np.abs(shot[inner][..., :3] - field[inner][..., :3].astype(np.int16)).max(axis=2)
    assert (gap == 0).mean() > 0.99 and gap.max() <= 2  # the saved field, pixel for pixel
    status = page.evaluate("document.querySelector('.ftle-status').textContent")
    assert status.startswith("the saved picture of this view")
    # a kernel answers: the first tile painted replaces the picture, the status comes back
    page.evaluate("window.setTrait('status', 'computing')")
    _deliver_all(page, tiles[:1])
    assert page.locator(".ftle-snapshot").count() == 0
    assert page.evaluate("document.querySelector('.ftle-status').textContent") == "computing"
    page.close()


def test_a_wider_display_shows_the_whole_saved_picture_over_the_live_axes(browser):
    state = dict(STATE, show_boundary=False, progress=[0, 0, ""], snapshot="")
    page = open_page(browser, state)
    _deliver_all(page, python_tiles(STATE["extent"], 420, 420))
    page.evaluate("window.setTrait('progress', [40, 40, ''])")
    url = snapshot_set(page)
    page.close()
    saved = png_pixels(url).astype(np.int16)  # 420 × 490: the field, then the colorbar

    page = open_page(browser, dict(state, snapshot=url))
    page.evaluate("document.getElementById('host').style.width = '700px'")  # a wider output
    page.wait_for_timeout(100)
    box = page.locator("canvas.ftle-field").bounding_box()
    assert box["width"] > 600  # the live field would be wider than the saved one
    clip = {"x": box["x"], "y": box["y"], "width": 700, "height": 420}
    shot = np.asarray(Image.open(io.BytesIO(page.screenshot(clip=clip))).convert("RGBA"))
    shot = shot.astype(np.int16)
    gap = np.abs(shot[:, :490, :3] - saved[..., :3]).max(axis=2)
    assert (gap <= 2).mean() > 0.99  # the saved picture, colorbar and axes included, as saved
    background = shot[:, 500:, :3]
    assert (background >= 250).all()  # nothing live beside it: no axes, no colorbar
    page.close()
