"""FTLEView's constructor arguments, checked and converted before anything is made: unknown
keywords (an error naming the known ones, never swallowed by the widget base class), data and
labels as arrays, the number of data points drawn, the executor (or devices) tiles run on."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from ..lazy.devices import DevicePool


def check_keywords(
    owner: str, kwargs: dict, traits: Iterable[str], signature: Callable[..., object]
) -> None:
    """A TypeError naming ``kwargs`` that are neither ``traits`` nor parameters of
    ``signature``, and the parameters it takes."""
    import inspect

    unknown = sorted(set(kwargs) - set(traits))
    if unknown:
        params = [p for p in inspect.signature(signature).parameters if p not in ("self", "kwargs")]
        raise TypeError(
            f"{owner} got unknown keyword argument(s) {', '.join(unknown)}; it takes "
            f"{', '.join(params)} and widget traits such as layout"
        )


def as_points(data) -> np.ndarray | None:
    """Data points (a tensor or array-like) as a float64 array; ``None`` stays ``None``."""
    if data is None:
        return None
    return np.asarray(
        data.detach().cpu() if isinstance(data, torch.Tensor) else data, dtype=np.float64
    )


def as_labels(labels) -> np.ndarray | None:
    """Labels (a tensor or array-like) as an array; ``None`` stays ``None``."""
    if labels is None:
        return None
    return np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels)


def check_data_points(data_points: int | None) -> int | None:
    """How many data points are drawn: a positive int, or ``None`` for all."""
    if data_points is not None and (type(data_points) is not int or data_points < 1):
        raise ValueError(f"data_points must be a positive int or None, not {data_points!r}")
    return data_points


def executor_of(executor: Any, devices: Any) -> tuple[Any, DevicePool | None]:
    """The executor a view computes on: ``executor``, or a :class:`DevicePool` of ``devices``
    (then also returned as the view's own, to shut down with it)."""
    if devices is None:
        return executor, None
    if executor is not None:
        raise ValueError("give executor= or devices=, not both (devices= makes a DevicePool)")
    pool = DevicePool(devices)
    return pool, pool
