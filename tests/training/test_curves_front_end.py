"""TrainingCurves against bqplot's front-end traps (#12.20): integer epoch ticks, y scales held at
fixed limits while their data has no range, index selectors that leave the highlight alone."""

from __future__ import annotations

import bqplot as bq
import numpy as np
import pytest
from torch import nn

from ftle_widget.training.curves import TrainingCurves, epoch_ticks, y_limits
from ftle_widget.training.history import History


@pytest.mark.parametrize("first", [0, 1, 7])
def test_epoch_ticks_are_distinct_integers_and_few(first):
    for last in range(first, first + 2001):
        ticks = epoch_ticks(first, last)
        assert ticks.dtype.kind == "i"
        assert 1 <= len(ticks) <= 10
        assert len(set(ticks.tolist())) == len(ticks)
        assert first <= ticks[0] and ticks[-1] <= last
        step = np.diff(ticks)
        assert len(set(step.tolist())) <= 1  # evenly spaced
        if len(step):
            assert int(str(step[0]).rstrip("0") or 0) in (1, 2, 5)  # 1, 2 or 5 × 10ᵏ
    np.testing.assert_array_equal(epoch_ticks(0, 4), [0, 1, 2, 3, 4])  # not 0 0.5 1 …
    np.testing.assert_array_equal(epoch_ticks(0, 40), [0, 5, 10, 15, 20, 25, 30, 35, 40])
    np.testing.assert_array_equal(epoch_ticks(3, 3), [3])
    np.testing.assert_array_equal(epoch_ticks(4, 0), [0, 1, 2, 3, 4])


def test_y_limits_only_where_bqplot_cannot_fit_the_data():
    assert y_limits(np.array([0.1, 0.2])) is None  # a range: bqplot fits it
    assert y_limits(np.array([0.1, np.nan, 0.2])) is None  # gaps are fine
    low, high = y_limits(np.array([-0.083]))  # one epoch: no range
    assert low < -0.083 < high
    low, high = y_limits(np.array([0.08, 0.08 * (1 + 1e-15)]))  # none to speak of
    assert low < 0.08 < high and high - low > 1e-3
    assert y_limits(np.array([0.0, 0.0])) == (-0.5, 0.5)
    assert y_limits(np.array([])) == (0.0, 1.0)
    assert y_limits(np.array([np.nan])) == (0.0, 1.0)
    assert y_limits(np.array([1.0, np.inf, 2.0])) == (1.0, 2.0)  # the finite values


def test_the_epoch_axes_get_integer_ticks_as_the_history_grows():
    history = History()
    curves = TrainingCurves(history)
    model = nn.Linear(2, 1)
    for epoch in range(12):
        history.record(model, epoch=epoch, loss=1.0 / (epoch + 1), ftle_circle=0.01 * epoch)
        axes = [f.axes[0] for f in curves.figures.values()] + [curves.strip.axes[0]]
        for axis in axes:
            assert axis.scale is curves.x_scale and axis.tick_format == "d"
            np.testing.assert_array_equal(axis.tick_values, epoch_ticks(0, epoch))


def test_a_line_never_reaches_a_y_scale_without_a_range(monkeypatch):
    """Each Lines model is created while its figure's y scale has fixed limits (the front end
    fails to build a line whose data has no range below 0.1 in magnitude); the limits go once
    the data has a range."""
    seen = []
    lines = bq.Lines

    def spy(**kwargs):
        scale = kwargs["scales"]["y"]
        seen.append((kwargs["labels"][0], scale.min, scale.max))
        return lines(**kwargs)

    monkeypatch.setattr(bq, "Lines", spy)
    history = History()
    curves = TrainingCurves(history)
    model = nn.Linear(2, 1)
    history.record(model, loss=1.0, ftle_circle=-0.083, ftle_centre=0.030)
    assert [name for name, _, _ in seen] == ["loss", "ftle_circle", "ftle_centre"]
    assert all(low is not None and high is not None for _, low, high in seen)
    scale = curves.figures["other"].axes[1].scale
    assert (scale.min, scale.max) == (None, None)  # both lines: a range, bqplot fits it
    loss_scale = curves.figures["loss"].axes[1].scale
    assert loss_scale.min < 1.0 < loss_scale.max  # one value: held
    history.record(model, loss=0.5, ftle_circle=0.2, ftle_centre=-0.25)
    assert (loss_scale.min, loss_scale.max) == (None, None)  # a range now


def test_the_selectors_leave_the_highlight_to_python():
    """bqplot's IndexSelector sets the ``selected`` of its marks from their (stale) pixels in
    the browser, overriding the chosen snapshot: the selectors have no marks."""
    history = History()
    model = nn.Linear(2, 1)
    for epoch in range(5):
        history.record(model, epoch=epoch, loss=1.0 / (epoch + 1), acc=0.2 * epoch, x=0.1)
    curves = TrainingCurves(history)
    assert curves.selectors and all(s.marks == [] for s in curves.selectors.values())
    curves.epoch = 4
    for group, scatter in curves.scatters.items():
        np.testing.assert_array_equal(scatter.selected, [4], err_msg=group)
