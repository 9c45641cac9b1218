"""TrainingCurves: a History's metrics against epoch, in bqplot figures that pick an epoch.

Losses, accuracy-like metrics and the rest (e.g. the ``ftle_*`` probe means) get a figure each;
triangles along their bottom mark the epochs with a weight snapshot. Moving a figure's index
selector (click the figure to let it follow the mouse, click again to freeze it) sets ``epoch`` to
the nearest snapshot. Below the figures, a strip of clickable points, one per snapshot, picks an
epoch with one click (bqplot draws a figure's interaction above its marks, so the triangles in
the figures with a selector cannot take clicks; the strip has no interaction). :func:`link` ties
``epoch`` to another widget's ``epoch``.

Three traps of bqplot's front end are kept away here: a y scale whose data span no range (one
epoch, or constant values) makes its axis guess an invalid tick format for values below 0.1 in
magnitude, and the exception kills the line's model ("invalid format: .undefinedg", then
"getScales is not a function"): such scales get fixed limits (:func:`y_limits`). ``tick_format
"d"`` alone labels the ticks at half epochs twice: the epoch axes get integer ticks
(:func:`epoch_ticks`). An index selector given marks sets their ``selected`` itself, from stale
pixels: the selectors get no marks, and Python alone highlights the chosen snapshot.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from typing import Any, cast

import bqplot as bq
import ipywidgets
import numpy as np
import traitlets
from bqplot.colorschemes import CATEGORY10
from bqplot.interacts import IndexSelector

from .history import History

GROUPS = ("loss", "accuracy", "other")  # figure order, top to bottom
LABELS = {"loss": "loss", "accuracy": "accuracy / error", "other": "value"}
SNAPSHOT_Y = 0.04  # height of the snapshot markers on their own [0, 1] scale
HIGHLIGHT = "orangered"


def epoch_ticks(first: int, last: int, most: int = 10) -> np.ndarray:
    """Integer tick values between ``first`` and ``last``, at most ``most`` (at least one): the
    multiples of the smallest step of 1, 2 or 5 × 10ᵏ that keeps them that few."""
    first, last = sorted((int(first), int(last)))
    steps = (m * 10**k for k in itertools.count() for m in (1, 2, 5))
    step = next(s for s in steps if (last - first) // s + 1 <= max(int(most), 1))
    return np.arange(-(-first // step) * step, last + 1, step, dtype=np.int64)


def y_limits(values: np.ndarray) -> tuple[float, float] | None:
    """Fixed limits for a y scale where bqplot's own from the data would break its axis: None
    (bqplot fits the data) when the finite values span a range and none is infinite; else the
    finite values' range, widened about a single value (0 to 1 if there is none)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return (0.0, 1.0)
    low, high = float(finite.min()), float(finite.max())
    if high - low > 1e-9 * max(abs(low), abs(high)):
        return None if finite.size == values[~np.isnan(values)].size else (low, high)
    pad = 0.1 * abs(low) if low else 0.5
    return (low - pad, high + pad)


def group_of(name: str) -> str:
    """The figure a metric goes in: ``"loss"``, ``"accuracy"`` (acc…, …error…) or ``"other"``."""
    lower = name.lower()
    if "loss" in lower:
        return "loss"
    if "acc" in lower or "error" in lower:
        return "accuracy"
    return "other"


