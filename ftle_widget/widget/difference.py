"""DifferenceView: λ₁ᵃ − λ₁ᵇ of two views on one plane, an :class:`~ftle_widget.FTLEView` whose
tiles a :class:`~ftle_widget.lazy.differences.DifferenceScheduler` computes (both fields of each
tile through each side's own engine, subtracted: exact, no resampling), drawn by the same front
end on a diverging colormap with limits symmetric about 0 and the colorbar label "λ₁ᵃ − λ₁ᵇ".
"""

from __future__ import annotations

import traitlets

from ..lazy.differences import LABEL, DifferenceScheduler, ModelPair
from .arguments import check_keywords
from .display import fitted_limits
from .view import FTLEView


def check_views(view_a: object, view_b: object, same_plane: bool, mode: str) -> None:
    """A TypeError unless both are FTLEViews, a ValueError if they are one view, or (with
    ``same_plane``) if their planes differ, naming the fix."""
    for name, view in (("view_a", view_a), ("view_b", view_b)):
        if not isinstance(view, FTLEView):
            raise TypeError(
                f"compare takes two FTLEViews; {name} is a {type(view).__name__}: make one with "
                "ftle_widget.FTLEView(model, plane, ...)"
            )
    assert isinstance(view_a, FTLEView) and isinstance(view_b, FTLEView)
    if view_a is view_b:
        raise ValueError("compare takes two different views, not one view twice")
    if same_plane and view_a.plane != view_b.plane:
        raise ValueError(
            f"mode {mode!r} needs both views on one plane, but view_a and view_b show different "
            "planes: show view_b on view_a's plane with view_b.set_plane(view_a.plane), or make "
            "it with FTLEView(model_b, view_a.plane, ...) (mode 'side' allows two planes)"
        )


def _pair(view_a: FTLEView, view_b: FTLEView) -> ModelPair:
    """The two views' models as they show them now (a History's epoch, the layer shown)."""
    (layer_a, depth_a), (layer_b, depth_b) = view_a._shown_endpoint(), view_b._shown_endpoint()
    return ModelPair(
        view_a.scheduler.versions.model,
        view_b.scheduler.versions.model,
        layers=(layer_a, layer_b),
        depths=(depth_a, depth_b),
        tile_px=min(view_a.tile_px, view_b.tile_px),  # each tile costs both sides' work
    )


class DifferenceView(FTLEView):
    """The field λ₁ᵃ − λ₁ᵇ of two views on one plane (two models, two checkpoints, two layers
    or two endpoints), at the extent of ``view_a`` (link the extents to pan them together, as
    :func:`ftle_widget.compare` does).

    Each tile is both fields computed through each view's model and endpoint, subtracted, value
    for value ``ftle_field(a) − ftle_field(b)``. The decision boundary, the hover's class and the
    stretching directions are view_a's; the data overlay is view_a's data. Colours: ``cmap``
    (default RdBu_r), ``vmin``/``vmax`` (default None: symmetric about 0 over what is shown);
    :meth:`fit_colors` fits them symmetric about 0. A new epoch or layer on either view (its
    ``epoch`` or ``shown_layer`` trait) and in-place changes of either model are followed; after
    ``update_model`` on a view, call :meth:`sync_models`.

    Other keywords: the display traits of :class:`~ftle_widget.FTLEView` (``height``,
    ``show_boundary``, ``show_data``, ``show_directions``, ``layout``...).
    """

    _scheduler_type = DifferenceScheduler
    _switches_layers = False  # no layer slider: not one network's λ₁
    quantity_label = traitlets.Unicode(LABEL).tag(sync=True)

    def __init__(
        self,
        view_a: FTLEView,
        view_b: FTLEView,
        *,
        cmap: str = "RdBu_r",
        vmin: float | None = None,
        vmax: float | None = None,
        **kwargs,
    ):
        check_keywords("DifferenceView", kwargs, self.class_trait_names(), DifferenceView.__init__)
        check_views(view_a, view_b, True, "difference")
        self._views: tuple[FTLEView, ...] = (view_a, view_b)
        options = {"height": view_a.height, "show_directions": False, **kwargs}
        super().__init__(
            _pair(view_a, view_b),
            view_a.plane,
            extent=view_a.extent,
            data=view_a._data,
            labels=view_a._labels,
            data_near=view_a._data_near,
            data_points=view_a._data_points,
            image_shape=view_a._image_shape,
            device=view_a._device,
            cmap=cmap,
            vmin=vmin,
            vmax=vmax,
            **options,
        )
        for view in self._views:
            view.observe(self._on_epoch_of_side, names=["epoch", "shown_layer"])

    @property
    def views(self) -> tuple[FTLEView, ...]:
        """(view_a, view_b); () once closed."""
        return self._views

    def sync_models(self) -> None:
        """Take both views' models as they show them now (after ``update_model`` on one)."""
        if not self._views:
            raise RuntimeError("the difference view is closed")
        a, b = self._views
        versions = (a.scheduler.versions, b.scheduler.versions)
        tag = tuple(v.content(v.current()) for v in versions)  # seen before: from the cache
        self.scheduler.update_model(_pair(a, b), tag=tag)
        self._refresh()

    def fit_colors(self) -> tuple[float, float]:
        """Set ``vmin``, ``vmax`` to ∓ the largest |λ₁ᵃ − λ₁ᵇ| shown (symmetric about 0, so
        that white is no difference; from what :meth:`FTLEView.fit_colors` reads); returns them."""
        values, source = self._shown_values()
        lo, hi = fitted_limits(values)
        top = max(abs(lo), abs(hi))
        with self.hold_trait_notifications():  # checked together: vmin < vmax at the end
            self.vmin, self.vmax = -top, top
        self._say(f"colours fitted to {source}, symmetric about 0: ±{top:.4g}")
        return -top, top

    def close(self) -> None:
        for view in getattr(self, "_views", ()):
            view.unobserve(self._on_epoch_of_side, names=["epoch", "shown_layer"])
        self._views = ()  # closed: a second close (the widget's __del__) has nothing to undo
        super().close()

    def _on_epoch_of_side(self, _change) -> None:
        self.sync_models()
