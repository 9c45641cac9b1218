"""The PNG export's twins of the canvas: tick values and labels, where the axes go (checked
against the front end's own answers in js/test/fixtures/axes-js.json), and the font of the
quantities' Greek names."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ftle_widget import Plane, ftle_field
from ftle_widget.paper.models import mlp
from ftle_widget.widget import fonts
from ftle_widget.widget.axes import TextSize, layout_axes
from ftle_widget.widget.export import save_png
from ftle_widget.widget.ticks import limit_label, nice_ticks, pow10, tick_label, tick_step

FIXTURE = Path(__file__).resolve().parents[2] / "js" / "test" / "fixtures" / "axes-js.json"
MISSING = "\U0010fffd"  # a private-use code point: every font draws its missing-glyph box


@pytest.fixture(scope="module")
def front_end() -> dict:
    return json.loads(FIXTURE.read_text())


def test_tick_values_and_labels_are_the_front_ends(front_end):
    for n, value in front_end["pow10"]:
        assert pow10(n) == value, n  # V8's 10 ** n, one ulp off 10ⁿ for some n
    for case in front_end["ticks"]:
        lo, hi, count = case["lo"], case["hi"], case["count"]
        ticks = nice_ticks(lo, hi, count)
        assert ticks == case["ticks"], case
        step = tick_step(lo, hi, count) if hi > lo else None
        assert step == case["step"], case
        assert [tick_label(t, step) for t in ticks] == case["labels"], case
        assert [tick_label(t) for t in ticks] == case["bare"], case
    for case in front_end["limits"]:
        assert limit_label(case["x"]) == case["text"], case


def test_the_axes_go_where_the_canvas_puts_them(front_end):
    def measure(text: str) -> TextSize:  # the fixture's: 6.2 px a character, 8 above, 1 below
        return TextSize(6.2 * len(text), 8, 1)

    for case in front_end["axes"]:
        layout = layout_axes(case["extent"], case["width"], case["height"], measure)
        ticks = [dataclasses.asdict(t) for t in layout.ticks]
        labels = [dataclasses.asdict(lab) for lab in layout.labels]
        assert ticks == case["layout"]["ticks"], case["extent"]
        assert labels == case["layout"]["labels"], case["extent"]


def _drawn(font, text: str) -> np.ndarray:
    image = Image.new("L", (60, 30), 0)
    ImageDraw.Draw(image).text((4, 4), text, font=font, fill=255)
    return np.asarray(image)


def test_the_font_draws_the_greek_names_as_glyphs():
    font, greek = fonts.font(11)
    if not greek:  # the rule's last resort: no font here has them
        candidates = [n for n in fonts._candidates() if _loads(n)]
        assert not candidates or not any(fonts.has_glyphs(_load(n), "λΛ₁") for n in candidates)
        pytest.skip("no font with λ, Λ and ₁ on this machine: the names are written in ASCII")
    for char in "λΛ₁":
        glyph, box = _drawn(font, char), _drawn(font, MISSING)
        assert glyph.any() and not np.array_equal(glyph, box), char
    # the check tells a font without Greek apart: Pillow's own draws boxes
    bitmap = (
        ImageFont.load_default_imagefont() if hasattr(ImageFont, "load_default_imagefont") else None
    )
    if bitmap is not None:
        assert not fonts.has_glyphs(bitmap, "λ")
    assert fonts.quantity_label("log_stretch") == "log Λ₁"  # model.ts quantityLabel
    assert fonts.quantity_label("lambda") == "λ₁"


def _loads(name: str) -> bool:
    try:
        _load(name)
    except OSError:
        return False
    return True


def _load(name: str):
    return ImageFont.truetype(name, 11)


def test_the_colorbar_writes_the_quantitys_greek_name(tmp_path):
    field = ftle_field(mlp(2, 6, 2, 1, seed=0), Plane.standard(2), (-1, 1, -1, 1), (40, 40))
    image = np.asarray(Image.open(save_png(field, tmp_path / "f.png", quantity="log_stretch")))
    font, greek = fonts.font(11)
    expected = Image.new("RGBA", (70, 16), "white")  # the colorbar's first line
    text = "log Λ₁" if greek else "log Lambda_1"
    ImageDraw.Draw(expected).text((2, 2), text, font=font, anchor="la", fill=(34, 34, 34))
    label = image[:16, 40 : 40 + 70]
    np.testing.assert_array_equal(label, np.asarray(expected))
    assert (label[..., 0] < 128).sum() > 20  # dark pixels: it is written


def test_without_a_greek_font_the_names_are_spelt_in_ascii(monkeypatch, tmp_path):
    monkeypatch.setattr(fonts, "_candidates", lambda: [])
    fonts.font.cache_clear()
    try:
        font, greek = fonts.font(11)
        assert not greek
        assert fonts.ascii_text("log Λ₁") == "log Lambda_1"
        assert fonts.ascii_text("λ₁") == "lambda_1"
        field = ftle_field(mlp(2, 6, 2, 1, seed=0), Plane.standard(2), (-1, 1, -1, 1), (40, 40))
        image = np.asarray(Image.open(save_png(field, tmp_path / "f.png", quantity="lambda")))
        expected = Image.new("RGBA", (70, 16), "white")
        ImageDraw.Draw(expected).text((2, 2), "lambda_1", font=font, anchor="la", fill=(34, 34, 34))
        np.testing.assert_array_equal(image[:16, 40:110], np.asarray(expected))
    finally:
        fonts.font.cache_clear()


def test_the_export_draws_directions_as_the_canvas_decodes_them():
    """The canvas reads each pixel's axis as 16 bits (protocol.pack_direction); the export's
    segments are those of the decoded directions, not of the raw ones (at most 2.4e-5 rad off)."""
    from ftle_widget.widget.picture import direction_segments
    from ftle_widget.widget.protocol import pack_direction, unpack_direction

    gen = np.random.default_rng(2)
    raw = gen.normal(size=(64, 64, 2)).astype(np.float32)
    raw[:8] = 0  # no direction: no segment
    decoded = unpack_direction(pack_direction(raw))
    drawn = direction_segments(raw, (-1, 1, -2, 2), (220, 440))
    assert drawn == direction_segments(decoded, (-1, 1, -2, 2), (220, 440))
    assert len(drawn) == 11 * 22 - 3 * 11  # the cells over rows 0-7 (v0 side: 3 rows) have none
    unit = raw[8:] / np.hypot(raw[8:, :, :1], raw[8:, :, 1:])
    assert not np.array_equal(decoded[8:], unit)  # the decoded axes are not the raw ones
