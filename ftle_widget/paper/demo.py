"""The one-line demo: the embedded default model in a view, as in the paper's Fig. 2."""

from __future__ import annotations

from typing import Any

from ..widget.view import FTLEView
from .datasets import circle
from .models import default_model


def demo_view(**kwargs: Any) -> FTLEView:
    """The embedded default model (the paper's 2 → 10×8 → 1 tanh net trained on the circle
    problem) over its input plane, shown as log Λ₁ on RdBu_r in [−4, 4] as in the paper's
    Fig. 2, with the test points. Keyword arguments override any of these settings."""
    data = circle()
    settings: dict[str, Any] = {
        "data": data.x_test,
        "labels": data.y_test,
        "quantity": "log_stretch",
        "vmin": -4.0,
        "vmax": 4.0,
        "extent": (-1.5, 1.5, -1.5, 1.5),
    }
    settings.update(kwargs)
    return FTLEView(default_model(), **settings)
