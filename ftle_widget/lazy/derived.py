"""Schedulers of fields derived from a model other than by λ₁ of one endpoint (the difference of
two fields, an ensemble's uncertainty): a :class:`DerivedScheduler` checks its model's type,
refuses a layer or depth, runs on its own thread or an ``Executor`` (a cluster or a DevicePool
would make plain engines) and makes its engines with its own :class:`~.engines.Engines`.
"""

from __future__ import annotations

from torch import nn

from ..maths.planes import Plane
from .engines import Engines
from .executors import TileExecutor
from .scheduler import TileScheduler


class DerivedScheduler(TileScheduler):
    """A :class:`TileScheduler` (same parameters but ``layer`` and ``depth``) of a
    ``model_type`` whose engines ``engines_type`` makes; ``what`` names the field in errors."""

    model_type: type[nn.Module] = nn.Module
    engines_type: type[Engines] = Engines
    what = "a derived field"
    remedy = "leave it out"  # what to do with a layer= or depth=

    def __init__(self, model: nn.Module, plane: Plane, **options):
        name = type(self).__name__
        if not isinstance(model, self.model_type):
            raise TypeError(f"a {name} needs a {self.model_type.__name__}, not {type(model)}")
        for option in ("layer", "depth"):
            if options.pop(option, None) is not None:
                raise ValueError(f"{self.what} takes no {option}= here: {self.remedy}")
        super().__init__(model, plane, **options)
        if isinstance(self.executor, TileExecutor):
            self.close()
            raise ValueError(
                f"{self.what} runs on a thread or an Executor, not on a cluster or a DevicePool "
                "(they make plain engines): leave executor= out"
            )
        home = options.get("home")
        self.engines = self.engines_type(self.versions, plane, layer=None, depth=None, home=home)
        self.engine()  # every model runs once now: an error here, not in every tile
