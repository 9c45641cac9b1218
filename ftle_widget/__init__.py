"""ftle_widget: finite-time Lyapunov exponents of PyTorch models over planes of input space."""

from .background import TrainingRun, run_in_background
from .curves import TrainingCurves, link
from .exponents import ftle_spectrum, maximal_ftle
from .fields import Field, ftle_field
from .history import History
from .planes import Plane
from .widget import FTLEView

demo_view = FTLEView.demo

__version__ = "0.1.0"

__all__ = [
    "FTLEView",
    "Field",
    "History",
    "Plane",
    "TrainingCurves",
    "TrainingRun",
    "__version__",
    "demo_view",
    "ftle_field",
    "ftle_spectrum",
    "link",
    "maximal_ftle",
    "run_in_background",
]
