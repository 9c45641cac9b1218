"""The widget protocol, Python side, and the fixtures that tie it to the TypeScript side.

``js/test/fixtures/protocol-python.json`` holds every message Python sends, encoded by
:mod:`ftle_widget.widget.protocol` (content, buffers as base64, and the values the browser must
decode); ``js/test/protocol-fixture.test.ts`` decodes each with ``protocol.ts``.
``js/test/fixtures/protocol-js.json`` holds every message the browser sends, built by
``protocol.ts``; here each is parsed and compared. Each side also checks that its own fixture
is what its code writes today, so neither can go stale. Regenerate this side's with
``FTLE_WIDGET_UPDATE_FIXTURES=1 python -m pytest tests/test_protocol.py``.
"""

from __future__ import annotations

import base64
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from ftle_widget.lazy.planning import finest_pixel
from ftle_widget.lazy.pyramid import MAX_VIEW_PIXELS, View
from ftle_widget.lazy.tiles import Tile
from ftle_widget.maths.planes import Plane
from ftle_widget.widget import protocol
from ftle_widget.widget.overlays import DataOverlay

FIXTURES = Path(__file__).resolve().parents[2] / "js" / "test" / "fixtures"
PYTHON_FIXTURE = FIXTURES / "protocol-python.json"
JS_FIXTURE = FIXTURES / "protocol-js.json"


def _values(array: np.ndarray) -> list:
    """Float32 values as JSON (NaN as null)."""
    flat = np.asarray(array, dtype=np.float32).reshape(-1).tolist()
    return [None if math.isnan(x) else x for x in flat]


def _entry(name: str, message: protocol.Message, decoded: dict) -> dict:
    content, buffers = message
    return {
        "name": name,
        "content": content,
        "buffers": [base64.b64encode(b).decode() for b in buffers],
        "decoded": decoded,
    }


def python_fixture() -> dict:
    """Every kind of message Python sends, with what the browser must decode from it."""
    ftle = np.array([[0.5, -1.25], [np.nan, 3.0e38]], dtype=np.float32)
    prediction = np.array([[0, 1], [2, 1]], dtype=np.float32)
    direction = np.arange(8, dtype=np.float32).reshape(2, 2, 2) / 8 - 0.5
    with_direction = Tile(
        (2, -1, 3), (0.75, 1.0, -0.25, 0.0), ftle, prediction, direction, 4, "float64"
    )
    plain = Tile(
        (-3, 0, -2), (-16.0, -8.0, 0.0, 8.0), ftle[::-1].copy(), prediction, None, 1, "float32"
    )
    nothing = np.full((2, 2), np.nan, dtype=np.float32)  # no finite value: vmin, vmax null
    failed = Tile((0, 1, 1), (1.0, 2.0, 1.0, 2.0), nothing, prediction, None, 0, "float32")
    points = DataOverlay(
        uv=np.array([[0.25, -0.5], [1.5, 2.0], [-3.0, 0.125]], dtype=np.float32),
        classes=np.array([0, 1, -1], dtype=np.float32),
        names=["inside", "outside"],
    )
    picture = np.linspace(-1, 1, 6).reshape(2, 3)
    hover = protocol.InputRequest(5, 0.25, -0.75)
    return {
        "limits": {"max_view_pixels": MAX_VIEW_PIXELS, "float64": _float64_cases()},
        "messages": [
            _entry(
                "tile with direction",
                protocol.encode_tile(with_direction, 7),
                {
                    "key": [2, -1, 3],
                    "ftle": _values(ftle),
                    "prediction": _values(prediction),
                    "direction": _values(direction),
                },
            ),
            _entry(
                "tile without direction",
                protocol.encode_tile(plain, 0),
                {
                    "key": [-3, 0, -2],
                    "ftle": _values(ftle[::-1]),
                    "prediction": _values(prediction),
                    "direction": None,
                },
            ),
            _entry(
                "tile with no finite value",
                protocol.encode_tile(failed, 3),
                {
                    "key": [0, 1, 1],
                    "ftle": _values(nothing),
                    "prediction": _values(prediction),
                    "direction": None,
                },
            ),
            _entry(
                "data",
                protocol.encode_data(points),
                {
                    "count": 3,
                    "labels": ["inside", "outside"],
                    "uv": _values(points.uv),
                    "cls": _values(points.classes),
                },
            ),
            _entry(
                "no data",
                protocol.encode_data(None),
                {"count": 0, "labels": [], "uv": [], "cls": []},
            ),
            _entry(
                "input",
                protocol.encode_input(hover, [2, 3], picture, -1.0, 1.0),
                {"shape": [1, 2, 3], "values": _values(picture)},
            ),
            _entry("reset", protocol.encode_reset(), {}),
            _entry(
                "error",
                protocol.encode_error((1, 2, -3), "tile (1, 2, -3): boom", 9),
                {"key": [1, 2, -3], "generation": 9},
            ),
        ],
    }


def _float64_cases() -> list[dict]:
    """Planes' ``plane_info["resolution"]`` and views with Python's finest pixel there: the
    browser's bound (gestures.ts) must be at least as coarse."""
    gen = torch.Generator().manual_seed(3)
    planes = [
        Plane.standard(2),
        Plane([3.0, -4.0], [0.0, 2.0], [-0.5, 0.0]),
        Plane(*(torch.randn(1, 5, 5, generator=gen, dtype=torch.float64) for _ in "ouv")),
        Plane(*(1e4 * torch.randn(3, generator=gen, dtype=torch.float64) for _ in "ouv")),
    ]
    extents = [
        (0.25, 0.25 + 4e-14, 0.5, 0.5 + 4e-14),
        (-1.5, 1.5, -1.5, 1.5),
        (1e-9, 1e-9 + 1e-15, -1e-9, -1e-9 + 1e-15),
        (-123.0, -122.0, 7.0, 8.0),
    ]
    return [
        {
            "resolution": protocol.plane_resolution(plane),
            "extent": list(extent),
            "finest_pixel": finest_pixel(plane, extent),
        }
        for plane in planes
        for extent in extents
    ]


