"""Figures for papers (matplotlib): the field embedded pixel for pixel in the canvas's colours,
axes and colorbar as text, boundary and directions as vector paths; PDF with embedded fonts;
the Fig. 2-style grid; the view's to_svg / to_pdf / to_png(dpi=...)."""

from __future__ import annotations

import base64
import io
import re
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from ftle_widget import FTLEView, Plane, export, ftle_field
from ftle_widget.paper.models import mlp
from ftle_widget.widget.colours import colorize
from ftle_widget.widget.picture import direction_segments

SVG = "{http://www.w3.org/2000/svg}"
EXTENT = (-2.0, 2.0, -1.5, 1.5)


@pytest.fixture(scope="module")
def field():
    return ftle_field(
        mlp(2, 10, 4, 1, seed=0), Plane.standard(2), EXTENT, (48, 64), directions=True
    )


def embedded_images(svg: str) -> list[np.ndarray]:
    found = re.findall(r'xlink:href="data:image/png;base64,([^"]+)"', svg)
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(b))).convert("RGBA")) for b in found]


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def stroked_paths(root: ET.Element, colour: str) -> list[ET.Element]:
    return [p for p in root.iter(f"{SVG}path") if f"stroke: {colour}" in p.get("style", "")]


def test_the_svg_embeds_the_field_pixel_for_pixel_and_keeps_its_text(field, tmp_path):
    path = export.save_figure(field, tmp_path / "f.svg", vmin=-0.5, vmax=0.5)
    svg = path.read_text()
    root = ET.fromstring(svg)  # parses
    image = embedded_images(svg)[0]  # the field (the colorbar's strip comes second)
    np.testing.assert_array_equal(image, colorize(field.ftle, "RdBu_r", -0.5, 0.5))
    words = texts(root)
    for label in ("u", "v", "λ₁", "−2", "2", "−0.4", "0.4"):
        assert label in words, (label, words)  # axes and colorbar as text, not outlines
    assert not stroked_paths(root, "#191919")  # no boundary asked for


def test_boundary_and_directions_are_vector_paths(field, tmp_path):
    svg = export.save_figure(field, tmp_path / "f.svg", boundary=True, directions=True).read_text()
    root = ET.fromstring(svg)
    assert stroked_paths(root, "#191919"), "the decision boundary is drawn as a path"
    directions = [p for p in root.iter(f"{SVG}path") if "stroke: #141414" in p.get("style", "")]
    expected = direction_segments(field.direction, field.extent, (64, 48))
    assert len(directions) == len(expected) > 20  # one path per segment the canvas draws
    assert "log Λ₁" in texts(
        ET.fromstring(
            export.save_figure(field, tmp_path / "g.svg", quantity="log_stretch").read_text()
        )
    )


def test_the_boundary_runs_between_pixels_of_different_classes_all_along(field):
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    export.draw_field(ax, field, boundary=True)
    vertices = np.concatenate([p.vertices for c in ax.collections for p in c.get_paths()])
    pred = field.prediction
    h, w = pred.shape
    u0, u1, v0, v1 = field.extent
    # in pixel units, pixel centres at integers: each vertex lies between two centres of
    # different classes (precision)
    x = (vertices[:, 0] - u0) / (u1 - u0) * w - 0.5
    y = (vertices[:, 1] - v0) / (v1 - v0) * h - 0.5
    i0, j0 = np.floor(y).astype(int), np.floor(x).astype(int)
    i1, j1 = np.minimum(i0 + 1, h - 1), np.minimum(j0 + 1, w - 1)
    block = np.stack([pred[i0, j0], pred[i0, j1], pred[i1, j0], pred[i1, j1]])
    assert len(vertices) > 20 and (block.min(axis=0) != block.max(axis=0)).all()
    # every pixel with a neighbour of another class has a vertex within a pixel (completeness)
    rows, cols = np.nonzero(
        np.pad(pred[1:] != pred[:-1], ((0, 1), (0, 0)))
        | np.pad(pred[:, 1:] != pred[:, :-1], ((0, 0), (0, 1)))
    )
    assert len(rows) > 10
    gap = np.hypot(rows[:, None] - y[None], cols[:, None] - x[None]).min(axis=1)
    assert gap.max() <= 1.0


