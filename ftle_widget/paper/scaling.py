"""Fig. 3b of Storm et al. (2024) over seeds: L⟨λ₁⟩ on the decision boundary and in the centre
against the width N, averaged over independently trained nets, and the paper's two fits.

* **Centre**: L⟨λ₁⟩ in the centre rises like log N − C_c L + const (the paper: C_c ≈ 0.3).
  :meth:`SeedSweep.centre_fit` fits C_c and the constant by least squares to the seed means of
  centre − log N against L (one line through every (N, L) of the sweep, or only N ≥
  ``min_width``, where the log N law is meant to hold).
* **Crossing**: the boundary value saturates in N while the centre value keeps rising, so the
  contrast boundary − centre falls and vanishes at a width N_c(L). :meth:`SeedSweep.crossings`
  finds it per depth, interpolated in log N where the measured contrast changes sign inside the
  sweep, else extrapolated with the log N law (centre − log N taken as its mean over the widest
  half of the sweep, the boundary as its mean there); :meth:`SeedSweep.crossing_fit` fits
  log N_c = C_d + C_c' L (the paper: N_c ∼ exp(C_d + C_c L), the same C_c).

Error bars are standard errors of the mean over seeds (sample standard deviation / √seeds).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from torch import nn

from .statistics import boundary_and_centre

PAPER_BOUNDARY = {2: 1.2, 4: 2.2, 8: 3.0, 12: 3.2}  # Fig. 3b, read off the figure
PAPER_C_C = 0.3
WIDTHS_FULL = (4, 8, 16, 32, 64, 128, 250)  # a log grid from about 4 to 250
WIDTHS_QUICK = (8, 24)
SEEDS_FULL = (0, 1, 2)
SEEDS_QUICK = (0, 1)


@dataclass(frozen=True)
class Mean:
    """A seed mean: ``value`` ± ``error`` (standard error; 0 for one seed) of ``samples``."""

    value: float
    error: float
    samples: tuple[float, ...]

    @classmethod
    def of(cls, samples: Iterable[float]) -> Mean:
        """The mean and standard error of ``samples`` (at least one)."""
        values = tuple(float(s) for s in samples)
        if not values:
            raise ValueError("a mean needs at least one sample")
        spread = float(np.std(values, ddof=1)) / math.sqrt(len(values)) if len(values) > 1 else 0.0
        return cls(float(np.mean(values)), spread, values)


@dataclass(frozen=True)
class Fit:
    """A straight line ``y = intercept + slope · x`` by least squares, ``rms`` its residual."""

    slope: float
    intercept: float
    rms: float
    points: int


@dataclass(frozen=True)
class Crossing:
    """Where boundary and centre meet at depth ``depth``: ``width`` N_c, and whether it lies
    inside the sweep (``measured``: interpolated) or beyond it (extrapolated)."""

    depth: int
    width: float
    measured: bool


@dataclass
class SeedSweep:
    """Fig. 3b statistics of nets trained at every (N, L, seed) of a sweep.

    Attributes
    ----------
    boundary, centre : (N, L) → the seed :class:`Mean` of L⟨λ₁⟩ on the boundary and in the
        centre (:func:`~ftle_widget.paper.statistics.boundary_and_centre`).
    accuracy : (N, L) → the seed :class:`Mean` of the test accuracy, where known.
    excluded : the nets left out of the means, as (N, L, seed, why).
    """

    boundary: dict[tuple[int, int], Mean]
    centre: dict[tuple[int, int], Mean]
    accuracy: dict[tuple[int, int], Mean] = field(default_factory=dict)
    excluded: list[tuple[int, int, int, str]] = field(default_factory=list)

    @classmethod
    def from_samples(
        cls,
        samples: Mapping[tuple[int, int, int], tuple[float, float] | tuple[float, float, float]],
    ) -> SeedSweep:
        """From (N, L, seed) → (boundary, centre[, accuracy]) per trained net."""
        grouped: dict[tuple[int, int], list[tuple[float, ...]]] = {}
        for (n, depth, _), values in samples.items():
            grouped.setdefault((int(n), int(depth)), []).append(tuple(values))
        if not grouped:
            raise ValueError("no nets in the sweep")
        pick = lambda rows, k: Mean.of(r[k] for r in rows)  # noqa: E731
        return cls(
            {key: pick(rows, 0) for key, rows in grouped.items()},
            {key: pick(rows, 1) for key, rows in grouped.items()},
            {key: pick(rows, 2) for key, rows in grouped.items() if all(len(r) > 2 for r in rows)},
        )

    @property
    def widths(self) -> list[int]:
        """The widths N of the sweep, ascending."""
        return sorted({n for n, _ in self.boundary})

    @property
    def depths(self) -> list[int]:
        """The depths L of the sweep, ascending."""
        return sorted({d for _, d in self.boundary})

    def seeds(self) -> int:
        """The fewest seeds behind any mean of the sweep."""
        return min(len(m.samples) for m in self.boundary.values())

    def centre_fit(self, min_width: int = 0) -> Fit:
        """C_c and the constant of centre ≈ log N − C_c L + const over N ≥ ``min_width``:
        ``slope`` is −C_c, ``intercept`` the constant."""
        keys = [k for k in self.centre if k[0] >= min_width]
        x = [float(d) for _, d in keys]
        y = [self.centre[n, d].value - math.log(n) for n, d in keys]
        return _line(x, y)

    def widths_at(self, depth: int) -> list[int]:
        """The widths measured at ``depth``, ascending as :attr:`widths`."""
        return [n for n in self.widths if (n, depth) in self.boundary]

    def boundary_drift(self, depth: int) -> tuple[float, float]:
        """How far the boundary value moves across the sweep at ``depth``: the change from the
        narrowest to the widest net of a line in log N through the seed means, and that
        change's standard error (from the pooled standard error of the means: their root mean
        square)."""
        widths = self.widths_at(depth)
        means = [self.boundary[n, depth] for n in widths]
        logs = np.log(widths)
        fit = _line(logs, [m.value for m in means])
        span = float(logs[-1] - logs[0])
        pooled = float(np.sqrt(np.mean([m.error**2 for m in means])))
        return fit.slope * span, pooled * span / float(np.sqrt(((logs - logs.mean()) ** 2).sum()))

    def flat_in_width(self, depth: int, sigmas: float = 2.0) -> bool:
        """Whether the boundary value at ``depth`` is flat in N within the error bars: its
        :meth:`boundary_drift` is at most ``sigmas`` of its standard errors."""
        change, error = self.boundary_drift(depth)
        return abs(change) <= sigmas * error

    def crossings(self) -> list[Crossing]:
        """N_c per depth: where the contrast boundary − centre changes sign (see the module)."""
        found = []
        for depth in self.depths:
            widths = self.widths_at(depth)
            contrast = [self.boundary[n, depth].value - self.centre[n, depth].value for n in widths]
            logs = [math.log(n) for n in widths]
            inside = _first_root(logs, contrast)
            if inside is not None:
                found.append(Crossing(depth, math.exp(inside), True))
                continue
            wide = widths[len(widths) // 2 :]
            offset = np.mean([self.centre[n, depth].value - math.log(n) for n in wide])
            level = np.mean([self.boundary[n, depth].value for n in wide])
            found.append(Crossing(depth, float(math.exp(level - offset)), False))
        return found

    def crossing_fit(self) -> Fit:
        """log N_c = C_d + C_c' L over the depths: ``intercept`` C_d, ``slope`` C_c'."""
        crossings = self.crossings()
        return _line([c.depth for c in crossings], [math.log(c.width) for c in crossings])

    def table(self, paper: Mapping[int, float] = PAPER_BOUNDARY) -> str:
        """The sweep as text: per L and N, boundary ± error, centre ± error, contrast, and the
        paper's boundary value beside the first width of each depth."""
        rows = [f"{'L':>3} {'N':>4} {'boundary':>15} {'centre':>15} {'contrast':>9} {'paper':>6}"]
        for depth in self.depths:
            for k, n in enumerate(self.widths_at(depth)):
                b, c = self.boundary[n, depth], self.centre[n, depth]
                reference = f"{paper[depth]:6.2f}" if k == 0 and depth in paper else f"{'':>6}"
                rows.append(
                    f"{depth:3d} {n:4d} {b.value:7.2f} ± {b.error:5.2f} {c.value:7.2f} ± "
                    f"{c.error:5.2f} {b.value - c.value:9.2f} {reference}".rstrip()
                )
        return "\n".join(rows)