def _text(fixture: dict) -> str:
    # strict JSON: the browser's JSON.parse (and Jupyter's) knows no NaN or Infinity
    return json.dumps(fixture, indent=1, sort_keys=True, allow_nan=False) + "\n"


def test_python_fixture_is_what_the_protocol_module_writes():
    text = _text(python_fixture())
    if os.environ.get("FTLE_WIDGET_UPDATE_FIXTURES"):
        PYTHON_FIXTURE.write_text(text)
    assert PYTHON_FIXTURE.read_text() == text, (
        "regenerate: FTLE_WIDGET_UPDATE_FIXTURES=1 python -m pytest tests/test_protocol.py"
    )


def test_every_kind_python_sends_is_in_the_fixture():
    kinds = {entry["content"]["kind"] for entry in python_fixture()["messages"]}
    encoders = {name for name in dir(protocol) if name.startswith("encode_")}
    assert kinds == {name.removeprefix("encode_") for name in encoders}


def test_a_tile_with_no_finite_value_sends_null_limits():
    (entry,) = [e for e in python_fixture()["messages"] if e["name"] == "tile with no finite value"]
    assert entry["content"]["vmin"] is None and entry["content"]["vmax"] is None


def test_buffers_are_little_endian_float32_in_the_documented_order():
    (entry,) = [e for e in python_fixture()["messages"] if e["name"] == "tile with direction"]
    ftle, prediction, direction = (
        np.frombuffer(base64.b64decode(b), dtype="<f4") for b in entry["buffers"]
    )
    assert ftle.tolist()[:2] == [0.5, -1.25] and math.isnan(ftle[2])
    assert prediction.tolist() == [0, 1, 2, 1]
    assert direction.tolist() == (np.arange(8) / 8 - 0.5).tolist()
    assert entry["content"]["vmin"] == -1.25 and entry["content"]["vmax"] == np.float32(3e38)


def test_every_message_the_browser_builds_parses_to_what_it_meant():
    fixture = json.loads(JS_FIXTURE.read_text())
    kinds = set()
    for entry in fixture["messages"]:
        content, meant = entry["content"], entry["meant"]
        kinds.add(content["kind"])
        request = protocol.parse(content)
        if content["kind"] == "view":
            assert request == protocol.ViewRequest(
                View(tuple(meant["extent"]), meant["width"], meant["height"]), meant["generation"]
            )
        elif content["kind"] == "input_request":
            assert request == protocol.InputRequest(meant["id"], meant["u"], meant["v"])
        else:
            assert request == protocol.DataRequest()
    assert kinds == set(protocol.REQUEST_KINDS)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"kind": "nonsense"}, "unknown message"),
        ("view", "unknown message"),
        (
            {"kind": "view", "generation": -1, "extent": [0, 1, 0, 1], "width": 9, "height": 9},
            "generation must be an int",
        ),
        (
            {"kind": "view", "generation": True, "extent": [0, 1, 0, 1], "width": 9, "height": 9},
            "generation must be an int",
        ),
        ({"kind": "view", "generation": 1, "extent": [0, 1, 0], "width": 9, "height": 9}, "extent"),
        (
            {"kind": "view", "generation": 1, "extent": [0, 1, 0, "1"], "width": 9, "height": 9},
            "extent must be four numbers",
        ),
        (
            {"kind": "view", "generation": 1, "extent": [1, 0, 0, 1], "width": 9, "height": 9},
            "extent",
        ),
        (
            {"kind": "view", "generation": 1, "extent": [0, 1, 0, 1], "width": 0, "height": 9},
            "width must be a number of pixels",
        ),
        (
            {
                "kind": "view",
                "generation": 1,
                "extent": [0, 1, 0, 1],
                "width": 9,
                "height": MAX_VIEW_PIXELS + 1,
            },
            "height must be a number of pixels",
        ),
        (
            {
                "kind": "view",
                "generation": 1,
                "extent": [0, 10**309, 0, 1],
                "width": 9,
                "height": 9,
            },
            "extent must be four numbers",
        ),
        (
            {
                "kind": "view",
                "generation": 1,
                "extent": [1e13, 2e13, 0, 1],
                "width": 9,
                "height": 9,
            },
            "beyond",
        ),
        ({"kind": "input_request", "id": 1.5, "u": 0, "v": 0}, "id must be an int"),
        ({"kind": "input_request", "id": 1, "u": math.inf, "v": 0}, "u must be a finite number"),
        ({"kind": "input_request", "id": 1, "u": 0}, "v must be a finite number"),
    ],
)
def test_bad_browser_messages_are_refused_with_a_reason(message, reason):
    with pytest.raises(protocol.ProtocolError, match=reason):
        protocol.parse(message)


def test_refusals_echo_at_most_a_short_piece_of_the_bad_value():
    huge = {"kind": "view", "generation": 1, "extent": [0.5] * 10**6, "width": 9, "height": 9}
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.parse(huge)
    assert len(str(refused.value)) < 200 and "chars)" in str(refused.value)
