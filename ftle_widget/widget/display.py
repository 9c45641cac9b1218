"""How :class:`~ftle_widget.FTLEView` shows its field: the display traits (``cmap``, ``vmin``,
``vmax``, ``quantity``, ``height``), validated, and colour limits fitted to what is shown
(:meth:`DisplayTraits.fit_colors`, the twin of the toolbar's "Fit colours" button)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

import numpy as np
import traitlets

from ..lazy.tiles import Tile
from ..maths.fields import shown
from ..maths.quantities import QUANTITIES, check_quantity, needs_lower
from . import export
from .colours import DEFAULT_CMAPS, default_cmap

__all__ = ["DEFAULT_CMAPS", "QUANTITIES", "default_cmap", "follow_quantity", "needs_lower"]
HEIGHT = 420  # CSS pixels of the field and the colorbar, by default
HEIGHTS = (150, 2000)  # the heights allowed, CSS pixels


class BadTrait(traitlets.TraitError, ValueError):
    """A display trait given a value it cannot show (a ValueError too, as for any bad input)."""


class CSSPixels(traitlets.Int):
    """An int of CSS pixels in :data:`HEIGHTS` (numpy ints too; no bools, floats or strings)."""

    def validate(self, obj, value):
        if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_):
            if HEIGHTS[0] <= int(value) <= HEIGHTS[1]:
                return int(value)
        lo, hi = HEIGHTS
        raise BadTrait(
            f"{self.name} must be an int of CSS pixels in [{lo}, {hi}], not {shown(value)}"
        )


SNAPSHOT_PREFIX = "data:image/png;base64,"
SNAPSHOT_MAX = 300_000  # the browser keeps its snapshots under 200 000 (snapshot.ts)


class DisplayTraits(traitlets.HasTraits):
    """The display side of the widget: traits the browser draws with, checked in Python.

    The widget implements ``_shown_values()`` (the values of λ₁ shown now, and what they are)
    and ``_say(text)`` (a line for the status).
    """

    depth = traitlets.Float(1.0).tag(sync=True)  # log Λ₁ = depth · λ₁
    cmap = traitlets.Unicode("RdBu_r").tag(sync=True)
    vmin = traitlets.Float(None, allow_none=True).tag(sync=True)
    vmax = traitlets.Float(None, allow_none=True).tag(sync=True)
    quantity = traitlets.Unicode("lambda").tag(sync=True)
    height = CSSPixels(HEIGHT).tag(sync=True)
    # the last complete view's picture, set by the browser (js/src/snapshot.ts): a PNG data URL
    # that a notebook saved with its widget state shows without a kernel; "" before one
    snapshot = traitlets.Unicode("").tag(sync=True)

    @traitlets.validate("snapshot")
    def _valid_snapshot(self, proposal: dict) -> str:
        value = proposal["value"]
        if value and (not value.startswith(SNAPSHOT_PREFIX) or len(value) > SNAPSHOT_MAX):
            raise BadTrait(
                f"snapshot must be a PNG data URL ({SNAPSHOT_PREFIX}…) of at most "
                f"{SNAPSHOT_MAX} characters, or empty"
            )
        return value

    @traitlets.validate("cmap")
    def _valid_cmap(self, proposal: dict) -> str:
        names = export.colormap_names()
        if proposal["value"] not in names:
            raise BadTrait(
                f"unknown colormap {shown(proposal['value'])}; choose one of {', '.join(names)}"
            )
        return proposal["value"]

    @traitlets.validate("quantity")
    def _valid_quantity(self, proposal: dict) -> str:
        try:
            return check_quantity(proposal["value"])
        except ValueError:
            raise BadTrait(
                f"quantity must be one of {', '.join(QUANTITIES)}, not {shown(proposal['value'])}"
            ) from None

    @traitlets.validate("vmin", "vmax")
    def _valid_limit(self, proposal: dict) -> float | None:
        value, name = proposal["value"], proposal["trait"].name
        if value is None:
            return None
        if not math.isfinite(value):
            raise BadTrait(f"{name} must be a finite number or None, not {value!r}")
        lo, hi = (value, self.vmax) if name == "vmin" else (self.vmin, value)
        if lo is not None and hi is not None and not lo < hi and math.isfinite(lo + hi):
            raise BadTrait(
                f"vmin must be below vmax, not {lo!r} ≥ {hi!r}: to move both, set them together "
                "with view.hold_trait_notifications()"
            )
        return value

    def _fitted_limits(self) -> tuple[tuple[float, float], str]:
        """The limits :meth:`fit_colors` sets, and what they were taken from."""
        values, source = self._shown_values()
        factor = self.depth if self.quantity == "log_stretch" else 1.0
        return fitted_limits(values, factor), source

    def fit_colors(self) -> tuple[float, float]:
        """Set ``vmin`` and ``vmax`` to the range of the quantity shown over
        :attr:`visible_extent`, so that the colormap spans what is on screen (after a zoom into
        a ridge, say); returns them, and the status says what they were taken from.

        They come from the tiles computed for the browser's last view (no new work): each
        pixel inside the visible extent, from the finest of those tiles holding it, as the
        canvas draws them (the toolbar's "Fit colours" button does the same with the tiles the
        browser holds). Before a browser has asked for a view, the field of the visible extent
        is computed (:meth:`field`).
        """
        (lo, hi), source = self._fitted_limits()
        # one at a time, in the order that keeps vmin < vmax at every step (each change reaches
        # the browser on its own, from any thread)
        if self.vmax is None or lo < self.vmax:
            self.vmin, self.vmax = lo, hi
        else:
            self.vmax, self.vmin = hi, lo
        self._say(f"colours fitted to {source}: vmin {lo:.4g}, vmax {hi:.4g}")
        return lo, hi

    def _shown_values(self) -> tuple[list[np.ndarray], str]:
        raise NotImplementedError

    def _say(self, text: str) -> None:
        raise NotImplementedError


def follow_quantity(view: DisplayTraits, change: dict) -> None:
    """When ``quantity`` changes, a colormap that was the old quantity's default becomes the new
    one's (a colormap chosen by hand stays)."""
    if change["name"] == "quantity" and view.cmap == DEFAULT_CMAPS.get(change["old"]):
        view.cmap = default_cmap(change["new"])


