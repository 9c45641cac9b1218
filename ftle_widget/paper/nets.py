"""The paper's trained networks, reproducible and cached on disk, for the experiments of Storm et
al., PRL 132, 057301 (2024) (statistics in :mod:`.statistics`, charts in :mod:`.charts`). The
demo notebooks ``02_depth_and_width`` and ``03_digits`` are built on these.

Training (all seeded; every setting below is part of the cache key, so a changed setting trains
a new net). Plain SGD, with the learning rate 0.05 for the first 4/7 of the epochs, 0.01 for the
next 2/7 and 0.002 for the last 1/7 (a constant rate leaves the test accuracy jumping by a few
per cent from epoch to epoch), except in the circle nets' ``"paper"`` protocol:

* Circle nets, 2 → N×L → 1 (tanh), MSE to ±1, trained by one of two protocols
  (:data:`PROTOCOLS`, ``protocol=`` of :func:`trained_circle_mlp`):

  - ``"ours"`` (the default): batch 32 and the decaying rate above. Full: the paper's 40 000
    points, 21 epochs (~24 000 steps): ≥ 99.6 % test accuracy for every net of the Fig. 2 grid.
    The whole grid (N ∈ {10, 50, 250} × L ∈ {2, 4, 8, 12}) trained in about 25 min on a busy
    2-core machine (N = 250 took 60 % of it); then it loads in a second. Quick
    (``FTLE_WIDGET_QUICK=1``): 10 000 points, 7 epochs, ≥ 99.2 %, 1–25 s a net.
  - ``"paper"``: the co-authors' protocol. Known (the paper and their public code): plain SGD,
    learning rate 0.05, batch 8192, 200 epochs, MSE to ±1, W ~ N(0, 1/fan_in), zero
    thresholds. Our assumptions: 40 000 points (90 % trained on: 5 steps an epoch, 1 000 steps
    in all), a constant rate (no decay), no early stopping (the net after epoch 200). Quick:
    10 000 points (2 steps an epoch), the same 200 epochs; 3–8 s a net at N = 10. Measured
    (full, N = 10, seed 0): 97.2–99.2 % test accuracy and L·λ₁ on the boundary 0.93 / 2.02 /
    2.67 / 3.08 for L = 2 / 4 / 8 / 12 (the paper: ≈ 1.2 / 2.2 / 3.0 / 3.2; ours: 1.80 / 3.33 /
    4.09 / 4.33): the boundary keeps sharpening with more steps.
* Digit nets, 64 → N×L → 10 (tanh) on scikit-learn's 8×8 digits, cross-entropy, batch 32:
  full 60 epochs (20×16: 94–98 % test accuracy over ten seeds, ~8 s each), quick 30. Adam (3e-3,
  same decay) trains 20×16 as well but costs 3× more a step and failed at 160×16; SGD at lr 0.1
  failed for one seed in ten: 0.05 trained all of them.
* Real MNIST (784 → N×L → 10, batch 64): full 14 epochs, quick 3.
* Ensembles: 10 members (seeds 0…9, member 0 is the studied net); quick: 5.

Training runs on one CPU thread: these nets are so small that a second thread only adds
synchronisation (measured 4–6× slower on two busy cores); the thread count is restored after.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..training.trainer import train
from . import datasets
from .models import load_mlp, mlp, save_mlp

CACHE_VERSION = 1
RATES = (0.05, 0.01, 0.002)  # SGD learning rate, for 4/7, 2/7, 1/7 of the epochs
CIRCLE_FULL: dict[str, Any] = {
    "n": 40_000,
    "epochs": 21,
    "lr": RATES,
    "batch_size": 32,
    "optimizer": "sgd",
}
CIRCLE_QUICK: dict[str, Any] = {
    "n": 10_000,
    "epochs": 7,
    "lr": RATES,
    "batch_size": 32,
    "optimizer": "sgd",
}
# the co-authors' protocol: SGD, lr 0.05, batch 8192, 200 epochs (the number of points, the
# constant rate and the stopping after epoch 200 are our assumptions)
CIRCLE_PAPER_FULL: dict[str, Any] = {
    "n": 40_000,
    "epochs": 200,
    "lr": 0.05,
    "batch_size": 8192,
    "optimizer": "sgd",
}
CIRCLE_PAPER_QUICK: dict[str, Any] = {**CIRCLE_PAPER_FULL, "n": 10_000}
PROTOCOLS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "ours": (CIRCLE_FULL, CIRCLE_QUICK),
    "paper": (CIRCLE_PAPER_FULL, CIRCLE_PAPER_QUICK),
}
DIGITS_FULL: dict[str, Any] = {"epochs": 60, "lr": RATES, "batch_size": 32, "optimizer": "sgd"}
DIGITS_QUICK: dict[str, Any] = {"epochs": 30, "lr": RATES, "batch_size": 32, "optimizer": "sgd"}
MNIST_FULL: dict[str, Any] = {"epochs": 14, "lr": RATES, "batch_size": 64, "optimizer": "sgd"}
MNIST_QUICK: dict[str, Any] = {"epochs": 3, "lr": RATES, "batch_size": 64, "optimizer": "sgd"}
ENSEMBLE_FULL, ENSEMBLE_QUICK = 10, 5


def quick() -> bool:
    """True when the environment variable ``FTLE_WIDGET_QUICK`` is set to a non-empty value
    other than ``"0"``: shrunk training for tests and CI. Full settings are the default."""
    return os.environ.get("FTLE_WIDGET_QUICK", "") not in ("", "0")


def cache_dir() -> Path:
    """Where trained networks are kept: ``$XDG_CACHE_HOME/ftle_widget`` or
    ``~/.cache/ftle_widget`` (created)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    folder = Path(base) / "ftle_widget"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _cached(
    prefix: str, settings: dict, build, data: datasets.Split, train_args: dict, progress: bool
) -> tuple[nn.Sequential, dict]:
    """Load the net that ``settings`` describe from the cache, else build, train and save it."""
    key = json.dumps({"version": CACHE_VERSION, **settings}, sort_keys=True)
    path = cache_dir() / f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.pt"
    if path.is_file():
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            model = load_mlp(path)
            info = {k: v for k, v in saved.items() if k not in ("architecture", "state_dict")}
            return model, {**info, "cached": True, "path": str(path)}
        except Exception as error:  # a damaged or foreign file: train afresh
            warnings.warn(
                f"cannot read the cached net {path} ({error}); training it again",
                RuntimeWarning,
                stacklevel=3,
            )
    model = build()
    start = time.perf_counter()
    info = {
        "settings": key,
        "epochs": 0,
        "accuracy_per_epoch": [],
        "train_loss": [],
        "test_loss": [],
    }
    with _one_thread():
        for k, (epochs, lr) in enumerate(_phases(settings["epochs"], settings["lr"])):
            result = train(
                model,
                data,
                epochs=epochs,
                lr=lr,
                seed=settings["seed"] + k,
                progress=progress,
                **train_args,
            )
            skip = 0 if k == 0 else 1  # epoch 0 of a later phase repeats the last epoch
            info["accuracy_per_epoch"] += result.test_accuracy[skip:]
            info["train_loss"] += result.train_loss[skip:]
            info["test_loss"] += result.test_loss[skip:]
            info["epochs"] += epochs
    info.update(
        test_accuracy=info["accuracy_per_epoch"][-1],
        seconds=time.perf_counter() - start,
        torch=str(torch.__version__),
    )
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    save_mlp(model, partial, **info)
    os.replace(partial, path)  # atomic: a concurrent reader never sees half a file
    return model, {**info, "cached": False, "path": str(path)}


