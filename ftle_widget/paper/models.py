"""The paper's networks: tanh MLPs with W ~ N(0, 1/fan_in) and zero thresholds."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from ..training.trainer import train  # noqa: F401  (re-exported: models.train, as documented)

DEFAULT_ARCHITECTURE = {"n_in": 2, "width": 10, "depth": 8, "n_out": 1}
DEFAULT_WEIGHTS = Path(__file__).with_name("default_model.pt")


def mlp(
    n_in: int,
    width: int,
    depth: int,
    n_out: int,
    *,
    seed: int | None = None,
    output_activation: bool | None = None,
) -> nn.Sequential:
    """``n_in → width×depth (tanh) → n_out``, initialised as in Storm et al. (2024).

    Parameters
    ----------
    n_in, width, depth, n_out : input size, hidden width N, number of hidden layers L, outputs.
    seed : seed for the initial weights (``None``: torch's global generator).
    output_activation : a tanh on the output; default: only for a single output (the paper's
        ±1 targets).
    """
    if min(n_in, width, depth, n_out) < 1:
        raise ValueError("n_in, width, depth and n_out must all be ≥ 1")
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    sizes = [n_in] + [width] * depth + [n_out]
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        linear = nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            linear.weight.copy_(torch.randn((fan_out, fan_in), generator=gen) / fan_in**0.5)
            linear.bias.zero_()
        layers.append(linear)
        if i < depth:
            layers.append(nn.Tanh())
    if output_activation is None:
        output_activation = n_out == 1
    if output_activation:
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def default_model() -> nn.Sequential:
    """The embedded default: the paper's toy network 2 → 10×8 (tanh) → 1 trained on the circle
    problem (:func:`ftle_widget.datasets.circle`) to ≥ 98 % test accuracy by
    ``scripts/train_default_model.py``. A fresh copy each call."""
    return load_mlp(DEFAULT_WEIGHTS)


def default_model_info() -> dict:
    """How the default model was made: architecture, test accuracy, epochs, trainer, torch."""
    saved = torch.load(DEFAULT_WEIGHTS, weights_only=True)
    return {k: v for k, v in saved.items() if k != "state_dict"}


def save_mlp(model: nn.Sequential, path, **info) -> None:
    """Save an :func:`mlp` as ``{"architecture", "state_dict", **info}``: a weights-only file
    that ``ftle-widget render --model PATH`` and :func:`load_mlp` read without unpickling."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    if len(linears) < 2 or not all(isinstance(m, nn.Linear | nn.Tanh) for m in model):
        raise ValueError("save_mlp saves the tanh MLPs that mlp() builds; use torch.save")
    architecture = {
        "n_in": linears[0].in_features,
        "width": linears[0].out_features,
        "depth": len(linears) - 1,
        "n_out": linears[-1].out_features,
    }
    output_activation = isinstance(model[-1], nn.Tanh)
    if output_activation != (architecture["n_out"] == 1):
        architecture["output_activation"] = output_activation
    torch.save(
        {
            "architecture": architecture,
            "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
            **info,
        },
        path,
    )


def load_mlp(path) -> nn.Sequential:
    """An :func:`mlp` saved by :func:`save_mlp` (weights only: nothing is unpickled)."""
    return mlp_from_saved(torch.load(path, map_location="cpu", weights_only=True))


def mlp_from_saved(saved: Mapping) -> nn.Sequential:
    """The :func:`mlp` a :func:`save_mlp` dict (``architecture``, ``state_dict``) describes.

    The architecture is checked against the saved tensors' shapes before anything is made, so a
    file cannot ask for more memory than its own weights take."""
    architecture, state = saved.get("architecture"), saved.get("state_dict")
    if not isinstance(architecture, Mapping) or not isinstance(state, Mapping):
        raise ValueError("a saved mlp holds an 'architecture' dict and a 'state_dict' dict")
    given = {k: architecture.get(k) for k in ("n_in", "width", "depth", "n_out")}
    extra = set(architecture) - {*given, "output_activation"}
    sizes = {k: n for k, n in given.items() if type(n) is int and n >= 1}
    if extra or len(sizes) < 4:
        raise ValueError(
            f"the architecture {dict(architecture)!r} is not mlp()'s: it takes positive ints "
            "n_in, width, depth, n_out (and output_activation)"
        )
    layers = [sizes["n_in"]] + [sizes["width"]] * sizes["depth"] + [sizes["n_out"]]
    want: dict[str, tuple[int, ...]] = {}
    for k, (fan_in, fan_out) in enumerate(itertools.pairwise(layers)):
        want[f"{2 * k}.weight"], want[f"{2 * k}.bias"] = (fan_out, fan_in), (fan_out,)
    have = {k: tuple(v.shape) if isinstance(v, torch.Tensor) else None for k, v in state.items()}
    if have != want:
        wrong = sorted(k for k in want.keys() | have.keys() if want.get(k) != have.get(k))
        first = wrong[0]
        raise ValueError(
            f"the weights do not match the architecture {dict(architecture)}: {first} is "
            f"{have.get(first, 'missing')} where it needs {want.get(first, 'nothing')} "
            f"({len(wrong)} tensor(s) differ)"
        )
    dtype = state["0.weight"].dtype
    if not dtype.is_floating_point:
        raise ValueError(f"the weights are {dtype}: a saved mlp holds floating-point weights")
    model = mlp(**architecture).to(dtype)  # float64 weights load as float64
    model.load_state_dict(state)
    return model.eval()
