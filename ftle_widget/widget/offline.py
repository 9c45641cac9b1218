"""A view as one self-contained HTML file (:meth:`~ftle_widget.FTLEView.to_html`): the front end
inlined, the view's traits, and the tiles of the view's level and ``levels`` finer and coarser
ones, answered by an offline model in the page (``js/src/offline.ts``) as the kernel answers
view requests; nothing loads from the network.

Which tiles (:func:`stored_keys`), for a view at level z of the pyramid:

* level z: the view and one ring of tiles around it (short pans);
* coarser level z − k (k = 1 … levels): the view grown 2ᵏ times about its centre (what zooming
  out k levels shows), so each costs about as many tiles as the view;
* finer level z + k: the visible extent at z + 1 (a zoom by one level anywhere in the view),
  its central half at z + 2, its central quarter at z + 3 (the central 2¹⁻ᵏ): each about four
  times the view's tiles, not 4ᵏ.

Tiles (:func:`pack`): λ₁ as float16 (relative error ≤ 2⁻¹¹ ≈ 4.9e-4 for |λ₁| ≥ 6.1e-5, absolute
≤ 3e-8 below: :data:`F16_RELATIVE_ERROR`), its two bytes split into planes (high bytes then low
bytes) so that deflate finds the runs; predictions as one byte per pixel (255: NaN) where they
are whole numbers in [0, 254], else float32; directions as float16 planes; where the view's
quantity needs them (gap, anisotropy, λ_min), λ₂ and λ_min as float16 planes too (one where
they are equal, as the protocol sends them), so the page shows every quantity; all of it one
zlib (``DecompressionStream("deflate")``) stream, base64 in the page.
"""

from __future__ import annotations

import base64
import json
import pathlib
import zlib
from typing import Any

import numpy as np

from ..lazy.compute import compute_tile
from ..lazy.planning import deep_zoom_dtype, finest_pixel
from ..lazy.pyramid import Pyramid, TileKey, View
from ..lazy.tiles import Tile
from ..maths.modules import model_float_dtype
from ..maths.quantities import needs_lower
from .bundle import bundle_text
from .requests import pushed_view

F16_RELATIVE_ERROR = 2.0**-11  # float16's rounding of normal numbers
NO_CLASS = 255  # a NaN prediction, as a byte
COLORBAR_PX = 70  # the colorbar beside the field (js/src/layout.ts)
# Traits the page does not take: the bundle itself, the last picture, the state of a kernel.
_DROPPED = ("_esm", "snapshot", "progress", "status", "error", "following")


def scaled(extent, factor: float) -> tuple[float, float, float, float]:
    """``extent`` scaled by ``factor`` about its centre."""
    u0, u1, v0, v1 = extent
    cu, cv, hu, hv = 0.5 * (u0 + u1), 0.5 * (v0 + v1), 0.5 * (u1 - u0), 0.5 * (v1 - v0)
    return (cu - factor * hu, cu + factor * hu, cv - factor * hv, cv + factor * hv)


def stored_keys(pyramid: Pyramid, view: View, levels: int, finest: float = 0.0) -> list[TileKey]:
    """The tiles an export of ``view`` holds (see the module's docstring), finer levels whose
    pixels are below ``finest`` plane units (beyond float64, :func:`finest_pixel`) left out."""
    z = pyramid.level_for(view)
    keys = pyramid.covering(view.extent, z, margin=1)
    for k in range(1, levels + 1):
        keys += pyramid.covering(scaled(view.extent, 2.0**k), z - k)
        if pyramid.side(z + k) / pyramid.tile_px >= finest:
            keys += pyramid.covering(scaled(view.extent, 2.0 ** (1 - k)), z + k)
    return list(dict.fromkeys(keys))


def export_view(widget) -> View:
    """The view the browser shows (its last request), else the extent trait on a notebook
    cell's width."""
    if widget._last_view:
        return widget._last_view[0]
    return pushed_view(widget.extent, int(widget.height))


