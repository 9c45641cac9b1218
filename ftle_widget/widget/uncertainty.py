"""UncertaintyView: an ensemble's predictive entropy or mutual information over a plane (the
paper's Fig. 4b puts it beside λ₁: error and uncertainty rise with λ₁), an
:class:`~ftle_widget.FTLEView` whose tiles a
:class:`~ftle_widget.lazy.ensembles.EnsembleScheduler` computes, drawn by the same front end on a
sequential colormap from 0 to log C (C classes: the most uncertain a prediction can be).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence

import torch
import traitlets
from torch import nn

from ..lazy.ensembles import EnsembleScheduler, ModelEnsemble
from ..maths.ensembles import LABELS
from ..maths.modules import expected_input_shape
from ..maths.planes import Plane
from .arguments import check_keywords
from .colours import zero_to_max
from .view import FTLEView


class UncertaintyView(FTLEView):
    """The ensemble's ``quantity`` over a plane of its members' input space.

    Parameters
    ----------
    members : at least two models giving class logits (e.g. one network trained from ten
        seeds, as the paper's Fig. 4b: :func:`ftle_widget.paper.nets.ensemble`).
    plane, extent, data, labels, input_shape, image_shape, height... : as for
        :class:`~ftle_widget.FTLEView` (not layer, depth, executor, devices, show_directions).
    quantity : ``"entropy"`` (H of the members' mean probabilities) or ``"mutual_information"``
        (H of the mean minus the mean of the members' H: their disagreement), in nats.
    cmap, vmin, vmax : default viridis over [0, log C].

    The class shown (hover, decision boundary) is the ensemble's: the argmax of the mean
    probabilities. Put it beside a view of λ₁ with :func:`ftle_widget.compare`.
    """

    _scheduler_type = EnsembleScheduler
    _switches_layers = False  # no layer slider: not one network's λ₁
    quantity_label = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        members: Sequence[nn.Module],
        plane: Plane | None = None,
        *,
        quantity: str = "entropy",
        cmap: str = "viridis",
        vmin: float | None = None,
        vmax: float | None = None,
        **kwargs,
    ):
        for name in ("layer", "depth", "executor", "devices"):
            if kwargs.get(name) is not None:
                raise ValueError(
                    f"an UncertaintyView has no {name}= (it reads its members' class logits, "
                    "on the view's own thread): leave it out"
                )
        if kwargs.get("show_directions"):
            raise ValueError("an UncertaintyView has no stretching directions: show_directions")
        named = inspect.signature(FTLEView).parameters  # FTLEView's own: passed on
        rest = {k: v for k, v in kwargs.items() if k not in named}
        check_keywords("UncertaintyView", rest, self.class_trait_names(), UncertaintyView)
        ensemble = ModelEnsemble(members, quantity)
        shape = expected_input_shape(ensemble.members[0])  # the members' inputs are the view's
        if plane is None and shape and None not in shape and kwargs.get("data") is None:
            kwargs.setdefault("input_shape", shape)
        super().__init__(ensemble, plane, cmap=cmap, **kwargs)
        self.quantity_label = LABELS[ensemble.quantity]
        classes = _classes(ensemble, self.plane)
        with self.hold_trait_notifications():  # checked together: vmin < vmax at the end
            self.vmin = 0.0 if vmin is None else vmin
            self.vmax = math.log(classes) if vmax is None else vmax

    @property
    def ensemble_quantity(self) -> str:
        """``"entropy"`` or ``"mutual_information"``."""
        model = self.scheduler.versions.model
        assert isinstance(model, ModelEnsemble)
        return model.quantity

    def fit_colors(self) -> tuple[float, float]:
        """Set ``vmin`` to 0 and ``vmax`` to the largest value shown; returns them."""
        values, source = self._shown_values()
        _, top = zero_to_max(values)
        with self.hold_trait_notifications():
            self.vmin, self.vmax = 0.0, top
        self._say(f"colours fitted to {source}: [0, {top:.4g}]")
        return 0.0, top


def _classes(ensemble: ModelEnsemble, plane: Plane) -> int:
    """C: the members' number of class logits, read at the plane's origin."""
    x = plane.to_input(torch.zeros(1, 2, dtype=torch.float64))
    dtype = next(ensemble.parameters(), torch.zeros(())).dtype
    with torch.no_grad():
        return int(ensemble.members[0](x.to(dtype)).shape[-1])


__all__ = ["LABELS", "UncertaintyView"]
