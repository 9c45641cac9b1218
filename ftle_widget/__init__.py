"""ftle_widget: finite-time Lyapunov exponents of PyTorch models over planes of input space."""

from .exponents import ftle_spectrum, maximal_ftle
from .fields import Field, ftle_field
from .planes import Plane
from .widget import FTLEView

__version__ = "0.1.0"

__all__ = [
    "FTLEView", "Field", "Plane", "__version__", "ftle_field", "ftle_spectrum", "maximal_ftle",
]