def _phases(epochs: int, lrs: float | Sequence[float]) -> list[tuple[int, float]]:
    """Split ``epochs`` into phases of decreasing learning rate: with k rates, phase i gets a
    share 2^(k−1−i)/(2^k − 1) (three rates: 4/7, 2/7, 1/7 of the epochs); empty phases are
    dropped."""
    lrs = [float(lrs)] if isinstance(lrs, int | float) else [float(r) for r in lrs]
    weights = [2.0 ** (len(lrs) - 1 - i) for i in range(len(lrs))]
    bounds = [round(epochs * sum(weights[: i + 1]) / sum(weights)) for i in range(len(lrs))]
    lengths = [b - a for a, b in zip([0, *bounds[:-1]], bounds)]
    return [(n, lr) for n, lr in zip(lengths, lrs) if n > 0] or [(0, lrs[0])]


def _is_quick(flag: bool | None) -> bool:
    return quick() if flag is None else bool(flag)


def _settings(full: dict, quick_settings: dict, flag: bool | None, epochs: int | None):
    quick_mode = _is_quick(flag)
    chosen = dict(quick_settings if quick_mode else full)
    if epochs is not None:
        chosen["epochs"] = int(epochs)
    return quick_mode, chosen


def circle_settings(protocol: str = "ours", quick: bool | None = None) -> dict[str, Any]:
    """The training settings of a circle net under ``protocol`` (``"ours"`` or ``"paper"``, see
    the module docstring) in full or quick mode (default: :func:`quick`): ``n`` (points, 10 %
    of them held out), ``epochs``, ``lr`` (one rate, or the rates of the 4/7, 2/7, 1/7
    phases), ``batch_size``, ``optimizer``. A copy: changing it changes nothing here."""
    if protocol not in PROTOCOLS:
        raise ValueError(
            f"unknown training protocol {protocol!r}: the known ones are "
            + ", ".join(repr(p) for p in PROTOCOLS)
        )
    full, shrunk = PROTOCOLS[protocol]
    return dict(shrunk if _is_quick(quick) else full)