class TrainingCurves(ipywidgets.VBox):
    """Metrics of a :class:`~ftle_widget.History` against epoch; grows while it records.

    Parameters
    ----------
    history : the record to show.
    metrics : the metrics to show, in this order (names recorded later appear when they do);
        default: all of them.

    Attributes
    ----------
    epoch : the chosen epoch (``None`` until one is chosen); set it to move the selectors.
    figures, lines, scatters, selectors : the bqplot parts, by group (``"loss"``,
        ``"accuracy"``, ``"other"``) or, for ``lines``, by metric name; ``scatters["epochs"]``
        is the strip of clickable snapshot points, in the figure ``strip``.
    """

    epoch = traitlets.Int(None, allow_none=True).tag(sync=True)

    def __init__(self, history: History, metrics: Sequence[str] | None = None, **kwargs: Any):
        if not isinstance(history, History):
            raise TypeError(f"history must be a History, not {type(history).__name__}")
        if isinstance(metrics, str):
            raise TypeError("metrics must be a sequence of names, not one string")
        super().__init__(**kwargs)
        self.history = history
        self._only = None if metrics is None else [str(m) for m in metrics]
        self._lock = threading.RLock()
        self.x_scale = bq.LinearScale()
        self.figures: dict[str, bq.Figure] = {}
        self.lines: dict[str, bq.Lines] = {}
        self.scatters: dict[str, bq.Scatter] = {}
        self.selectors: dict[str, IndexSelector] = {}
        self._parts: list[ipywidgets.Widget] = [self.x_scale]
        self._x_axes: list[bq.Axis] = []  # every axis on x_scale: their ticks are set together
        self._ticks = np.array([0, 1], dtype=np.int64)
        self._colours: dict[str, str] = {}
        self._unsubscribe = history.observe(self._on_record)  # first: no record is missed
        self.strip = self._add_strip()
        self.refresh()

    # ------------------------------------------------------------------ data
    def refresh(self) -> None:
        """Bring every line, the snapshot markers and the epoch ticks up to date with the
        history. A y scale is held at fixed limits while lines are added (one may have data
        without a range) and let go once every line has its data, if that has a range."""
        with self._lock:
            available = self.history.metric_names
            names = available if self._only is None else [n for n in self._only if n in available]
            series = {name: self.history.metric(name) for name in names}
            groups: dict[str, list[str]] = {}
            for name in series:
                groups.setdefault(group_of(name), []).append(name)
            release = []
            for group, members in groups.items():  # new figures first, in the order of the names
                values = np.concatenate([series[n][1] for n in members])
                fixed = y_limits(values)
                if fixed is None:  # a range: bqplot may fit it once every line has its data
                    release.append(group)
                    if any(n not in self.lines for n in members):  # a line alone may have none
                        fixed = (float(np.nanmin(values)), float(np.nanmax(values)))
                if fixed is not None or group not in self.figures:
                    self._set_y_limits(group, fixed)
            for name, (x, y) in series.items():
                line = self.lines.get(name)
                if line is None:
                    self._add_line(name, x, y)
                else:
                    with line.hold_sync():
                        line.x, line.y = x, y
            for group in release:
                self._set_y_limits(group, None)
            epochs = np.array(self.history.epochs, dtype=np.int64)
            for scatter in self.scatters.values():
                with scatter.hold_sync():
                    scatter.x = epochs
                    scatter.y = np.full(len(epochs), SNAPSHOT_Y)
                    scatter.selected = self._index_of(self.epoch, epochs)
            every = [epochs, *(x for x, _ in series.values())]
            span = np.concatenate(every) if any(len(e) for e in every) else np.array([0, 1])
            self._ticks = epoch_ticks(int(span.min()), int(span.max()))
            for axis in self._x_axes:
                if not np.array_equal(axis.tick_values, self._ticks):
                    axis.tick_values = self._ticks

    def _set_y_limits(self, group: str, limits: tuple[float, float] | None) -> None:
        """Fix the y scale of ``group``'s figure (created if need be) to ``limits``, or let it
        follow the data (None)."""
        figure = self.figures.get(group) or self._add_figure(group)
        scale = figure.axes[1].scale
        low, high = (None, None) if limits is None else limits
        if (scale.min, scale.max) != (low, high):
            with scale.hold_sync():
                scale.min, scale.max = low, high

    def _on_record(self, _epoch: int) -> None:
        self.refresh()

    def _colour(self, name: str) -> str:
        if name not in self._colours:
            self._colours[name] = CATEGORY10[len(self._colours) % len(CATEGORY10)]
        return self._colours[name]

    def _add_line(self, name: str, x: np.ndarray, y: np.ndarray) -> None:
        group = group_of(name)
        figure = self.figures.get(group) or self._add_figure(group)
        y_scale = figure.axes[1].scale
        line = bq.Lines(
            x=x,
            y=y,
            scales={"x": self.x_scale, "y": y_scale},
            labels=[name],
            display_legend=True,
            colors=[self._colour(name)],
            stroke_width=1.5,
        )
        self.lines[name] = line
        self._parts.append(line)
        snapshots = self.scatters[group]
        order = [m for m in figure.marks if m is not snapshots] + [line]
        if (only := self._only) is not None:  # the order asked for
            order.sort(key=lambda m: only.index(m.labels[0]))
        figure.marks = [*order, snapshots]  # the markers on top, to be clickable

    def _snapshot_marks(self, rug_scale: bq.LinearScale, **style: Any) -> bq.Scatter:
        """Markers at the snapshot epochs (the chosen one highlighted), click handler set."""
        epochs = np.array(self.history.epochs, dtype=np.int64)
        scatter = bq.Scatter(
            x=epochs,
            y=np.full(len(epochs), SNAPSHOT_Y),
            scales={"x": self.x_scale, "y": rug_scale},
            colors=["#888888"],
            selected_style={"fill": HIGHLIGHT, "stroke": "black"},
            selected=self._index_of(self.epoch, epochs),
            **style,
        )
        scatter.on_element_click(self._on_element_click)
        return scatter

    def _add_figure(self, group: str) -> bq.Figure:
        y_scale = bq.LinearScale()
        rug_scale = bq.LinearScale(min=0.0, max=1.0)
        scatter = self._snapshot_marks(rug_scale, marker="triangle-up", default_size=40)
        selector = IndexSelector(scale=self.x_scale, color=HIGHLIGHT)  # no marks: see above
        if self.epoch is not None:
            selector.selected = np.array([self.epoch])
        selector.observe(self._on_selected, "selected")
        axes = [
            bq.Axis(scale=self.x_scale, label="epoch", tick_format="d", tick_values=self._ticks),
            bq.Axis(scale=y_scale, side="left", label=LABELS[group]),
        ]
        figure = bq.Figure(
            marks=[scatter],
            axes=axes,
            interaction=selector,
            legend_location="top-right",
            fig_margin={"top": 15, "bottom": 40, "left": 60, "right": 15},
            layout=ipywidgets.Layout(width="100%", height="220px"),
        )
        self.figures[group] = figure
        self._x_axes.append(axes[0])
        self.scatters[group] = scatter
        self.selectors[group] = selector
        self._parts += [y_scale, rug_scale, scatter, selector, *axes, figure]
        self._arrange()
        return figure

    def _add_strip(self) -> bq.Figure:
        """The strip of clickable snapshot points under the figures (no interaction)."""
        rug_scale = bq.LinearScale(min=0.0, max=2 * SNAPSHOT_Y)
        scatter = self._snapshot_marks(
            rug_scale,
            marker="circle",
            default_size=64,
            tooltip=bq.Tooltip(fields=["x"], labels=["epoch"], formats=["d"]),
        )
        axis = bq.Axis(
            scale=self.x_scale,
            label="snapshots: click one",
            tick_format="d",
            tick_values=self._ticks,
        )
        self._x_axes.append(axis)
        strip = bq.Figure(
            marks=[scatter],
            axes=[axis],
            fig_margin={"top": 5, "bottom": 35, "left": 60, "right": 15},
            layout=ipywidgets.Layout(width="100%", height="80px"),
        )
        self.scatters["epochs"] = scatter
        self._parts += [rug_scale, scatter, scatter.tooltip, axis, strip]
        self.children = [strip]
        return strip

    def _arrange(self) -> None:
        self.children = [*(self.figures[g] for g in GROUPS if g in self.figures), self.strip]

    # ------------------------------------------------------------------ epoch
    @staticmethod
    def _index_of(epoch: int | None, epochs: np.ndarray) -> np.ndarray | None:
        where: np.ndarray | list[int] = np.flatnonzero(epochs == epoch) if epoch is not None else []
        return np.array(where[:1], dtype=np.int64) if len(where) else None

    def _on_selected(self, change: dict) -> None:
        """An index selector moved: choose the snapshot nearest to where it points."""
        selected = change["new"]
        if selected is None or len(selected) != 1 or not self.history.epochs:
            return
        x = float(selected[0])
        if self.epoch is not None and x == self.epoch:
            return  # our own echo
        self.epoch = self.history.nearest(x)

    def _on_element_click(self, _mark: bq.Scatter, event: dict) -> None:
        """A snapshot marker was clicked: ``event["data"]`` is the clicked point (x, index)."""
        data = event.get("data") or {}
        x = data.get("x")
        if x is None:  # fall back to the index into the marker's x
            index, xs = data.get("index"), _mark.x
            if index is None or not 0 <= int(index) < len(xs):
                return
            x = xs[int(index)]
        if self.history.epochs:
            self.epoch = self.history.nearest(float(x))

    @traitlets.observe("epoch")
    def _show_epoch(self, change: dict) -> None:
        epoch = change["new"]
        with self._lock:
            for selector in self.selectors.values():
                selector.selected = None if epoch is None else np.array([epoch])
            for scatter in self.scatters.values():
                scatter.selected = self._index_of(epoch, np.asarray(scatter.x))

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Stop following the history and close every part."""
        unsubscribe = getattr(self, "_unsubscribe", None)  # None if __init__ failed early
        if unsubscribe is not None:
            unsubscribe()
        with getattr(self, "_lock", threading.RLock()):
            for part in reversed(getattr(self, "_parts", [])):
                part.close()
        super().close()


def link(view: traitlets.HasTraits, curves: traitlets.HasTraits) -> traitlets.link:
    """Keep the ``epoch`` traits of ``view`` and ``curves`` equal, both ways.

    At the start the one that has an epoch (``view``'s if both do) sets the other. Returns the
    link; call its ``unlink()`` to part them.
    """
    for name, obj in (("view", view), ("curves", curves)):
        if not isinstance(obj, traitlets.HasTraits) or not obj.has_trait("epoch"):
            raise TypeError(f"{name} needs an 'epoch' trait; {type(obj).__name__} has none")
    if cast(Any, view).epoch is None and cast(Any, curves).epoch is not None:  # checked above
        return traitlets.link((curves, "epoch"), (view, "epoch"))
    return traitlets.link((view, "epoch"), (curves, "epoch"))
