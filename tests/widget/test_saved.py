"""Saved views: FTLEView.state() → JSON → FTLEView.from_state reopens the same view (the same
pixels), planes bit for bit, bad states named, epochs and endpoints checked; the CLI's
``render --state`` draws what the view draws."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from ftle_widget import FTLEView, History, Plane
from ftle_widget.cli import main
from ftle_widget.paper.models import default_model, mlp
from ftle_widget.widget.saved import plane_from_state, plane_state


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGBA"))


@pytest.fixture
def views():
    made: list[FTLEView] = []
    yield made
    for view in made:
        view.close()


def test_a_state_reopens_the_same_view_to_the_pixel(tmp_path, views):
    model = mlp(2, 10, 3, 1, seed=0)
    view = FTLEView(
        model, extent=(-1.0, 2.0, -1.0, 1.0), quantity="log_stretch", vmin=-2.0, vmax=3.0,
        cmap="viridis", show_directions=True, show_boundary=False, layer=2,
    )  # fmt: skip
    views.append(view)
    state = view.state()
    text = json.dumps(state)
    assert len(text) < 1000  # small: a standard plane is its two axes
    assert state["endpoint"] == view.layer and state["layer"] == 2
    (tmp_path / "view.json").write_text(text)
    for given in (state, text, tmp_path / "view.json", str(tmp_path / "view.json")):
        again = FTLEView.from_state(model, given)
        views.append(again)
        assert again.state() == state
    before = pixels(view.to_png(tmp_path / "a.png", shape=(48, 72)))
    after = pixels(views[-1].to_png(tmp_path / "b.png", shape=(48, 72)))
    np.testing.assert_array_equal(before, after)
    other = FTLEView(model, extent=(-1.0, 2.0, -1.0, 1.0), quantity="log_stretch", layer=2)
    views.append(other)
    assert not np.array_equal(before, pixels(other.to_png(tmp_path / "c.png", shape=(48, 72))))
    # keywords given beside the state win
    views.append(FTLEView.from_state(model, state, cmap="RdBu_r"))
    assert views[-1].cmap == "RdBu_r" and views[-1].vmin == -2.0


def test_planes_come_back_bit_for_bit():
    generator = torch.Generator().manual_seed(3)
    general = Plane(
        *(torch.randn(1, 8, 8, generator=generator, dtype=torch.float64) for _ in "ouv")
    )
    data = json.loads(json.dumps(plane_state(general)))
    back = plane_from_state(data)
    for a, b in ((general.origin, back.origin), (general.u, back.u), (general.v, back.v)):
        assert torch.equal(a, b)
    standard = Plane.standard((3, 4, 4), 5, 17)
    assert plane_state(standard) == {"shape": [3, 4, 4], "standard": [5, 17]}
    assert torch.equal(plane_from_state(plane_state(standard)).v, standard.v)
    scaled = Plane.standard(4, 0, 1)
    scaled.u = 2 * scaled.u  # not a unit vector: written in full
    assert "u" in plane_state(Plane(scaled.origin, scaled.u, scaled.v))


def test_bad_states_say_what_is_wrong(views):
    model = mlp(2, 5, 2, 1)
    view = FTLEView(model)
    views.append(view)
    state = view.state()
    with pytest.raises(
        ValueError, match=r"unknown state entries \['zoom'\]; a state holds version"
    ):
        FTLEView.from_state(model, {**state, "zoom": 2})
    with pytest.raises(ValueError, match="state version 7: this package reads 1"):
        FTLEView.from_state(model, {**state, "version": 7})
    with pytest.raises(ValueError, match="lacks plane"):
        FTLEView.from_state(model, {k: v for k, v in state.items() if k != "plane"})
    with pytest.raises(ValueError, match="standard: \\[i, j\\] or origin, u and v"):
        FTLEView.from_state(model, {**state, "plane": {"shape": [2]}})
    with pytest.raises(TypeError, match="a view's state is a dict"):
        FTLEView.from_state(model, "[1, 2]")


def test_the_epoch_comes_back_with_a_history_and_a_warning_without(views):
    model = mlp(2, 5, 2, 1, seed=0)
    history = History()
    for epoch in range(3):
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(1.1)
        history.record(model, epoch=epoch)
    view = FTLEView(model, history=history)
    views.append(view)
    view.epoch = 1
    state = view.state()
    assert state["epoch"] == 1
    views.append(FTLEView.from_state(model, state, history=history))
    assert views[-1].epoch == 1
    with pytest.warns(UserWarning, match="saved at epoch 1: pass history="):
        views.append(FTLEView.from_state(model, state))
    with pytest.warns(UserWarning, match="saved reading"):
        views.append(FTLEView.from_state(mlp(2, 5, 4, 1), {**state, "epoch": None}))


def test_render_state_draws_what_the_view_draws(tmp_path, views):
    view = FTLEView(
        default_model(), extent=(-1.2, 1.8, -1.5, 1.5), quantity="log_stretch", vmin=-3.0,
        vmax=3.0, show_directions=True, show_data=False,
    )  # fmt: skip
    views.append(view)
    (tmp_path / "view.json").write_text(json.dumps(view.state()))
    out = tmp_path / "cli.png"
    code = main(
        ["render", "--state", str(tmp_path / "view.json"), "--size", "60", "--out", str(out)]
    )
    assert code == 0
    np.testing.assert_array_equal(
        pixels(out), pixels(view.to_png(tmp_path / "v.png", shape=(60, 60)))
    )
    # an option given beside the state wins
    main(["render", "--state", str(tmp_path / "view.json"), "--size", "60", "--cmap", "viridis",
          "--out", str(tmp_path / "other.png")])  # fmt: skip
    view.cmap = "viridis"
    np.testing.assert_array_equal(
        pixels(tmp_path / "other.png"), pixels(view.to_png(tmp_path / "w.png", shape=(60, 60)))
    )


def test_a_state_request_from_the_browser_is_answered_with_the_state(views):
    from helpers import browser_sends

    view = FTLEView(mlp(2, 5, 2, 1), extent=(-1.0, 1.0, -2.0, 2.0))
    views.append(view)
    sent = []
    view.send = lambda content, buffers=None: sent.append((content, buffers or []))
    browser_sends(view, {"kind": "state_request"})
    (reply,) = [m for m, _ in sent if m["kind"] == "state"]
    assert json.loads(reply["json"]) == view.state()
