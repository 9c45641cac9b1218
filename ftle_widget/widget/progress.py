"""The progress of the last view's tiles as the widget shows it: the ``progress`` trait
``(done, total, phase)`` (the browser draws it as a thin bar while work is pending) and the status
line that names what is being computed (:mod:`ftle_widget.lazy.planning`'s phases)."""

from __future__ import annotations

import threading

from ..lazy.planning import COARSE, MARGIN, PREVIEW, VIEW

# the names the trait carries
PHASES = {PREVIEW: "preview", COARSE: "coarse", VIEW: "view", MARGIN: "margin"}
_WHAT = {
    "preview": "a preview",
    "coarse": "a coarse pass",
    "view": "the view",
    "margin": "the margin around the view",
}


def progress_value(done: int, total: int, phase: int | None) -> tuple[int, int, str]:
    """The ``progress`` trait: tiles done and planned for the last view, and the phase of the
    work left (``""`` when none is left)."""
    return done, total, PHASES.get(phase, "") if phase is not None and done < total else ""


def progress_status(done: int, total: int, phase: str) -> str:
    """The status line for a progress report."""
    if done >= total:
        return f"{total} tiles"
    what = _WHAT.get(phase)
    return f"computing {what}: {done}/{total} tiles" if what else f"{done}/{total} tiles"


class Reports:
    """Which progress reports to show: they come from two threads (cached tiles at once, in the
    caller's; computed ones from the worker), so an older one may arrive after a newer one; it is
    dropped (a report is older when its request is, or for the same request, fewer are done)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = (-1, -1)

    def fresh(self, generation: int, done: int) -> bool:
        with self._lock:
            if (generation, done) < self._last:
                return False
            self._last = (generation, done)
            return True
