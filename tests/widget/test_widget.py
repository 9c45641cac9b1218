"""FTLEView without a browser: validation, tile messages, state, plane defaults, PNG."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import traitlets
from helpers import FailsBeyond, browser_sends
from PIL import Image
from torch import nn

from ftle_widget import FTLEView, Plane, ftle_field
from ftle_widget.lazy.pyramid import View
from ftle_widget.paper.models import mlp
from ftle_widget.widget.export import colorize
from ftle_widget.widget.protocol import pack_direction


def make(model=None, **kw):
    view = FTLEView(model if model is not None else mlp(2, 10, 3, 1, seed=0), **kw)
    sent = []
    view.send = lambda content, buffers=None: sent.append((content, buffers or []))
    return view, sent


def ask(view, generation=1, extent=(-1.5, 1.5, -1.5, 1.5), width=128, height=128):
    browser_sends(
        view,
        {
            "kind": "view",
            "generation": generation,
            "extent": list(extent),
            "width": width,
            "height": height,
        },
    )
    assert view.scheduler.wait(60)


@pytest.mark.parametrize(
    "message,reason",
    [
        (
            {
                "kind": "view",
                "generation": 1,
                "extent": [0, float("nan"), 0, 1],
                "width": 64,
                "height": 64,
            },
            "finite",
        ),
        (
            {"kind": "view", "generation": 1, "extent": [1, 0, 0, 1], "width": 64, "height": 64},
            "u0 < u1",
        ),
        (
            {"kind": "view", "generation": 1, "extent": [0, 1, 0, 1], "width": 0, "height": 64},
            "width",
        ),
        (
            {"kind": "view", "generation": 1, "extent": [0, 1, 0, 1], "width": 64, "height": 10**7},
            "height",
        ),
        (
            {"kind": "view", "generation": -2, "extent": [0, 1, 0, 1], "width": 64, "height": 64},
            "generation",
        ),
        (
            {"kind": "view", "generation": 1, "extent": "everything", "width": 64, "height": 64},
            "four numbers",
        ),
        ({"kind": "hack"}, "unknown message"),
    ],
)
def test_malformed_requests_are_refused_and_never_computed(message, reason):
    view, sent = make()
    browser_sends(view, message)
    assert view.scheduler.wait(5)
    assert sent == [] and reason in view.status and view.error.startswith("refused")
    view.close()


def test_a_view_streams_binary_tiles_with_the_browsers_generation():
    view, sent = make()
    ask(view, generation=7)
    tiles = [(m, b) for m, b in sent if m["kind"] == "tile"]
    assert tiles and all(m["generation"] == 7 for m, _ in tiles)
    msg, buffers = tiles[-1]
    t = msg["tile_px"]
    assert msg["prediction_dtype"] == "uint8"  # λ₁ float32, a byte per class index
    assert [len(b) for b in buffers] == [4 * t * t, t * t]
    values = np.frombuffer(buffers[0], dtype=np.float32).reshape(t, t)
    field = ftle_field(mlp(2, 10, 3, 1, seed=0), Plane.standard(2), msg["extent"], (t, t))
    np.testing.assert_array_equal(values, field.ftle)
    np.testing.assert_array_equal(
        np.frombuffer(buffers[1], np.uint8).reshape(t, t), field.prediction
    )
    assert view.progress[0] == view.progress[1] == len(tiles)
    assert view.layer.startswith("hidden layer 3") and view.depth == 3.0
    view.close()


def test_update_model_pushes_new_tiles_for_the_same_view():
    view, sent = make()
    ask(view, generation=3)
    sent.clear()
    view.update_model(mlp(2, 10, 3, 1, seed=1).state_dict())
    assert view.scheduler.wait(60)
    tiles = [m for m, _ in sent if m["kind"] == "tile"]
    assert tiles and {m["model_version"] for m in tiles} == {1}
    assert {m["generation"] for m in tiles} == {3}
    view.close()


def test_a_failing_model_shows_its_error_and_the_kernel_lives_on():
    def fails():
        return FailsBeyond(5, "cannot look beyond u = 5")

    with pytest.raises(ValueError, match="input shape"):
        FTLEView(fails(), layer="lin")  # a general module: the plane must be given
    view, sent = make(fails(), plane=Plane.standard(2), layer="lin")
    ask(view, generation=1, extent=(-1, 1, -1, 1))
    good = [m for m, _ in sent if m["kind"] == "tile"]
    ask(view, generation=2, extent=(4, 8, -1, 1))
    errors = [m for m, _ in sent if m["kind"] == "error"]
    assert good and errors and "beyond u = 5" in view.error
    assert any(e["generation"] == 2 for e in errors)  # (coarse tiles of view 1 reach u > 5 too)
    assert all(len(e["key"]) == 3 for e in errors)
    ask(view, generation=3, extent=(-1, 1, -1, 1))  # still serving, from the cache too
    assert [m for m, _ in sent if m["kind"] == "tile" and m["generation"] == 3]
    view.close()


def test_zoom_reset_and_traits():
    view, _ = make(cmap="viridis", vmin=-2, vmax=2, quantity="log_stretch")
    assert (view.cmap, view.vmin, view.vmax, view.quantity) == ("viridis", -2, 2, "log_stretch")
    view.zoom_to((0, 0.5, 0, 0.5))
    assert view.extent == [0, 0.5, 0, 0.5]
    view.reset()
    assert view.extent == [-1.5, 1.5, -1.5, 1.5]
    with pytest.raises(ValueError, match="u0 < u1"):
        view.zoom_to((1, 0, 0, 1))
    with pytest.raises(ValueError, match="colormap"):
        FTLEView(mlp(2, 4, 1, 1), cmap="jet")
    with pytest.raises(ValueError, match="quantity"):
        FTLEView(mlp(2, 4, 1, 1), quantity="speed")
    view.close()


def test_default_planes():
    view, _ = make()
    assert view.plane == Plane.standard(2)
    view.close()
    gen = torch.Generator().manual_seed(0)
    data = torch.rand((30, 5), generator=gen)
    labels = np.array([0] * 10 + [1] * 10 + [2] * 10)
    view = FTLEView(mlp(5, 8, 2, 3, seed=0), data=data, labels=labels)
    coords = view.plane.coordinates(data[[0, 10, 20]].double())
    np.testing.assert_allclose(coords[0], [0, 0], atol=1e-12)  # through one point per class
    assert abs(coords[1][1]) < 1e-12 and coords[2][1] > 0
    u0, u1, _, _ = view.extent
    all_coords = view.plane.coordinates(data.double())
    assert u0 < all_coords[:, 0].min() and u1 > all_coords[:, 0].max()
    view.close()
    a = FTLEView(mlp(5, 8, 2, 3, seed=0))
    b = FTLEView(mlp(5, 8, 2, 3, seed=1))
    assert a.plane == b.plane and a.plane.orthonormal  # the seeded random plane
    a.close()
    b.close()


def test_to_png_without_a_browser(tmp_path):
    view, _ = make(vmin=-1, vmax=1, show_boundary=False)
    path = view.to_png(tmp_path / "view.png", shape=(32, 48))
    image = np.asarray(Image.open(path).convert("RGBA"))
    assert image.shape == (150, 32 + 70, 4)  # a square view fits in 32 × 32, the colorbar beside
    field = ftle_field(mlp(2, 10, 3, 1, seed=0), Plane.standard(2), view.extent, (32, 32))
    np.testing.assert_array_equal(
        image[:12, 12:32],
        colorize(field.ftle, "RdBu_r", -1, 1)[::-1][:12, 12:],  # clear of axes
    )
    with pytest.raises(TypeError, match="unexpected keyword"):
        view.to_png(tmp_path / "view.png", size=(32, 32))  # type: ignore[call-arg]
    view.close()


def test_two_widgets_on_one_model_and_closing_stops_work():
    model = mlp(2, 10, 3, 1, seed=0)
    a, sent_a = make(model)
    b, sent_b = make(model)
    ask(a, 1)
    ask(b, 1)
    assert sent_a and sent_b
    a.close()
    with pytest.raises(RuntimeError, match="closed"):
        a.scheduler.request(
            a.scheduler.pyramid and View((0, 1, 0, 1), 8, 8),
            9,
        )
    b.close()


def test_data_overlay_message_holds_points_near_the_plane_with_class_indices():
    gen = torch.Generator().manual_seed(1)
    data = torch.rand((40, 2), generator=gen) * 2 - 1
    labels = np.where(data.norm(dim=1).numpy() < 0.7, -1, 1)
    view, sent = make(data=data, labels=labels)
    browser_sends(view, {"kind": "data_request"})
    ((msg, buffers),) = [(m, b) for m, b in sent if m["kind"] == "data"]
    assert msg["count"] == 40 and msg["labels"] == ["-1", "1"]
    uv = np.frombuffer(buffers[0], dtype=np.float32).reshape(-1, 2)
    classes = np.frombuffer(buffers[1], dtype=np.float32)
    np.testing.assert_allclose(uv, data.numpy(), rtol=1e-6)  # the input plane: u, v = x
    np.testing.assert_array_equal(classes, (labels == 1).astype(np.float32))
    view.close()
    # off-plane data in 5-D: the nearest points (or those within data_near), never more
    data5 = torch.rand((900, 5), generator=gen)
    view, sent = make(mlp(5, 8, 2, 3, seed=0), data=data5, labels=np.arange(900) % 3)
    browser_sends(view, {"kind": "data_request"})
    msg, buffers = [(m, b) for m, b in sent if m["kind"] == "data"][-1]
    assert msg["count"] == 500 and msg["labels"] == ["0", "1", "2"]
    distance = view.plane.distance(data5.numpy())
    uv = np.frombuffer(buffers[0], dtype=np.float32).reshape(-1, 2)
    nearest = np.sort(np.argsort(distance, kind="stable")[:500])
    np.testing.assert_allclose(uv, view.plane.coordinates(data5.numpy()[nearest]), atol=1e-6)
    view.close()
    view, sent = make(mlp(5, 8, 2, 3, seed=0), data=data5, data_near=0.2)
    browser_sends(view, {"kind": "data_request"})
    msg, buffers = [(m, b) for m, b in sent if m["kind"] == "data"][-1]
    assert msg["count"] == int((distance <= 0.2).sum()) and msg["labels"] == []
    assert (np.frombuffer(buffers[1], dtype=np.float32) == -1).all()
    view.close()
    view, sent = make()  # no data: an empty overlay
    browser_sends(view, {"kind": "data_request"})
    assert [m for m, _ in sent if m["kind"] == "data"] == [
        {"kind": "data", "count": 0, "labels": []}
    ]
    view.close()


def test_hover_pictures_of_image_inputs():
    model = mlp(64, 12, 2, 10, seed=0)
    gen = torch.Generator().manual_seed(2)
    images = torch.rand((12, 64), generator=gen) * 16
    view, sent = make(model, data=images, labels=np.arange(12) % 4)
    assert view.plane_info["image_shape"] == [8, 8]  # a flat 64 is an 8×8 picture
    browser_sends(view, {"kind": "input_request", "id": 5, "u": 0.25, "v": -0.5})
    ((msg, buffers),) = [(m, b) for m, b in sent if m["kind"] == "input"]
    assert msg["id"] == 5 and msg["shape"] == [8, 8]
    assert (msg["vmin"], msg["vmax"]) == (float(images.min()), float(images.max()))
    pixels = np.frombuffer(buffers[0], dtype=np.float32)
    expected = view.plane.to_input(np.array([[0.25, -0.5]])).reshape(-1).numpy()
    np.testing.assert_allclose(pixels, expected, rtol=1e-6)
    # the picture at the plane's origin is the first data point (the plane goes through it)
    browser_sends(view, {"kind": "input_request", "id": 6, "u": 0.0, "v": 0.0})
    origin = np.frombuffer([b for m, b in sent if m["kind"] == "input"][-1][0], np.float32)
    np.testing.assert_allclose(origin, images[0].numpy(), rtol=1e-6)
    for bad in (
        {"id": -1, "u": 0, "v": 0},
        {"id": 1, "u": float("inf"), "v": 0},
        {"id": 1, "u": "x", "v": 0},
    ):
        browser_sends(view, {"kind": "input_request", **bad})
        assert view.error.startswith("refused")
    view.close()
    flat, sent = make()  # 2-D inputs are no pictures: refused, never computed
    assert flat.plane_info["image_shape"] is None
    browser_sends(flat, {"kind": "input_request", "id": 1, "u": 0, "v": 0})
    assert "not images" in flat.error and not [m for m, _ in sent if m["kind"] == "input"]
    flat.close()
    cnn = make(
        nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.Flatten(), nn.Linear(72, 3)),
        plane=Plane.standard((1, 8, 8)),
    )[0]
    assert cnn.plane_info["image_shape"] == [1, 8, 8]
    cnn.close()
    with pytest.raises(ValueError, match="does not hold"):
        FTLEView(model, data=images, image_shape=(7, 7))


def test_directions_are_switched_on_and_off_and_cached_apart():
    view, sent = make()
    ask(view, generation=1)
    assert all(not m["has_direction"] for m, _ in sent if m["kind"] == "tile")
    sent.clear()
    view.show_directions = True  # the visible tiles come again, with directions
    assert view.scheduler.wait(60)
    tiles = [(m, b) for m, b in sent if m["kind"] == "tile"]
    assert tiles and all(m["has_direction"] and len(b) == 3 for m, b in tiles)
    msg, buffers = tiles[-1]
    t = msg["tile_px"]
    assert msg["direction_dtype"] == "angle_uint16"
    axes = np.frombuffer(buffers[2], dtype="<u2").reshape(t, t)
    field = ftle_field(
        mlp(2, 10, 3, 1, seed=0), Plane.standard(2), msg["extent"], (t, t), directions=True
    )
    np.testing.assert_array_equal(axes, pack_direction(field.direction))
    assert (axes < 65535).mean() > 0.9  # the field has directions: few none
    sent.clear()
    view.show_directions = False  # back: served from the cache, without directions
    assert view.scheduler.wait(60)
    assert all(not m["has_direction"] for m, _ in sent if m["kind"] == "tile")
    view.close()


def test_tagged_weights_are_served_from_the_cache_under_the_current_version():
    view, sent = make()
    ask(view, generation=1)
    first = {(m["z"], m["i"], m["j"]): b[0] for m, b in sent if m["kind"] == "tile"}
    view.scheduler.update_model(mlp(2, 10, 3, 1, seed=0).state_dict(), tag="a")
    ask(view, generation=2)
    view.scheduler.update_model(mlp(2, 10, 3, 1, seed=5).state_dict(), tag="b")
    ask(view, generation=3)
    sent.clear()
    computed = []
    original = view.scheduler._compute_here
    view.scheduler._compute_here = lambda job: computed.append(job) or original(job)
    view.scheduler.update_model(mlp(2, 10, 3, 1, seed=0).state_dict(), tag="a")
    ask(view, generation=4)
    tiles = [(m, b) for m, b in sent if m["kind"] == "tile"]
    assert not computed and tiles  # all from the cache
    assert {m["model_version"] for m, _ in tiles} == {view.scheduler.model_version}
    for m, b in tiles:
        assert b[0] == first[(m["z"], m["i"], m["j"])]
    view.close()


@pytest.mark.parametrize(
    ("trait", "value", "reason"),
    [
        ("cmap", "jet", "unknown colormap 'jet'; choose one of RdBu_r, viridis"),
        (
            "quantity",
            "lyapunov",
            "quantity must be one of lambda, log_stretch, lambda_min, gap, anisotropy",
        ),
        ("vmin", 5.0, "vmin must be below vmax"),
        ("vmax", -5.0, "vmin must be below vmax"),
        ("vmax", float("nan"), "vmax must be a finite number or None"),
    ],
)
def test_display_traits_are_validated_with_the_choices(trait, value, reason):
    view, _ = make(vmin=-4, vmax=4)
    with pytest.raises(traitlets.TraitError, match=reason):
        setattr(view, trait, value)
    with pytest.raises(traitlets.TraitError, match=reason.split(";")[0]):
        make(**{"vmin": -4, "vmax": 4, trait: value})
    assert (view.cmap, view.quantity, view.vmin, view.vmax) == ("RdBu_r", "lambda", -4, 4)
    with view.hold_trait_notifications():  # both limits move together
        view.vmin, view.vmax = 5.0, 9.0
    view.vmin = view.vmax = None  # automatic limits
    view.close()
