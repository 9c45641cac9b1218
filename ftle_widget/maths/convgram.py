"""Z = P Pᵀ of a peeled convolution, applied as a convolution.

For a first layer that is a 2-D convolution P (written out as an m×d matrix by
:func:`~ftle_widget.maths.jacobians.densify`), the reverse-mode Gram matrix J Jᵀ = J′ Z J′ᵀ needs
Z applied to k rows per point. Where no receptive field of P is clipped (no padding), Z is
translation invariant: a stride-1 convolution of the output channels with a kernel of radius
⌈(dilation·(kernel − 1) + 1) / stride⌉ − 1, far cheaper than the dense m×m (or m×d) product.
The kernel is read off Z's centre row and used only where it reproduces all of Z.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn


def gram_convolution(
    conv: nn.Module, in_shape: tuple[int, ...], z: torch.Tensor
) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """``rows ↦ rows @ z`` for rows (..., m) as a convolution, or ``None`` where Z is not one.

    ``conv`` is the peeled layer, ``in_shape`` its input's (C, H, W), ``z`` its P Pᵀ (m × m).
    """
    if type(conv) is not nn.Conv2d or conv.padding_mode != "zeros" or len(in_shape) != 3:
        return None
    with torch.no_grad():
        out = conv(torch.zeros((1, *in_shape), dtype=z.dtype, device=z.device)).shape[1:]
    channels, height, width = out
    if channels * height * width != z.shape[0]:
        return None
    radius = [
        math.ceil((d * (k - 1) + 1) / s) - 1
        for d, k, s in zip(conv.dilation, conv.kernel_size, conv.stride, strict=True)
    ]
    ry, rx = radius
    if height < 2 * ry + 1 or width < 2 * rx + 1:
        return None
    grid = z.reshape(channels, height, width, channels, height, width)
    kernel = grid[:, ry, rx, :, : 2 * ry + 1, : 2 * rx + 1].contiguous()

    def apply(rows: torch.Tensor) -> torch.Tensor:
        images = rows.reshape(-1, channels, height, width)
        done = nn.functional.conv2d(images, kernel, padding=(ry, rx))
        return done.reshape(rows.shape)

    eye = torch.eye(z.shape[0], dtype=z.dtype, device=z.device)
    scale = float(z.abs().max())
    tol = 64 * torch.finfo(z.dtype).eps * max(scale, torch.finfo(z.dtype).tiny)
    if not bool(((apply(eye) - z).abs() <= tol).all()):  # clipped fields: not a convolution
        return None
    return apply