def trained_circle_mlp(
    width: int,
    depth: int,
    *,
    protocol: str = "ours",
    epochs: int | None = None,
    seed: int = 0,
    quick: bool | None = None,
    progress: bool = False,
) -> tuple[nn.Sequential, dict]:
    """The paper's toy net 2 → ``width``×``depth`` (tanh) → 1 (tanh) trained on
    :func:`ftle_widget.datasets.circle` with MSE and plain SGD (see the module docstring);
    cached in :func:`cache_dir`.

    Parameters
    ----------
    width, depth : N and L.
    protocol : ``"ours"`` (batch 32, rate 0.05 → 0.01 → 0.002, 21 epochs; quick 7) or
        ``"paper"`` (the co-authors': batch 8192, constant rate 0.05, 200 epochs); which parts
        of ``"paper"`` are known and which assumed: the module docstring.
        :func:`circle_settings` gives the settings.
    epochs : override the protocol's epochs (ours: full 21, quick 7; paper: 200), split into
        its learning-rate phases.
    seed : initial weights, data and batch order.
    quick : shrunk training (default: :func:`quick`); see the module docstring.
    progress : a tqdm bar while training.

    Returns
    -------
    (model, info): the net in eval mode and a dict with ``test_accuracy`` (final),
    ``accuracy_per_epoch``, ``train_loss``, ``test_loss``, ``epochs``, ``seconds`` (training
    time), ``cached`` (loaded from disk) and ``path``.
    """
    quick_mode = _is_quick(quick)
    chosen = circle_settings(protocol, quick_mode)
    if epochs is not None:
        chosen["epochs"] = int(epochs)
    settings = {
        "problem": "circle",
        "width": width,
        "depth": depth,
        "seed": seed,
        "quick": quick_mode,
        **chosen,
    }
    if protocol != "ours":  # "ours" keeps the key it had before protocols: caches stay valid
        settings["protocol"] = protocol
    data = circle_data(quick=quick_mode, seed=seed, protocol=protocol)
    train_args = {
        "loss": "mse",
        "optimizer": chosen["optimizer"],
        "batch_size": chosen["batch_size"],
    }
    return _cached(
        f"circle-N{width}-L{depth}",
        settings,
        lambda: mlp(2, width, depth, 1, seed=seed),
        data,
        train_args,
        progress,
    )


