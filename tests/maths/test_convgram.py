"""P Pᵀ of a peeled convolution applied as a convolution: equal to the dense product, used only
where it is one (no clipped receptive fields)."""

from __future__ import annotations

import pytest
import torch
from helpers import reference_ftle
from torch import nn

from ftle_widget import maximal_ftle
from ftle_widget.maths.convgram import gram_convolution


def _dense(conv: nn.Conv2d, shape: tuple[int, ...]) -> torch.Tensor:
    """P (m × d) of the convolution without bias, column by column."""
    size = shape[0] * shape[1] * shape[2]
    eye = torch.eye(size, dtype=torch.float64).reshape(size, *shape)
    with torch.no_grad():
        columns = nn.functional.conv2d(
            eye, conv.weight, None, conv.stride, conv.padding, conv.dilation, conv.groups
        )
    return columns.reshape(size, -1).T


@pytest.mark.parametrize(
    ("channels", "kernel", "stride", "dilation", "shape"),
    [
        ((1, 8), 5, 2, 1, (1, 28, 28)),  # the benchmark's first layer
        ((2, 3), 3, 1, 1, (2, 9, 9)),
        ((3, 4), (3, 2), (2, 1), (1, 2), (3, 11, 10)),
        ((4, 4), 3, 3, 1, (4, 12, 12)),  # fields that do not overlap
    ],
)
def test_convolution_equals_the_dense_product(channels, kernel, stride, dilation, shape):
    torch.manual_seed(0)
    conv = nn.Conv2d(*channels, kernel, stride=stride, dilation=dilation).double()
    p = _dense(conv, shape)
    z = p @ p.T
    apply = gram_convolution(conv, shape, z)
    assert apply is not None
    rows = torch.randn((5, 3, z.shape[0]), dtype=torch.float64)
    assert (apply(rows) - rows @ z).abs().max() <= 1e-12 * z.abs().max()


@pytest.mark.parametrize(
    "conv",
    [
        nn.Conv2d(2, 3, 3, padding=1),  # border fields clipped: P Pᵀ is no convolution
        nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
        nn.Conv2d(2, 3, 5, stride=2),  # too small an output for the kernel's radius
    ],
)
def test_no_convolution_where_gram_is_not_one(conv):
    conv = conv.double()
    shape = (2, 6, 6)
    p = _dense(conv, shape) if conv.padding_mode == "zeros" else torch.ones(1, 1)
    assert gram_convolution(conv, shape, p @ p.T) is None


@pytest.mark.parametrize("method", ["reverse", "lanczos"])
def test_strided_first_convolution_matches_the_dense_reference(method):
    torch.manual_seed(3)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 5, stride=2),  # z-space: 4 × 6 × 6, P Pᵀ a 5 × 5 convolution
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(144, 12),
        nn.Tanh(),
        nn.Linear(12, 3),
    ).double()
    x = torch.rand((7, 1, 16, 16), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    ref = reference_ftle(model[:-1], x, 2)[:, 0]
    lam, v = maximal_ftle(model, x, method=method, direction=True)
    assert (lam - ref).abs().max() < 1e-10
    assert v.shape == x.shape
