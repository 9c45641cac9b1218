"""A view's ridges: :meth:`~RidgeActions.ridges` of what it shows, and
:meth:`~RidgeActions.fly_to_ridge`, which zooms onto one (and can turn the plane to run along it);
the ``show_ridges`` overlay (:mod:`.ridge_overlay`) and the toolbar's "Fly to ridge". A mixin of
:class:`~ftle_widget.FTLEView`, the mathematics in :mod:`ftle_widget.maths.ridges`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import traitlets

from ..maths.fields import Field
from ..maths.planes import Plane
from ..maths.ridges import Ridge, ridges
from .protocol import FLY_TO, FlyRequest
from .ridge_overlay import RidgeOverlay, held_field


class RidgeActions(traitlets.HasTraits):
    """Ridges of the view (mixed into :class:`~ftle_widget.FTLEView`). ``show_ridges``: the
    ridges drawn over the field, traced from the tiles shown each time a view is complete."""

    show_ridges = traitlets.Bool(False).tag(sync=True)
    _complete = -1  # the internal generation of the last view whose tiles were all delivered
    _overlay: RidgeOverlay | None = None

    def ridges(self, shape: tuple[int, int] | None = None, **options: Any) -> list[Ridge]:
        """The ridges of λ₁ in what the view shows (:func:`ftle_widget.ridges`), strongest first;
        ``options`` as for :func:`~ftle_widget.ridges`. From the tiles the browser was sent when
        its view is complete, else (or given a ``shape``) from :meth:`field` computed."""
        view: Any = self
        held = None if shape is not None else self._held(crop=True)
        return ridges(held if held is not None else view.field(shape), **options)

    def _held(self, crop: bool) -> Field | None:
        """The tiles of the last view as a field, if all were delivered (cropped to what is
        visible with ``crop``); None otherwise."""
        view: Any = self
        generation, tiles = view._shown_tiles()
        if generation != self._complete or not tiles:
            return None
        field = held_field(tiles, view.depth)
        return field if field is None or not crop else _cropped(field, view.visible_extent)

    def _view_complete(self, done: int, total: int, internal: int) -> None:
        """Progress of the view of ``internal``: when all its tiles are in, the ridge overlay
        (if on) is traced from them."""
        if done < total or total == 0:
            return
        self._complete = internal
        if self.show_ridges:
            self._trace()

    @traitlets.observe("show_ridges")
    def _on_show_ridges(self, change: dict) -> None:
        if change["new"] and hasattr(self, "_shown"):  # not while the view is being made
            self._trace()

    def _trace(self) -> None:
        view: Any = self
        generation, tiles = view._shown_tiles()
        browser = view._generations.browser(generation)
        if generation != self._complete or browser is None:
            return  # traced when the view is complete
        if self._overlay is None:
            self._overlay = RidgeOverlay(view._post)
        self._overlay.update(tiles, browser)

    def _fly(self, request: FlyRequest) -> None:
        """The toolbar's "Fly to ridge"."""
        self.fly_to_ridge(request.which, near=request.near)

    def close(self) -> None:
        if self._overlay is not None:
            self._overlay.close()
        super().close()  # type: ignore[misc]

    def fly_to_ridge(
        self,
        which: str = "strongest",
        *,
        zoom: float = 4.0,
        near: Sequence[float] | None = None,
        rotate: bool = False,
    ) -> Ridge:
        """Zoom ``zoom`` times onto a ridge in view: the ``"strongest"``, centred on its point
        nearest the view's centre, so that flying again zooms further along the same ridge; or
        the ``"nearest"`` to ``near`` = (u, v) (default: the view's centre), centred on its point
        nearest that. With ``rotate``
        the plane turns to run along the ridge there (u along its tangent, v across, origin on
        it: :meth:`set_plane`). Returns the ridge flown to (in the coordinates it was found in).
        """
        view: Any = self
        if which not in FLY_TO:
            raise ValueError(f"which must be one of {', '.join(FLY_TO)}, not {which!r}")
        if not (isinstance(zoom, int | float) and zoom > 0):
            raise ValueError(f"zoom must be a positive number, not {zoom!r}")
        u0, u1, v0, v1 = view.visible_extent
        centre = np.array([(u0 + u1) / 2, (v0 + v1) / 2])
        found = self.ridges()
        if not found:
            raise ValueError("no ridge in view: zoom out or pan to one (view.ridges() is empty)")
        target = centre
        if which == "nearest":
            target = centre if near is None else np.asarray(near, dtype=np.float64)
            ridge = min(found, key=lambda r: float(np.hypot(*(r.points - target).T).min()))
        else:
            ridge = found[0]
        k = int(np.argmin(np.hypot(*(ridge.points - target).T)))
        point = ridge.points[k]
        half = np.array([(u1 - u0), (v1 - v0)]) / (2 * zoom)
        if not rotate:
            view.zoom_to(
                [point[0] - half[0], point[0] + half[0], point[1] - half[1], point[1] + half[1]]
            )
            return ridge
        plane = along(view.plane, point, _tangent(ridge.points, k))
        scale = _input_length(view.plane, (1.0, 0.0)), _input_length(view.plane, (0.0, 1.0))
        a, b = half[0] * scale[0], half[1] * scale[1]  # the same sizes, in input units
        view.set_plane(plane, extent=[-a, a, -b, b])
        return ridge


