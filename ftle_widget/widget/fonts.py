"""The font of the PNG export's texts, and the quantities' names as the front end writes them.

The canvas writes "λ₁" and "log Λ₁" in the browser's sans-serif. Pillow's own fonts have no
Greek letters (the bitmap font, and Aileron, which ``ImageFont.load_default(size=...)`` gives
from Pillow 10.1, draw a box instead), so :func:`font` takes the first of these that has every
glyph of "λΛ₁₂−" (each drawn differs from the font's missing-glyph box), nothing downloaded:

1. DejaVu Sans from matplotlib's data, when matplotlib is installed (it is not imported);
2. a system font found by Pillow in the usual font folders: DejaVu Sans, Noto Sans, Arial,
   Segoe UI, Liberation Sans (Liberation has no ₁: it is passed over).

Without one, texts use Pillow's default font and the names are written in ASCII
(:func:`ascii_text`: "λ₁" → "lambda_1", "log Λ₁" → "log Lambda_1", "λ₁ − λ₂" →
"lambda_1 - lambda_2").
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

QUANTITY_LABELS = {  # js/src/quantities.ts QUANTITY_LABELS
    "lambda": "λ₁",
    "log_stretch": "log Λ₁",
    "lambda_min": "λ_min",
    "gap": "λ₁ − λ₂",
    "anisotropy": "λ₁ − λ_min",
}
GLYPHS = "λΛ₁₂−"  # what the names need beyond ASCII
SYSTEM_FONTS = (
    "DejaVuSans.ttf",
    "NotoSans-Regular.ttf",
    "Arial.ttf",
    "arial.ttf",
    "segoeui.ttf",
    "LiberationSans-Regular.ttf",
)
_MISSING = "\U0010fffd"  # a private-use code point: no font draws it, each shows its box
_ASCII = {"λ": "lambda", "Λ": "Lambda", "−": "-", **{chr(0x2080 + d): f"_{d}" for d in range(10)}}

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _picture(font: Font, text: str) -> np.ndarray:
    image = Image.new("L", (4 * 16 * len(text) + 8, 48), 0)
    ImageDraw.Draw(image).text((4, 8), text, font=font, fill=255)
    return np.asarray(image)


def has_glyphs(font: Font, text: str) -> bool:
    """Whether ``font`` draws every character of ``text`` as a glyph of its own: not blank and
    not the box it draws for a character it lacks."""
    try:
        missing = _picture(font, _MISSING)
        pictures = [_picture(font, c) for c in text]
    except UnicodeEncodeError:  # Pillow's bitmap font: Latin-1 only
        return False
    return all(p.any() and not np.array_equal(p, missing) for p in pictures)


def _candidates() -> list[str]:
    found = []
    spec = importlib.util.find_spec("matplotlib")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
        if path.is_file():
            found.append(str(path))
    return [*found, *SYSTEM_FONTS]


@cache
def font(size: int) -> tuple[Font, bool]:
    """The font for texts ``size`` pixels high, and whether it has the Greek names' glyphs
    (when not, write them with :func:`ascii_text`)."""
    for name in _candidates():
        try:
            candidate = ImageFont.truetype(name, size)
        except OSError:
            continue
        if has_glyphs(candidate, GLYPHS):
            return candidate, True
    try:  # Pillow ≥ 10.1: Aileron (no Greek), at any size
        return ImageFont.load_default(size=size), False
    except TypeError:
        return ImageFont.load_default(), False


def ascii_text(text: str) -> str:
    """``text`` with λ, Λ, subscript digits and the minus sign spelt in ASCII: "log Λ₁" →
    "log Lambda_1", "λ₁ − λ_min" → "lambda_1 - lambda_min"."""
    return "".join(_ASCII.get(c, c) for c in text)


def quantity_label(quantity: str) -> str:
    """The name of ``quantity`` (``"lambda"``, ``"log_stretch"``, ``"lambda_min"``, ``"gap"``,
    ``"anisotropy"``) as the colorbar writes it."""
    if quantity not in QUANTITY_LABELS:
        raise ValueError(f"quantity must be one of {', '.join(QUANTITY_LABELS)}, not {quantity!r}")
    return QUANTITY_LABELS[quantity]
