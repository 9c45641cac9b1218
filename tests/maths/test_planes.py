"""Tests of ftle_widget.Plane: construction, coordinates and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ftle_widget import Plane

TOL = 1e-12


def _flat(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(-1)


def _assert_orthonormal(plane: Plane) -> None:
    u, v = _flat(plane.u), _flat(plane.v)
    assert float(u @ u) == pytest.approx(1.0, abs=TOL)
    assert float(v @ v) == pytest.approx(1.0, abs=TOL)
    assert float(u @ v) == pytest.approx(0.0, abs=TOL)
    assert plane.orthonormal


# ---------------------------------------------------------------------- Plane.through


def test_through_2d_places_the_three_points():
    a = torch.tensor([1.0, 2.0])
    b = torch.tensor([4.0, 6.0])  # |b - a| = 5
    c = torch.tensor([0.0, 5.0])
    plane = Plane.through(a, b, c)
    assert plane.input_shape == (2,)
    assert plane.origin.dtype == plane.u.dtype == plane.v.dtype == torch.float64
    _assert_orthonormal(plane)
    coords = plane.coordinates(torch.stack([a, b, c]).double())
    assert isinstance(coords, torch.Tensor) and coords.dtype == torch.float64
    torch.testing.assert_close(coords[0], torch.zeros(2, dtype=torch.float64), atol=TOL, rtol=0)
    torch.testing.assert_close(
        coords[1], torch.tensor([5.0, 0.0], dtype=torch.float64), atol=TOL, rtol=0
    )
    assert coords[2, 1] > 0
    # u points from a to b; c - a = (-1, 3): along u = (0.6, 0.8) is 1.8, across is 2.6
    torch.testing.assert_close(plane.u, torch.tensor([0.6, 0.8], dtype=torch.float64))
    torch.testing.assert_close(
        coords[2], torch.tensor([1.8, 2.6], dtype=torch.float64), atol=TOL, rtol=0
    )
    # the three points lie on the plane: to_input gives them back
    back = plane.to_input(coords)
    torch.testing.assert_close(back, torch.stack([a, b, c]).double(), atol=TOL, rtol=0)


def test_through_2d_point_below_the_line_still_has_positive_v():
    a, b, c = np.array([0.0, 0.0]), np.array([2.0, 0.0]), np.array([0.5, -1.5])
    plane = Plane.through(a, b, c)
    _assert_orthonormal(plane)
    coords = plane.coordinates(np.stack([a, b, c]))
    assert isinstance(coords, np.ndarray) and coords.dtype == np.float64
    np.testing.assert_allclose(coords, [[0.0, 0.0], [2.0, 0.0], [0.5, 1.5]], atol=TOL)
    np.testing.assert_allclose(plane.v.numpy(), [0.0, -1.0], atol=TOL)


def test_through_image_shaped_points():
    gen = torch.Generator().manual_seed(0)
    a, b, c = (torch.randn(1, 8, 8, generator=gen, dtype=torch.float64) for _ in range(3))
    plane = Plane.through(a, b, c)
    assert plane.input_shape == (1, 8, 8)
    assert plane.u.shape == plane.v.shape == plane.origin.shape == (1, 8, 8)
    _assert_orthonormal(plane)
    coords = plane.coordinates(torch.stack([a, b, c]))
    assert coords.shape == (3, 2)
    length = float((b - a).norm())
    torch.testing.assert_close(coords[0], torch.zeros(2, dtype=torch.float64), atol=TOL, rtol=0)
    torch.testing.assert_close(
        coords[1], torch.tensor([length, 0.0], dtype=torch.float64), atol=TOL, rtol=0
    )
    assert coords[2, 1] > 0
    # |c - a| is preserved (c lies on the plane, coordinates are orthonormal)
    assert float(coords[2].norm()) == pytest.approx(float((c - a).norm()), abs=1e-10)
    back = plane.to_input(coords)
    assert back.shape == (3, 1, 8, 8)
    torch.testing.assert_close(back, torch.stack([a, b, c]), atol=1e-12, rtol=0)


def test_through_accepts_float32_and_stores_float64():
    a = torch.tensor([0.0, 0.0, 0.0])
    b = torch.tensor([0.0, 3.0, 0.0])
    c = torch.tensor([0.0, 1.0, 2.0])
    plane = Plane.through(a, b, c)
    assert plane.u.dtype == torch.float64
    torch.testing.assert_close(plane.u, torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64))
    torch.testing.assert_close(plane.v, torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))


# ---------------------------------------------------------------------- maps


def _random_plane(shape=(5,), seed=1) -> Plane:
    gen = torch.Generator().manual_seed(seed)
    o, u, v = (torch.randn(*shape, generator=gen, dtype=torch.float64) for _ in range(3))
    return Plane(o, 2.0 * u, 0.5 * u + v)  # deliberately not orthonormal


def test_round_trip_non_orthonormal_plane():
    plane = _random_plane()
    assert not plane.orthonormal
    gen = torch.Generator().manual_seed(2)
    uv = torch.randn(7, 2, generator=gen, dtype=torch.float64) * 3
    x = plane.to_input(uv)
    assert x.shape == (7, 5) and x.dtype == torch.float64
    expected = plane.origin + uv[:, :1] * plane.u + uv[:, 1:] * plane.v
    torch.testing.assert_close(x, expected, atol=1e-12, rtol=0)
    torch.testing.assert_close(plane.coordinates(x), uv, atol=1e-11, rtol=0)
    # numpy in, numpy out
    back = plane.coordinates(x.numpy())
    assert isinstance(back, np.ndarray)
    np.testing.assert_allclose(back, uv.numpy(), atol=1e-11)
    # to_input also takes numpy coordinates
    torch.testing.assert_close(plane.to_input(uv.numpy()), x, atol=0, rtol=0)


def test_round_trip_image_shaped_plane():
    plane = _random_plane(shape=(2, 3, 3), seed=3)
    uv = torch.tensor([[0.0, 0.0], [1.0, -2.0], [0.25, 4.0]], dtype=torch.float64)
    x = plane.to_input(uv)
    assert x.shape == (3, 2, 3, 3)
    torch.testing.assert_close(x[0], plane.origin, atol=0, rtol=0)
    torch.testing.assert_close(plane.coordinates(x), uv, atol=1e-11, rtol=0)


def test_coordinates_of_off_plane_point_are_those_of_its_projection():
    plane = _random_plane(seed=4)
    gen = torch.Generator().manual_seed(5)
    uv = torch.randn(4, 2, generator=gen, dtype=torch.float64)
    on = plane.to_input(uv)
    # a component orthogonal to u and v
    basis, _ = torch.linalg.qr(torch.stack([plane.u, plane.v], dim=1))  # (5, 2)
    w = torch.randn(4, 5, generator=gen, dtype=torch.float64)
    w = w - (w @ basis) @ basis.T
    assert float((w @ plane.u).abs().max()) < 1e-12
    off = on + 3.0 * w
    torch.testing.assert_close(plane.coordinates(off), uv, atol=1e-11, rtol=0)
    # independently: least squares solution of [u v] c = x - origin
    mat = torch.stack([plane.u, plane.v], dim=1).numpy()
    lsq = np.linalg.lstsq(mat, (off - plane.origin).numpy().T, rcond=None)[0].T
    np.testing.assert_allclose(plane.coordinates(off.numpy()), lsq, atol=1e-11)
    np.testing.assert_allclose(plane.distance(off), 3.0 * w.norm(dim=1).numpy(), atol=1e-11)


def test_standard_2d_is_the_identity():
    plane = Plane.standard(2)
    assert plane.input_shape == (2,)
    _assert_orthonormal(plane)
    pts = torch.tensor([[0.3, -1.2], [5.0, 7.5], [0.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(plane.to_input(pts), pts, atol=0, rtol=0)
    torch.testing.assert_close(plane.coordinates(pts), pts, atol=0, rtol=0)


def test_standard_image_shape_picks_flattened_features():
    plane = Plane.standard((1, 4, 4), 3, 7)
    assert plane.input_shape == (1, 4, 4)
    _assert_orthonormal(plane)
    x = plane.to_input(torch.tensor([[2.0, -5.0]], dtype=torch.float64))
    assert x.shape == (1, 1, 4, 4)
    expected = torch.zeros(16, dtype=torch.float64)
    expected[3], expected[7] = 2.0, -5.0
    torch.testing.assert_close(x.reshape(-1), expected, atol=0, rtol=0)
    assert x[0, 0, 0, 3] == 2.0 and x[0, 0, 1, 3] == -5.0
    gen = torch.Generator().manual_seed(6)
    pts = torch.randn(5, 1, 4, 4, generator=gen, dtype=torch.float64)
    flat = pts.reshape(5, -1)
    torch.testing.assert_close(
        plane.coordinates(pts), torch.stack([flat[:, 3], flat[:, 7]], dim=1), atol=0, rtol=0
    )


def test_standard_default_features_and_int_shape():
    plane = Plane.standard(4)
    torch.testing.assert_close(plane.u, torch.tensor([1.0, 0, 0, 0], dtype=torch.float64))
    torch.testing.assert_close(plane.v, torch.tensor([0.0, 1, 0, 0], dtype=torch.float64))
    torch.testing.assert_close(plane.origin, torch.zeros(4, dtype=torch.float64))


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("u", "scale"),
    [([1.0, 0.0, 0.0], 2.0), ([1.0, 2.0, 3.0], -2.5), ([0.3, -1.7, 2.2], 0.7)],
)
def test_parallel_u_and_v_raise(u, scale):
    u = torch.tensor(u, dtype=torch.float64)
    with pytest.raises(ValueError, match="parallel"):
        Plane(torch.zeros(3), u, scale * u)


def test_zero_u_raises():
    with pytest.raises(ValueError, match="zero"):
        Plane(torch.zeros(3), torch.zeros(3), torch.tensor([0.0, 1.0, 0.0]))


def test_mismatched_shapes_raise():
    with pytest.raises(ValueError, match=r"shape.*\(3,\).*\(4,\)"):
        Plane(torch.zeros(3), torch.tensor([1.0, 0, 0, 0]), torch.tensor([0.0, 1, 0]))
    with pytest.raises(ValueError, match="shape"):
        Plane.through(torch.zeros(2), torch.ones(2), torch.ones(1, 2))


def test_collinear_points_raise():
    a, b = torch.tensor([0.0, 0.0, 1.0]), torch.tensor([1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="collinear"):
        Plane.through(a, b, a + 3.0 * (b - a))


def test_identical_a_and_b_raise():
    a = torch.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="same point"):
        Plane.through(a, a.clone(), torch.tensor([0.0, 5.0]))


def test_standard_equal_features_raise():
    with pytest.raises(ValueError, match="differ"):
        Plane.standard(3, 1, 1)


@pytest.mark.parametrize(
    ("shape", "i", "j", "name"), [(3, 0, 3, "j=3"), ((1, 4, 4), 16, 0, "i=16"), (2, -1, 1, "i=-1")]
)
def test_standard_out_of_range_raise(shape, i, j, name):
    with pytest.raises(ValueError, match=f"{name} is out of range"):
        Plane.standard(shape, i, j)


def test_coordinates_and_to_input_shape_errors():
    plane = Plane.standard(3)
    with pytest.raises(ValueError, match="shape"):
        plane.coordinates(torch.zeros(4, 2))
    with pytest.raises(ValueError, match=r"\(M, 2\)"):
        plane.to_input(torch.zeros(4, 3))
