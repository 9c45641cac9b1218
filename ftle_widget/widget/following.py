"""Following a training run: the ``epoch`` trait picks a :class:`~ftle_widget.History`'s
weights, and :meth:`FollowsHistory.follow` shows each new epoch as training records it."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping

import torch
import traitlets


class FollowsHistory(traitlets.HasTraits):
    """The history side of :class:`~ftle_widget.FTLEView`: it shows weights through
    ``_show_weights(state_dict, tag)``, which the widget implements."""

    epoch = traitlets.Int(None, allow_none=True)
    following = traitlets.Bool(False)

    def _start_following(self, history) -> None:
        """Called once by the widget's constructor (``history`` may be None)."""
        self._follow_lock = threading.Lock()
        self._history = history
        self._unfollow: Callable[[], None] | None = None
        self._follow_timer: threading.Timer | None = None
        self._last_follow = -math.inf
        self.observe(self._on_epoch, names="epoch")
        if history is not None and history.latest is not None:
            self.epoch = history.latest

    def _show_weights(self, weights: Mapping[str, torch.Tensor], tag: object) -> None:
        raise NotImplementedError

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
        with self._follow_lock:
            if self._follow_timer is not None:
                self._follow_timer.cancel()
                self._follow_timer = None
        self.following = False

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
        self._show_weights(self._history[epoch], (id(self._history), epoch))

    def _on_record(self, epoch: int) -> None:
        """A new record (in the training thread): show it now, or when the interval is over."""
        with self._follow_lock:
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
        with self._follow_lock:
            self._follow_timer = None
            self._last_follow = time.monotonic()
        if self._unfollow is not None:
            self._show(self._history.latest)

    def _show(self, epoch: int | None) -> None:
        if epoch is not None and epoch in self._history and epoch != self.epoch:
            self.epoch = epoch
