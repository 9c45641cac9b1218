"""FTLEView: the Jupyter widget. Traits and glue only: no mathematics (:mod:`ftle_widget.maths`),
no tile planning (:mod:`ftle_widget.lazy`), no message formats (:mod:`.protocol`); the display
traits and fitting the colours are :mod:`.display`'s, the progress shown :mod:`.progress`'s.
Small durable state lives in synced traits. Tiles travel as custom messages with binary buffers,
never through traits; every browser message is validated before anything is computed.
"""

from __future__ import annotations

import pathlib
import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import cast

import anywidget
import comm
import numpy as np
import torch
import traitlets
from torch import nn

from ..lazy.planning import limit_zoom
from ..lazy.pyramid import View
from ..lazy.scheduler import TileScheduler
from ..lazy.tiles import Tile
from ..maths.fields import Extent, check_extent, plane_of
from ..maths.planes import Plane, default_extent
from . import display, protocol, saved
from .arguments import as_labels, as_points, check_data_points, check_keywords, executor_of
from .bundle import bundle_text
from .display import HEIGHT, QUANTITIES, BadTrait, DisplayTraits, shown_values
from .exporting import Exports
from .following import FollowsHistory
from .layering import LayerSlider
from .overlays import DEFAULT_POINTS, DataOverlay, data_overlay, picture_shape
from .progress import Reports, progress_status, progress_value
from .requests import Generations, pushed_view
from .ridging import RidgeActions

__all__ = ["QUANTITIES", "BadTrait", "FTLEView"]


