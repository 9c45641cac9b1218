"""History: the record of a training run — weight snapshots and metrics, epoch by epoch.

One line in any training loop, ``history.record(model, loss=loss)``, keeps an exact CPU copy of
the weights (every ``every``-th record, at most ``last`` of them, in memory or on disk) and the
metrics of every record. Views read it while training goes on in another thread.
"""

from __future__ import annotations

import bisect
import copy
import logging
import math
import numbers
import os
import pathlib
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from ..maths.exponents import maximal_ftle
from ..maths.modules import model_float_dtype
from .runs import run_folder

logger = logging.getLogger(__name__)

StateDict = dict[str, Any]


def _snapshot(state: Mapping[str, Any]) -> StateDict:
    """A detached CPU copy of every entry (tensors bit for bit; other entries deep-copied)."""
    return {
        key: value.detach().to("cpu", copy=True)
        if isinstance(value, torch.Tensor)
        else copy.deepcopy(value)
        for key, value in state.items()
    }


def _fresh(state: Mapping[str, Any]) -> StateDict:
    """A copy the caller may mutate freely."""
    return {
        key: value.clone() if isinstance(value, torch.Tensor) else copy.deepcopy(value)
        for key, value in state.items()
    }


def _nbytes(state: Mapping[str, Any]) -> int:
    return sum(v.nbytes for v in state.values() if isinstance(v, torch.Tensor))


def _size(nbytes: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} B"


def _as_float(name: str, value: object) -> float:
    """A metric as a Python float; TypeError naming the metric for anything non-numeric."""
    if isinstance(value, torch.Tensor):
        if value.numel() == 1 and not value.is_complex():
            return float(value.detach().reshape(()).item())
    elif isinstance(value, np.ndarray | np.generic):
        if value.size == 1 and value.dtype.kind in "biuf":
            return float(value.reshape(()))
    elif isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(
        f"metric {name!r} must be a real number (a float, a numpy scalar or a one-element "
        f"tensor), not {type(value).__name__}: {value!r:.80}"
    )


def _as_points(name: str, points) -> torch.Tensor:
    x = points if isinstance(points, torch.Tensor) else torch.as_tensor(np.asarray(points))
    if not torch.is_floating_point(x):
        x = x.to(torch.get_default_dtype())
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(
            f"probe {name!r} must be a batch of points (B, *input_shape), B ≥ 1; "
            f"got shape {tuple(x.shape)}"
        )
    return x.detach().clone()


