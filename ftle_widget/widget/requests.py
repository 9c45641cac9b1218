"""The browser's view requests and the scheduler's generations: which browser generation each
scheduler generation answers, and the home view pushed before any browser asks.

The browser numbers its requests 1, 2, … (one count for all displays of a widget, see
js/src/shared.ts); the scheduler numbers its own (one per request, also for refreshes that the
browser did not ask for). Tiles go out tagged with the browser's number. The browser drops tiles
tagged below its newest request's, so a refresh (new weights, the Directions toggle) is tagged
with the newest generation read (:attr:`Generations.newest`), even when that request was refused.
Generation 0 is the push: the home view computed when the view is made, so that the first
picture never waits for the kernel to read a request (while a notebook runs its later cells it
cannot, but pushes arrive).
"""

from __future__ import annotations

import threading

from ..lazy.pyramid import View, fit_extent

# The canvas width (CSS px) assumed for the pushed home view: a notebook cell's width. The
# browser's own request, once the kernel reads it, asks at the real size.
PUSH_WIDTH = 1024
_KEPT = 64  # scheduler generations remembered


def pushed_view(home, height: int, width: int = PUSH_WIDTH) -> View:
    """``home`` grown about its centre to a ``width × height`` canvas's aspect (square pixels),
    as the browser fits an extent (``Viewport.fit`` in js/src/viewport.ts)."""
    return View(fit_extent(home, width, height), width, height)


class Generations:
    """Scheduler generation → browser generation, for the last :data:`_KEPT` requests, and the
    browser's newest request. Hold :attr:`serial` while making a request: then a refresh from
    another thread (following a training run) never answers an older view after a newer one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._browser: dict[int, int] = {}
        self._next = 0
        self.newest = 0  # the generation of the last view request read from the browser
        self.serial = threading.RLock()

    def asked(self, browser: int | None) -> None:
        """The browser sent a view request of generation ``browser`` (answered or refused;
        None: not a view request, or its generation was not valid)."""
        if browser is not None:
            self.newest = browser

    def new(self, browser: int) -> int:
        """A new scheduler generation answering the browser's ``browser``."""
        with self._lock:
            self._next += 1
            self._browser[self._next] = browser
            for old in [g for g in self._browser if g < self._next - _KEPT]:
                del self._browser[old]
            return self._next

    def browser(self, internal: int) -> int | None:
        """The browser generation that scheduler generation ``internal`` answers (None when
        forgotten or unknown: its tiles are not sent)."""
        with self._lock:
            return self._browser.get(internal)
