"""Two fields compared on one screen: :func:`compare` → a :class:`CompareView` holding two
:class:`~ftle_widget.FTLEView` s (two models, two checkpoints, two layers or two endpoints) side by
side, one over the other cut at a divider ("swipe"), or their difference λ₁ᵃ − λ₁ᵇ
(:class:`~.difference.DifferenceView`), with one pan and zoom.

How the views move together: in the browser, a gesture on one view moves the others at once
(js/src/compare.ts finds them in the CompareView's element, class ``ftle-linked``: no round
trip through the kernel, so they move in the same frame), and each then syncs the same
``extent``; in Python, the views' ``extent`` traits are mirrored, so ``zoom_to`` or
``fly_to_ridge`` on one moves all, in every display. The two views also share ``height`` and,
unless ``link_colors=False``, ``cmap``, ``vmin`` and ``vmax``: one colour scale for both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ipywidgets

from .difference import DifferenceView, check_views
from .view import FTLEView

MODES = ("side", "swipe", "difference")
LINKED, SWIPE = "ftle-linked", "ftle-swipe"  # the front end's classes (js/src/compare.ts)
COLOURS = ("cmap", "vmin", "vmax")
STACKED = "1 / 1 / 2 / 2"  # both views in the grid's one cell: a swipe
KEYWORDS = ("view_a", "view_b", "mode", "link_colors")


def compare(view_a: FTLEView, view_b: FTLEView, mode: str = "side", **options: bool) -> CompareView:
    """Show two views together with one pan and zoom: ``mode`` "side" (side by side), "swipe"
    (one over the other, view_b right of a divider that the pointer drags) or "difference"
    (λ₁ᵃ − λ₁ᵇ on RdBu_r, limits symmetric about 0). "swipe" and "difference" need the views on
    one plane; "side" also links two planes' coordinates. ``link_colors`` (default True): the
    two views share cmap, vmin and vmax. Returns the :class:`CompareView` (display it)."""
    return CompareView(view_a, view_b, mode, **options)


def mirror(views: Sequence[FTLEView], names: Sequence[str]) -> Callable[[], None]:
    """Keep the traits ``names`` of ``views`` equal: a change on one is copied to the others,
    all names at once (vmin and vmax are checked together); returns the unlink."""
    busy = False

    def copy(change) -> None:
        nonlocal busy
        if busy:
            return
        busy = True
        try:
            source = change["owner"]
            for view in views:
                if view is not source:
                    with view.hold_trait_notifications():
                        for name in names:
                            setattr(view, name, getattr(source, name))
        finally:
            busy = False

    copy({"owner": views[0]})  # start from the first view's
    for view in views:
        view.observe(copy, names=list(names))

    def unlink() -> None:
        for view in views:
            view.unobserve(copy, names=list(names))

    return unlink


class CompareView(ipywidgets.GridBox):
    """Two views compared (made by :func:`compare`): :attr:`a`, :attr:`b`, their
    :attr:`difference` (mode "difference", else None) and :attr:`mode`. Closing it unlinks the
    views and closes the difference it made; the two views stay open."""

    def __init__(self, view_a: FTLEView, view_b: FTLEView, mode: str = "side", **options: bool):
        unknown = sorted(set(options) - {"link_colors"})
        if unknown:
            raise TypeError(
                f"compare got unknown keyword argument(s) {', '.join(unknown)}; it takes "
                f"{', '.join(KEYWORDS)}"
            )
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
        link_colors = options.get("link_colors", True)
        if not isinstance(link_colors, bool):
            raise TypeError(f"link_colors must be True or False, not {link_colors!r}")
        check_views(view_a, view_b, mode != "side", mode)
        self.a, self.b, self.mode = view_a, view_b, mode
        self.difference = DifferenceView(view_a, view_b) if mode == "difference" else None
        shown: list[FTLEView] = [self.difference] if self.difference else [view_a, view_b]
        # the views' extents (the difference's too), and one height and colour scale for two
        moving = [view_a, view_b] if self.difference is None else [view_a, view_b, *shown]
        self._unlinks = [mirror(moving, ["extent"])]
        self._colours_linked = link_colors and self.difference is None
        if self.difference is None:
            self._unlinks.append(mirror(shown, ["height"]))
        if self._colours_linked:
            self._unlinks.append(mirror(shown, COLOURS))
        self._areas = [(view, view.layout.grid_area) for view in shown]
        if mode == "swipe":
            for view in shown:
                view.layout.grid_area = STACKED
        columns = "repeat(2, minmax(0, 1fr))" if mode == "side" else "minmax(0, 1fr)"
        layout = ipywidgets.Layout(grid_template_columns=columns, grid_gap="0 12px", width="100%")
        super().__init__(children=shown, layout=layout)
        for name in (LINKED, SWIPE) if mode == "swipe" else (LINKED,):
            self.add_class(name)

    @property
    def views(self) -> tuple[FTLEView, ...]:
        """The views shown: (a, b), or (difference,)."""
        return tuple(self.children)

    def fit_colors(self) -> tuple[float, float]:
        """Fit the colour limits to what is shown: over both views for linked colours (one
        scale), else each view its own (returns a's); the difference's symmetric about 0."""
        if self.difference is not None:
            return self.difference.fit_colors()
        if self._colours_linked:
            limits = [view._fitted_limits()[0] for view in (self.a, self.b)]
            lo, hi = min(lo for lo, _ in limits), max(hi for _, hi in limits)
            with self.a.hold_trait_notifications():  # b follows (the mirror)
                self.a.vmin, self.a.vmax = lo, hi
            return lo, hi
        self.b.fit_colors()
        return self.a.fit_colors()

    def close(self) -> None:
        for unlink in getattr(self, "_unlinks", ()):
            unlink()
        for view, area in getattr(self, "_areas", ()):
            view.layout.grid_area = area
        difference, self.difference = getattr(self, "difference", None), None
        self._unlinks, self._areas = [], []  # a second close (__del__) has nothing to undo
        if difference is not None:
            difference.close()
        super().close()
