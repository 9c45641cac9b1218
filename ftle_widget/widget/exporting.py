"""What a view gives out: :meth:`~Exports.field` (what it shows, as arrays) and files:
:meth:`~Exports.to_png` (the canvas's picture, or a figure at a ``dpi``), :meth:`~Exports.to_svg`
and :meth:`~Exports.to_pdf` (figures for papers, vectors over the field's image),
:meth:`~Exports.to_html` (a page to pan and zoom in offline); a mixin of
:class:`~ftle_widget.FTLEView`, the work in :mod:`.export` and :mod:`.offline`."""

from __future__ import annotations

import pathlib
from typing import Any

from ..maths.fields import Field, compute_field
from . import export, offline


class Exports:
    """The view's exports (mixed into :class:`~ftle_widget.FTLEView`)."""

    def field(
        self, shape: tuple[int, int] | None = None, directions: bool = False, lower: bool = False
    ) -> Field:
        """What the view shows (:attr:`visible_extent`) as a :class:`Field`, at the view's
        resolution (or ``shape``); with ``lower``, λ₂ and λ_min too (:func:`~.ftle_field`)."""
        view: Any = self
        if shape is None:
            last = view._last_view[0] if view._last_view else None
            shape = (last.height, last.width) if last else (256, 256)
        engine = view.scheduler.engine()
        extent = view.visible_extent
        return compute_field(engine, view.plane, extent, shape, directions=directions, lower=lower)

    def to_png(
        self,
        path: str | pathlib.Path,
        shape: tuple[int, int] | None = None,
        *,
        axes: bool = True,
        colorbar: bool = True,
        scale: int = 1,
        dpi: float | None = None,
    ) -> pathlib.Path:
        """Write :attr:`visible_extent` as a PNG drawn as the canvas draws it: the field, the
        overlays that are on, the ``axes`` and the ``colorbar``; no browser needed.

        Pixels stay square: the field is the largest of the view's aspect that fits in
        ``shape`` = (rows, columns) (:func:`~.export.fit_frame`: one side as given, the other
        shorter; never stretched or padded); by default the canvas's size, or :attr:`height`
        rows before a browser showed the view. ``scale``: PNG pixels per field pixel. With a
        ``dpi``, the PNG is the figure :meth:`to_pdf` draws, at that resolution (matplotlib).
        """
        return export.save_view(
            self, path, shape, axes=axes, colorbar=colorbar, scale=scale, dpi=dpi
        )

    def to_svg(
        self, path: str | pathlib.Path, shape: tuple[int, int] | None = None, *, axes: bool = True,
        colorbar: bool = True, dpi: float = 300,
    ) -> pathlib.Path:  # fmt: skip
        """Write the view as an SVG figure for a paper: the field (``shape`` as in
        :meth:`to_png`) as an embedded image, the axes, colorbar, boundary, directions and data
        points that are on as vectors, text as text (:func:`~.figures.save_figure`; needs
        matplotlib: ``pip install 'ftle_widget[figures]'``)."""
        return export.save_view(self, path, shape, axes=axes, colorbar=colorbar, dpi=dpi)

    def to_pdf(
        self, path: str | pathlib.Path, shape: tuple[int, int] | None = None, *, axes: bool = True,
        colorbar: bool = True, dpi: float = 300,
    ) -> pathlib.Path:  # fmt: skip
        """Write the view as a PDF figure for a paper, as :meth:`to_svg` (fonts embedded)."""
        return export.save_view(self, path, shape, axes=axes, colorbar=colorbar, dpi=dpi)

    def to_html(self, path: str | pathlib.Path, *, levels: int = 3) -> pathlib.Path:
        """Write the view as one self-contained HTML file (the front end inlined, no network):
        the tiles of the view's level and ``levels`` coarser and finer ones, so that a reader
        pans, zooms, hovers and switches colormaps without a kernel; beyond them the page says
        the rest needs one. λ₁ is stored as float16 (relative error ≤ 4.9e-4), deflated; which
        tiles: :mod:`.offline`."""
        return offline.save_html(self, path, levels)
