"""compare() in JupyterLab: the CompareView's grid holds the two displays (its ``ftle-linked``
class on their common ancestor), so a wheel on one moves the other and the kernel's extents
agree; a swipe stacks them in one cell with the divider over the top one."""

from __future__ import annotations

import pytest
from test_lab import _open_and_run, _python, _serve, _wait

SETUP = (
    "from ftle_widget import FTLEView, compare\n"
    "from ftle_widget.paper.models import mlp\n"
    "a, b = (FTLEView(mlp(2, 10, 4, 1, seed=s), show_data=False) for s in (0, 1))\n"
)
NOTEBOOKS = {
    "side.ipynb": [SETUP + "compared = compare(a, b)\ncompared"],
    "swipe.ipynb": [SETUP + "compared = compare(a, b, 'swipe')\ncompared"],
}
FIELD = "document.querySelectorAll('.ftle-widget canvas.ftle-field')[%d]"


@pytest.fixture(scope="module")
def lab_compare(tmp_path_factory):
    yield from _serve(tmp_path_factory, "jupyterlab", NOTEBOOKS)


def _generation(page, k):
    return page.evaluate(f"document.querySelectorAll('.ftle-widget')[{k}].timings.generation")


def _box(page, k):
    return page.evaluate(
        f"(() => {{ const r = ({FIELD % k}).getBoundingClientRect();"
        " return [r.x, r.y, r.width, r.height]; })()"
    )


def test_a_wheel_on_one_view_moves_both_in_jupyterlab(lab_compare, browser):
    page = _open_and_run(browser, f"{lab_compare}/lab/tree/side.ipynb?reset")
    _wait(lambda: page.evaluate("document.querySelectorAll('.ftle-widget').length") == 2)
    left, right = _box(page, 0), _box(page, 1)
    assert right[0] >= left[0] + left[2] and right[2:] == left[2:]  # side by side, one size
    _wait(lambda: _generation(page, 1) > 0)
    before = _generation(page, 1)
    home = _python(page, "[a.extent, b.extent]")
    page.mouse.move(left[0] + 0.3 * left[2], left[1] + 0.6 * left[3])
    page.mouse.wheel(0, -240)
    _wait(lambda: _generation(page, 1) > before, timeout=30)  # the right view asked, itself

    def synced():
        extents = _python(page, "[a.extent, b.extent]")
        return extents if extents[0] != home[0] and extents[0] == extents[1] else None

    a_extent, _ = _wait(synced, timeout=30)
    assert a_extent[1] - a_extent[0] < home[0][1] - home[0][0]  # zoomed in, both
    page.close()


def test_a_swipe_stacks_the_views_under_a_divider_in_jupyterlab(lab_compare, browser):
    page = _open_and_run(browser, f"{lab_compare}/lab/tree/swipe.ipynb?reset")
    _wait(lambda: page.evaluate("document.querySelectorAll('.ftle-widget').length") == 2)
    page.wait_for_selector(".ftle-divider", state="attached")
    assert _box(page, 0) == _box(page, 1)  # one cell of the grid
    clip = page.evaluate(f"getComputedStyle({FIELD % 1}).clipPath")
    assert clip == "inset(0px 0px 0px 50%)"
    field = _box(page, 0)
    before = _python(page, "b.extent")
    page.mouse.move(field[0] + 0.25 * field[2], field[1] + 0.5 * field[3])  # the bottom view
    page.mouse.wheel(0, -240)
    _wait(lambda: _python(page, "a.extent == b.extent != " + repr(before)), timeout=30)
    page.close()
