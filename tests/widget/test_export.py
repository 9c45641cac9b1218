"""PNG export without a browser: the front end's LUT, value for value, and the colorbar."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ftle_widget import Plane, ftle_field
from ftle_widget.paper.models import mlp
from ftle_widget.widget.export import colorize, colormap_names, lut, save_png, symmetric_range

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
    path = save_png(field, tmp_path / "f.png", quantity="log_stretch", vmin=-4, vmax=4)
    image = np.asarray(Image.open(path).convert("RGBA"))
    assert image.shape[1] > 50 and image.shape[0] >= 40  # field plus colorbar
    top = (image.shape[0] - 40) // 2
    expected = colorize(field.log_stretch, "RdBu_r", -4, 4)[::-1]  # top row is v1
    np.testing.assert_array_equal(image[top : top + 40, :50], expected)
    bar = image[:, 50 + 10 + 8]  # a column through the colorbar
    reds = np.where((bar[:, 0] > 150) & (bar[:, 2] < 100))[0]
    blues = np.where((bar[:, 2] > 150) & (bar[:, 0] < 100))[0]
    assert reds.size and blues.size and reds.mean() < blues.mean()  # vmax at the top
    plain = np.asarray(Image.open(save_png(field.ftle, tmp_path / "g.png", colorbar=False)))
    assert plain.shape[:2] == (40, 50)
    with pytest.raises(ValueError, match="quantity"):
        save_png(field, tmp_path / "h.png", quantity="speed")