def sweep(
    train: Callable[[int, int, int], tuple[nn.Module, dict]],
    widths: Sequence[int],
    depths: Sequence[int],
    seeds: Sequence[int],
    *,
    n: int = 360,
    min_accuracy: float = 0.0,
) -> SeedSweep:
    """Train (or load) the net of every (N, L, seed) with ``train(N, L, seed) -> (model,
    info)`` (e.g. a partial of :func:`~ftle_widget.paper.nets.trained_circle_mlp`) and measure
    its boundary and centre with ``n`` rays and centre points.

    A net whose test accuracy (``info["test_accuracy"]``) is below ``min_accuracy``, or whose
    output has no decision boundary at all, did not learn the circle: it is left out of the
    means and listed in :attr:`SeedSweep.excluded` with the reason."""
    samples: dict[tuple[int, int, int], tuple[float, float, float]] = {}
    excluded: list[tuple[int, int, int, str]] = []
    for width in widths:
        for depth in depths:
            for seed in seeds:
                model, info = train(width, depth, seed)
                accuracy = float(info.get("test_accuracy", math.nan))
                if accuracy < min_accuracy:
                    why = f"test accuracy {accuracy:.2%} < {min_accuracy:.0%}"
                    excluded.append((width, depth, seed, why))
                    continue
                try:
                    stats = boundary_and_centre(model, n=n)
                except ValueError as error:  # no sign change: no boundary to measure
                    excluded.append((width, depth, seed, str(error)))
                    continue
                samples[width, depth, seed] = (stats.boundary, stats.centre, accuracy)
    result = SeedSweep.from_samples(samples)
    result.excluded = excluded
    return result


def _line(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> Fit:
    xs, ys = np.asarray(x, float), np.asarray(y, float)
    if len(xs) < 2 or np.ptp(xs) == 0:
        raise ValueError("a line fit needs at least two distinct x values")
    slope, intercept = np.polyfit(xs, ys, 1)
    rms = float(np.sqrt(np.mean((ys - (intercept + slope * xs)) ** 2)))
    return Fit(float(slope), float(intercept), rms, len(xs))


def _first_root(x: Sequence[float], y: Sequence[float]) -> float | None:
    """The first x where the piecewise-linear y falls through zero, or None."""
    for (x0, y0), (x1, y1) in zip(zip(x, y), zip(x[1:], y[1:])):
        if y0 > 0 >= y1:
            return x0 + (x1 - x0) * y0 / (y0 - y1)
    return None