def shown_values(view, tiles: Sequence[Tile]) -> tuple[list[np.ndarray], str]:
    """What ``fit_colors`` fits (:meth:`DisplayTraits._shown_values`): the pixels of ``tiles``
    inside the view's visible extent (:func:`shown_pixels`) as the shown quantity (λ₁ for
    ``"log_stretch"``, scaled by the fit), else, before tiles that hold it, the quantity of the
    field of the visible extent, computed (:meth:`~.exporting.Exports.field`)."""
    quantity = "lambda" if view.quantity == "log_stretch" else view.quantity
    lower = needs_lower(quantity)
    if tiles and all(tile.lower or not lower for tile in tiles):
        return shown_pixels(tiles, view.visible_extent, quantity), "the tiles of the last view"
    field = view.field(lower=lower)
    return [field.values(quantity)], "the field of the visible extent, computed"


def fitted_limits(values: Iterable[np.ndarray], factor: float = 1.0) -> tuple[float, float]:
    """(lo, hi): the smallest and largest finite value × ``factor``; a range of one value is
    widened a little (vmin must stay below vmax). A ValueError when there is none."""
    lo, hi = math.inf, -math.inf
    for array in values:
        finite = np.asarray(array, dtype=np.float64)
        finite = finite[np.isfinite(finite)]
        if finite.size:
            lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
    if lo > hi:
        raise ValueError("nothing is shown yet (no finite values): no colour limits to fit")
    lo, hi = sorted((lo * factor, hi * factor))
    if not lo < hi:
        pad = max(abs(lo) * 1e-6, 1e-12)
        lo, hi = lo - pad, hi + pad
    return lo, hi


def shown_pixels(
    tiles: Sequence[Tile], extent: Sequence[float], quantity: str = "lambda"
) -> list[np.ndarray]:
    """λ₁ (or ``quantity``) of the pixels inside ``extent`` (their centres), each from the
    finest of ``tiles`` holding it (a pixel of a coarser tile under a finer one is not shown)."""
    eu0, eu1, ev0, ev1 = extent
    out = []
    for tile in tiles:
        t = tile.ftle.shape[0]
        u0, u1, v0, v1 = tile.extent
        u = u0 + (np.arange(t) + 0.5) * ((u1 - u0) / t)
        v = v0 + (np.arange(t) + 0.5) * ((v1 - v0) / t)
        shows = np.outer((v >= ev0) & (v <= ev1), (u >= eu0) & (u <= eu1))  # [row: v, column: u]
        for finer in tiles:
            if finer.key[0] > tile.key[0]:
                f0, f1, g0, g1 = finer.extent
                shows &= ~np.outer((v >= g0) & (v < g1), (u >= f0) & (u < f1))
        out.append(tile.values(quantity)[shows])
    return out
