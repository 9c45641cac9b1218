"""FTLEView: the Jupyter widget. Traits and the message protocol only; no mathematics here.

Small durable state lives in synced traits. Tiles travel as custom messages with binary buffers
(``{"kind": "tile", ...}`` + float32 λ₁, prediction and, when asked, direction), never through
traits. The browser asks for views with ``{"kind": "view", "generation", "extent", "width",
"height"}``, for the data overlay with ``{"kind": "data_request"}`` (answered by ``{"kind":
"data", "count", "labels"}`` + float32 uv pairs and class indices) and, for image inputs, for the
input under the cursor with ``{"kind": "input_request", "id", "u", "v"}`` (answered by ``{"kind":
"input", "id", "u", "v", "shape", "vmin", "vmax"}`` + its float32 values). Every message is
validated before anything is computed.
"""

from __future__ import annotations

import math
import pathlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence

import anywidget
import numpy as np
import torch
import traitlets
from torch import nn

from . import export
from .fields import Field, check_extent, compute_field
from .overlays import data_overlay, image_shape
from .planes import Plane
from .probes import known_input_shape
from .scheduler import TileScheduler
from .tiles import Tile, View

_STATIC = pathlib.Path(__file__).with_name("static")
MAX_VIEW_PIXELS = 4096  # per side, from the browser
QUANTITIES = ("lambda", "log_stretch")
RANDOM_PLANE_SEED = 0


def default_plane(
    input_shape: tuple[int, ...], data: torch.Tensor | None = None, labels=None
) -> Plane:
    """The plane a view starts on.

    2-D inputs: the input plane. With ``data``: the plane through three data points of different
    classes (the first ones found; any three points without labels). Otherwise a random plane
    through the origin (orthonormal directions from ``torch.Generator().manual_seed(0)``).
    """
    if math.prod(input_shape) == 2:
        return Plane.standard(input_shape)
    if data is not None and len(data) >= 3:
        points = torch.as_tensor(np.asarray(data), dtype=torch.float64)
        picks: list[int] = []
        if labels is not None:
            seen: set = set()
            for k, label in enumerate(np.asarray(labels).tolist()):
                if label not in seen:
                    seen.add(label)
                    picks.append(k)
                if len(picks) == 3:
                    break
        for k in range(len(points)):  # fill up with any other points
            if len(picks) == 3:
                break
            if k not in picks:
                picks.append(k)
        try:
            return Plane.through(*(points[k] for k in picks))
        except ValueError:
            pass  # collinear picks: fall back to a random plane
    gen = torch.Generator().manual_seed(RANDOM_PLANE_SEED)
    size = math.prod(input_shape)
    basis, _ = torch.linalg.qr(torch.randn((size, 2), generator=gen, dtype=torch.float64))
    return Plane(
        torch.zeros(input_shape, dtype=torch.float64),
        basis[:, 0].reshape(input_shape),
        basis[:, 1].reshape(input_shape),
    )


def _input_shape(model: nn.Module, data) -> tuple[int, ...]:
    if data is not None:
        return tuple(np.asarray(data).shape[1:])
    return known_input_shape(model, "pass a plane (ftle_widget.Plane) or data")


