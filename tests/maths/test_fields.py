"""Tests of ftle_widget.ftle_field: pixel convention, values, directions, classes, side effects."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from ftle_widget import Field, Plane, ftle_field, maximal_ftle

F64 = torch.float64


# ---------------------------------------------------------------------- helpers


def pixel_centres(extent, shape) -> torch.Tensor:
    """(H·W, 2) plane coordinates of the pixel centres, row-major, from the documented formula."""
    u0, u1, v0, v1 = extent
    h, w = shape
    rows = []
    for i in range(h):
        for j in range(w):
            rows.append((u0 + (j + 0.5) * (u1 - u0) / w, v0 + (i + 0.5) * (v1 - v0) / h))
    return torch.tensor(rows, dtype=F64)


def dense_reference(fn, x: torch.Tensor, depth: float):
    """λ₁ and v₁ (flattened, sign unfixed) per point from the dense Jacobian of ``fn``."""
    lams, vecs = [], []
    for xi in x.to(F64):
        jac = torch.autograd.functional.jacobian(lambda z: fn(z[None]).reshape(-1), xi)
        jac = jac.reshape(jac.shape[0], -1)
        _, s, vh = torch.linalg.svd(jac, full_matrices=False)
        assert float(torch.linalg.svdvals(jac)[0]) == pytest.approx(float(s[0]), rel=1e-12)
        lams.append(torch.log(s[0]) / depth)
        vecs.append(vh[0])
    return torch.stack(lams), torch.stack(vecs)


def tanh_mlp(dtype=F64, seed=0, sizes=(2, 16, 16, 16, 1)) -> nn.Sequential:
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for k in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[k], sizes[k + 1]))
        if k < len(sizes) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers).to(dtype)


def conv_model(dtype=F64, seed=1) -> nn.Sequential:
    """Inputs (1, 5, 5); last hidden layer is module '4' (Tanh after Linear(50, 6)), depth 2."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(50, 6),
        nn.Tanh(),
        nn.Linear(6, 3),
    ).to(dtype)


