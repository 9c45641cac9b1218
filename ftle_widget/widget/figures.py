"""Figures for papers, drawn by matplotlib (the ``figures`` extra): the field as an image in the
canvas's colours (:mod:`.colours`), and over it as vectors the axes, the colorbar, the decision
boundary, the stretching directions and the data points; a Fig. 2-style grid of fields (rows N,
columns L) with one shared colorbar. SVG keeps its text as text, PDF embeds its fonts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..maths.fields import Field
from . import picture
from .colours import colour_limits, lut
from .fonts import quantity_label
from .overlays import DataOverlay

FORMATS = ("png", "svg", "pdf")
BOUNDARY_COLOUR = tuple(c / 255 for c in picture.BOUNDARY_RGBA)
DIRECTION_COLOUR = tuple(c / 255 for c in picture.DIRECTION_INK)


def _matplotlib():
    try:
        import matplotlib
    except ImportError as e:
        raise ImportError(
            "figures for papers (SVG, PDF, to_png(dpi=...), grid) are drawn by matplotlib, which "
            "is not installed: pip install 'ftle_widget[figures]' (or pip install matplotlib)"
        ) from e
    return matplotlib


def colormap(name: str):
    """The canvas's colormap ``name`` as a matplotlib colormap (256 entries, NaN transparent)."""
    from matplotlib.colors import ListedColormap

    _matplotlib()
    return ListedColormap(lut(name)[:, :3] / 255.0, name=name).with_extremes(bad=(0, 0, 0, 0))


def _values(field: Field, quantity: str) -> np.ndarray:
    quantity_label(quantity)  # an unknown quantity names the known ones
    return field.values(quantity)


def draw_field(
    ax: Any,
    field: Field,
    *,
    quantity: str = "lambda",
    cmap: str = "RdBu_r",
    vmin: float | None = None,
    vmax: float | None = None,
    directions: bool = False,
    boundary: bool = False,
    data: DataOverlay | None = None,
    axes: bool = True,
) -> Any:
    """Draw ``field`` on the matplotlib ``ax``: the values as an image (pixels square, v up) and,
    as vectors, the ``boundary`` between predicted classes (contours midway between pixels of
    different classes), the stretching ``directions`` placed as the canvas places them and the
    ``data`` points. Returns the image (for a colorbar)."""
    if not isinstance(field, Field):
        raise TypeError(f"draw_field needs a Field (ftle_field(...)), not {type(field).__name__}")
    values = _values(field, quantity)
    lo, hi = colour_limits(values, vmin, vmax, quantity)
    u0, u1, v0, v1 = field.extent
    image = ax.imshow(
        values,
        origin="lower",
        extent=(u0, u1, v0, v1),
        cmap=colormap(cmap),
        vmin=lo,
        vmax=hi,
        interpolation="none",  # vector formats embed the field pixel for pixel
        aspect="equal",
    )
    h, w = values.shape
    if boundary:
        _draw_boundary(ax, field.prediction, field.extent)
    if directions:
        if field.direction is None:
            raise ValueError("directions=True needs a Field computed with directions=True")
        _draw_directions(ax, field.direction, field.extent, (w, h))
    if data is not None and data.count:
        colours = [picture.class_colour(float(c)) for c in data.classes]
        ax.scatter(*data.uv.T, s=9, c=colours, edgecolors="white", linewidths=0.5, zorder=3)
    ax.set_xlim(u0, u1)
    ax.set_ylim(v0, v1)
    if axes:
        ax.set_xlabel("u")
        ax.set_ylabel("v")
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    return image


def _draw_boundary(ax: Any, prediction: np.ndarray, extent) -> None:
    prediction = np.asarray(prediction)
    if not picture.boundary_mask(prediction).any():
        return
    h, w = prediction.shape
    u0, u1, v0, v1 = extent
    u = u0 + (np.arange(w) + 0.5) * (u1 - u0) / w  # pixel centres
    v = v0 + (np.arange(h) + 0.5) * (v1 - v0) / h
    for c in np.unique(prediction[np.isfinite(prediction)]):
        ax.contour(u, v, (prediction == c).astype(float), levels=[0.5], colors=[BOUNDARY_COLOUR])


def _draw_directions(ax: Any, directions: np.ndarray, extent, size: tuple[int, int]) -> None:
    from matplotlib.collections import LineCollection

    u0, u1, v0, v1 = extent
    w, h = size
    segments = [
        [(u0 + x0 / w * (u1 - u0), v1 - y0 / h * (v1 - v0)),
         (u0 + x1 / w * (u1 - u0), v1 - y1 / h * (v1 - v0))]
        for x0, y0, x1, y1 in picture.direction_segments(directions, extent, size)
    ]  # fmt: skip
    ax.add_collection(LineCollection(segments, colors=[DIRECTION_COLOUR], linewidths=1.2))


