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
from ftle_widget.maths.ridges import Ridge
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
    state = {"version": 1, "extent": [-1.5, 1.5, -0.5, 0.5], "layer": None, "vmin": -4.0}
    ftle = np.array([[0.5, -1.25], [np.nan, 3.0e38]], dtype=np.float32)
    prediction = np.array([[0, 1], [2, 1]], dtype=np.float32)
    many = np.array([[0, 300], [np.nan, 65534]], dtype=np.float32)  # uint16, one "none"
    direction = np.array([[[1, 1], [0, 0]], [[np.nan, 1], [-0.25, -0.125]]], dtype=np.float32)
    with_direction = Tile(
        (2, -1, 3), (0.75, 1.0, -0.25, 0.0), ftle, prediction, direction, 4, "float64"
    )
    plain = Tile((-3, 0, -2), (-16.0, -8.0, 0.0, 8.0), ftle[::-1].copy(), many, None, 1, "float32")
    nothing = np.full((2, 2), np.nan, dtype=np.float32)  # no finite value: vmin, vmax null
    failed = Tile((0, 1, 1), (1.0, 2.0, 1.0, 2.0), nothing, nothing, None, 0, "float32")
    second = np.array([[0.25, -1.5], [np.nan, 1.0]], dtype=np.float32)  # λ₂ = λ_min: 2-D input
    two = Tile((1, 0, 0), (0.0, 1.0, 0.0, 1.0), ftle, prediction, None, 2, "float32")
    two.lambda_2, two.lambda_min = second, second.copy()
    smallest = np.array([[-0.5, -2.75], [np.nan, -3.0]], dtype=np.float32)
    wide = Tile((1, 1, 0), (0.0, 1.0, 1.0, 2.0), ftle, prediction, direction, 2, "float32")
    wide.lambda_2, wide.lambda_min = second, smallest
    axes = protocol.unpack_direction(protocol.pack_direction(direction))
    points = DataOverlay(
        uv=np.array([[0.25, -0.5], [1.5, 2.0], [-3.0, 0.125]], dtype=np.float32),
        classes=np.array([0, 1, -1], dtype=np.float32),
        names=["inside", "outside"],
    )
    picture = np.linspace(-1, 1, 6).reshape(2, 3)
    hover = protocol.InputRequest(5, 0.25, -0.75)
    lines = [
        np.array([[0.25, -1e-9], [1.0 / 3.0, 2.5], [-1234.5, 7.0]]),
        np.array([[1e-300, -0.5], [0.125, 0.0]]),
    ]
    ridge_lines = [
        Ridge(line, np.zeros(len(line)), height, 0.1, 1.0, None)
        for line, height in zip(lines, (1.5, float("nan")))
    ]
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
                    "direction": _values(axes),
                    "lambda_2": None,
                    "lambda_min": None,
                },
            ),
            _entry(
                "tile with lambda_2 (which is lambda_min)",
                protocol.encode_tile(two, 5),
                {
                    "key": [1, 0, 0],
                    "ftle": _values(ftle),
                    "prediction": _values(prediction),
                    "direction": None,
                    "lambda_2": _values(second),
                    "lambda_min": _values(second),
                },
            ),
            _entry(
                "tile with direction, lambda_2 and lambda_min",
                protocol.encode_tile(wide, 5),
                {
                    "key": [1, 1, 0],
                    "ftle": _values(ftle),
                    "prediction": _values(prediction),
                    "direction": _values(axes),
                    "lambda_2": _values(second),
                    "lambda_min": _values(smallest),
                },
            ),
            _entry(
                "tile without direction",
                protocol.encode_tile(plain, 0),
                {
                    "key": [-3, 0, -2],
                    "ftle": _values(ftle[::-1]),
                    "prediction": _values(many),
                    "direction": None,
                    "lambda_2": None,
                    "lambda_min": None,
                },
            ),
            _entry(
                "tile with no finite value",
                protocol.encode_tile(failed, 3),
                {
                    "key": [0, 1, 1],
                    "ftle": _values(nothing),
                    "prediction": _values(nothing),
                    "direction": None,
                    "lambda_2": None,
                    "lambda_min": None,
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
            _entry(
                "ridges",
                protocol.encode_ridges(ridge_lines, 4),
                {
                    "generation": 4,
                    "lines": [line.reshape(-1).tolist() for line in lines],
                    "heights": [1.5, None],
                },
            ),
            _entry(
                "no ridges",
                protocol.encode_ridges([], 2),
                {"generation": 2, "lines": [], "heights": []},
            ),
            _entry("reset", protocol.encode_reset(), {}),
            _entry("state", protocol.encode_state(state), {"state": state}),
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


def _tile_entry(name: str) -> tuple[dict, list[bytes]]:
    (entry,) = [e for e in python_fixture()["messages"] if e["name"] == name]
    return entry["content"], [base64.b64decode(b) for b in entry["buffers"]]


def test_buffers_are_little_endian_in_the_documented_order_and_dtypes():
    content, (ftle, prediction, direction) = _tile_entry("tile with direction")
    assert content["prediction_dtype"] == "uint8" and content["direction_dtype"] == "angle_uint16"
    ftle = np.frombuffer(ftle, dtype="<f4")
    assert ftle.tolist()[:2] == [0.5, -1.25] and math.isnan(ftle[2])
    assert list(prediction) == [0, 1, 2, 1]  # one byte each
    # (1, 1) at π/4; (0, 0) and a NaN: none; (−0.25, −0.125): its axis, atan(½) mod π
    k = round(math.atan2(-0.125, -0.25) % math.pi * 65535 / math.pi)
    assert np.frombuffer(direction, dtype="<u2").tolist() == [round(65535 / 4), 65535, 65535, k]
    assert content["vmin"] == -1.25 and content["vmax"] == np.float32(3e38)
    content, (_, many) = _tile_entry("tile without direction")
    assert content["prediction_dtype"] == "uint16" and content["direction_dtype"] is None
    assert np.frombuffer(many, dtype="<u2").tolist() == [0, 300, 65535, 65534]
    content, (_, none) = _tile_entry("tile with no finite value")
    assert content["prediction_dtype"] == "uint8" and list(none) == [255] * 4


def _tile(tile_px: int, classes: int, directions: bool) -> Tile:
    gen = np.random.default_rng(0)
    shape = (tile_px, tile_px)
    ftle = gen.normal(size=shape).astype(np.float32)
    prediction = gen.integers(0, classes, size=shape).astype(np.float32)
    direction = gen.normal(size=(*shape, 2)).astype(np.float32) if directions else None
    return Tile((0, 0, 0), (0.0, 1.0, 0.0, 1.0), ftle, prediction, direction, 0, "float32")


@pytest.mark.parametrize(
    ("classes", "directions", "sizes"),
    [
        (10, False, [16384, 4096]),  # was 16384 + 16384 = 32768 bytes
        (10, True, [16384, 4096, 8192]),  # was 32768 + 32768 = 65536 bytes
        (256, False, [16384, 8192]),  # class 255 exists: uint16
        (70000, False, [16384, 16384]),  # beyond 65534 classes: float32
    ],
)
def test_a_64_px_tile_sends_these_bytes(classes, directions, sizes):
    _, buffers = protocol.encode_tile(_tile(64, classes, directions), 1)
    assert [len(b) for b in buffers] == sizes


def test_predictions_keep_every_class_and_none():
    classes = np.array([0, 1, 254, np.nan, -1, 2.5, np.inf], dtype=np.float32)
    name, data = protocol.pack_prediction(classes)
    assert name == "uint8" and list(data) == [0, 1, 254, 255, 255, 255, 255]
    name, data = protocol.pack_prediction(np.array([255.0, np.nan]))
    assert name == "uint16" and np.frombuffer(data, "<u2").tolist() == [255, 65535]
    name, data = protocol.pack_prediction(np.array([65535.0, np.nan]))
    assert name == "float32" and np.frombuffer(data, "<f4")[0] == 65535
    assert math.isnan(np.frombuffer(data, "<f4")[1])


def test_direction_axes_are_within_half_a_step_of_the_direction():
    gen = np.random.default_rng(1)
    direction = gen.normal(size=(4096, 2)) * np.exp(gen.uniform(-30, 30, size=(4096, 1)))
    axes = protocol.unpack_direction(protocol.pack_direction(direction)).astype(np.float64)
    assert np.allclose(np.hypot(axes[:, 0], axes[:, 1]), 1, atol=1e-7)
    # the angle between the two lines (headless: mod π)
    unit = direction / np.hypot(direction[:, 0], direction[:, 1])[:, None]
    sine = np.abs(axes[:, 0] * unit[:, 1] - axes[:, 1] * unit[:, 0])
    assert sine.max() <= math.pi / 65535 / 2 + 1e-7 and sine.max() > 1e-6
    special = np.array([[0, 0], [np.nan, 1], [1, np.inf], [-1, 0], [0, -2e-30]])
    axes = protocol.unpack_direction(protocol.pack_direction(special))
    assert np.isnan(axes[:3]).all()
    assert axes[3].tolist() == [1, 0]  # the axis of (−1, 0) is that of (1, 0)
    assert 0 < -axes[4, 0] < 2.4e-5 and axes[4, 1] == 1  # a tiny (0, −ε): the axis k = 32768


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
        elif content["kind"] == "state_request":
            assert request == protocol.StateRequest()
        elif content["kind"] == "fly_request":
            near = None if meant["u"] is None else (meant["u"], meant["v"])
            assert request == protocol.FlyRequest(meant["which"], near)
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


def test_lower_exponents_follow_the_other_buffers_one_where_lambda_min_is_lambda_2():
    content, buffers = _tile_entry("tile with lambda_2 (which is lambda_min)")
    assert content["lower"] == 1 and len(buffers) == 3
    assert np.frombuffer(buffers[2], "<f4").tolist()[:2] == [0.25, -1.5]
    content, buffers = _tile_entry("tile with direction, lambda_2 and lambda_min")
    assert content["lower"] == 2 and len(buffers) == 5
    assert np.frombuffer(buffers[4], "<f4").tolist()[:2] == [-0.5, -2.75]
    content, buffers = _tile_entry("tile without direction")
    assert content["lower"] == 0 and len(buffers) == 2


@pytest.mark.parametrize(
    ("lower", "sizes"),
    [
        (None, [16384, 4096]),  # λ₁ and the classes: 20480 bytes
        ("same", [16384, 4096, 16384]),  # + λ₂ (= λ_min, a 2-D input): 36864 bytes
        ("both", [16384, 4096, 16384, 16384]),  # + λ₂ and λ_min: 53248 bytes
    ],
)
def test_a_64_px_tile_with_lower_exponents_sends_these_bytes(lower, sizes):
    tile = _tile(64, 10, False)
    if lower is not None:
        tile.lambda_2 = tile.ftle - 1
        tile.lambda_min = tile.lambda_2 if lower == "same" else tile.ftle - 2
    _, buffers = protocol.encode_tile(tile, 1)
    assert [len(b) for b in buffers] == sizes
