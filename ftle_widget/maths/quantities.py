"""The quantities a field is shown as, from its exponents: the twin of ``js/src/quantities.ts``.

``"lambda"``
    λ₁, the maximal FTLE.
``"log_stretch"``
    log Λ₁ = depth·λ₁ (the paper's Fig. 2).
``"lambda_min"``
    λ_min, the smallest of the min(n, d) exponents of J (n the endpoint's size, d the input's):
    over the whole input space, as λ₁ is, not only over the plane's two directions. With a 2-D
    input (the toy problem) or a 2-wide endpoint λ_min = λ₂. Where J has fewer than min(n, d)
    independent columns (dead ReLUs, a bottleneck) it is −inf.
``"gap"``
    λ₁ − λ₂ ≥ 0: small where the top two singular values nearly coincide (where power iteration
    and Lanczos are slow, where ridges cross). NaN where J has a single singular value.
``"anisotropy"``
    λ₁ − λ_min ≥ 0: how unequally J stretches; 0 for a conformal map, +inf where λ_min is −inf.

λ₂ and λ_min are computed with λ₁, in the same pass (:meth:`.exponents.Engine.maximal` with
``lower=True``), and only when asked (:func:`needs_lower`). Differences are taken as the canvas
takes them: the float32 exponents in float64, rounded to float32, so that a PNG and the canvas
colour every pixel alike.
"""

from __future__ import annotations

import numpy as np

QUANTITIES = ("lambda", "log_stretch", "lambda_min", "gap", "anisotropy")
LOWER = ("lambda_min", "gap", "anisotropy")  # the quantities that need λ₂ or λ_min
NON_NEGATIVE = ("gap", "anisotropy")  # automatic colour limits [0, max], not symmetric


def check_quantity(quantity: object) -> str:
    """``quantity`` if it is one of :data:`QUANTITIES`, else a ValueError naming them."""
    if not isinstance(quantity, str) or quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {', '.join(QUANTITIES)}, not {quantity!r}")
    return quantity


def needs_lower(quantity: str) -> bool:
    """Whether ``quantity`` needs λ₂ or λ_min (tiles and fields computed with ``lower=True``)."""
    return check_quantity(quantity) in LOWER


def quantity_values(
    quantity: str,
    ftle: np.ndarray,
    lambda_2: np.ndarray | None = None,
    lambda_min: np.ndarray | None = None,
    depth: float = 1.0,
) -> np.ndarray:
    """The float32 values of ``quantity`` from the exponents (the canvas's arithmetic); a
    ValueError when it needs λ₂ or λ_min and they were not computed."""
    check_quantity(quantity)
    if quantity == "lambda":
        return np.asarray(ftle, dtype=np.float32)
    if quantity == "log_stretch":
        return np.asarray(ftle, dtype=np.float32) * np.float32(depth)
    lower = lambda_2 if quantity == "gap" else lambda_min
    if lower is None:
        raise ValueError(
            f"quantity {quantity!r} needs λ₂ and λ_min: compute the field with lower=True"
        )
    if quantity == "lambda_min":
        return np.asarray(lower, dtype=np.float32)
    top = np.asarray(ftle, dtype=np.float32).astype(np.float64)
    with np.errstate(invalid="ignore"):  # inf − inf where λ₁ is −inf too: NaN
        return (top - np.asarray(lower, dtype=np.float32)).astype(np.float32)