def compute_tiles(widget, pyramid: Pyramid, keys: list[TileKey], view: View) -> list[Tile]:
    """The tiles of ``keys`` with the view's engine: those the scheduler holds reused."""
    scheduler = widget.scheduler
    version = scheduler.versions.current()
    engine = scheduler.engine(version)
    directions, lower = bool(widget.show_directions), needs_lower(widget.quantity)
    model_dtype = model_float_dtype(scheduler.versions.model)
    same_pyramid = scheduler.pyramid == pyramid
    tiles = []
    for key in keys:
        pixel = pyramid.side(key[0]) / pyramid.tile_px
        dtype = deep_zoom_dtype(widget.plane, pixel, view.centre, model_dtype)
        tile = None
        if same_pyramid:
            cache_key = scheduler._cache_key(version, key, dtype, directions, pyramid.tile_px)
            tile = scheduler.cache.get(cache_key, lower)
        if tile is None:
            extent, px = pyramid.extent(key), pyramid.tile_px
            tile = compute_tile(
                engine, widget.plane, key, extent, px, dtype, directions, version, px * px, lower
            )
        assert tile is not None  # never stopped
        tiles.append(tile)
    return tiles


def _planes16(values: np.ndarray) -> bytes:
    """float16 of ``values``, high bytes then low bytes."""
    raw = np.ascontiguousarray(values, dtype="<f2").view(np.uint8).reshape(-1, 2)
    return raw[:, 1].tobytes() + raw[:, 0].tobytes()


def _classes(prediction: np.ndarray) -> tuple[bytes, int]:
    """The predictions as bytes, and bytes per value (1: whole numbers, 255 NaN; 4: float32)."""
    p = np.asarray(prediction, dtype=np.float32).reshape(-1)
    finite = p[np.isfinite(p)]
    if np.all(finite == np.round(finite)) and np.all((finite >= 0) & (finite < NO_CLASS)):
        small = np.where(np.isfinite(p), p, NO_CLASS).astype(np.uint8)
        return small.tobytes(), 1
    return np.ascontiguousarray(p, dtype="<f4").tobytes(), 4


def pack(tiles: list[Tile]) -> tuple[list[list], bytes]:
    """Each tile's entry ``[z, i, j, prediction bytes per value, dtype, has direction, lower]``
    and the deflated stream of their arrays, in order: λ₁ (float16 planes), predictions,
    directions, then ``lower`` arrays (0, 1: λ₂ = λ_min, 2: λ₂ and λ_min, float16 planes)."""
    entries, chunks = [], []
    for tile in tiles:
        classes, width = _classes(tile.prediction)
        chunks += [_planes16(tile.ftle), classes]
        if tile.direction is not None:
            chunks.append(_planes16(tile.direction))
        lower = tile.lower_arrays()
        chunks += [_planes16(a) for a in lower]
        entries.append([*tile.key, width, tile.dtype, tile.direction is not None, len(lower)])
    return entries, zlib.compress(b"".join(chunks), 9)


def unpack(entries: list[list], packed: bytes, tile_px: int) -> list[dict[str, np.ndarray]]:
    """The arrays :func:`pack` stored (float32 λ₁ and predictions as the page decodes them)."""
    raw, at, n, out = zlib.decompress(packed), 0, tile_px * tile_px, []

    def take(count: int) -> bytes:
        nonlocal at
        at += count
        return raw[at - count : at]

    def halves(count: int) -> np.ndarray:
        high, low = np.frombuffer(take(count), np.uint8), np.frombuffer(take(count), np.uint8)
        return (low.astype("<u2") | (high.astype("<u2") << 8)).view("<f2").astype(np.float32)

    for _z, _i, _j, width, _dtype, has_direction, lower in entries:
        ftle = halves(n).reshape(tile_px, tile_px)
        if width == 1:
            small = np.frombuffer(take(n), np.uint8).astype(np.float32)
            prediction = np.where(small == NO_CLASS, np.nan, small).astype(np.float32)
        else:
            prediction = np.frombuffer(take(4 * n), "<f4").copy()
        arrays: dict[str, np.ndarray] = {
            "ftle": ftle,
            "prediction": prediction.reshape(tile_px, tile_px),
        }
        if has_direction:
            arrays["direction"] = halves(2 * n).reshape(tile_px, tile_px, 2)
        if lower:
            arrays["lambda_2"] = halves(n).reshape(tile_px, tile_px)
            arrays["lambda_min"] = (
                halves(n).reshape(tile_px, tile_px) if lower > 1 else arrays["lambda_2"]
            )
        out.append(arrays)
    return out


