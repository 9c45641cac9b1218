"""Where the axes' tick marks and labels go on a view: the twin of ``layoutAxes`` in the front
end's ``js/src/overlays/axes.ts`` (same constants, same choices, the same floating-point steps),
so that the PNG export draws the axes where the canvas does. Marks run along the bottom (u) and
left (v) edges, inside the field; labels sit beside them, clear of each other and of the marks."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .ticks import nice_ticks, tick_label, tick_step

AXES_FONT_PX = 11  # the canvas's "11px sans-serif"
TICK = 6  # CSS pixels: the length of a tick mark
GAP = 3  # between a tick mark and its label
PAD = 2  # between a label and the canvas's edge
CLEAR = 3  # a label keeps from the other labels and the other axis's marks
SPACING = 8  # between neighbouring u labels (fewer ticks are drawn until they fit)
MARK_HALO, TEXT_HALO, HALO_ALPHA = 3, 4, 0.6  # the halo's line widths and opacity


@dataclass(frozen=True)
class TextSize:
    """A text's advance width and its ink's height above and below the baseline."""

    width: float
    ascent: float
    descent: float


@dataclass(frozen=True)
class Box:
    """A rectangle in CSS pixels, (x, y) its top-left corner."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class AxisLabel(Box):
    """A tick label: the box of its text, and its text's baseline."""

    axis: str = "u"
    value: float = 0.0
    text: str = ""
    baseline: float = 0.0


@dataclass(frozen=True)
class TickMark:
    """A tick mark: a 1-px line from (x0, y0) to (x1, y1), centred on the pixel grid."""

    axis: str
    value: float
    x0: float
    y0: float
    x1: float
    y1: float

    def box(self) -> Box:
        """The box its 1-px line covers."""
        x, y = min(self.x0, self.x1) - 0.5, min(self.y0, self.y1) - 0.5
        return Box(x, y, abs(self.x1 - self.x0) + 1, abs(self.y1 - self.y0) + 1)


@dataclass(frozen=True)
class AxesLayout:
    """What the axes draw."""

    ticks: list[TickMark]
    labels: list[AxisLabel]


def gap(a: Box, b: Box) -> float:
    """The gap between two boxes (negative where they overlap)."""
    dx = max(a.x - (b.x + b.width), b.x - (a.x + a.width))
    dy = max(a.y - (b.y + b.height), b.y - (a.y + a.height))
    return max(dx, dy)


def js_round(x: float) -> int:
    """JavaScript's ``Math.round``: halves go up."""
    return math.floor(x + 0.5)


def _snap(x: float, size: float) -> float:
    """A screen coordinate on the middle of its pixel, inside [0, size)."""
    return min(max(js_round(x), 0), size - 1) + 0.5


def layout_axes(
    extent: Sequence[float], width: float, height: float, measure: Callable[[str], TextSize]
) -> AxesLayout:
    """Where the axes' marks and labels go on a view of ``extent`` drawn on ``width × height``
    CSS pixels, with texts measured by ``measure`` (as ``layoutAxes`` places them)."""
    u0, u1, v0, v1 = (float(e) for e in extent)

    def label(axis: str, value: float, step: float, place) -> AxisLabel:
        text = tick_label(value, step)
        m = measure(text)
        x, top = place(m)
        return AxisLabel(x, top, m.width, m.ascent + m.descent, axis, value, text, top + m.ascent)

    u_ticks: list[TickMark] = []
    u_labels: list[AxisLabel] = []
    for count in range(max(2, math.floor(width / 90)), 1, -1):
        step = tick_step(u0, u1, count)
        u_ticks, u_labels = [], []
        for u in nice_ticks(u0, u1, count):
            x = ((u - u0) / (u1 - u0)) * width
            xs = _snap(x, width)
            u_ticks.append(TickMark("u", u, xs, height, xs, height - TICK))

            def place(m: TextSize, x: float = x) -> tuple[float, float]:
                left = min(max(x - m.width / 2, TICK + CLEAR), width - PAD - m.width)
                return js_round(left), math.floor(height - TICK - GAP - m.ascent - m.descent)

            u_labels.append(label("u", u, step, place))
        if all(k == 0 or gap(u_labels[k - 1], lab) >= SPACING for k, lab in enumerate(u_labels)):
            break
    labels: list[AxisLabel] = []
    for lab in u_labels:
        if all(gap(kept, lab) >= SPACING for kept in labels):
            labels.append(lab)
    v_ticks = []
    count = max(2, math.floor(height / 70))
    step = tick_step(v0, v1, count)
    u_marks = [t.box() for t in u_ticks]
    for v in nice_ticks(v0, v1, count):
        ys = _snap(((v1 - v) / (v1 - v0)) * height, height)
        v_ticks.append(TickMark("v", v, 0, ys, TICK, ys))

        def beside(m: TextSize, ys: float = ys) -> tuple[float, float]:
            above = math.floor(ys - 0.5 - GAP - m.ascent - m.descent)
            return PAD, above if above >= PAD else math.ceil(ys + 0.5 + GAP)

        lab = label("v", v, step, beside)
        if all(gap(b, lab) >= CLEAR for b in [*labels, *u_marks]):
            labels.append(lab)
    return AxesLayout([*u_ticks, *v_ticks], labels)
