"""Depth as time: the ``shown_layer`` trait moves a view through the hidden layers ℓ = 1…L of its
network (the front end's layer slider and play button, js/src/layers.ts).

A layer switch is a new model version with the same weights read at layer ℓ
(:meth:`~ftle_widget.lazy.versions.ModelVersions.read_at`): the visible tiles are recomputed and
pushed like new weights, the browser keeps showing the held tiles until they arrive, and tiles of
weights already seen at ℓ come from the cache (their key holds the layer and the weights' tag).
New weights (a History's epoch, :meth:`update_model`) are read at the layer shown. The ``depth``
trait (the colorbar of log Λ₁ = depth·λ₁) and the ``layer`` description follow; a layer read
instead of the view's endpoint has its own depth ℓ (the ``depth=`` given divides the endpoint's).
"""

from __future__ import annotations

from typing import Any

import traitlets
from torch import nn

from ..maths.endpoints import hidden_layer_count, resolve


def endpoint_layer(model: nn.Module, layer: int | str | None, depth: float | None) -> int:
    """ℓ where the endpoint ``layer`` (at its default depth) is hidden layer ℓ of ``model``
    (layer=None on an MLP: L), else 0."""
    count = hidden_layer_count(model)
    if not count or depth is not None or isinstance(layer, bool):
        return 0
    try:
        endpoint = resolve(model, layer)
    except (ValueError, TypeError):
        return 0
    if endpoint.kind != "hidden":
        return 0
    for k in range(1, count + 1):
        other = resolve(model, k)
        if (other.module_name, other.chain_end) == (endpoint.module_name, endpoint.chain_end):
            return k
    return 0


class LayerSlider(traitlets.HasTraits):
    """The layer side of :class:`~ftle_widget.FTLEView` (a mixin): ``shown_layer`` ℓ in 1…``layers``
    is the hidden layer shown; 0 (or the endpoint's own number) is the endpoint the view was made
    with. ``layers`` is L, the hidden layers of an ``nn.Sequential`` (0 where a view cannot
    switch: another module, a :class:`~ftle_widget.DifferenceView`, an UncertaintyView)."""

    shown_layer = traitlets.Int(0).tag(sync=True)
    layers = traitlets.Int(0).tag(sync=True)
    _switches_layers = True  # False for views whose tiles are not one network's λ₁
    _base_layer: int | None = None  # the endpoint's hidden layer (0: none), once started

    def _start_layers(self, model: nn.Module, layer: int | str | None, depth: float | None):
        """Called once by the widget's constructor, after its scheduler is made."""
        count = (hidden_layer_count(model) or 0) if self._switches_layers else 0
        self.layers = count
        self._base_layer = endpoint_layer(model, layer, depth) if count else 0
        asked = self.shown_layer  # a keyword (from_state), else 0
        if asked and not count:
            self.close()  # type: ignore[attr-defined]  # the widget's: its scheduler stops
            raise traitlets.TraitError(self._no_layers())
        self.shown_layer = asked or self._base_layer
        self.observe(self._on_shown_layer, names="shown_layer")
        if self._override() is not None:
            self._read_shown_layer()
            self._follow_layer()

    @traitlets.validate("shown_layer")
    def _valid_shown_layer(self, proposal) -> int:
        value = proposal["value"]
        if self._base_layer is None:  # the constructor's keyword: checked by _start_layers
            return value
        if not self.layers:
            if value:
                raise traitlets.TraitError(self._no_layers())
            return 0
        if not 0 <= value <= self.layers:
            raise traitlets.TraitError(
                f"shown_layer={value} is out of range: this network has {self.layers} hidden "
                f"layer(s), numbered 1..{self.layers} (0: the view's endpoint)"
            )
        return value or self._base_layer

    def _no_layers(self) -> str:
        return (
            f"shown_layer needs a view of an nn.Sequential network's λ₁ whose hidden layers can "
            f"be numbered; this {type(self).__name__} has none to move through"
        )

    def _override(self) -> int | None:
        """The hidden layer read instead of the endpoint, None for the endpoint."""
        shown = self.shown_layer
        return None if shown in (0, self._base_layer) else shown

    def _shown_endpoint(self) -> tuple[int | str | None, float | None]:
        """(layer, depth) the view reads now: the hidden layer shown, else its endpoint's."""
        view: Any = self
        override = self._override() if self._base_layer is not None else None
        return (view._layer, view._depth) if override is None else (override, None)

    def _read_shown_layer(self) -> None:
        """New versions of the scheduler's model are read at the layer shown (also a new
        scheduler's, after set_plane)."""
        view: Any = self
        if self._base_layer is not None and (override := self._override()) is not None:
            view.scheduler.versions.read_at(override)

    def _follow_layer(self) -> None:
        view: Any = self
        engine = view.scheduler.engine()
        view.depth = engine.depth
        view.layer = engine.endpoint.description

    def _on_shown_layer(self, change) -> None:
        view: Any = self
        view.scheduler.versions.read_at(self._override())
        self._follow_layer()
        view._refresh()
