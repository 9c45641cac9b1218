"""Fig. 3a of Storm et al. (2024): L = 2 circle nets whose hidden layers stay at their random
initial values, only the output layer trained, and their test error against the width N.

The thresholds (biases) of the frozen hidden layers decide what such a net can learn:

* ``"zero"`` (the paper's initialisation of trained nets, :func:`.models.mlp`): every hidden
  unit is tanh of a sum of odd functions of x, so every feature is odd, f(−x) = −f(x). The
  output layer sees b + g(x) with g odd, while the circle's label is even: for a pair ±x at
  least one of the two is misclassified unless |g(x)| < |b|, and the best it can do is the
  constant "outside", wrong on the disc: π/9 ≈ 34.9 % of the square [−1.5, 1.5]², for every N.
* ``"random"``: thresholds drawn from N(0, :data:`THRESHOLD_STD` ² = 1), independently for
  every hidden unit of both layers. One is the scale of the first layer's pre-activations w·x
  over the square (std √0.75 ≈ 0.87 with W ~ N(0, 1/2)) and of the second's (tanh values
  of order one times N(0, 1/N) weights): the hyperplanes w·x = θ cut the square at random
  offsets instead of all passing through the origin, the features are no longer odd, and the
  error falls with N as in the paper's Fig. 3a (≈ 30 % at N ≈ 5 to ≈ 0.4 % at N ≈ 150). The
  paper's numbers can only come from non-zero thresholds: with zero ones the error would stay
  at 35 %.

The output layer is trained by the chosen protocol's settings (:func:`.nets.circle_settings`);
the frozen weights get no gradient, so SGD leaves them bit for bit as they were.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from . import nets
from .models import mlp

THRESHOLDS = ("random", "zero")
THRESHOLD_STD = 1.0
DEPTH = 2  # the paper's Fig. 3a: L = 2
WIDTHS_FULL = (5, 10, 20, 40, 80, 150)  # a log grid from 5 to 150
WIDTHS_QUICK = (5, 20, 80)


def widths(quick: bool | None = None) -> tuple[int, ...]:
    """The widths of the Fig. 3a sweep: 5, 10, 20, 40, 80, 150; quick mode 5, 20, 80."""
    return WIDTHS_QUICK if nets._is_quick(quick) else WIDTHS_FULL


def frozen_mlp(width: int, *, seed: int = 0, thresholds: str = "random") -> nn.Sequential:
    """2 → ``width``×2 (tanh) → 1 (tanh), the initial net of :func:`.models.mlp` with seed
    ``seed``, its hidden thresholds drawn from N(0, 1) (``"random"``, seeded by ``seed``) or
    left at zero (``"zero"``), and its hidden layers frozen (``requires_grad`` False)."""
    if thresholds not in THRESHOLDS:
        raise ValueError(
            f"unknown thresholds {thresholds!r}: the known ones are "
            + ", ".join(repr(t) for t in THRESHOLDS)
        )
    model = mlp(2, width, DEPTH, 1, seed=seed)
    hidden = [m for m in model if isinstance(m, nn.Linear)][:-1]
    if thresholds == "random":
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for linear in hidden:
                linear.bias.copy_(torch.randn(width, generator=gen) * THRESHOLD_STD)
    return _freeze(model)


def _freeze(model: nn.Sequential) -> nn.Sequential:
    """``model`` with its hidden layers' parameters frozen (all but the last linear layer)."""
    for linear in [m for m in model if isinstance(m, nn.Linear)][:-1]:
        linear.requires_grad_(False)
    return model


def frozen_circle_mlp(
    width: int,
    *,
    thresholds: str = "random",
    protocol: str = "ours",
    epochs: int | None = None,
    seed: int = 0,
    quick: bool | None = None,
    progress: bool = False,
) -> tuple[nn.Sequential, dict]:
    """:func:`frozen_mlp` with only its output layer trained on the circle problem by
    ``protocol``'s settings (:func:`.nets.circle_settings`; ``epochs`` overrides); cached in
    :func:`.nets.cache_dir` like :func:`.nets.trained_circle_mlp`, whose (model, info) it
    returns (``info["test_accuracy"]``: the final test accuracy)."""
    quick_mode = nets._is_quick(quick)
    chosen = nets.circle_settings(protocol, quick_mode)
    if epochs is not None:
        chosen["epochs"] = int(epochs)
    frozen_mlp(width, seed=seed, thresholds=thresholds)  # checks the arguments before training
    settings = {
        "problem": "circle",
        "frozen": thresholds,
        "threshold_std": THRESHOLD_STD,
        "width": width,
        "depth": DEPTH,
        "seed": seed,
        "quick": quick_mode,
        "protocol": protocol,
        **chosen,
    }
    model, info = nets._cached(
        f"circle-frozen-{thresholds}-N{width}",
        settings,
        lambda: frozen_mlp(width, seed=seed, thresholds=thresholds),
        nets.circle_data(quick=quick_mode, seed=seed, protocol=protocol),
        {"loss": "mse", "optimizer": chosen["optimizer"], "batch_size": chosen["batch_size"]},
        progress,
    )
    return _freeze(model), info


def errors_against_width(
    widths_: tuple[int, ...] | None = None,
    *,
    protocol: str = "ours",
    seed: int = 0,
    quick: bool | None = None,
) -> dict[str, dict[int, float]]:
    """Fig. 3a: the test error (1 − accuracy) against N for L = 2 nets with frozen hidden
    layers (``"random"`` and ``"zero"`` thresholds) and fully trained ones (``"trained"``,
    :func:`.nets.trained_circle_mlp`), all trained by ``protocol``; ``widths_`` default
    :func:`widths`."""
    grid = widths(quick) if widths_ is None else widths_
    common: dict[str, Any] = {"protocol": protocol, "seed": seed, "quick": quick}
    errors: dict[str, dict[int, float]] = {}
    for kind in (*THRESHOLDS, "trained"):
        errors[kind] = {}
        for n in grid:
            if kind == "trained":
                _, info = nets.trained_circle_mlp(n, DEPTH, **common)
            else:
                _, info = frozen_circle_mlp(n, thresholds=kind, **common)
            errors[kind][n] = 1.0 - info["test_accuracy"]
    return errors