def page_state(widget, view: View) -> dict[str, Any]:
    """The synced traits the page's model holds."""
    state = {k: v for k, v in widget.get_state().items() if k not in _DROPPED}
    state.update(extent=list(view.extent), status="", error="", progress=[0, 0, ""])
    state["snapshot"] = ""
    info = dict(state.get("plane_info") or {})
    info["image_shape"] = None  # the hover pictures need the kernel
    state["plane_info"] = info
    return {k: v for k, v in state.items() if _json_ready(v)}


def _json_ready(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _script(kind: str, ident: str, text: str) -> str:
    escaped = text.replace("</", "<\\/")  # the script's text never ends it
    return f'<script type="{kind}" id="{ident}">{escaped}</script>\n'


def _bundle(name: str) -> str:
    return base64.b64encode(bundle_text(name).encode("utf-8")).decode()


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>FTLE field (offline)</title></head>
<body style="margin:8px;font-family:sans-serif">
<div id="ftle-offline" style="width:%(width)dpx"></div>
%(scripts)s<script type="module">
const text = (id) => document.getElementById(id).textContent;
const bytes = (id) => {
  const s = atob(text(id));
  const out = new Uint8Array(s.length);
  for (let k = 0; k < s.length; k++) out[k] = s.charCodeAt(k);
  return out;
};
const load = (id) =>
  import(URL.createObjectURL(new Blob([bytes(id)], { type: "text/javascript" })));
const [widget, offline] = await Promise.all([load("ftle-widget"), load("ftle-offline-js")]);
window.ftleOffline = await offline.open(widget.default, document.getElementById("ftle-offline"),
  JSON.parse(text("ftle-state")), JSON.parse(text("ftle-manifest")), bytes("ftle-tiles"));
</script></body></html>
"""


def save_html(widget, path: str | pathlib.Path, levels: int = 3) -> pathlib.Path:
    """Write the view as one HTML file (see the module's docstring); returns the path."""
    if isinstance(levels, bool) or not isinstance(levels, int) or not 0 <= levels <= 6:
        raise ValueError(f"levels must be an int in [0, 6], not {levels!r}")
    view = export_view(widget)
    scheduler = widget.scheduler
    pyramid = scheduler.pyramid or Pyramid(view.extent[1] - view.extent[0], scheduler.tile_px)
    keys = stored_keys(pyramid, view, levels, finest_pixel(widget.plane, view.extent))
    tiles = compute_tiles(widget, pyramid, keys, view)
    entries, packed = pack(tiles)
    z = pyramid.level_for(view)
    overlay = widget._data_overlay()
    data = None
    if overlay is not None:
        uv, classes = overlay.uv.astype(float).tolist(), overlay.classes.astype(float).tolist()
        data = {"count": overlay.count, "labels": list(overlay.names), "uv": uv, "cls": classes}
    manifest = {
        "base_side": pyramid.base_side,
        "tile_px": pyramid.tile_px,
        "level": z,
        "levels": [min(e[0] for e in entries), max(e[0] for e in entries)],
        "model_version": scheduler.versions.current(),
        "tiles": entries,
        "data": data,
    }
    scripts = (
        _script("application/json", "ftle-state", json.dumps(page_state(widget, view)))
        + _script("application/json", "ftle-manifest", json.dumps(manifest))
        + _script("text/plain", "ftle-tiles", base64.b64encode(packed).decode())
        + _script("text/plain", "ftle-widget", _bundle("widget.js"))
        + _script("text/plain", "ftle-offline-js", _bundle("offline.js"))
    )
    path = pathlib.Path(path)
    path.write_text(PAGE % {"width": view.width + COLORBAR_PX, "scripts": scripts}, "utf-8")
    return path