def _format(path: Path) -> str:
    kind = path.suffix.lower().lstrip(".")
    if kind not in FORMATS:
        known = ", ".join(FORMATS)
        raise ValueError(f"a figure is saved as {known} (the path's suffix), not {kind!r}")
    return kind


def _save(figure: Any, path: str | Path, dpi: float) -> Path:
    path = Path(path)
    kind = _format(path)
    # SVG keeps text as text, PDF embeds TrueType fonts
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42}):
        figure.savefig(path, format=kind, dpi=dpi, bbox_inches="tight", metadata=None)
    return path


def save_figure(
    field: Field,
    path: str | Path,
    *,
    quantity: str = "lambda",
    cmap: str = "RdBu_r",
    vmin: float | None = None,
    vmax: float | None = None,
    directions: bool = False,
    boundary: bool = False,
    data: DataOverlay | None = None,
    axes: bool = True,
    colorbar: bool = True,
    dpi: float = 300,
    width: float = 3.4,
) -> Path:
    """Write ``field`` as a figure for a paper: SVG, PDF or PNG by the path's suffix, ``width``
    inches wide (3.4: one column), PNG (and the field image in PDF/SVG) at ``dpi``; the overlays
    as :func:`draw_field` draws them, a colorbar named by ``quantity``. Returns the path."""
    _matplotlib()
    from matplotlib.figure import Figure

    _format(Path(path))
    u0, u1, v0, v1 = field.extent
    aspect = (v1 - v0) / (u1 - u0)
    height = width * aspect * (0.82 if colorbar else 1.0)
    figure = Figure(figsize=(width, height), layout="constrained")
    ax = figure.add_subplot()
    image = draw_field(
        ax, field, quantity=quantity, cmap=cmap, vmin=vmin, vmax=vmax,
        directions=directions, boundary=boundary, data=data, axes=axes,
    )  # fmt: skip
    if colorbar:
        figure.colorbar(image, ax=ax, label=quantity_label(quantity), shrink=0.9)
    return _save(figure, path, dpi)


def grid(
    fields: Sequence[Sequence[Field | None]] | Mapping[tuple[Any, Any], Field],
    path: str | Path | None = None,
    *,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    row_name: str = "N",
    col_name: str = "L",
    quantity: str = "log_stretch",
    cmap: str = "RdBu_r",
    vmin: float = -4.0,
    vmax: float = 4.0,
    directions: bool = False,
    boundary: bool = False,
    panel: float = 1.6,
    dpi: float = 300,
) -> Any:
    """A grid of fields with one shared colorbar, as the paper's Fig. 2 (rows N, columns L, log Λ₁
    on RdBu_r over [−4, 4] by default). ``fields``: rows of fields (None leaves a panel empty), or
    a mapping (row key, column key) → field, labelled ``"{row_name} = {key}"`` and
    ``"{col_name} = {key}"`` in sorted key order. Returns the matplotlib ``Figure``; also
    written to ``path`` (SVG, PDF or PNG) when given."""
    _matplotlib()
    from matplotlib.figure import Figure

    if isinstance(fields, Mapping):
        rows_keys = sorted({r for r, _ in fields})
        cols_keys = sorted({c for _, c in fields})
        table = [[fields.get((r, c)) for c in cols_keys] for r in rows_keys]
        row_labels = row_labels or [f"{row_name} = {r}" for r in rows_keys]
        col_labels = col_labels or [f"{col_name} = {c}" for c in cols_keys]
    else:
        table = [list(row) for row in fields]
    if not table or not any(f is not None for row in table for f in row):
        raise ValueError("grid needs at least one field")
    n_rows, n_cols = len(table), max(len(row) for row in table)
    for labels, n, what in ((row_labels, n_rows, "row_labels"), (col_labels, n_cols, "col_labels")):
        if labels is not None and len(labels) != n:
            raise ValueError(f"{what} has {len(labels)} labels for {n} {what[:3]}s")
    figure = Figure(figsize=(panel * n_cols + 0.9, panel * n_rows), layout="constrained")
    axs = figure.subplots(n_rows, n_cols, squeeze=False)
    image = None
    for i, row in enumerate(table):
        for j in range(n_cols):
            ax, field = axs[i][j], row[j] if j < len(row) else None
            if field is None:
                ax.set_axis_off()
                continue
            image = draw_field(
                ax, field, quantity=quantity, cmap=cmap, vmin=vmin, vmax=vmax,
                directions=directions, boundary=boundary, axes=False,
            )  # fmt: skip
            if i == 0 and col_labels is not None:
                ax.set_title(col_labels[j], fontsize="medium")
            if j == 0 and row_labels is not None:
                ax.set_ylabel(row_labels[i])
    assert image is not None  # at least one field, checked above
    figure.colorbar(image, ax=axs.ravel().tolist(), label=quantity_label(quantity), shrink=0.8)
    if path is not None:
        _save(figure, path, dpi)
    return figure
