"""The widget's messages, Python side: parse and validate every message from the browser, encode
every message to it. The twin of ``js/src/protocol.ts``; ``tests/widget/test_protocol.py`` and
``js/test/protocol-fixture.test.ts`` check through shared fixtures that both sides agree.

Browser → Python (JSON, no buffers):

* ``{"kind": "view", "generation", "extent": [u0, u1, v0, v1], "width", "height"}``: what the
  user sees (CSS pixels); ``generation`` grows with each request;
* ``{"kind": "data_request"}``: the data overlay, once on render;
* ``{"kind": "input_request", "id", "u", "v"}``: the input at a plane point (hover pictures);
* ``{"kind": "state_request"}``: the view's state (the toolbar's "Copy view");
* ``{"kind": "fly_request", "which", "u", "v"}``: fly to a ridge (the toolbar's "Fly to
  ridge"): ``which`` is ``"strongest"`` or ``"nearest"``, to the plane point (u, v) (the last
  hovered) or, with ``u`` and ``v`` null, to the view's centre.

Python → browser (JSON + little-endian buffers, float32 unless said otherwise):

* ``tile``: ``{"kind", "z", "i", "j", "generation", "model_version", "tile_px", "extent",
  "vmin", "vmax", "depth", "has_direction", "dtype", "prediction_dtype", "direction_dtype",
  "lower"}`` (``depth``: the divisor of log Λ₁ it was computed with, its layer's) + λ₁
  (float32), the prediction (class indices as ``prediction_dtype``: ``"uint8"``, its largest
  value :data:`NO_CLASS` ``["uint8"]`` = 255 meaning none (NaN), ``"uint16"`` where a class
  index is 255 or more (65535: none), ``"float32"`` beyond 65534), ``tile_px²`` each, row-major,
  row 0 at v0, and, with ``has_direction``, the direction (``direction_dtype``
  ``"angle_uint16"``: ``tile_px²`` axes k·π/65535, k < 65535, of the direction (du, dv); 65535
  where it is zero or not finite; ``None`` without). See :func:`pack_prediction` and
  :func:`pack_direction` for why this draws what float32 drew. Then ``lower`` float32 buffers
  of ``tile_px²`` (:func:`lower_buffers`): 0, none; 1, λ₂, which is λ_min too (J has two
  singular values: a 2-D input); 2, λ₂ then λ_min;
* ``error``: ``{"kind", "message", "generation", "key": [z, i, j]}``: a tile that failed;
* ``data``: ``{"kind", "count", "labels"}`` + uv (``count × 2``) and class indices (``count``);
* ``input``: ``{"kind", "id", "shape", "vmin", "vmax"}`` + ``prod(shape)`` values;
* ``reset``: ``{"kind"}``: the plane changed, every held tile is stale;
* ``state``: ``{"kind", "json"}``: the view's ``state()`` as JSON text, for the clipboard;
* ``ridges``: ``{"kind", "generation", "counts", "heights"}`` + the ridges' points, float64
  (u, v) pairs one ridge after the other (``counts[k]`` points for ridge k, strongest first):
  the ridges of the view of ``generation`` (the ridge overlay, widget/ridge_overlay.py).

A message that does not parse raises :class:`ProtocolError` naming what is wrong.

The ``plane_info`` trait carries :func:`plane_resolution`: what the browser needs to stop zooming
where float64 runs out (no finer than Python's :func:`~ftle_widget.lazy.planning.finest_pixel`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

import numpy as np

from ..lazy.planning import plane_arrays
from ..lazy.pyramid import MAX_VIEW_PIXELS, TileKey, View
from ..lazy.tiles import Tile
from ..maths.fields import check_extent, shown
from ..maths.planes import Plane
from ..maths.ridges import Ridge
from .overlays import DataOverlay

Message = tuple[dict[str, Any], list[bytes]]  # JSON content and binary buffers


class ProtocolError(ValueError):
    """A browser message that is not valid; the text says what is wrong. ``generation``: that of
    a refused view request whose generation was valid (the browser's newest all the same)."""

    generation: int | None = None


@dataclass(frozen=True)
class ViewRequest:
    """``view``: the tiles of ``view`` are wanted, for the browser's ``generation``."""

    view: View
    generation: int


@dataclass(frozen=True)
class DataRequest:
    """``data_request``: the data overlay is wanted."""


@dataclass(frozen=True)
class InputRequest:
    """``input_request``: the input at plane point (u, v) is wanted, as picture ``id``."""

    id: int
    u: float
    v: float


@dataclass(frozen=True)
class StateRequest:
    """``state_request``: the view's state is wanted (the toolbar's "Copy view")."""


@dataclass(frozen=True)
class FlyRequest:
    """``fly_request``: fly to the ``which`` ridge (``"strongest"`` or ``"nearest"``), near
    the plane point ``near`` (None: the view's centre)."""

    which: str
    near: tuple[float, float] | None


Request = ViewRequest | DataRequest | InputRequest | StateRequest | FlyRequest
REQUEST_KINDS = ("view", "data_request", "input_request", "state_request", "fly_request")
FLY_TO = ("strongest", "nearest")
# The generation of tiles pushed unasked (the home view, computed when the view is made; see
# .requests); the browser's requests count from 1. protocol.ts's PUSHED.
PUSHED = 0


def parse(content: object) -> Request:
    """Validate a message from the browser; :class:`ProtocolError` names what is wrong."""
    message = content if isinstance(content, dict) else {}
    kind = message.get("kind")
    if kind == "view":
        return _parse_view(message)
    if kind == "data_request":
        return DataRequest()
    if kind == "input_request":
        return _parse_input_request(message)
    if kind == "state_request":
        return StateRequest()
    if kind == "fly_request":
        return _parse_fly_request(message)
    raise ProtocolError(
        f"unknown message {shown(content)}: the kind must be one of {', '.join(REQUEST_KINDS)}"
    )


def _parse_view(content: dict) -> ViewRequest:
    generation = _whole(content.get("generation"), "generation")
    try:
        return ViewRequest(_parse_view_of(content), generation)
    except ProtocolError as problem:
        problem.generation = generation
        raise


def _parse_view_of(content: dict) -> View:
    width = _pixels(content.get("width"), "width")
    height = _pixels(content.get("height"), "height")
    extent = content.get("extent")
    if not isinstance(extent, list | tuple) or not all(_is_number(e) for e in extent):
        raise ProtocolError(f"extent must be four numbers, not {shown(extent)}")
    try:
        return View(check_extent(extent), round(width), round(height))
    except ValueError as problem:
        raise ProtocolError(str(problem)) from None


def _pixels(value: object, name: str) -> float:
    if not _is_number(value) or not (math.isfinite(value) and 1 <= value <= MAX_VIEW_PIXELS):
        raise ProtocolError(
            f"{name} must be a number of pixels in [1, {MAX_VIEW_PIXELS}], not {shown(value)}"
        )
    return value


def _parse_input_request(content: dict) -> InputRequest:
    ident = _whole(content.get("id"), "id")
    coords = []
    for name in ("u", "v"):
        value = content.get(name)
        if not _is_number(value) or not math.isfinite(value):
            raise ProtocolError(f"{name} must be a finite number, not {shown(value)}")
        coords.append(float(value))
    return InputRequest(ident, coords[0], coords[1])


def _parse_fly_request(content: dict) -> FlyRequest:
    which = content.get("which")
    if which not in FLY_TO:
        raise ProtocolError(f"which must be one of {', '.join(FLY_TO)}, not {shown(which)}")
    u, v = content.get("u"), content.get("v")
    if u is None and v is None:
        return FlyRequest(which, None)
    if not all(_is_number(c) and math.isfinite(c) for c in (u, v)):
        raise ProtocolError(f"u and v must be finite numbers or both null, not {shown([u, v])}")
    return FlyRequest(which, (float(u), float(v)))  # type: ignore[arg-type]


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _whole(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProtocolError(f"{name} must be an int ≥ 0, not {shown(value)}")
    return value


# ---------------------------------------------------------------------- Python → browser
def plane_resolution(plane: Plane) -> dict[str, float]:
    """``plane_info["resolution"]``: max |x| of the plane's origin, u and v, and the shorter of
    |u| and |v|. From them the browser bounds the finest pixel float64 resolves from above:
    16·ε·max(max |coordinate|, (|o|∞ + |u_c|·|u|∞ + |v_c|·|v|∞) / shortest) at a view centred on
    (u_c, v_c) is at least :func:`~ftle_widget.lazy.planning.finest_pixel` (|o + u_c·u + v_c·v|∞
    is at most the sum), so a view the browser allows is one Python computes."""
    origin, u, v, _, shortest = plane_arrays(plane)  # what finest_pixel reads
    return {
        "origin": float(np.abs(origin).max()),
        "u": float(np.abs(u).max()),
        "v": float(np.abs(v).max()),
        "shortest": shortest,
    }


def encode_tile(tile: Tile, generation: int) -> Message:
    """A computed tile, for the browser's ``generation``."""
    z, i, j = tile.key
    prediction_dtype, prediction = pack_prediction(tile.prediction)
    buffers = [_f32(tile.ftle), prediction]
    if tile.direction is not None:
        buffers.append(pack_direction(tile.direction).tobytes())
    lower = lower_buffers(tile)
    buffers += lower
    content = {
        "kind": "tile",
        "z": z,
        "i": i,
        "j": j,
        "generation": generation,
        "model_version": tile.model_version,
        "tile_px": int(tile.ftle.shape[0]),
        "extent": list(tile.extent),
        "vmin": _json_float(tile.vmin),
        "vmax": _json_float(tile.vmax),
        "depth": float(tile.depth),
        "has_direction": tile.direction is not None,
        "dtype": tile.dtype,
        "prediction_dtype": prediction_dtype,
        "direction_dtype": None if tile.direction is None else DIRECTION_DTYPE,
        "lower": len(lower),
    }
    return content, buffers


def lower_buffers(tile: Tile) -> list[bytes]:
    """λ₂ and λ_min of a tile computed with them, as float32 buffers (:meth:`Tile.lower_arrays`:
    one where they are equal everywhere, else both; none without them)."""
    return [_f32(a) for a in tile.lower_arrays()]


# A tile's class indices as the smallest unsigned integers holding them, the largest value of
# the type meaning "none" (a NaN, negative or fractional value): the boundary and the hover read
# the same classes (the browser decodes "none" to NaN, as before). float32 beyond 65534 classes.
NO_CLASS = {"uint8": 255, "uint16": 65535}
_LITTLE = {"uint8": "<u1", "uint16": "<u2"}


def pack_prediction(prediction: np.ndarray) -> tuple[str, bytes]:
    """``(prediction_dtype, bytes)``: the class indices as uint8 (all < 255), uint16 (< 65535)
    or float32, invalid ones (NaN, negative, fractional) as the type's "none"."""
    p = np.asarray(prediction, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(p) & (p >= 0) & (p == np.floor(p))
    top = p[valid].max() if valid.any() else 0.0
    for name, none in NO_CLASS.items():
        if top < none:
            return name, np.where(valid, p, none).astype(_LITTLE[name]).tobytes()
    return "float32", _f32(np.where(valid, p, np.nan))


# Directions as axes: what the canvas draws of (du, dv) is a headless segment along it, so only
# the angle mod π counts (not the length, not the sign). k·π/65535 is within 2.4e-5 rad of it:
# a segment's end moves by < 1e-6 of the view's width (0.004 px at 4096 px), nothing a canvas
# shows. A coarser grid of samples would move which direction a grid cell reads (the cells move
# with the view), so every pixel keeps its own axis: 2 bytes instead of 8.
DIRECTION_DTYPE = "angle_uint16"
ANGLE_STEPS = 65535  # k in [0, 65534]; 65535 = no direction (zero or not finite)
NO_DIRECTION = 65535


def pack_direction(direction: np.ndarray) -> np.ndarray:
    """(…, 2) directions (du, dv) → (…) little-endian uint16 axes (:data:`DIRECTION_DTYPE`)."""
    d = np.asarray(direction, dtype=np.float64)
    du, dv = d[..., 0], d[..., 1]
    drawn = np.isfinite(du) & np.isfinite(dv) & ((du != 0) | (dv != 0))
    with np.errstate(invalid="ignore"):
        angle = np.arctan2(np.where(drawn, dv, 0), np.where(drawn, du, 1)) % np.pi
    k = np.rint(angle * (ANGLE_STEPS / np.pi)).astype(np.int64) % ANGLE_STEPS
    return np.where(drawn, k, NO_DIRECTION).astype("<u2")


def unpack_direction(axes: np.ndarray) -> np.ndarray:
    """uint16 axes → (…, 2) float32 unit directions (cos, sin), NaN where none: what the
    browser decodes (``protocol.ts``), so that the PNG export draws what the canvas draws."""
    k = np.asarray(axes, dtype=np.float64)
    angle = np.where(k == NO_DIRECTION, np.nan, k * (math.pi / ANGLE_STEPS))
    return np.stack([np.cos(angle), np.sin(angle)], axis=-1).astype(np.float32)


def encode_error(key: TileKey, message: str, generation: int) -> Message:
    """A tile that failed: the browser stops waiting for it and shows ``message``."""
    return {"kind": "error", "message": message, "generation": generation, "key": list(key)}, []


def encode_data(points: DataOverlay | None) -> Message:
    """The data overlay (``None``: no data; the browser clears its points)."""
    if points is None:
        return {"kind": "data", "count": 0, "labels": []}, [b"", b""]
    content = {"kind": "data", "count": points.count, "labels": list(points.names)}
    return content, [_f32(points.uv), _f32(points.classes)]


def encode_input(
    request: InputRequest, shape: list[int], values: np.ndarray, vmin: float, vmax: float
) -> Message:
    """The reply to ``request``: the input's ``values`` shown as a picture of ``shape``, with
    [vmin, vmax] mapped onto black..white."""
    content = {
        "kind": "input",
        "id": request.id,
        "shape": list(shape),
        "vmin": vmin,
        "vmax": vmax,
    }
    return content, [_f32(values)]


def encode_state(state: dict) -> Message:
    """The view's :meth:`~ftle_widget.FTLEView.state` as JSON text: the browser copies it."""
    return {"kind": "state", "json": json.dumps(state, allow_nan=False)}, []


def encode_ridges(ridges: Sequence[Ridge], generation: int) -> Message:
    """The ridges of the browser's view ``generation`` (the ridge overlay)."""
    points = [np.asarray(r.points, dtype="<f8").reshape(-1, 2) for r in ridges]
    content = {
        "kind": "ridges",
        "generation": generation,
        "counts": [len(p) for p in points],
        "heights": [_json_float(float(r.height)) for r in ridges],
    }
    joined = np.concatenate(points) if points else np.zeros((0, 2), dtype="<f8")
    return content, [np.ascontiguousarray(joined, dtype="<f8").tobytes()]


def encode_reset() -> Message:
    """The plane changed: every tile the browser holds is stale."""
    return {"kind": "reset"}, []


def _f32(values: np.ndarray) -> bytes:
    return np.ascontiguousarray(values, dtype="<f4").tobytes()


def _json_float(x: float) -> float | None:
    return x if math.isfinite(x) else None