class ExpOfLinear(nn.Module):
    """f(x) = exp(w·x): J = f(x) wᵀ, so λ₁ = w·x + log|w| with depth 1."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w, dtype=F64))

    def forward(self, x):
        return torch.exp(x @ self.w)[:, None]


def _params(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


# ---------------------------------------------------------------------- pixel convention


def test_pixel_convention_with_analytic_ftle():
    w = (0.7, -1.3)
    model = ExpOfLinear(w)
    extent, shape = (-1.0, 2.0, 0.5, 1.5), (3, 5)
    field = ftle_field(model, Plane.standard(2), extent, shape, layer="logits", depth=1)
    assert isinstance(field, Field)
    assert field.ftle.shape == (3, 5) and field.ftle.dtype == np.float32
    assert field.prediction.shape == (3, 5) and np.issubdtype(field.prediction.dtype, np.integer)
    assert field.direction is None
    assert tuple(field.extent) == extent
    us = -1.0 + (np.arange(5) + 0.5) * 3.0 / 5  # -0.7, -0.1, 0.5, 1.1, 1.7
    vs = 0.5 + (np.arange(3) + 0.5) * 1.0 / 3  # row 0 at v0
    expected = w[0] * us[None, :] + w[1] * vs[:, None] + 0.5 * math.log(w[0] ** 2 + w[1] ** 2)
    np.testing.assert_allclose(field.ftle, expected, rtol=0, atol=2e-6)
    assert (field.prediction == 1).all()  # exp(...) > 0


def test_prediction_boundary_sits_at_known_column():
    model = nn.Linear(2, 1).double()  # output u - 0.3
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 0.0]]))
        model.bias.fill_(-0.3)
    model = nn.Sequential(model)
    field = ftle_field(model, Plane.standard(2), (0.0, 1.0, -1.0, 1.0), (4, 10), layer="logits")
    # column centres 0.05, 0.15, ..., 0.95: the first three are left of 0.3
    expected = np.zeros((4, 10), dtype=np.int64)
    expected[:, 3:] = 1
    np.testing.assert_array_equal(field.prediction, expected)
    np.testing.assert_allclose(field.ftle, 0.0, atol=1e-7)  # |J| = 1


def test_row_zero_is_at_v0():
    lin = nn.Linear(2, 1).double()  # output v - 0.6
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.0, 2.0]]))
        lin.bias.fill_(-1.2)
    model = nn.Sequential(lin)
    field = ftle_field(model, Plane.standard(2), (-1.0, 1.0, 0.0, 1.0), (5, 3), layer="logits")
    # row centres 0.1, 0.3, 0.5, 0.7, 0.9
    expected = np.zeros((5, 3), dtype=np.int64)
    expected[3:, :] = 1
    np.testing.assert_array_equal(field.prediction, expected)
    np.testing.assert_allclose(field.ftle, math.log(2.0), atol=1e-7)  # depth 1, |J| = 2


# ---------------------------------------------------------------------- values


def test_field_matches_maximal_ftle_and_dense_reference_mlp():
    model = tanh_mlp()
    extent, shape = (-1.5, 1.0, -0.5, 2.0), (4, 6)
    field = ftle_field(model, Plane.standard(2), extent, shape)
    assert field.depth == 3
    x = pixel_centres(extent, shape)
    lam = maximal_ftle(model, x)
    np.testing.assert_allclose(field.ftle.reshape(-1), lam.numpy(), rtol=1e-6, atol=1e-7)
    ref, _ = dense_reference(model[:6], x, depth=3)  # after the third Tanh
    torch.testing.assert_close(lam, ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(field.ftle.reshape(-1), ref.numpy(), rtol=1e-6, atol=1e-7)


def test_field_float32_model_against_float64_reference():
    model = tanh_mlp(dtype=torch.float32, seed=3)
    before = _params(model)
    extent, shape = (-2.0, 2.0, -2.0, 2.0), (5, 4)
    field = ftle_field(model, Plane.standard(2), extent, shape)
    assert field.ftle.dtype == np.float32
    # the plane's float64 points did not convert the user's model
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in _params(model).items())
    x = pixel_centres(extent, shape)
    reference_model = tanh_mlp(dtype=F64, seed=3)
    reference_model.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    ref, _ = dense_reference(reference_model[:6], x, depth=3)
    np.testing.assert_allclose(field.ftle.reshape(-1), ref.numpy(), rtol=0, atol=1e-5)


def test_field_on_image_inputs_through_three_points():
    model = conv_model()
    gen = torch.Generator().manual_seed(7)
    a, b, c = (torch.randn(1, 5, 5, generator=gen, dtype=F64) for _ in range(3))
    plane = Plane.through(a, b, c)
    extent, shape = (-0.5, 2.0, -1.0, 1.5), (3, 4)
    field = ftle_field(model, plane, extent, shape, directions=True)
    assert field.depth == 2
    uv = pixel_centres(extent, shape)
    x = plane.origin + uv[:, 0, None, None, None] * plane.u + uv[:, 1, None, None, None] * plane.v
    lam, vec = maximal_ftle(model, x, direction=True)
    np.testing.assert_allclose(field.ftle.reshape(-1), lam.numpy(), rtol=1e-6, atol=1e-7)
    ref, ref_vec = dense_reference(model[:5], x, depth=2)
    torch.testing.assert_close(lam, ref, rtol=0, atol=1e-10)
    # v₁ (unit, sign rule) against the dense SVD, up to sign
    flat = vec.reshape(len(vec), -1)
    torch.testing.assert_close(flat.norm(dim=1), torch.ones(len(vec), dtype=F64))
    assert (flat.gather(1, flat.abs().argmax(dim=1, keepdim=True)) > 0).all()
    signs = torch.sign((flat * ref_vec).sum(dim=1, keepdim=True))
    torch.testing.assert_close(flat, signs * ref_vec, rtol=0, atol=1e-8)
    # the field's direction is v₁ projected on the (orthonormal) plane
    proj = torch.stack([flat @ plane.u.reshape(-1), flat @ plane.v.reshape(-1)], dim=1)
    assert field.direction is not None and field.direction.shape == (3, 4, 2)
    np.testing.assert_allclose(field.direction.reshape(-1, 2), proj.numpy(), atol=1e-6)
    assert (np.linalg.norm(field.direction, axis=-1) <= 1 + 1e-6).all()


def test_linear_network_field_is_constant():
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 4), nn.Linear(4, 2)).double()
    w1, w2, w3 = (m.weight.detach() for m in model)
    plane = Plane.through(
        torch.tensor([0.0, 1.0, 2.0]), torch.tensor([1.0, -1.0, 0.5]), torch.tensor([3.0, 0, 0])
    )
    extent, shape = (-3.0, 3.0, -2.0, 2.0), (3, 4)

    logits = ftle_field(model, plane, extent, shape, layer="logits")
    expected = math.log(float(torch.linalg.svdvals(w3 @ w2 @ w1)[0])) / 3
    assert logits.depth == 3
    np.testing.assert_allclose(logits.ftle, np.full(shape, expected), rtol=1e-6)

    hidden = ftle_field(model, plane, extent, shape)  # last hidden layer: after W2, depth 2
    expected = math.log(float(torch.linalg.svdvals(w2 @ w1)[0])) / 2
    assert hidden.depth == 2
    np.testing.assert_allclose(hidden.ftle, np.full(shape, expected), rtol=1e-6)


# ---------------------------------------------------------------------- directions and classes


def test_directions_2d_are_unit_and_match_maximal_ftle():
    model = tanh_mlp(seed=5)
    extent, shape = (-1.0, 1.0, -1.0, 1.0), (4, 4)
    field = ftle_field(model, Plane.standard(2), extent, shape, directions=True)
    d = field.direction
    assert d is not None and d.shape == (4, 4, 2) and d.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(d, axis=-1), 1.0, atol=1e-6)
    x = pixel_centres(extent, shape)
    _, vec = maximal_ftle(model, x, direction=True)
    assert vec.shape == x.shape
    # sign rule: the entry of largest magnitude is positive
    assert (vec.gather(1, vec.abs().argmax(dim=1, keepdim=True)) > 0).all()
    flat = d.reshape(-1, 2)
    signs = np.sign((flat * vec.numpy()).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(flat, signs * vec.numpy(), atol=1e-6)
    _, ref_vec = dense_reference(model[:6], x, depth=3)
    signs = torch.sign((vec * ref_vec).sum(dim=1, keepdim=True))
    torch.testing.assert_close(vec, signs * ref_vec, rtol=0, atol=1e-8)


def test_prediction_multiclass_is_argmax():
    model = tanh_mlp(dtype=torch.float32, seed=6, sizes=(2, 8, 4))
    extent, shape = (-3.0, 3.0, -3.0, 3.0), (6, 7)
    field = ftle_field(model, Plane.standard(2), extent, shape)
    x = pixel_centres(extent, shape).float()
    with torch.no_grad():
        expected = model(x).argmax(dim=1).numpy().reshape(shape)
    assert len(np.unique(expected)) > 1  # the test is only meaningful with several classes
    np.testing.assert_array_equal(field.prediction, expected)


# ---------------------------------------------------------------------- options and side effects


def test_progress_bar_gives_same_result(capsys):
    model = tanh_mlp(seed=8)
    extent, shape = (-1.0, 1.0, -1.0, 1.0), (3, 3)
    plain = ftle_field(model, Plane.standard(2), extent, shape)
    capsys.readouterr()
    shown = ftle_field(model, Plane.standard(2), extent, shape, progress=True)
    captured = capsys.readouterr()
    assert "FTLE field" in captured.err + captured.out
    np.testing.assert_array_equal(shown.ftle, plain.ftle)
    np.testing.assert_array_equal(shown.prediction, plain.prediction)


def test_device_cpu_same_result_and_model_unchanged():
    model = tanh_mlp(seed=9)
    model.eval()
    before = _params(model)
    extent, shape = (-1.0, 1.0, -1.0, 1.0), (3, 4)
    plain = ftle_field(model, Plane.standard(2), extent, shape, directions=True)
    on_cpu = ftle_field(model, Plane.standard(2), extent, shape, directions=True, device="cpu")
    np.testing.assert_array_equal(on_cpu.ftle, plain.ftle)
    np.testing.assert_array_equal(on_cpu.prediction, plain.prediction)
    np.testing.assert_array_equal(on_cpu.direction, plain.direction)
    after = _params(model)
    assert before.keys() == after.keys()
    for k in before:
        assert torch.equal(before[k], after[k]), k
    assert all(p.dtype == F64 for p in model.parameters())
    assert not any(m.training for m in model.modules())


def test_model_in_train_mode_stays_there_and_dropout_is_off():
    torch.manual_seed(10)
    model = nn.Sequential(
        nn.Linear(2, 12),
        nn.Tanh(),
        nn.Dropout(0.5),
        nn.Linear(12, 12),
        nn.Tanh(),
        nn.Linear(12, 2),
    ).double()
    model.train()
    before = _params(model)
    extent, shape = (-1.0, 1.0, -1.0, 1.0), (3, 4)
    field = ftle_field(model, Plane.standard(2), extent, shape)
    assert model.training and all(m.training for m in model.modules())
    after = _params(model)
    assert all(torch.equal(before[k], after[k]) for k in before)
    # values are those of the eval-mode (dropout off) network
    reference = nn.Sequential(model[0], model[1], model[3], model[4])
    ref, _ = dense_reference(reference, pixel_centres(extent, shape), depth=2)
    np.testing.assert_allclose(field.ftle.reshape(-1), ref.numpy(), rtol=1e-6, atol=1e-7)
    # a second call gives the same (deterministic) field
    again = ftle_field(model, Plane.standard(2), extent, shape)
    np.testing.assert_array_equal(again.ftle, field.ftle)
    assert model.training


def test_chunked_field_equals_one_chunk():
    from ftle_widget.maths.exponents import Engine
    from ftle_widget.maths.fields import compute_field

    model = tanh_mlp(seed=5)
    plane = Plane.standard(2)
    whole = compute_field(Engine(model), plane, (-1, 1, -0.5, 1.5), (9, 7), directions=True)
    parts = compute_field(
        Engine(model), plane, (-1, 1, -0.5, 1.5), (9, 7), directions=True, chunk=5
    )
    np.testing.assert_array_equal(whole.ftle, parts.ftle)
    np.testing.assert_array_equal(whole.prediction, parts.prediction)
    np.testing.assert_allclose(whole.direction, parts.direction, atol=1e-7)
