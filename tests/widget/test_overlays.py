"""The data overlay: a stratified sample by default, every point on request."""

from __future__ import annotations

import numpy as np

from ftle_widget import Plane
from ftle_widget.widget.overlays import DEFAULT_POINTS, MAX_DATA_POINTS, data_overlay


def test_the_default_overlay_is_a_sample_that_keeps_every_class_share():
    rng = np.random.default_rng(0)
    points = rng.uniform(-1, 1, (4000, 2))
    labels = np.array([0] * 2600 + [1] * 1397 + [2] * 3)  # a rare class too
    shown = data_overlay(Plane.standard(2), points, labels)
    assert abs(shown.count - DEFAULT_POINTS) <= 3
    counts = np.bincount(shown.classes.astype(int), minlength=3)
    assert abs(counts[0] - 325) <= 1 and abs(counts[1] - 175) <= 1 and counts[2] == 1
    assert shown.names == ["0", "1", "2"]
    # the points are the data's own (u, v), not moved
    rows = {tuple(p) for p in points.astype(np.float32).tolist()}
    assert all(tuple(p) in rows for p in shown.uv.tolist())
    # the same sample every time; every point on request, at most MAX_DATA_POINTS
    again = data_overlay(Plane.standard(2), points, labels)
    assert np.array_equal(shown.uv, again.uv)
    assert data_overlay(Plane.standard(2), points, labels, limit=None).count == 4000
    many = rng.uniform(-1, 1, (MAX_DATA_POINTS + 700, 2))
    assert data_overlay(Plane.standard(2), many, limit=None).count == MAX_DATA_POINTS
    assert data_overlay(Plane.standard(2), points[:300], labels[:300]).count == 300


def test_the_view_sends_the_sample_by_default_and_every_point_on_request():
    from helpers import browser_sends

    from ftle_widget import FTLEView, datasets
    from ftle_widget.paper.models import mlp

    data = datasets.circle()  # 4000 test points
    counts = []
    for data_points in (DEFAULT_POINTS, None):
        view = FTLEView(mlp(2, 4, 1, 1), data=data.x_test, labels=data.y_test,
                        data_points=data_points)  # fmt: skip
        sent = []
        view.send = lambda content, buffers=None, sent=sent: sent.append(content)
        browser_sends(view, {"kind": "data_request"})
        (message,) = [m for m in sent if m["kind"] == "data"]
        counts.append(message["count"])
        view.close()
    assert abs(counts[0] - DEFAULT_POINTS) <= 2 and counts[1] == len(data.x_test)
