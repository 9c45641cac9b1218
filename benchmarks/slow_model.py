"""A slow model for bench_tiles.py: a small ResNet on 3×32×32 inputs (tens to hundreds of points
per second here), its plane through three random inputs, and where its field has a ridge.

``ridge_pixels`` finds the strongest ridge of a field: its crest, grown by 2 pixels.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

PICTURE_EXTENT = (-9.0, 33.0, -12.0, 30.0)  # the three inputs and the ring-shaped boundary
RIDGE_EXTENT = (15.0, 35.0, -2.5, 17.5)  # the boundary's right arc runs from top to bottom


class Block(nn.Module):
    """conv-BN-ReLU-conv-BN plus the input, then ReLU."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))


def small_resnet(points: torch.Tensor, channels: int = 4, seed: int = 0, margin: float = 10.0):
    """Stem, a block, max-pooling, a block, global average pooling and a Linear head; BatchNorm
    statistics drawn at random (``seed``); in eval mode. The head makes a classifier with a
    boundary between ``points[0]`` and ``points[1]``: its two classes differ by ±``margin`` in
    logits there, so λ₁ of its probabilities has a ridge across the
    plane through ``points``."""
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(3, channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(),
        Block(channels),
        nn.MaxPool2d(2),
        Block(channels),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(channels, 2),
    )
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
        model.eval()
        a, b = model[:-1](points[:2])  # the features entering the head
        w = (b - a) / float((b - a) @ (b - a)) * margin  # w·(b − a) = margin
        middle = 0.5 * (a + b)
        head = model[-1]
        head.weight[0], head.weight[1] = -w, w
        head.bias[0], head.bias[1] = w @ middle, -(w @ middle)
    return model


def resnet_points() -> torch.Tensor:
    """Three random 3×32×32 inputs (seeded)."""
    return torch.rand((3, 3, 32, 32), generator=torch.Generator().manual_seed(1))


def ridge_pixels(ftle: np.ndarray, grow: int = 2) -> np.ndarray:
    """The pixels (a boolean mask) within ``grow`` pixels of the strongest ridge: its crest, the
    largest λ₁ of each row (a ridge running top to bottom) or of each column (left to right),
    whichever crest is higher (its median)."""
    values = np.where(np.isfinite(ftle), ftle, -np.inf)
    crest = np.zeros(values.shape, dtype=bool)
    rows, cols = np.arange(values.shape[0]), np.arange(values.shape[1])
    by_row, by_col = values.argmax(axis=1), values.argmax(axis=0)
    if np.median(values[rows, by_row]) >= np.median(values[by_col, cols]):
        crest[rows, by_row] = True
    else:
        crest[by_col, cols] = True
    grown = np.zeros_like(crest)
    padded = np.pad(crest, grow)
    h, w = crest.shape
    for di in range(2 * grow + 1):
        for dj in range(2 * grow + 1):
            grown |= padded[di : di + h, dj : dj + w]
    return grown