def circle_data(
    *, quick: bool | None = None, seed: int = 0, protocol: str = "ours"
) -> datasets.Split:
    """The circle problem :func:`trained_circle_mlp` trains on (40 000 points, 10 000 in quick
    mode, for both protocols)."""
    return datasets.circle(circle_settings(protocol, quick)["n"], seed=seed)


def trained_digits_mlp(
    width: int = 20,
    depth: int = 16,
    *,
    epochs: int | None = None,
    seed: int = 0,
    quick: bool | None = None,
    mnist: str | os.PathLike | None = None,
    progress: bool = False,
) -> tuple[nn.Sequential, dict]:
    """The paper's Fig. 4 net, ``d`` → ``width``×``depth`` (tanh) → 10 logits, trained with
    cross-entropy and plain SGD; cached in :func:`cache_dir`.

    Parameters
    ----------
    width, depth : N and L (the paper: 20 × 16).
    epochs : override the mode's epochs (digits: full 60, quick 30; MNIST: 14, 3).
    seed : initial weights and batch order (the data split is fixed).
    quick : shrunk training (default: :func:`quick`).
    mnist : a folder with MNIST's IDX files: train 784 → N×L → 10 on real MNIST instead of
        scikit-learn's 8×8 digits (64 inputs).
    progress : a tqdm bar while training.

    Returns
    -------
    (model, info) as :func:`trained_circle_mlp`.
    """
    data = digits_data(mnist)
    if mnist is None:
        quick_mode, chosen = _settings(DIGITS_FULL, DIGITS_QUICK, quick, epochs)
        problem = "digits"
    else:
        quick_mode, chosen = _settings(MNIST_FULL, MNIST_QUICK, quick, epochs)
        problem = f"mnist:{Path(mnist).expanduser().resolve()}:{len(data.x_train)}"
    n_in = data.x_train.shape[1]
    settings = {
        "problem": problem,
        "width": width,
        "depth": depth,
        "seed": seed,
        "quick": quick_mode,
        **chosen,
    }
    train_args = {
        "loss": "cross_entropy",
        "optimizer": chosen["optimizer"],
        "batch_size": chosen["batch_size"],
    }
    prefix = f"{'digits' if mnist is None else 'mnist'}-N{width}-L{depth}"
    return _cached(
        prefix, settings, lambda: mlp(n_in, width, depth, 10, seed=seed), data, train_args, progress
    )


def digits_data(mnist: str | os.PathLike | None = None) -> datasets.Split:
    """The data :func:`trained_digits_mlp` trains on: scikit-learn's digits (80/20 split,
    seed 0), or MNIST from the folder ``mnist``."""
    return datasets.digits() if mnist is None else datasets.load_mnist(mnist)


def ensemble(
    width: int = 20,
    depth: int = 16,
    *,
    members: int | None = None,
    epochs: int | None = None,
    quick: bool | None = None,
    mnist: str | os.PathLike | None = None,
    progress: bool = False,
) -> list[nn.Sequential]:
    """``members`` nets of :func:`trained_digits_mlp` with seeds 0, 1, … (member 0 is the net
    ``trained_digits_mlp(width, depth)`` itself); default 10 members, 5 in quick mode."""
    quick_mode = _is_quick(quick)
    if members is None:
        members = ENSEMBLE_QUICK if quick_mode else ENSEMBLE_FULL
    if members < 1:
        raise ValueError(f"members must be ≥ 1, not {members}")
    return [
        trained_digits_mlp(
            width, depth, epochs=epochs, seed=s, quick=quick_mode, mnist=mnist, progress=progress
        )[0]
        for s in range(members)
    ]
