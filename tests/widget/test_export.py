"""PNG export without a browser: the front end's LUT, value for value, and the colorbar."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import browser_sends
from PIL import Image

from ftle_widget import FTLEView, Plane, ftle_field
from ftle_widget.paper.models import mlp
from ftle_widget.widget.axes import TextSize, layout_axes
from ftle_widget.widget.export import (
    colorize,
    colormap_names,
    fit_frame,
    lut,
    save_png,
    symmetric_range,
)
from ftle_widget.widget.picture import BOUNDARY_RGBA, INK, TABLEAU10, boundary_mask

FIXTURE = Path(__file__).resolve().parents[2] / "js" / "test" / "fixtures" / "colorize.json"


def reference_cases() -> list[dict]:
    """Values, limits and the RGBA bytes Python gives: the JS tests assert applyLut agrees."""
    values = [
        -2.0,
        -1.0,
        -0.99,
        -0.5,
        0.0,
        0.001,
        0.4999,
        0.5,
        0.99,
        1.0,
        1.5,
        float("nan"),
        float("inf"),
        float("-inf"),
        1e-7,
        -1e-7,
    ]
    cases = []
    for cmap, vmin, vmax in (
        ("RdBu_r", -1.0, 1.0),
        ("viridis", -0.3, 1.7),
        ("magma", 0.0, 0.0),
        ("RdBu_r", -4.0, 4.0),
    ):
        rgba = colorize(np.array(values, dtype=np.float32), cmap, vmin, vmax)
        cases.append(
            {
                "cmap": cmap,
                "vmin": vmin,
                "vmax": vmax,
                "values": [v if np.isfinite(v) else str(v) for v in values],
                "rgba": rgba.reshape(-1).tolist(),
            }
        )
    return cases


def test_the_js_reference_fixture_is_current():
    # regenerate with: python -c "import json,sys; sys.path.insert(0,'tests');
    #   from test_export import reference_cases as r; print(json.dumps(r()))" > FIXTURE
    assert json.loads(FIXTURE.read_text()) == reference_cases()


def test_lut_endpoints_and_middle():
    assert {"RdBu_r", "viridis", "magma"} <= set(colormap_names())
    table = lut("RdBu_r")
    assert table.shape == (256, 4) and table.dtype == np.uint8
    assert table[0, 2] > table[0, 0] and table[255, 0] > table[255, 2]  # blue → red
    assert (table[127:129, :3] > 230).all()  # white in the middle
    with pytest.raises(ValueError, match="valid names"):
        lut("jet")


def test_colorize_bins_clamps_and_hides_nan():
    table = lut("viridis")
    values = np.array([0.0, 1.0, 0.5, -3.0, 7.0, np.nan, 255.5 / 256], dtype=np.float32)
    rgba = colorize(values, "viridis", 0.0, 1.0)
    assert (rgba[0] == table[0]).all() and (rgba[1] == table[255]).all()
    assert (rgba[2] == table[128]).all()
    assert (rgba[3] == table[0]).all() and (rgba[4] == table[255]).all()
    assert (rgba[5] == 0).all()
    assert (rgba[6] == table[255]).all()
    assert symmetric_range(np.array([-0.2, 0.7, np.nan])) == (-0.7, 0.7)
    assert symmetric_range(np.array([np.nan])) == (-1.0, 1.0)


def test_save_png_has_the_field_pixels_and_a_colorbar(tmp_path):
    model = mlp(2, 10, 4, 1, seed=0)
    field = ftle_field(model, Plane.standard(2), (-1.5, 1.5, -1.5, 1.5), (40, 50))
    path = save_png(field, tmp_path / "f.png", quantity="log_stretch", vmin=-4, vmax=4, axes=False)
    image = np.asarray(Image.open(path).convert("RGBA"))
    assert image.shape == (150, 50 + 70, 4)  # the field at the top left, the colorbar beside
    expected = colorize(field.log_stretch, "RdBu_r", -4, 4)[::-1]  # top row is v1
    np.testing.assert_array_equal(image[:40, :50], expected)
    assert (image[40:, :50] == 255).all()  # white below the field
    # the strip as colorbar.ts paints it: row y of [32, 128) shows LUT entry
    # floor((127 - y) / 95 · 256), vmax at the top
    strip = image[32:128, 50 + 4 : 50 + 18]
    rows = np.floor((127 - np.arange(32, 128)) / 95 * 256).clip(0, 255).astype(int)
    np.testing.assert_array_equal(strip, np.repeat(lut("RdBu_r")[rows][:, None], 14, axis=1))
    plain = np.asarray(Image.open(save_png(field.ftle, tmp_path / "g.png", colorbar=False)))
    assert plain.shape[:2] == (40, 50)
    with pytest.raises(ValueError, match="quantity"):
        save_png(field, tmp_path / "h.png", quantity="speed")
    with pytest.raises(ValueError, match="need a Field"):
        save_png(field.ftle, tmp_path / "h.png", axes=True)
    with pytest.raises(ValueError, match="vmin must be below vmax"):
        save_png(field, tmp_path / "h.png", vmin=1, vmax=1)
    with pytest.raises(TypeError, match="unexpected keyword"):
        save_png(field, tmp_path / "h.png", axis=True)  # type: ignore[call-arg]


def test_fit_frame_keeps_square_pixels_inside_the_shape():
    extent, shape = fit_frame((-3, 3, -1, 1), (256, 256))
    assert shape == (85, 256)  # the width as given, 2/6 of it tall
    u0, u1, v0, v1 = extent
    assert abs((u1 - u0) / 256 - (v1 - v0) / 85) < 1e-15  # square pixels
    assert (v0, v1) == (-1.0, 1.0) and u0 == -u1 and 3 < u1 < 3 + (v1 - v0) / 85  # under a pixel
    assert fit_frame((0, 1, 0, 4), (100, 100)) == ((0.0, 1.0, 0.0, 4.0), (100, 25))
    with pytest.raises(ValueError, match="two positive ints"):
        fit_frame((0, 1, 0, 1), (0, 10))


# ------------------------------------------------------------- FTLEView.to_png: what is shown
def _view(**kw):
    view = FTLEView(mlp(2, 10, 3, 1, seed=0), **kw)
    view.send = lambda content, buffers=None: None
    return view


def _png(view, path, **kw) -> np.ndarray:
    return np.asarray(Image.open(view.to_png(path, **kw)).convert("RGBA"))


def test_to_png_keeps_a_wide_views_aspect(tmp_path):
    view = _view(extent=(-3, 3, -1, 1), height=150)
    image = _png(view, tmp_path / "a.png", shape=(256, 256), colorbar=False)
    assert image.shape[:2] == (85, 256)  # fitted in the shape, not squeezed into it
    image = _png(view, tmp_path / "b.png", shape=(256, 256))
    assert image.shape[:2] == (150, 256 + 70)  # with the colorbar (at least 150 tall)
    assert (image[85:, :256] == 255).all()  # white below the field
    image = _png(view, tmp_path / "c.png", colorbar=False)
    assert image.shape[:2] == (150, 450)  # no browser yet: `height` rows, as wide as needed
    browser_sends(
        view,
        {
            "kind": "view",
            "generation": 1,
            "extent": [-3, 3, -1.5, 1.5],
            "width": 200,
            "height": 100,
        },
    )
    assert view.scheduler.wait(60)
    image = _png(view, tmp_path / "d.png", colorbar=False)
    assert image.shape[:2] == (100, 200)  # the canvas's size
    view.close()


def test_to_png_draws_the_field_and_the_boundary_as_the_canvas_does(tmp_path):
    view = _view(vmin=-1, vmax=1)
    image = _png(view, tmp_path / "a.png", shape=(64, 64), axes=False, colorbar=False)
    field = ftle_field(mlp(2, 10, 3, 1, seed=0), Plane.standard(2), view.extent, (64, 64))
    expected = colorize(field.ftle, "RdBu_r", -1, 1)
    edge = boundary_mask(field.prediction)
    assert 10 < edge.sum() < 400  # a line across the square
    expected[edge] = BOUNDARY_RGBA
    np.testing.assert_array_equal(image, expected[::-1])
    view.show_boundary = False
    image = _png(view, tmp_path / "b.png", shape=(64, 64), axes=False, colorbar=False)
    np.testing.assert_array_equal(image, colorize(field.ftle, "RdBu_r", -1, 1)[::-1])
    view.close()


def test_to_png_draws_the_data_points_in_their_class_colours(tmp_path):
    points = np.array([[-0.6, 0.5], [0.4, 0.7], [0.1, -0.3]])
    plane, square = Plane.standard(2), (-1.5, 1.5, -1.5, 1.5)
    view = _view(plane=plane, extent=square, data=points, labels=[0, 1, 1], show_boundary=False)
    image = _png(view, tmp_path / "a.png", shape=(200, 200), axes=False, colorbar=False)
    view.show_data = False
    bare = _png(view, tmp_path / "b.png", shape=(200, 200), axes=False, colorbar=False)
    rows, cols = np.mgrid[0:200, 0:200] + 0.5  # pixel centres
    lightness = image[..., :3].min(axis=-1).astype(int)
    for (u, v), colour in zip(points, (TABLEAU10[0], TABLEAU10[1], TABLEAU10[1])):
        x, y = (u + 1.5) / 3 * 200, (1.5 - v) / 3 * 200
        rgb = tuple(int(colour[k : k + 2], 16) for k in (1, 3, 5))
        assert tuple(image[int(y), int(x), :3]) == rgb, (u, v)  # the disc, in its class colour
        assert tuple(bare[int(y), int(x), :3]) != rgb  # the field, without the data
        ring = np.abs(np.hypot(cols - x, rows - y) - 2.5) < 0.4  # the white outline
        assert lightness[ring].max() > min(rgb) + 60, (u, v)
    view.close()


def test_to_png_draws_the_axes_ticks_and_labels(tmp_path):
    view = _view(show_boundary=False)  # [-1.5, 1.5]², as the canvas shows it at 420 px
    image = _png(view, tmp_path / "a.png", shape=(420, 420), colorbar=False)
    bare = _png(view, tmp_path / "b.png", shape=(420, 420), colorbar=False, axes=False)
    ink = np.all(image[..., :3] == INK[:3], axis=-1)
    layout = layout_axes(view.extent, 420, 420, lambda t: TextSize(6.2 * len(t), 8, 1))
    u_marks = [t for t in layout.ticks if t.axis == "u"]
    v_marks = [t for t in layout.ticks if t.axis == "v"]
    assert [t.value for t in u_marks] == [-1, 0, 1] and len(v_marks) == 7
    for t in u_marks:  # 6-px marks up from the bottom edge
        assert ink[414:420, int(t.x0)].all(), t
    for t in v_marks:  # from the left edge
        assert ink[int(t.y0), 0:6].all(), t
    changed = np.any(image != bare, axis=-1)
    darker = bare[..., :3].sum(axis=-1).astype(int) - image[..., :3].sum(axis=-1) > 150
    assert darker[390:414, 20:400].sum() > 30  # the u labels' glyphs: "-1", "0", "1"
    assert darker[:, 0:40].sum() > 7 * 6 + 7 * 10  # the v marks and labels
    assert changed[390:414].sum() > 3 * darker[390:414].sum()  # the halo around the glyphs
    assert not changed[20:380, 40:400].any()  # the field is untouched away from the axes
    view.close()


def test_to_png_draws_the_stretching_directions_when_shown(tmp_path):
    view = _view(show_boundary=False, show_directions=True)
    image = _png(view, tmp_path / "a.png", shape=(110, 110), axes=False, colorbar=False)
    view.show_directions = False
    bare = _png(view, tmp_path / "b.png", shape=(110, 110), axes=False, colorbar=False)
    dark = image[..., :3].max(axis=-1) < 80
    assert dark.sum() > 11 * 11 * 3 and not (bare[..., :3].max(axis=-1) < 80).any()
    changed = np.any(image != bare, axis=-1)
    for c in range(5, 110, 10):  # a segment through each cell's centre (10 px cells)
        assert changed[c - 1 : c + 1, 4:6].any() and changed[4:6, c - 1 : c + 1].any(), c
    view.close()
