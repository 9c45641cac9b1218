"""Every pointer and keyboard, in headless Chromium with synthetic events: wheels in lines and
pages, a ctrl-wheel (a trackpad pinch) that never scrolls the page, a two-finger pinch, the keys
on the focused canvas and its focus ring. The expected extents follow gestures.ts's rules."""

from __future__ import annotations

import math

import pytest
from test_widget_page import STATE, open_page

HOME = STATE["extent"]  # [-1.5, 1.5, -1.5, 1.5] on a 420 × 420 canvas
WIDTH = HOME[1] - HOME[0]


def views(page) -> list[dict]:
    return [m for m in page.evaluate("window.sent") if m["kind"] == "view"]


def next_view(page, count: int) -> list[float]:
    """The extent of the first view request after the first ``count``."""
    page.wait_for_function(
        "(n) => window.sent.filter((m) => m.kind === 'view').length > n", arg=count, timeout=5000
    )
    return views(page)[-1]["extent"]


def canvas_box(page) -> dict:
    return page.evaluate(
        "(() => { const r = document.querySelector('canvas.ftle-field').getBoundingClientRect();"
        " return {x: r.left, y: r.top, w: r.width, h: r.height}; })()"
    )


def wheel(page, delta_y: float, mode: int = 0, ctrl: bool = False) -> bool:
    """A wheel event at the canvas's centre; returns whether it was left to the page (not
    cancelled)."""
    box = canvas_box(page)
    return page.evaluate(
        """([x, y, dy, mode, ctrl]) => document.querySelector('canvas.ftle-field').dispatchEvent(
             new WheelEvent('wheel', {clientX: x, clientY: y, deltaY: dy, deltaMode: mode,
                                      ctrlKey: ctrl, bubbles: true, cancelable: true}))""",
        [box["x"] + box["w"] / 2, box["y"] + box["h"] / 2, delta_y, mode, ctrl],
    )


@pytest.fixture
def page(browser):
    page = open_page(browser, STATE)
    page.wait_for_function("window.sent.some((m) => m.kind === 'view')")
    yield page
    page.close()


@pytest.mark.parametrize(
    ("delta", "mode", "ctrl"),
    [(-75, 0, False), (-3, 1, False), (-0.15, 2, False), (-7.5, 0, True)],
    ids=["pixels", "lines", "pages", "ctrl (pinch)"],
)
def test_a_wheel_zooms_by_its_delta_in_pixels_whatever_its_mode(page, delta, mode, ctrl):
    count = len(views(page))
    assert wheel(page, delta, mode, ctrl) is False  # cancelled: the page never scrolls
    u0, u1, v0, v1 = next_view(page, count)
    # 75 pixels, 3 lines of 25, 0.15 pages of 500, or 7.5 pinch pixels × 10: e^0.15 about the centre
    assert (u1 - u0) == pytest.approx(WIDTH / math.exp(0.15), rel=1e-9)
    assert (u0 + u1) / 2 == pytest.approx(0.0, abs=1e-9) and (v0 + v1) / 2 == pytest.approx(
        0.0, abs=1e-9
    )


def test_keys_zoom_pan_and_reset_on_the_focused_canvas_with_a_focus_ring(page):
    page.keyboard.press("Tab")  # the canvas takes the focus from the keyboard (the toolbar first?)
    for _ in range(20):
        if page.evaluate("document.activeElement?.classList.contains('ftle-field')"):
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('ftle-field')")
    assert "2px solid" in page.evaluate("document.activeElement.style.outline")
    count = len(views(page))
    page.keyboard.press("+")
    u0, u1, _, _ = next_view(page, count)
    assert (u1 - u0) == pytest.approx(WIDTH / 1.25, rel=1e-9)
    count = len(views(page))
    page.keyboard.press("ArrowLeft")
    a0, a1, b0, b1 = next_view(page, count)
    assert a0 == pytest.approx(u0 - 0.1 * (u1 - u0), rel=1e-9) and (a1 - a0) == pytest.approx(
        u1 - u0
    )
    count = len(views(page))
    page.keyboard.press("ArrowUp")
    _, _, c0, _ = next_view(page, count)
    assert c0 == pytest.approx(b0 + 0.1 * (b1 - b0), rel=1e-9)
    count = len(views(page))
    page.keyboard.press("0")
    assert next_view(page, count) == pytest.approx(HOME)
    # an arrow key is ours: the page does not scroll and no other listener sees it
    leaked = page.evaluate(
        """() => { let seen = false; document.addEventListener('keydown', () => { seen = true; });
             const e = new KeyboardEvent('keydown',
                                         {key: 'ArrowDown', bubbles: true, cancelable: true});
             const kept = document.activeElement.dispatchEvent(e);
             return [kept, seen]; }"""
    )
    assert leaked == [False, False]
    # focused by the mouse: no ring
    page.evaluate("document.activeElement.blur()")
    box = canvas_box(page)
    page.mouse.click(box["x"] + 10, box["y"] + 10)
    assert page.evaluate("document.activeElement.classList.contains('ftle-field')")
    assert page.evaluate("document.activeElement.style.outline") in ("none", "")


def test_two_fingers_pinch_about_their_midpoint(page):
    box = canvas_box(page)
    x0, y = box["x"] + 160, box["y"] + 210
    count = len(views(page))
    page.evaluate(
        """([x0, y]) => {
             const c = document.querySelector('canvas.ftle-field');
             const fire = (type, id, x) => c.dispatchEvent(new PointerEvent(type, {
               pointerId: id, pointerType: 'touch', clientX: x, clientY: y, bubbles: true,
               isPrimary: id === 1}));
             fire('pointerdown', 1, x0); fire('pointerdown', 2, x0 + 100);
             fire('pointermove', 2, x0 + 150); fire('pointermove', 2, x0 + 200);
             fire('pointerup', 2, x0 + 200); fire('pointerup', 1, x0);
           }""",
        [x0, y],
    )
    u0, u1, v0, v1 = next_view(page, count)
    assert (u1 - u0) == pytest.approx(WIDTH / 2, rel=1e-9)  # the fingers spread 100 → 200 px
    # the plane point first under the midpoint (x0 + 50) is under the new midpoint (x0 + 100)
    pixel = WIDTH / 420
    first = HOME[0] + 210 * pixel  # canvas x 210 (x0 + 50 − left edge)
    assert u0 + 260 * (u1 - u0) / 420 == pytest.approx(first, abs=1e-9)
    assert (v0 + v1) / 2 == pytest.approx(0.0, abs=1e-9)  # the midpoint's row: the centre
