"""Model versions: the live model, a version number that grows with each change of its weights,
frozen snapshots of the last few versions, and tags that let equal weights share cached tiles.
A version may also read the network at another hidden layer than the scheduler's endpoint
(:meth:`ModelVersions.read_at`: depth as time): its weights stay, its tiles are cached apart."""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Mapping

import torch
from torch import nn

from ..maths.modules import model_device, weights_fingerprint


class ModelVersions:
    """The live model, a version number that grows with each change, and weight snapshots."""

    def __init__(self, model: nn.Module, device: torch.device | str | None = None, keep: int = 3):
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, not {type(model).__name__}")
        self.lock = threading.RLock()
        self.device = None if device is None else torch.device(device)
        self._model = model
        self._keep = keep
        self._version = 0
        self._snapshots: OrderedDict[int, nn.Module] = OrderedDict()
        self._tags: dict[int, object] = {}  # version → what its weights are (e.g. an epoch)
        self._origin: dict[int, int] = {}  # version → the version its weights came with
        self._layers: dict[int, int] = {}  # version → the hidden layer it reads (read_at)
        self._layer: int | None = None  # what new versions read (None: the endpoint)
        self._fingerprint: tuple | None = None
        self._take_snapshot()

    @property
    def model(self) -> nn.Module:
        return self._model

    def current(self) -> int:
        """The current version, after noticing any in-place change of the weights."""
        with self.lock:
            if weights_fingerprint(self._model, values=True) != self._fingerprint:
                self._version += 1
                self._take_snapshot()
            return self._version

    def update(
        self, model_or_state: nn.Module | Mapping[str, torch.Tensor], tag: object = None
    ) -> int:
        """A new model, or new weights (a state dict, loaded into a copy): a new version.

        ``tag`` (hashable) names the weights, e.g. ``("epoch", 3)``: versions with equal tags
        share cached tiles, so going back to weights seen before is served from the cache.
        """
        with self.lock:
            if isinstance(model_or_state, nn.Module):
                self._model = model_or_state
            elif isinstance(model_or_state, Mapping):
                fresh = copy.deepcopy(self._model)
                fresh.load_state_dict(model_or_state)
                self._model = fresh
            else:
                raise TypeError("update_model takes an nn.Module or a state dict")
            self._version += 1
            if tag is not None:
                self._tags[self._version] = tag
            self._take_snapshot()
            return self._version

    def read_at(self, layer: int | None) -> int:
        """A new version with the current weights (the same snapshot, not copied) read at hidden
        layer ``layer`` (None: the scheduler's endpoint); versions after it read there too.
        Equal weights read at the same layer share cached tiles."""
        with self.lock:
            current = self.current()
            self._version += 1
            self._origin[self._version] = self._origin.get(current, current)
            self._layer = layer
            if layer is not None:
                self._layers[self._version] = layer
            self._snapshots[self._version] = self._snapshots[current]
            while len(self._snapshots) > self._keep:
                self._snapshots.popitem(last=False)
            return self._version

    def layer_of(self, version: int) -> int | None:
        """The hidden layer ``version`` reads (:meth:`read_at`), None for the endpoint."""
        return self._layers.get(version)

    def content(self, version: int) -> object:
        """What identifies the weights of ``version`` in cache keys: its tag, or itself."""
        weights = self._origin.get(version, version)
        tag = self._tags.get(weights)
        content = ("version", weights) if tag is None else ("tag", tag)
        layer = self._layers.get(version)
        return content if layer is None else ("layer", layer, content)

    def snapshot(self, version: int) -> nn.Module:
        """The frozen copy of the weights of ``version`` (kept for the last few versions)."""
        with self.lock:
            try:
                return self._snapshots[version]
            except KeyError:
                raise LookupError(f"model version {version} is no longer held") from None

    def _take_snapshot(self) -> None:
        for _ in range(10):  # retry if a writer that ignores the lock changed weights meanwhile
            before = weights_fingerprint(self._model, values=True)
            clone = copy.deepcopy(self._model)
            if weights_fingerprint(self._model, values=True) == before:
                break
        clone.requires_grad_(False).eval()
        if self.device is not None and model_device(clone) != self.device:
            clone = clone.to(self.device)
        self._fingerprint = before
        self._snapshots[self._version] = clone
        if self._layer is not None:  # new weights, read where the versions before were
            self._layers[self._version] = self._layer
        while len(self._snapshots) > self._keep:
            self._snapshots.popitem(last=False)