class History:
    """The record of a training run: weight snapshots and metrics by epoch.

    Parameters
    ----------
    every : keep the weights of every ``every``-th record (records 0, every, 2·every, …). The
        newest record's weights are always kept as well, until a newer record arrives.
    last : hold at most this many snapshots (the oldest are dropped); ``None``: no bound.
    directory : keep snapshots on disk, one file ``epoch_<epoch>.pt`` per epoch (``torch.save``;
        dropped ones are deleted), in a new folder of its own inside ``directory`` (the attribute
        :attr:`directory`): a rerun or a second History never reads or overwrites its files.
    probes : named batches of points; at every record the mean λ₁ over each batch (NaN ignored)
        is stored as the metric ``ftle_<name>`` (Storm et al.'s Fig. 3b: mean λ₁ on the decision
        boundary and in the centre).
    layer, depth : where λ₁ of the probes is read and its divisor, as in
        :func:`ftle_widget.maximal_ftle`.

    Examples
    --------
    >>> history = History(every=5, last=20)
    >>> for epoch in range(100):
    ...     loss = train_one_epoch(model)
    ...     history.record(model, loss=loss)
    >>> model.load_state_dict(history[history.nearest(42)])
    """

    def __init__(
        self,
        *,
        every: int = 1,
        last: int | None = None,
        directory: str | os.PathLike | None = None,
        probes: Mapping[str, Any] | None = None,
        layer: int | str | None = None,
        depth: float | None = None,
    ):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int, not {every!r}")
        if last is not None and (isinstance(last, bool) or not isinstance(last, int) or last < 1):
            raise ValueError(f"last must be a positive int or None, not {last!r}")
        self.every = every
        self.last = last
        self.directory = None if directory is None else run_folder(directory)  # this run's
        self.probes = {str(k): _as_points(str(k), v) for k, v in (probes or {}).items()}
        self.layer, self.depth = layer, depth
        self._lock = threading.Lock()  # guards the data below
        self._recording = threading.Lock()  # one record at a time
        self._records = 0
        self._recorded: list[int] = []
        self._epochs: list[int] = []  # with a snapshot, increasing
        self._regular: dict[int, bool] = {}  # epoch → kept by the `every` rule (else: latest only)
        self._memory: dict[int, StateDict] = {}
        self._bytes: dict[int, int] = {}
        self._metrics: dict[str, tuple[list[int], list[float]]] = {}
        self._observers: list[Callable[[int], None]] = []

    # ------------------------------------------------------------------ recording
    def record(
        self,
        model_or_state_dict: nn.Module | Mapping[str, Any],
        epoch: int | None = None,
        **metrics: Any,
    ) -> int:
        """Record one epoch: the weights (as the keep policy says) and ``metrics``.

        Parameters
        ----------
        model_or_state_dict : the model, or its ``state_dict()`` (not with probes).
        epoch : default: the previous epoch + 1 (the first is 0). Epochs must increase.
        **metrics : numbers (floats, numpy scalars, one-element tensors).

        Returns
        -------
        The epoch recorded.
        """
        state: Mapping[str, Any]
        if isinstance(model_or_state_dict, nn.Module):
            model, state = model_or_state_dict, model_or_state_dict.state_dict()
        elif isinstance(model_or_state_dict, Mapping):
            if self.probes:
                raise TypeError(
                    "this History has probes, which need the model: record(model, ...), "
                    "not record(model.state_dict(), ...)"
                )
            model, state = None, model_or_state_dict
        else:
            raise TypeError(
                "record needs a torch.nn.Module or a state dict, not "
                f"{type(model_or_state_dict).__name__}"
            )
        values = {name: _as_float(name, value) for name, value in metrics.items()}
        clash = sorted(f"ftle_{p}" for p in self.probes if f"ftle_{p}" in values)
        if clash:
            raise ValueError(
                f"metric(s) {', '.join(clash)} are computed from the probes; "
                "pass them under another name"
            )
        with self._recording:
            epoch = self._next_epoch(epoch)
            if model is not None:
                for name, points in self.probes.items():
                    values[f"ftle_{name}"] = self._probe_mean(model, points)
            keep = self._records % self.every == 0
            snapshot = _snapshot(state)
            path = None
            if self.directory is not None:
                path = self._path(epoch)
                torch.save(snapshot, path)
            with self._lock:
                self._store(
                    epoch,
                    keep,
                    snapshot if path is None else None,
                    _nbytes(snapshot) if path is None else 0,
                    values,
                )
                observers = list(self._observers)
        for callback in observers:
            try:
                callback(epoch)
            except Exception:  # a broken view must not stop the training
                logger.exception("History observer %r failed at epoch %d", callback, epoch)
        return epoch

    def _next_epoch(self, epoch: int | None) -> int:
        previous = self._recorded[-1] if self._recorded else None
        if epoch is None:
            return 0 if previous is None else previous + 1
        if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral):
            raise TypeError(f"epoch must be an int, not {type(epoch).__name__}")
        epoch = int(epoch)
        if previous is not None and epoch <= previous:
            raise ValueError(f"epochs must increase: epoch {epoch} recorded after {previous}")
        return epoch

    def _probe_mean(self, model: nn.Module, points: torch.Tensor) -> float:
        dtype = model_float_dtype(model)
        x = points if dtype is None else points.to(dtype)
        lam = cast(torch.Tensor, maximal_ftle(model, x, layer=self.layer, depth=self.depth))
        return float(torch.nanmean(lam.double()))

    def _store(
        self,
        epoch: int,
        keep: bool,
        snapshot: StateDict | None,
        nbytes: int,
        values: dict[str, float],
    ) -> None:
        """Add a record and apply the keep policy (called with the lock held)."""
        dropped = []
        if self._epochs and not self._regular[self._epochs[-1]]:
            dropped.append(self._epochs[-1])  # the previous latest, kept only as latest
        self._epochs.append(epoch)
        self._regular[epoch] = keep
        if snapshot is not None:
            self._memory[epoch] = snapshot
            self._bytes[epoch] = nbytes
        for old in dropped:
            self._forget(old)
        while self.last is not None and len(self._epochs) > self.last:
            self._forget(self._epochs[0])
        self._records += 1
        self._recorded.append(epoch)
        for name, value in values.items():
            epochs, series = self._metrics.setdefault(name, ([], []))
            epochs.append(epoch)
            series.append(value)

    def _forget(self, epoch: int) -> None:
        self._epochs.remove(epoch)
        del self._regular[epoch]
        self._memory.pop(epoch, None)
        self._bytes.pop(epoch, None)
        if self.directory is not None:
            self._path(epoch).unlink(missing_ok=True)

    def _path(self, epoch: int) -> pathlib.Path:  # only with a directory
        return cast(pathlib.Path, self.directory) / f"epoch_{epoch}.pt"

    # ------------------------------------------------------------------ observers
    def observe(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """Call ``callback(epoch)`` after every record, from the recording thread.

        Returns
        -------
        A function that unsubscribes ``callback`` (calling it again does nothing).
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable, not {type(callback).__name__}")
        with self._lock:
            self._observers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._observers:
                    self._observers.remove(callback)

        return unsubscribe

    # ------------------------------------------------------------------ reading
    def __getitem__(self, epoch: int) -> StateDict:
        """The state dict recorded at ``epoch``, exactly (a fresh copy each time)."""
        with self._lock:
            if epoch not in self._regular:
                raise KeyError(self._missing(epoch))
            if self.directory is None:
                stored = self._memory[epoch]  # never mutated: copied outside the lock
            else:
                return torch.load(self._path(epoch), map_location="cpu", weights_only=True)
        return _fresh(stored)

    def _missing(self, epoch: object) -> str:
        if not self._epochs:
            return f"no snapshot of epoch {epoch!r}: no snapshots are held"
        if not isinstance(epoch, numbers.Real):
            return f"epochs are ints, not {type(epoch).__name__}"
        i = bisect.bisect_left(self._epochs, epoch)
        near = self._epochs[max(i - 1, 0) : i + 1]
        return (
            f"no snapshot of epoch {epoch}; the nearest held: "
            f"{', '.join(map(str, near))} (see History.epochs)"
        )

    def nearest(self, epoch: float) -> int:
        """The epoch with a snapshot nearest to ``epoch`` (the earlier one on a tie)."""
        value = float(epoch)
        if math.isnan(value):
            raise ValueError("nearest needs a number, not NaN")
        with self._lock:
            if not self._epochs:
                raise LookupError("no snapshots are held yet")
            i = bisect.bisect_left(self._epochs, value)
            near = self._epochs[max(i - 1, 0) : i + 1]
        return min(near, key=lambda e: abs(e - value))

    @property
    def epochs(self) -> list[int]:
        """The epochs with a snapshot, increasing."""
        with self._lock:
            return list(self._epochs)

    @property
    def recorded(self) -> list[int]:
        """Every epoch recorded, increasing."""
        with self._lock:
            return list(self._recorded)

    @property
    def latest(self) -> int | None:
        """The newest epoch recorded (always has a snapshot), or ``None``."""
        with self._lock:
            return self._recorded[-1] if self._recorded else None

    @property
    def metric_names(self) -> list[str]:
        """The metrics recorded so far, in order of first appearance."""
        with self._lock:
            return list(self._metrics)

    def metric(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(epochs, values) of one metric: int64 and float64 arrays of the records that had it."""
        with self._lock:
            if name not in self._metrics:
                known = ", ".join(map(repr, self._metrics)) or "none yet"
                raise KeyError(f"no metric {name!r}; recorded: {known}")
            epochs, values = self._metrics[name]
            return np.array(epochs, dtype=np.int64), np.array(values, dtype=np.float64)

    @property
    def nbytes(self) -> int:
        """Bytes of the tensors of the snapshots held in memory (0 when they are on disk)."""
        with self._lock:
            return sum(self._bytes.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._epochs)

    def __contains__(self, epoch: object) -> bool:
        with self._lock:
            try:
                return epoch in self._regular
            except TypeError:  # unhashable
                return False

    def __iter__(self) -> Iterator[int]:
        return iter(self.epochs)

    def __repr__(self) -> str:
        with self._lock:
            if not self._recorded:
                return f"History(empty, every={self.every}, last={self.last})"
            held = self._epochs
            shown = (
                ", ".join(map(str, held))
                if len(held) <= 6
                else f"{', '.join(map(str, held[:3]))}, …, {', '.join(map(str, held[-2:]))}"
            )
            where = (
                f"on disk at {self.directory}"
                if self.directory is not None
                else _size(sum(self._bytes.values()))
            )
            names = ", ".join(self._metrics) or "none"
            return (
                f"History({len(self._recorded)} records, epochs {self._recorded[0]}–"
                f"{self._recorded[-1]}; {len(held)} snapshots [{shown}], {where}; "
                f"metrics: {names})"
            )