class FTLEView(
    DisplayTraits, FollowsHistory, LayerSlider, Exports, RidgeActions, anywidget.AnyWidget
):
    """A live view of the FTLE field of ``model`` over a plane of its input space.

    Parameters
    ----------
    model : the network (never modified).
    plane : a :class:`~ftle_widget.Plane`; default: see :func:`default_plane`.
    extent : (u0, u1, v0, v1); default: the data's extent on the plane with a 10 % margin, else
        [−1.5, 1.5]².
    layer, depth : the endpoint and divisor, as in :func:`ftle_widget.maximal_ftle`; the
        :attr:`layer` trait then describes the endpoint, e.g. "input of fc (last hidden layer)".
    input_shape : the shape of one input, e.g. ``(3, 32, 32)``, for the default plane of a model
        whose first layer does not fix it (a convolution, a custom module) when no data is given.
    data, labels : points (N, *input_shape) and their classes: the default plane goes through
        points of three classes, the data overlay colours them, and the hover names the
        predicted class index k by the k-th of the sorted labels (one output: 0 is output ≤ 0).
    device : compute on a copy of the model on this device.
    executor : where tiles are computed: a ``distributed.Client``, a ``DevicePool``, an Executor.
    devices : instead, a list of devices (``["cuda:0", "cuda:1"]``): a DevicePool the view owns.
    cmap, vmin, vmax : colormap (:func:`ftle_widget.widget.export.colormap_names`; default: the
        quantity's, :data:`~.display.DEFAULT_CMAPS`) and limits (``None``: symmetric about 0 over
        what is shown, [0, max] for gap and anisotropy; :meth:`fit_colors` fits them to it).
    quantity : ``"lambda"`` (λ₁), ``"log_stretch"`` (depth·λ₁ = log Λ₁, the paper's Fig. 2),
        ``"lambda_min"``, ``"gap"`` (λ₁ − λ₂) or ``"anisotropy"`` (λ₁ − λ_min): see
        :mod:`ftle_widget.maths.quantities`.
    show_boundary, show_data, show_directions : the overlays: decision boundary, data points
        near the plane (coloured by label), stretching directions (``show_ridges``: ridges).
    data_near : draw the data points within this distance of the plane (default: all points for
        2-D inputs, else the nearest 500).
    data_points : how many data points are drawn: a sample of 500 by default, stratified by
        class so the field stays visible; ``None``: all of them (at most 5000).
    image_shape : how hover pictures show an input, e.g. ``(28, 28)``; default: guessed from the
        input shape (:func:`ftle_widget.widget.overlays.image_shape`); ``False``: no pictures.
    shown_layer : the hidden layer ℓ shown (a trait; the layer slider sets it): 0, the endpoint
        ``layer`` (see :mod:`.layering`); ``layers`` is L.
    history : a :class:`~ftle_widget.History`: the ``epoch`` trait then picks the weights shown
        (a copy is evaluated; the model is never touched) and :meth:`follow` tracks training.
    height : of the field and colorbar, in CSS pixels (an int in [150, 2000]; a trait).
    """

    _esm = bundle_text()

    extent = traitlets.List(traitlets.Float(), minlen=4, maxlen=4).tag(sync=True)
    home = traitlets.List(traitlets.Float(), minlen=4, maxlen=4).tag(sync=True)
    plane_info = traitlets.Dict().tag(sync=True)
    # tiles done and planned for the last view, the phase of the work left (progress.py)
    progress = traitlets.Tuple(
        traitlets.Int(), traitlets.Int(), traitlets.Unicode(), default_value=(0, 0, "")
    ).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    show_boundary = traitlets.Bool(True).tag(sync=True)
    show_data = traitlets.Bool(True).tag(sync=True)
    show_directions = traitlets.Bool(False).tag(sync=True)
    # names this instance for the front end's model-level store of pushed tiles (js/src/shared.ts)
    _instance = traitlets.Unicode("").tag(sync=True)
    # Python-side state, not synced (the browser draws without them):
    layer = traitlets.Unicode("")  # the endpoint, described
    tile_px = traitlets.Int(64)  # pixels per tile side
    _scheduler_type: type[TileScheduler] = TileScheduler  # a subclass's tiles (difference.py)

    def __init__(
        self,
        model: nn.Module,
        plane: Plane | None = None,
        *,
        extent: Sequence[float] | None = None,
        layer: int | str | None = None,
        depth: float | None = None,
        input_shape: Sequence[int] | None = None,
        data=None,
        labels=None,
        device: str | torch.device | None = None,
        executor=None,
        devices: Sequence[str | torch.device] | None = None,
        cmap: str | None = None,
        vmin: float | None = None,
        vmax: float | None = None,
        quantity: str = "lambda",
        show_boundary: bool = True,
        show_data: bool = True,
        show_directions: bool = False,
        data_near: float | None = None,
        data_points: int | None = DEFAULT_POINTS,
        image_shape: Sequence[int] | bool | None = None,
        history=None,
        height: int = HEIGHT,
        **kwargs,
    ):
        check_keywords("FTLEView", kwargs, self.class_trait_names(), FTLEView.__init__)
        data, labels = as_points(data), as_labels(labels)
        remedy = (
            "pass input_shape= (the shape of one input, e.g. input_shape=(3, 32, 32)), a plane "
            "(ftle_widget.Plane) or data"
        )
        plane = plane_of(model, plane, input_shape, remedy, data, labels)
        if extent is None:
            extent = default_extent(plane, data)
        extent = check_extent(extent)
        super().__init__(
            cmap=cmap or display.default_cmap(quantity),
            vmin=vmin,
            vmax=vmax,
            quantity=quantity,
            extent=list(extent),
            home=list(extent),
            show_boundary=show_boundary,
            show_data=show_data,
            show_directions=show_directions,
            height=height,
            _instance=uuid.uuid4().hex,
            **kwargs,
        )
        self._model, self._layer, self._depth, self._device = model, layer, depth, device
        self._data, self._labels, self._data_near = data, labels, data_near
        self._data_points, self._image_shape = check_data_points(data_points), image_shape
        # a Client is wrapped by each scheduler (lazy/executors.py); devices: a pool of our own
        self._executor, self._pool = executor_of(executor, devices)
        self._data_range = None if data is None else (float(data.min()), float(data.max()))
        self._lock, self._generations, self._reports = threading.Lock(), Generations(), Reports()
        self._last_view: tuple[View, int] | None = None
        self._pushed: View | None = None  # the home view computed before a browser asked
        # the tiles sent for the last request (for fit_colors): its generation, key → tile
        self._shown: tuple[int, dict] = (-1, {})
        self._scheduler: TileScheduler | None = None
        self._set_scheduler(plane, self.home)
        self._start_layers(model, layer, depth)  # shown_layer: the hidden layer shown
        self.on_msg(self._on_message)
        self.observe(self._on_channels, names=["show_directions", "quantity"])
        self._start_following(history)
        self._push_home()

    # ------------------------------------------------------------------ public
    @property
    def plane(self) -> Plane:
        return self.scheduler.plane

    @property
    def scheduler(self) -> TileScheduler:
        assert self._scheduler is not None  # made by __init__
        return self._scheduler

    def zoom_to(self, extent: Sequence[float]) -> None:
        """Show ``extent`` = (u0, u1, v0, v1); the browser then asks for its tiles. Beyond what
        float64 resolves the extent is grown about its centre, and the status says so."""
        last = self._last_view[0] if self._last_view else View(check_extent(extent), 512, 512)
        view, limited = limit_zoom(self.plane, View(check_extent(extent), last.width, last.height))
        if limited:
            self.status = "zoomed in as far as float64 resolves here"
        self.extent = list(view.extent)

    def reset(self) -> None:
        """Back to the initial extent."""
        self.extent = list(self.home)

    def set_plane(self, plane: Plane, extent: Sequence[float] | None = None) -> None:
        """Show another plane (same model); the view starts over at ``extent``."""
        if not isinstance(plane, Plane):
            raise TypeError(f"plane must be a Plane, not {type(plane).__name__}")
        extent = list(check_extent(extent or default_extent(plane, None)))
        self._set_scheduler(plane, extent)
        self.home = extent
        self.extent = extent
        self._post(protocol.encode_reset())
        self._send_data()
        self._push_home()

    def _show_weights(self, weights: Mapping[str, torch.Tensor], tag: object) -> None:
        self.scheduler.update_model(weights, tag=tag)
        self._refresh()

    def update_model(self, model_or_state: nn.Module | Mapping[str, torch.Tensor]) -> None:
        """New weights (a state dict) or a new model: the visible tiles are recomputed."""
        self.scheduler.update_model(model_or_state)
        self._refresh()

    @property
    def visible_extent(self) -> tuple[float, float, float, float]:
        """What the browser shows: ``extent`` grown to the canvas's aspect (square pixels), or
        ``extent`` before any browser has asked for a view."""
        return self._last_view[0].extent if self._last_view else cast(Extent, tuple(self.extent))

    def state(self) -> dict:
        """What the view shows, as a small JSON-ready dict (plane, extent, layer, endpoint,
        quantity, colormap, limits, overlays, epoch) that :meth:`from_state` reopens."""
        return saved.view_state(self)

    @classmethod
    def from_state(cls, model: nn.Module, state: Mapping | str | pathlib.Path, **kw) -> FTLEView:
        """Reopen the view :meth:`state` saved (a dict, its JSON or a JSON file) on ``model``;
        other keywords (``data``, ``history``...) as for :class:`FTLEView`, and win."""
        state = saved.read_state(state)
        view = cls(model, **{**saved.reopen_keywords(state), **kw})
        saved.check_reopened(view, state, kw.get("history"))
        return view

    def close(self) -> None:
        """Stop all work and close the widget (also when construction failed half way)."""
        if getattr(self, "_history", None) is not None:
            self.unfollow()
        if (scheduler := getattr(self, "_scheduler", None)) is not None:
            scheduler.close()
        if (pool := getattr(self, "_pool", None)) is not None:
            pool.shutdown(wait=False)
        super().close()

    # ------------------------------------------------------------------ internals
    def _set_scheduler(self, plane: Plane, home: Sequence[float]) -> None:
        old = self._scheduler
        self._scheduler = self._scheduler_type(
            self._model if old is None else old.versions.model,
            plane,
            layer=self._layer,
            depth=self._depth,
            device=self._device,
            executor=self._executor,
            directions=self.show_directions,
            lower=display.needs_lower(self.quantity),
            home=home,  # the model is first run where the view will be
            on_tile=self._send_tile,
            on_progress=self._on_progress,
            on_error=self._on_error,
        )
        if old is not None:
            old.close()
        self._read_shown_layer()  # a new scheduler's model read at the layer shown
        self._follow_layer()
        self.tile_px = self._scheduler.tile_px
        self.plane_info = {
            "image_shape": picture_shape(self._image_shape, plane.input_shape),
            "resolution": protocol.plane_resolution(plane),
        }
        self._last_view, self._shown = None, (-1, {})

    def _on_message(self, _widget, content, _buffers) -> None:
        """A message from the browser (see :mod:`ftle_widget.widget.protocol`)."""
        try:
            request = protocol.parse(content)
            if isinstance(request, protocol.ViewRequest):
                self._request(request.view, request.generation)
            elif isinstance(request, protocol.DataRequest):
                self._send_data()
            elif isinstance(request, protocol.StateRequest):
                self._post(protocol.encode_state(self.state()))
            elif isinstance(request, protocol.FlyRequest):
                self._fly(request)
            else:
                self._send_input(request)
        except (ValueError, ArithmeticError) as problem:  # the state stays as it was
            self._refuse(problem)

    def _on_channels(self, change) -> None:  # the tiles held lack what is shown now: again
        display.follow_quantity(self, change)
        if self.scheduler.set_channels(self.show_directions, display.needs_lower(self.quantity)):
            self._refresh()

    def _data_overlay(self) -> DataOverlay | None:
        """The data points near the plane with their class indices (None without data)."""
        if self._data is None:
            return None
        near, limit = self._data_near, self._data_points
        return data_overlay(self.plane, self._data, self._labels, near, limit=limit)

    def _send_data(self) -> None:
        """The data overlay, to the browser."""
        self._post(protocol.encode_data(self._data_overlay()))

    def _send_input(self, request: protocol.InputRequest) -> None:
        """The input at a plane point, for the hover picture of image models."""
        shape = self.plane_info.get("image_shape")
        if shape is None:
            raise ValueError("this view's inputs are not images: no pictures to send")
        values = self.plane.to_input(np.array([[request.u, request.v]])).reshape(-1).numpy()
        lo, hi = self._data_range or (float(values.min()), float(values.max()))
        self._post(protocol.encode_input(request, shape, values, lo, hi))

    def _post(self, message: protocol.Message) -> None:
        content, buffers = message
        self.send(content, buffers)

    def _request(self, view: View, generation: int) -> None:
        with self._generations.serial:
            self._generations.asked(generation)  # the newest, also if refused (raises) here
            self._schedule(view, generation)
            self._last_view = (view, generation)
        self.error = ""

    def _schedule(self, view: View, generation: int) -> None:
        """Ask the scheduler for ``view``; its tiles go to the browser as ``generation``."""
        # a display's first request (generation 1) starts from an empty canvas
        self.scheduler.request(view, self._generations.new(generation), held=generation > 1)

    def _push_home(self) -> None:
        """Compute the home view now and push its tiles as generation 0, before any browser
        asks: while a notebook runs its later cells the kernel cannot read the browser's
        request, but pushes arrive (the front end keeps them for its displays, js/src/shared.ts).
        Nothing is pushed where no front end can listen (no kernel)."""
        if self.comm is None or isinstance(self.comm, comm.DummyComm):
            return
        self._pushed = pushed_view(self.home, int(self.height))
        self._schedule(self._pushed, protocol.PUSHED)

    def _refresh(self) -> None:
        with self._generations.serial:  # tagged as the newest request: older ones' are dropped
            if self._last_view is not None:
                self._request(self._last_view[0], self._generations.newest)
            elif self._pushed is not None:  # new weights or overlays before a browser asked
                self._schedule(self._pushed, protocol.PUSHED)

    def _refuse(self, problem: Exception) -> None:
        self._generations.asked(getattr(problem, "generation", None))  # a view request's
        self.status = self.error = f"refused: {problem}"

    def _send_tile(self, tile: Tile) -> None:
        generation = self._generations.browser(tile.generation)
        if generation is None:
            return
        with self._lock:  # checked and sent at once: a newer request's tiles go after it
            if tile.generation < self.scheduler.generation:
                return  # a worker's, current when it finished, but a request came since
            if tile.generation > self._shown[0]:  # kept for fit_colors: the last request's
                self._shown = (tile.generation, {})
            if tile.generation == self._shown[0]:
                self._shown[1][tile.key] = tile
            self._post(protocol.encode_tile(tile, generation))

    def _shown_tiles(self) -> tuple[int, list[Tile]]:
        """The last request's (internal) generation and the tiles sent for it."""
        with self._lock:
            return self._shown[0], list(self._shown[1].values())

    def _shown_values(self) -> tuple[list[np.ndarray], str]:
        return shown_values(self, self._shown_tiles()[1])

    def _say(self, text: str) -> None:
        self.status = text

    def _on_progress(self, done: int, total: int, internal: int) -> None:
        if self._generations.browser(internal) is None or not self._reports.fresh(internal, done):
            return
        progress = progress_value(done, total, self.scheduler.pending_phase())
        self.progress = progress
        self.status = progress_status(*progress)
        self._view_complete(done, total, internal)

    def _on_error(self, key, message: str, internal: int) -> None:
        generation = self._generations.browser(internal)
        if generation is None:
            return
        self.error = message
        self._post(protocol.encode_error(key, message, generation))