def _cropped(field: Field, extent: Sequence[float]) -> Field:
    """The pixels of ``field`` whose centres lie inside ``extent``, as a field."""
    u0, u1, v0, v1 = field.extent
    h, w = field.shape
    u = u0 + (np.arange(w) + 0.5) * ((u1 - u0) / w)
    v = v0 + (np.arange(h) + 0.5) * ((v1 - v0) / h)
    cols = np.nonzero((u >= extent[0]) & (u <= extent[1]))[0]
    rows = np.nonzero((v >= extent[2]) & (v <= extent[3]))[0]
    if len(cols) < 3 or len(rows) < 3:
        return field
    c0, c1, r0, r1 = cols[0], cols[-1] + 1, rows[0], rows[-1] + 1
    du, dv = (u1 - u0) / w, (v1 - v0) / h
    box = (u0 + c0 * du, u0 + c1 * du, v0 + r0 * dv, v0 + r1 * dv)
    pick = (slice(r0, r1), slice(c0, c1))
    return Field(field.ftle[pick], field.prediction[pick], None, box, field.endpoint, field.depth)


def _tangent(points: np.ndarray, k: int) -> np.ndarray:
    """The unit tangent of a polyline at its point k (central difference)."""
    a, b = points[max(k - 1, 0)], points[min(k + 1, len(points) - 1)]
    step = b - a
    return step / max(float(np.hypot(*step)), 1e-300)


def _input_length(plane: Plane, uv: Sequence[float]) -> float:
    vector = uv[0] * plane.u.reshape(-1) + uv[1] * plane.v.reshape(-1)
    return float(vector.norm())


def along(
    plane: Plane, point: Sequence[float] | np.ndarray, tangent: Sequence[float] | np.ndarray
) -> Plane:
    """The plane through ``point`` (plane coordinates) of ``plane`` whose u runs along
    ``tangent`` (plane components) and v across it within ``plane``, both unit vectors of input
    space, turned (not mirrored) from ``plane``'s u and v by at most 90°."""
    origin = plane.to_input(torch.tensor([list(point)], dtype=torch.float64))[0]
    u, v = plane.u.reshape(-1), plane.v.reshape(-1)
    sign = -1.0 if float(tangent[0]) < 0 else 1.0  # the smaller turn: at most 90° from u
    t = sign * (float(tangent[0]) * u + float(tangent[1]) * v)
    t = t / t.norm()
    # across: whichever of u, v is less parallel to t, made orthogonal to it
    other = v if abs(float(v @ t)) / v.norm() < abs(float(u @ t)) / u.norm() else u
    n = other - (other @ t) * t
    n = n / n.norm()
    parts = plane.components(torch.stack([t, n]))  # (2, 2): rows t, n in plane components
    if float(torch.linalg.det(parts)) < 0:
        n = -n
    shape = plane.input_shape
    return Plane(origin, t.reshape(shape), n.reshape(shape))
