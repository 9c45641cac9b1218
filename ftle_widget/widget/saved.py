"""Saved views: what a view shows as a small JSON-ready dict (:meth:`FTLEView.state
<ftle_widget.FTLEView.state>`), and the keywords that reopen exactly that view
(:meth:`FTLEView.from_state <ftle_widget.FTLEView.from_state>`, ``ftle-widget render --state``).

A plane of the standard basis is saved by its two axes; any other by its origin and directions
in full (float64 written as Python's shortest repr, which reads back bit for bit).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ..maths.fields import check_extent
from ..maths.planes import Plane

VERSION = 1
# what a state holds, and which FTLEView keyword each display entry reopens
DISPLAY = (
    "quantity",
    "cmap",
    "vmin",
    "vmax",
    "show_boundary",
    "show_data",
    "show_directions",
    "show_ridges",
)
PLANE = ("origin", "u", "v")
KEYS = (
    "version",
    "plane",
    "extent",
    "layer",
    "depth",
    "endpoint",
    "epoch",
    "shown_layer",
    *DISPLAY,
)


def plane_state(plane: Plane) -> dict[str, Any]:
    """``plane`` as JSON-ready data: its input shape and, for a plane of the standard basis
    through the origin, the two axes; else origin, u and v flattened."""
    shape = list(plane.input_shape)
    flat = [t.reshape(-1) for t in (plane.origin, plane.u, plane.v)]
    axes = [_axis(t) for t in flat[1:]]
    if not bool(flat[0].any()) and None not in axes:
        return {"shape": shape, "standard": axes}
    return {"shape": shape, **{k: t.tolist() for k, t in zip(PLANE, flat)}}


def _axis(t: torch.Tensor) -> int | None:
    """k where ``t`` is the k-th unit vector, else None."""
    nonzero = torch.nonzero(t).reshape(-1)
    return int(nonzero[0]) if len(nonzero) == 1 and float(t[nonzero[0]]) == 1.0 else None


def plane_from_state(data: Mapping[str, Any]) -> Plane:
    """The :class:`Plane` that :func:`plane_state` wrote."""
    try:
        shape = tuple(int(n) for n in data["shape"])
        if "standard" in data:
            i, j = (int(k) for k in data["standard"])
            return Plane.standard(shape, i, j)
        parts = [torch.tensor(data[k], dtype=torch.float64).reshape(shape) for k in PLANE]
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise ValueError(
            "the state's plane must hold its shape and either standard: [i, j] or origin, u and "
            f"v (as view.state() writes it): {e}"
        ) from None
    return Plane(*parts)


def view_state(view: Any) -> dict[str, Any]:
    """What ``view`` shows now, as a dict that ``json.dumps`` writes (see :data:`KEYS`)."""
    return {
        "version": VERSION,
        "plane": plane_state(view.plane),
        "extent": list(view.visible_extent),
        "layer": view._layer,
        "depth": view._depth,
        "endpoint": view.layer,
        "epoch": view.epoch,
        "shown_layer": view._override() or 0,  # the slider's layer, where not the endpoint
        **{key: getattr(view, key) for key in DISPLAY},
    }


def read_state(state: Mapping[str, Any] | str | Path) -> dict[str, Any]:
    """A state given as a dict, a JSON text or a JSON file's path, checked: a mapping of the
    known keys (:data:`KEYS`) of a version this package reads, with a plane and an extent."""
    if isinstance(state, Path) or (
        isinstance(state, str) and not state.lstrip().startswith(("{", "["))
    ):
        state = Path(state).read_text()
    if isinstance(state, str):
        state = json.loads(state)
    if not isinstance(state, Mapping):
        raise TypeError(f"a view's state is a dict (view.state()), not {type(state).__name__}")
    unknown = sorted(set(state) - set(KEYS))
    if unknown:
        raise ValueError(f"unknown state entries {unknown}; a state holds {', '.join(KEYS)}")
    if state.get("version") != VERSION:
        raise ValueError(f"state version {state.get('version')!r}: this package reads {VERSION}")
    missing = [k for k in ("plane", "extent") if k not in state]
    if missing:
        raise ValueError(f"the state lacks {', '.join(missing)} (view.state() writes them)")
    return dict(state)


def reopen_keywords(state: Mapping[str, Any]) -> dict[str, Any]:
    """The :class:`~ftle_widget.FTLEView` keywords that reopen the (checked) ``state``."""
    return {
        "plane": plane_from_state(state["plane"]),
        "extent": list(check_extent(state["extent"])),
        "layer": state.get("layer"),
        "depth": state.get("depth"),
        **({"shown_layer": state["shown_layer"]} if state.get("shown_layer") else {}),
        **{key: state[key] for key in DISPLAY if key in state},
    }


def check_reopened(view: Any, state: Mapping[str, Any], history: Any) -> None:
    """Show the state's epoch on ``view`` (with a history), and warn where the reopened view
    cannot be the saved one: another endpoint (another model), an epoch without a history."""
    saved = state.get("endpoint")
    if saved and view.layer != saved:
        warnings.warn(
            f"the state was saved reading {saved!r}; this model reads {view.layer!r}",
            stacklevel=3,
        )
    epoch = state.get("epoch")
    if epoch is not None:
        if history is None:
            warnings.warn(
                f"the state was saved at epoch {epoch}: pass history= to show that epoch",
                stacklevel=3,
            )
        else:
            view.epoch = epoch