class FTLEView(anywidget.AnyWidget):
    """A live view of the FTLE field of ``model`` over a plane of its input space.

    Parameters
    ----------
    model : the network (never modified).
    plane : a :class:`~ftle_widget.Plane`; default: see :func:`default_plane`.
    extent : (u0, u1, v0, v1); default: the data's extent on the plane with a 10 % margin, else
        [−1.5, 1.5]².
    layer, depth : the endpoint and divisor, as in :func:`ftle_widget.maximal_ftle`.
    data, labels : points (N, *input_shape) and their classes: the default plane goes through
        points of three classes, the data overlay colours them, and the hover names the
        predicted class index k by the k-th of the sorted labels (one output: 0 is output ≤ 0).
    device : compute on a copy of the model on this device.
    cmap, vmin, vmax : colormap (see :func:`ftle_widget.export.colormap_names`) and limits
        (``None``: symmetric about 0 over what is shown).
    quantity : ``"lambda"`` (λ₁) or ``"log_stretch"`` (depth·λ₁ = log Λ₁, the paper's Fig. 2).
    show_boundary, show_data, show_directions : the overlays: decision boundary, data points
        near the plane (coloured by label), stretching directions on a coarse grid.
    data_near : draw the data points within this distance of the plane (default: all points for
        2-D inputs, else the nearest 500).
    image_shape : how hover pictures show an input, e.g. ``(28, 28)``; default: guessed from the
        input shape (:func:`ftle_widget.overlays.image_shape`); ``False``: no pictures.
    history : a :class:`~ftle_widget.History`: the ``epoch`` trait then picks the weights shown
        (a copy is evaluated; the model is never touched) and :meth:`follow` tracks training.
    """

    _esm = _STATIC / "widget.js"

    extent = traitlets.List(traitlets.Float(), minlen=4, maxlen=4).tag(sync=True)
    home = traitlets.List(traitlets.Float(), minlen=4, maxlen=4).tag(sync=True)
    plane_info = traitlets.Dict().tag(sync=True)
    layer = traitlets.Unicode("").tag(sync=True)
    depth = traitlets.Float(1.0).tag(sync=True)
    cmap = traitlets.Unicode("RdBu_r").tag(sync=True)
    vmin = traitlets.Float(None, allow_none=True).tag(sync=True)
    vmax = traitlets.Float(None, allow_none=True).tag(sync=True)
    quantity = traitlets.Unicode("lambda").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    progress = traitlets.List(traitlets.Int(), default_value=[0, 0]).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    tile_px = traitlets.Int(64).tag(sync=True)
    show_boundary = traitlets.Bool(True).tag(sync=True)
    show_data = traitlets.Bool(True).tag(sync=True)
    show_directions = traitlets.Bool(False).tag(sync=True)
    epoch = traitlets.Int(None, allow_none=True).tag(sync=True)
    following = traitlets.Bool(False).tag(sync=True)

    def __init__(
        self,
        model: nn.Module,
        plane: Plane | None = None,
        *,
        extent: Sequence[float] | None = None,
        layer: int | str | None = None,
        depth: float | None = None,
        data=None,
        labels=None,
        device: str | torch.device | None = None,
        cmap: str = "RdBu_r",
        vmin: float | None = None,
        vmax: float | None = None,
        quantity: str = "lambda",
        show_boundary: bool = True,
        show_data: bool = True,
        show_directions: bool = False,
        data_near: float | None = None,
        image_shape: Sequence[int] | bool | None = None,
        history=None,
        **kwargs,
    ):
        if quantity not in QUANTITIES:
            raise ValueError(f"quantity must be one of {QUANTITIES}, not {quantity!r}")
        export.lut(cmap)  # a clear error for an unknown colormap
        if data is not None:
            data = np.asarray(
                data.detach().cpu() if isinstance(data, torch.Tensor) else data, dtype=np.float64
            )
        if labels is not None:
            labels = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels)
        if plane is None:
            plane = default_plane(_input_shape(model, data), data, labels)
        if extent is None:
            extent = _default_extent(plane, data)
        extent = check_extent(extent)
        super().__init__(
            cmap=cmap,
            vmin=vmin,
            vmax=vmax,
            quantity=quantity,
            extent=list(extent),
            home=list(extent),
            show_boundary=show_boundary,
            show_data=show_data,
            show_directions=show_directions,
            **kwargs,
        )
        self._model, self._layer, self._depth, self._device = model, layer, depth, device
        self._data, self._labels, self._data_near = data, labels, data_near
        self._image_shape = image_shape
        self._data_range = None if data is None else (float(data.min()), float(data.max()))
        self._lock = threading.Lock()
        self._generations: dict[int, int] = {}  # scheduler generation → browser generation
        self._next = 0
        self._last_view: tuple[View, int] | None = None
        self._scheduler: TileScheduler | None = None
        self._set_scheduler(plane)
        self.on_msg(self._on_message)
        self.observe(self._on_directions, names="show_directions")
        self._history = history
        self._unfollow: Callable[[], None] | None = None
        self._follow_timer: threading.Timer | None = None
        self._last_follow = -math.inf
        self.observe(self._on_epoch, names="epoch")
        if history is not None and history.latest is not None:
            self.epoch = history.latest

    @classmethod
    def demo(cls, **kwargs) -> FTLEView:
        """The embedded default model (the paper's 2 → 10×8 → 1 tanh net trained on the circle
        problem) over its input plane, shown as log Λ₁ on RdBu_r in [−4, 4] as in the paper's
        Fig. 2, with the test points. Keyword arguments override any of these settings."""
        from .datasets import circle
        from .models import default_model

        data = circle()
        settings = {
            "data": data.x_test,
            "labels": data.y_test,
            "quantity": "log_stretch",
            "vmin": -4.0,
            "vmax": 4.0,
            "extent": (-1.5, 1.5, -1.5, 1.5),
        }
        settings.update(kwargs)
        return cls(default_model(), **settings)

    # ------------------------------------------------------------------ public
    @property
    def plane(self) -> Plane:
        return self._scheduler.plane

    @property
    def scheduler(self) -> TileScheduler:
        return self._scheduler

    def zoom_to(self, extent: Sequence[float]) -> None:
        """Show ``extent`` = (u0, u1, v0, v1); the browser then asks for its tiles."""
        self.extent = list(check_extent(extent))

    def reset(self) -> None:
        """Back to the initial extent."""
        self.extent = list(self.home)

    def set_plane(self, plane: Plane, extent: Sequence[float] | None = None) -> None:
        """Show another plane (same model); the view starts over at ``extent``."""
        if not isinstance(plane, Plane):
            raise TypeError(f"plane must be a Plane, not {type(plane).__name__}")
        self._set_scheduler(plane)
        extent = list(check_extent(extent or _default_extent(plane, None)))
        self.home = extent
        self.extent = extent
        self.send({"kind": "reset"})
        self._send_data()

    def update_model(self, model_or_state: nn.Module | Mapping[str, torch.Tensor]) -> None:
        """New weights (a state dict) or a new model: the visible tiles are recomputed."""
        self._scheduler.update_model(model_or_state)
        self._refresh()

    @property
    def history(self):
        """The :class:`~ftle_widget.History` whose epochs the ``epoch`` trait picks, or None."""
        return self._history

    def follow(self, history=None, *, interval: float = 1.0) -> None:
        """Show the newest epoch as training records it (pushed from Python, so a cell that
        trains in the foreground still updates the view): at most one refresh per ``interval``
        seconds, and the last epoch is always shown. :meth:`unfollow` stops."""
        if history is not None:
            self._history = history
        if self._history is None:
            raise ValueError("follow needs a History: view.follow(history)")
        self.unfollow()
        self._interval = float(interval)
        self._unfollow = self._history.observe(self._on_record)
        self.following = True
        if self._history.latest is not None:
            self._on_record(self._history.latest)

    def unfollow(self) -> None:
        """Stop following the history (the epoch shown stays)."""
        if self._unfollow is not None:
            self._unfollow()
            self._unfollow = None
        with self._lock:
            if self._follow_timer is not None:
                self._follow_timer.cancel()
                self._follow_timer = None
        self.following = False

    @property
    def visible_extent(self) -> tuple[float, float, float, float]:
        """What the browser shows: ``extent`` grown to the canvas's aspect (square pixels), or
        ``extent`` before any browser has asked for a view."""
        return self._last_view[0].extent if self._last_view else tuple(self.extent)

    def field(self, shape: tuple[int, int] | None = None, directions: bool = False) -> Field:
        """What the view shows (:attr:`visible_extent`) as a :class:`Field`, at the view's
        resolution (or ``shape``)."""
        if shape is None:
            view = self._last_view[0] if self._last_view else None
            shape = (view.height, view.width) if view else (256, 256)
        engine = self._scheduler.engine()
        return compute_field(engine, self.plane, self.visible_extent, shape, directions=directions)

    def to_png(self, path, shape: tuple[int, int] | None = None):
        """Write the current view as a PNG with a colorbar, without a browser."""
        return export.save_png(
            self.field(shape),
            path,
            quantity=self.quantity,
            cmap=self.cmap,
            vmin=self.vmin,
            vmax=self.vmax,
        )

    def close(self) -> None:
        """Stop all work and close the widget (also when construction failed half way)."""
        if getattr(self, "_history", None) is not None:
            self.unfollow()
        scheduler = getattr(self, "_scheduler", None)
        if scheduler is not None:
            scheduler.close()
        super().close()

    # ------------------------------------------------------------------ internals
    def _set_scheduler(self, plane: Plane) -> None:
        old = self._scheduler
        self._scheduler = TileScheduler(
            self._model if old is None else old.versions.model,
            plane,
            layer=self._layer,
            depth=self._depth,
            device=self._device,
            directions=self.show_directions,
            on_tile=self._send_tile,
            on_progress=self._on_progress,
            on_error=self._on_error,
        )
        if old is not None:
            old.close()
        engine = self._scheduler.engine()
        self.depth = engine.depth
        self.layer = engine.endpoint.description
        self.tile_px = self._scheduler.tile_px
        self.plane_info = {
            "input_shape": list(plane.input_shape),
            "orthonormal": plane.orthonormal,
            "image_shape": self._picture_shape(plane),
        }
        self._last_view = None

    def _picture_shape(self, plane: Plane) -> list[int] | None:
        chosen = self._image_shape
        if chosen is False:
            return None
        if chosen is None or chosen is True:
            shape = image_shape(plane.input_shape)
            return None if shape is None else list(shape)
        shape = [int(s) for s in chosen]
        if math.prod(shape) != math.prod(plane.input_shape):
            raise ValueError(
                f"image_shape {tuple(shape)} does not hold an input of shape {plane.input_shape}"
            )
        return shape

    def _on_message(self, _widget, content, _buffers) -> None:
        kind = content.get("kind") if isinstance(content, dict) else None
        try:
            if kind == "view":
                self._request(*_parse_view(content))
            elif kind == "data_request":
                self._send_data()
            elif kind == "input_request":
                self._send_input(*_parse_input_request(content))
            else:
                self._refuse(f"unknown message {str(content)[:80]!r}")
        except ValueError as problem:
            self._refuse(str(problem))

    @traitlets.validate("epoch")
    def _valid_epoch(self, proposal):
        epoch = proposal["value"]
        if epoch is None:
            return None
        if self._history is None:
            raise traitlets.TraitError("epoch needs a history: FTLEView(model, history=history)")
        if epoch not in self._history:
            if not self._history.epochs:
                raise traitlets.TraitError("the history holds no snapshot yet")
            epoch = self._history.nearest(epoch)  # the nearest epoch with a snapshot
        return epoch

    def _on_epoch(self, change) -> None:
        epoch = change["new"]
        if epoch is None:
            return
        self._scheduler.update_model(self._history[epoch], tag=(id(self._history), epoch))
        self._refresh()

    def _on_record(self, epoch: int) -> None:
        """A new record (in the training thread): show it now, or when the interval is over."""
        with self._lock:
            if self._follow_timer is not None:
                return  # a refresh is scheduled; it shows the latest epoch then
            wait = self._last_follow + self._interval - time.monotonic()
            if wait > 0:
                self._follow_timer = threading.Timer(wait, self._show_latest)
                self._follow_timer.daemon = True
                self._follow_timer.start()
                return
            self._last_follow = time.monotonic()
        self._show(self._history.latest)

    def _show_latest(self) -> None:
        with self._lock:
            self._follow_timer = None
            self._last_follow = time.monotonic()
        if self._unfollow is not None:
            self._show(self._history.latest)

    def _show(self, epoch: int | None) -> None:
        if epoch is not None and epoch in self._history and epoch != self.epoch:
            self.epoch = epoch

    def _on_directions(self, change) -> None:
        self._scheduler.set_directions(change["new"])
        self._refresh()

    def _send_data(self) -> None:
        """The data overlay: points near the plane with their class indices."""
        if self._data is None:
            self.send({"kind": "data", "count": 0, "labels": []}, [b"", b""])
            return
        points = data_overlay(self.plane, self._data, self._labels, self._data_near)
        self.send(
            {"kind": "data", "count": points.count, "labels": points.names},
            [points.uv.tobytes(), points.classes.tobytes()],
        )

    def _send_input(self, ident: int, u: float, v: float) -> None:
        """The input at plane point (u, v), for the hover picture of image models."""
        shape = self.plane_info.get("image_shape")
        if shape is None:
            raise ValueError("this view's inputs are not images: no pictures to send")
        values = self.plane.to_input(np.array([[u, v]])).reshape(-1).numpy()
        lo, hi = self._data_range or (float(values.min()), float(values.max()))
        self.send(
            {
                "kind": "input",
                "id": ident,
                "u": u,
                "v": v,
                "shape": list(shape),
                "vmin": lo,
                "vmax": hi,
            },
            [values.astype(np.float32).tobytes()],
        )

    def _request(self, view: View, generation: int) -> None:
        with self._lock:
            self._next += 1
            internal = self._next
            self._generations[internal] = generation
            for old in [g for g in self._generations if g < internal - 64]:
                del self._generations[old]
            self._last_view = (view, generation)
        self.error = ""
        # a display's first request (generation 1) starts from an empty canvas
        self._scheduler.request(view, internal, held=generation > 1)

    def _refresh(self) -> None:
        if self._last_view is not None:
            self._request(*self._last_view)

    def _refuse(self, reason: str) -> None:
        self.status = f"refused: {reason}"
        self.error = f"refused: {reason}"

    def _browser_generation(self, internal: int) -> int | None:
        with self._lock:
            return self._generations.get(internal)

    def _send_tile(self, tile: Tile) -> None:
        generation = self._browser_generation(tile.generation)
        if generation is None:
            return
        z, i, j = tile.key
        buffers = [tile.ftle.tobytes(), tile.prediction.tobytes()]
        if tile.direction is not None:
            buffers.append(tile.direction.tobytes())
        self.send(
            {
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
                "has_direction": tile.direction is not None,
                "dtype": tile.dtype,
            },
            buffers,
        )

    def _on_progress(self, done: int, total: int, internal: int) -> None:
        generation = self._browser_generation(internal)
        if generation is None:
            return
        self.progress = [done, total]
        self.status = f"{done}/{total} tiles" if done < total else f"{total} tiles"

    def _on_error(self, key, message: str, internal: int) -> None:
        generation = self._browser_generation(internal)
        if generation is None:
            return
        self.error = message
        self.send({"kind": "error", "message": message, "generation": generation, "key": list(key)})


