"""ftle_widget: finite-time Lyapunov exponents of PyTorch models over planes of input space.

The package's rooms, lower layers first (a layer imports only those before it):
``maths`` (headless mathematics) ← ``lazy`` (tiles on demand) ← ``widget`` (the Jupyter view),
``training`` (history, curves) ← ``paper`` (datasets, the paper's nets and experiments).
"""

import sys

from .lazy.devices import DevicePool
from .maths.attacks import AttackPath, attack_path
from .maths.exponents import ftle_spectrum, maximal_ftle
from .maths.fields import Field, ftle_field
from .maths.layers import LayerField, ftle_layers
from .maths.planes import Plane
from .maths.ridges import Ridge, ridges
from .paper import datasets, models
from .paper.demo import demo_view
from .training.background import TrainingRun, run_in_background
from .training.curves import TrainingCurves, link
from .training.history import History
from .widget import export
from .widget.compare import CompareView, compare
from .widget.uncertainty import UncertaintyView
from .widget.view import FTLEView

# The documented module paths ftle_widget.datasets, .models and .export name these rooms' modules.
for _module in (datasets, models, export):
    sys.modules[f"{__name__}.{_module.__name__.rsplit('.', 1)[1]}"] = _module
del _module

__version__ = "0.1.0"

__all__ = [
    "AttackPath",
    "CompareView",
    "DevicePool",
    "FTLEView",
    "Field",
    "History",
    "LayerField",
    "Plane",
    "Ridge",
    "TrainingCurves",
    "TrainingRun",
    "UncertaintyView",
    "__version__",
    "attack_path",
    "compare",
    "demo_view",
    "ftle_field",
    "ftle_layers",
    "ftle_spectrum",
    "link",
    "maximal_ftle",
    "ridges",
    "run_in_background",
]
