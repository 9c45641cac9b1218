"""Tick values and their labels, the twin of the front end's ``js/src/overlays/ticks.ts`` and of
the colorbar's ``limitLabel``: same steps, same values, the same text character for character
(JavaScript's ``toFixed``, ``toPrecision``, ``toExponential`` and number-to-string rules,
reproduced with :mod:`decimal`). ``js/test/fixtures/axes-js.json`` holds the front end's answers,
checked against these by ``tests/widget/test_picture.py``."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal

_EXACT = Context(prec=400, rounding=ROUND_HALF_UP)  # JavaScript rounds ties away from zero
# V8's 10 ** n (fdlibm's pow) is one ulp off the correctly rounded 10ⁿ for these n (n ≤ 308)
# fmt: off
_POW10_UP = frozenset({
    29, 34, 39, 49, 58, 61, 111, 126, 165, 166, 169, 187, 210, 215, 225, 273, 274, 275,
    -307, -303, -278, -268, -246, -207, -163, -148, -145, -106, -104, -88, -76, -57,
    -39, -29, -24, -23, -21, -20,
})
_POW10_DOWN = frozenset({
    26, 36, 42, 70, 95, 96, 136, 142, 191, 218, 232, 242, 244, 260, 279, 284, 290, 294,
    -306, -222, -166, -138, -128, -122, -111, -101, -63, -32, -17, -5, -4,
})
# fmt: on


def pow10(n: int) -> float:
    """``10 ** n`` as the front end's JavaScript (V8) computes it, n an int."""
    try:
        exact = float(Decimal(10) ** n)
    except OverflowError:
        return math.inf
    if n in _POW10_UP:
        return math.nextafter(exact, math.inf)
    if n in _POW10_DOWN:
        return math.nextafter(exact, -math.inf)
    return exact


def tick_step(lo: float, hi: float, count: int = 5) -> float:
    """The step between the ticks :func:`nice_ticks` gives: 1, 2 or 5 × 10ⁿ."""
    raw = (hi - lo) / count
    power = pow10(math.floor(math.log10(raw)))
    error = raw / power
    sqrt = math.sqrt
    factor = 10 if error >= sqrt(50) else 5 if error >= sqrt(10) else 2 if error >= sqrt(2) else 1
    return factor * power


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values in [lo, hi], about ``count`` of them, as d3.ticks (and the front end's
    ``niceTicks``) chooses them; [] when the range is empty or not finite."""
    if not (hi > lo) or not math.isfinite(hi - lo):
        return []
    step = tick_step(lo, hi, count)
    first = math.ceil(lo / step - 1e-9)
    size = math.log10(max(abs(lo), abs(hi)) / step)
    digits = min(17, max(12, math.ceil(size) + 2))  # 12 significant digits, more at deep zoom
    out = []
    k = first
    while k * step <= hi + 1e-9 * step:
        out.append(float(_rounded(k * step, digits)))
        k += 1
    return out


def tick_label(x: float, step: float | None = None) -> str:
    """A short label for a tick value; with ``step`` (the ticks' spacing) it carries the digits
    that tell neighbouring ticks apart."""
    if x == 0:
        return "0"
    resolution = step if step is not None and step > 0 and math.isfinite(step) else None
    if _exponential(x):
        return to_exponential(x, _mantissa_digits(x, resolution, 1) if resolution else 1)
    if resolution is None:
        return js_string(float(_rounded(x, 6)))
    return js_string(float(to_fixed(x, _decimals(resolution, 0))))


def limit_label(x: float) -> str:
    """A colour limit as the colorbar writes it: 4 significant digits, powers of ten if needed."""
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    a = abs(x)
    if a != 0 and (a >= 1e4 or a < 1e-3):
        return to_exponential(x, 2)
    return js_string(float(_rounded(x, 4)))


def _exponential(x: float) -> bool:
    return x != 0 and (abs(x) >= 1e4 or abs(x) < 1e-3)


def _decimals(resolution: float, least: int) -> int:
    return min(100, max(least, math.ceil(-math.log10(resolution) - 1e-9)))


def _mantissa_digits(x: float, resolution: float, least: int) -> int:
    exponent = Decimal(repr(x)).adjusted()  # of the shortest form, as x.toExponential() writes
    return min(100, max(least, math.ceil(exponent - math.log10(resolution) - 1e-9)))


def _rounded(x: float, digits: int) -> Decimal:
    """x to ``digits`` significant digits, ties away from zero (``x.toPrecision(digits)``)."""
    return Decimal(x).normalize(Context(prec=digits, rounding=ROUND_HALF_UP))


def to_fixed(x: float, decimals: int) -> str:
    """``x.toFixed(decimals)``."""
    if abs(x) >= 1e21:
        return js_string(x)
    fixed = Decimal(abs(x)).quantize(Decimal(1).scaleb(-decimals), context=_EXACT)
    return ("-" if x < 0 else "") + f"{fixed:f}"


def to_exponential(x: float, digits: int) -> str:
    """``x.toExponential(digits)``: one digit, a point, ``digits`` more, e, the signed exponent."""
    rounded = Decimal(abs(x)).normalize(Context(prec=digits + 1, rounding=ROUND_HALF_UP))
    text = f"{rounded:.{digits}e}"  # Decimal writes the exponent as JavaScript does (e+0, e-7)
    return ("-" if x < 0 else "") + text


def js_string(x: float) -> str:
    """``String(x)`` of a JavaScript number: the shortest digits that read back as x, written
    plainly in [1e-7, 1e21) and with an exponent outside."""
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    sign = "-" if x < 0 else ""
    shortest = Decimal(repr(abs(x)))
    digits = "".join(map(str, shortest.as_tuple().digits)).strip("0")
    n = shortest.adjusted() + 1  # the decimal point after n digits
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    exponent = f"e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return sign + digits[0] + ("." + digits[1:] if k > 1 else "") + exponent