def _json_float(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _parse_view(content: dict) -> tuple[View, int]:
    """Validate a view request from the browser; a ValueError names what is wrong."""
    generation = content.get("generation")
    if isinstance(generation, bool) or not isinstance(generation, int) or generation < 0:
        raise ValueError(f"generation must be an int ≥ 0, not {generation!r}")
    width, height = content.get("width"), content.get("height")
    for name, value in (("width", width), ("height", height)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (math.isfinite(value) and 1 <= value <= MAX_VIEW_PIXELS)
        ):
            raise ValueError(
                f"{name} must be a number of pixels in [1, {MAX_VIEW_PIXELS}], not {value!r}"
            )
    extent = content.get("extent")
    if not isinstance(extent, list | tuple) or not all(
        isinstance(e, int | float) and not isinstance(e, bool) for e in extent
    ):
        raise ValueError(f"extent must be four numbers, not {extent!r}")
    return View(check_extent(extent), round(width), round(height)), generation


def _parse_input_request(content: dict) -> tuple[int, float, float]:
    """Validate a hover-picture request: an id ≥ 0 and a finite (u, v)."""
    ident = content.get("id")
    if isinstance(ident, bool) or not isinstance(ident, int) or ident < 0:
        raise ValueError(f"id must be an int ≥ 0, not {ident!r}")
    coords = []
    for name in ("u", "v"):
        value = content.get(name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValueError(f"{name} must be a finite number, not {value!r}")
        coords.append(float(value))
    return ident, coords[0], coords[1]


def _default_extent(plane: Plane, data) -> tuple[float, float, float, float]:
    if data is None or len(data) == 0:
        return (-1.5, 1.5, -1.5, 1.5)
    coords = plane.coordinates(np.asarray(data, dtype=np.float64))
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-9)
    return (
        float(lo[0] - pad[0]),
        float(hi[0] + pad[0]),
        float(lo[1] - pad[1]),
        float(hi[1] + pad[1]),
    )
