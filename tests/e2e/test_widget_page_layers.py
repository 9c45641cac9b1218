"""The layer slider and play button in headless Chromium (depth as time): the slider, moved with
the keyboard, sets ``shown_layer``; play steps through the hidden layers, each once the
``progress`` trait says its tiles are in, stops at the last one, and pauses on a second click;
without layers to move through the controls are hidden."""

from __future__ import annotations

import time

from test_widget_page import STATE, _pressed, open_page

LAYERS = {**STATE, "layers": 4, "shown_layer": 4, "progress": [9, 9, ""]}


def _shown(page):
    """The shown_layer values the widget set, in order."""
    return [v for k, v in page.evaluate("window.changes") if k == "shown_layer"]


def _visible(page):
    return page.evaluate("getComputedStyle(document.querySelector('.ftle-layers')).display")


def _label(page):
    return page.evaluate("document.querySelector('.ftle-layers output').textContent")


def _wait_for(page, count, timeout=5.0):
    deadline = time.monotonic() + timeout
    while len(_shown(page)) < count and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    return _shown(page)


def test_the_slider_sets_the_layer_shown(browser):
    page = open_page(browser, LAYERS)
    assert _visible(page) != "none" and _label(page) == "ℓ = 4 / 4"
    page.focus(".ftle-toolbar [data-action=layer]")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert _shown(page) == [3, 2]
    assert _label(page) == "ℓ = 2 / 4"
    page.evaluate("window.setTrait('shown_layer', 1)")  # set from Python: the slider follows
    assert page.evaluate("document.querySelector('[data-action=layer]').value") == "1"
    page.close()
    page = open_page(browser, STATE)  # a view without hidden layers to move through
    assert _visible(page) == "none"
    page.close()


def test_play_advances_as_each_layers_tiles_come_in(browser):
    page = open_page(browser, LAYERS)
    page.click(".ftle-toolbar [data-action=play]")  # from the last layer: back to layer 1
    assert _shown(page) == [1] and _pressed(page, "play") == "true"
    page.evaluate("window.setTrait('progress', [2, 9, 'coarse'])")  # layer 1's tiles coming
    page.wait_for_timeout(1200)
    assert _shown(page) == [1]  # waits for them
    started = time.monotonic()
    page.evaluate("window.setTrait('progress', [9, 9, ''])")  # in
    assert _wait_for(page, 2) == [1, 2]
    assert _wait_for(page, 4) == [1, 2, 3, 4]  # cached layers: one each ≥ 600 ms
    assert time.monotonic() - started >= 2 * 0.6
    page.wait_for_timeout(1000)
    assert _shown(page) == [1, 2, 3, 4] and _pressed(page, "play") == "false"  # stopped at L
    assert _label(page) == "ℓ = 4 / 4"
    page.click(".ftle-toolbar [data-action=play]")  # again, paused by a second click
    assert _shown(page) == [1, 2, 3, 4, 1]
    page.click(".ftle-toolbar [data-action=play]")
    assert _pressed(page, "play") == "false"
    page.wait_for_timeout(1000)
    assert _shown(page) == [1, 2, 3, 4, 1]
    page.close()