def test_the_pdf_embeds_its_fonts_and_the_png_has_the_dpi_asked(field, tmp_path):
    pdf = export.save_figure(field, tmp_path / "f.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf  # TrueType fonts embedded
    small = Image.open(export.save_figure(field, tmp_path / "a.png", dpi=100))
    large = Image.open(export.save_figure(field, tmp_path / "b.png", dpi=200))
    assert abs(large.width / small.width - 2) < 0.02 and abs(large.height / small.height - 2) < 0.02
    assert 250 < small.width < 400  # 3.4 inches at 100 dpi, trimmed to what is drawn


def test_bad_paths_and_quantities_name_what_is_known(field, tmp_path):
    with pytest.raises(ValueError, match="png, svg, pdf"):
        export.save_figure(field, tmp_path / "f.jpg")
    with pytest.raises(ValueError, match="lambda, log_stretch, lambda_min, gap, anisotropy"):
        export.save_figure(field, tmp_path / "f.svg", quantity="lyapunov")
    with pytest.raises(ValueError, match="lower=True"):  # gap needs λ₂: not computed
        export.save_figure(field, tmp_path / "f.svg", quantity="gap")
    with pytest.raises(ValueError, match="directions=True"):
        export.save_figure(
            ftle_field(mlp(2, 5, 2, 1), Plane.standard(2), EXTENT, (8, 8)), tmp_path / "f.svg",
            directions=True,
        )  # fmt: skip


def test_without_matplotlib_the_error_names_the_extra(field, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    with pytest.raises(ImportError, match=r"ftle_widget\[figures\]"):
        export.save_figure(field, tmp_path / "f.svg")


def test_the_grid_has_a_panel_per_field_labels_and_one_colorbar(tmp_path):
    fields = {
        (n, depth): ftle_field(mlp(2, n, depth, 1, seed=1), Plane.standard(2), EXTENT, (12, 16))
        for n in (10, 50)
        for depth in (2, 4, 8)
    }
    figure = export.grid(fields, tmp_path / "grid.svg")
    panels = [ax for ax in figure.axes if ax.images and ax.get_label() != "<colorbar>"]
    bars = [ax for ax in figure.axes if ax.get_label() == "<colorbar>"]
    assert len(panels) == 6 and len(bars) == 1
    assert [ax.get_title() for ax in panels[:3]] == ["L = 2", "L = 4", "L = 8"]
    assert [panels[k].get_ylabel() for k in (0, 3)] == ["N = 10", "N = 50"]
    for ax, key in zip(panels, sorted(fields)):  # each panel shows its field, on [-4, 4]
        shown = ax.images[0]
        np.testing.assert_array_equal(shown.get_array(), fields[key].log_stretch)
        assert shown.get_clim() == (-4.0, 4.0)
    words = texts(ET.fromstring((tmp_path / "grid.svg").read_text()))
    assert {"L = 2", "L = 8", "N = 10", "N = 50", "log Λ₁"} <= set(words)
    # rows of fields, one left empty
    figure = export.grid(
        [[fields[10, 2], None], [fields[50, 2], fields[50, 4]]], col_labels=["a", "b"]
    )
    assert sum(1 for ax in figure.axes if ax.images and ax.get_label() != "<colorbar>") == 3
    with pytest.raises(ValueError, match="col_labels has 1 labels for 2 cols"):
        export.grid([[fields[10, 2], fields[10, 4]]], col_labels=["a"])


def test_the_view_writes_svg_pdf_and_a_png_at_a_dpi(tmp_path):
    view = FTLEView(mlp(2, 10, 3, 1, seed=0), vmin=-1.0, vmax=1.0, show_data=False)
    try:
        svg = view.to_svg(tmp_path / "v.svg", shape=(40, 40)).read_text()
        image = embedded_images(svg)[0]
        field = ftle_field(mlp(2, 10, 3, 1, seed=0), view.plane, view.visible_extent, (40, 40))
        expected = colorize(field.ftle, "RdBu_r", -1.0, 1.0)
        assert image.shape == (40, 40, 4)
        assert (np.abs(image.astype(int) - expected).max(axis=-1) == 0).mean() > 0.99
        assert view.to_pdf(tmp_path / "v.pdf", shape=(40, 40)).read_bytes().startswith(b"%PDF")
        canvas = Image.open(view.to_png(tmp_path / "c.png", shape=(40, 40), colorbar=False))
        assert canvas.size == (40, 40)  # without a dpi: the canvas's picture
        paper = Image.open(view.to_png(tmp_path / "p.png", shape=(40, 40), dpi=150))
        assert paper.width > 300  # a figure, 3.4 inches at 150 dpi
    finally:
        view.close()
