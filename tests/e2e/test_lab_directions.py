"""The Directions toggle in JupyterLab (#12.17): segments appear in every display of a view, also
one that asked more often than a display made later, and after rapid toggles while panning.

Each display counted its view requests from 1, and Python tags a refresh with the generation of
the request it answered last: a display whose count was ahead rejected every refreshed tile as
stale (pressed, no segments). Generations are now shared by a model's displays (shared.ts)."""

from __future__ import annotations

import time

import pytest
from test_lab import KERNEL, _open_and_run, _python, _serve, _wait

VIEW_CELL = (
    "import ipywidgets\n"
    "from ftle_widget import FTLEView\n"
    "from ftle_widget.paper.models import mlp\n"
    "view = FTLEView(mlp(2, 10, 4, 1, seed=0), vmin=-1.0, vmax=1.0, show_data=False,\n"
    "                show_boundary=False)\n"
    "view"
)
NOTEBOOKS = {
    # the view, and an Output that the test fills with a second display of it later
    "twice.ipynb": [VIEW_CELL, "later = ipywidgets.Output()\nlater"],
    "stress.ipynb": [VIEW_CELL],
}

ROOT = "document.querySelectorAll('.ftle-widget')[%d]"


@pytest.fixture(scope="module")
def lab_dirs(tmp_path_factory):
    yield from _serve(tmp_path_factory, "jupyterlab", NOTEBOOKS)


def _generation(page, display=0):
    """The generation of the display's last view request."""
    return page.evaluate(f"({ROOT % display}).timings.generation")


def _segments(page, display=0):
    """The direction segments the display's last frame drew."""
    return page.evaluate(f"({ROOT % display}).directions")


def _answered(page, display=0):
    """Wait until Python has read the display's last request and sent every tile of it."""

    def done():
        generation = _generation(page, display)
        last, progress = _python(page, "[view._last_view and view._last_view[1], view.progress]")
        return last == generation and progress[0] == progress[1] > 0

    _wait(done, timeout=60)


def _grid(page, display=0):
    """How many direction segments a full grid holds: 11 across, square cells."""
    return page.evaluate(
        f"(() => {{ const c = ({ROOT % display}).querySelector('canvas.ftle-field');"
        " const s = c.clientWidth / 11; let n = 0;"
        " for (let m = 0; (m + 0.5) * s < c.clientHeight; m++) n += 11; return n; })()"
    )


def _directions_everywhere(page, display=0):
    """Wait until the display draws a segment in (nearly) every grid cell, and Python's last
    tiles, all sent, all hold directions; returns the segment count."""
    full = _grid(page, display)

    def drawn():
        n = _segments(page, display)
        return n if n >= 0.9 * full else None

    try:
        count = _wait(drawn, timeout=60)
    except AssertionError:
        displays = page.evaluate("document.querySelectorAll('.ftle-widget').length")
        state = [(_generation(page, k), _segments(page, k)) for k in range(displays)]
        last = _python(page, "view._last_view and view._last_view[1]")
        raise AssertionError(
            f"display {display} drew no full grid of {full} segments: (generation, segments) of "
            f"each display {state}; Python's last request: generation {last}"
        ) from None
    _wait(
        lambda: _python(
            page,
            "view.progress[0] == view.progress[1] > 0 and bool(view._shown[1]) and "
            "all(t.direction is not None for t in view._shown[1].values())",
        ),
        timeout=60,
    )
    return count


def _wheel(page, display, dy):
    box = page.locator(f".ftle-widget >> nth={display}").locator("canvas.ftle-field").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.4)
    before = _generation(page, display)
    page.mouse.wheel(0, dy)
    _wait(lambda: _generation(page, display) > before, timeout=30)


def test_directions_show_in_a_display_that_asked_more_than_a_later_one(lab_dirs, browser):
    """The race: display A zoomed (its requests 2, 3), then display B made (its request 1, the
    last Python read): the toggle in A refreshed B's generation, and A dropped every tile."""
    start = time.time()
    page = _open_and_run(browser, f"{lab_dirs}/lab/tree/twice.ipynb?reset")
    _wait(lambda: page.evaluate("document.querySelectorAll('.ftle-widget').length") == 1)
    _answered(page)
    for _ in range(2):
        _wheel(page, 0, -240)
        _answered(page)
    page.evaluate(KERNEL, "later.append_display_data(view)")
    _wait(lambda: page.evaluate("document.querySelectorAll('.ftle-widget').length") == 2)
    _wait(lambda: _generation(page, 1) > 0)
    _answered(page, 1)  # Python answered B last
    assert _segments(page, 0) == _segments(page, 1) == 0
    page.locator('.ftle-widget >> nth=0 >> [data-action="directions"]').click()
    count = _directions_everywhere(page, 0)
    assert _segments(page, 1) >= 0.9 * _grid(page, 1)  # B shows them too
    # a gesture in A, which B follows with its own request: A draws the new view's tiles
    _wheel(page, 0, -240)
    _wait(lambda: _generation(page, 1) > _generation(page, 0))  # B asked last
    _answered(page, 1)
    assert _directions_everywhere(page, 0) >= 0.9 * count
    print(f"\ntwo displays, directions toggled in the first: {time.time() - start:.1f} s")
    page.close()


TOGGLE = ".ftle-widget [data-action='directions']"


def test_rapid_toggles_while_panning_end_with_directions(lab_dirs, browser):
    """On, off, on while the view is dragged: the last state wins, segments cover the view."""
    start = time.time()
    page = _open_and_run(browser, f"{lab_dirs}/lab/tree/stress.ipynb?reset")
    _answered(page)
    box = page.locator(".ftle-widget canvas.ftle-field").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for round_ in range(2):
        page.mouse.move(x, y)
        page.mouse.down()
        for _ in range(3):  # a toggle between the drag's moves (a click event: the drag goes on)
            x += 25
            page.mouse.move(x, y, steps=3)
            page.evaluate(f'document.querySelector("{TOGGLE}").click()')
        x += 25
        page.mouse.move(x, y, steps=3)
        page.mouse.up()
        # three toggles: on after the first round, off after the second
        want = round_ == 0
        assert page.locator(TOGGLE).get_attribute("aria-pressed") == str(want).lower()
        _wait(lambda w=want: _python(page, "view.show_directions") is w, timeout=30)
    page.evaluate(f'document.querySelector("{TOGGLE}").click()')  # on again, at once
    page.mouse.wheel(0, -120)
    _wait(lambda: _python(page, "view.show_directions") is True, timeout=30)
    _answered(page)
    _directions_everywhere(page)
    print(f"\nrapid toggles while panning: {time.time() - start:.1f} s")
    page.close()
