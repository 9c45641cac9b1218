"""The paper's experiments, reproducible: trained networks cached on disk and the statistics of
Storm et al., PRL 132, 057301 (2024), Fig. 3b (λ₁ on the decision boundary and in the centre) and
Fig. 4 (test error and ensemble uncertainty against λ₁). The demo notebooks
``02_depth_and_width`` and ``03_digits`` are built on these.

Training (all seeded; every setting below is part of the cache key, so a changed setting trains
a new net). Plain SGD, with the learning rate 0.05 for the first 4/7 of the epochs, 0.01 for the
next 2/7 and 0.002 for the last 1/7 (a constant rate leaves the test accuracy jumping by a few
per cent from epoch to epoch):

* Circle nets, 2 → N×L → 1 (tanh), MSE to ±1, batch 32. Full: the paper's 40 000 points,
  21 epochs: ≥ 99.6 % test accuracy for every net of the Fig. 2 grid (the paper's sweep runs
  200 epochs for ≥ 99 %). The whole grid (N ∈ {10, 50, 250} × L ∈ {2, 4, 8, 12}) trained in
  about 25 min on a busy 2-core machine (N = 250 took 60 % of it); then it loads in a second.
  Quick (``FTLE_WIDGET_QUICK=1``): 10 000 points, 7 epochs, ≥ 99.2 %, 1–25 s a net.
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
import copy
import hashlib
import json
import math
import os
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import datasets
from .exponents import Engine, evaluation_mode, model_float_dtype
from .models import load_mlp, mlp, save_mlp
from .training import predicted_class, train

CACHE_VERSION = 1
RATES = (0.05, 0.01, 0.002)  # SGD learning rate, for 4/7, 2/7, 1/7 of the epochs
CIRCLE_FULL = {"n": 40_000, "epochs": 21, "lr": RATES, "batch_size": 32, "optimizer": "sgd"}
CIRCLE_QUICK = {"n": 10_000, "epochs": 7, "lr": RATES, "batch_size": 32, "optimizer": "sgd"}
DIGITS_FULL = {"epochs": 60, "lr": RATES, "batch_size": 32, "optimizer": "sgd"}
DIGITS_QUICK = {"epochs": 30, "lr": RATES, "batch_size": 32, "optimizer": "sgd"}
MNIST_FULL = {"epochs": 14, "lr": RATES, "batch_size": 64, "optimizer": "sgd"}
MNIST_QUICK = {"epochs": 3, "lr": RATES, "batch_size": 64, "optimizer": "sgd"}
ENSEMBLE_FULL, ENSEMBLE_QUICK = 10, 5
CENTRE_RADIUS = 0.25


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


def trained_circle_mlp(
    width: int,
    depth: int,
    *,
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
    epochs : override the mode's epochs (full 21, quick 7), split into the three learning-rate
        phases.
    seed : initial weights, data and batch order.
    quick : shrunk training (default: :func:`quick`); see the module docstring.
    progress : a tqdm bar while training.

    Returns
    -------
    (model, info): the net in eval mode and a dict with ``test_accuracy`` (final),
    ``accuracy_per_epoch``, ``train_loss``, ``test_loss``, ``epochs``, ``seconds`` (training
    time), ``cached`` (loaded from disk) and ``path``.
    """
    quick_mode, chosen = _settings(CIRCLE_FULL, CIRCLE_QUICK, quick, epochs)
    settings = {
        "problem": "circle",
        "width": width,
        "depth": depth,
        "seed": seed,
        "quick": quick_mode,
        **chosen,
    }
    data = circle_data(quick=quick_mode, seed=seed)
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


def circle_data(*, quick: bool | None = None, seed: int = 0) -> datasets.Split:
    """The circle problem :func:`trained_circle_mlp` trains on (10 000 points in quick mode)."""
    return datasets.circle((CIRCLE_QUICK if _is_quick(quick) else CIRCLE_FULL)["n"], seed=seed)


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


# ---------------------------------------------------------------------------------- Fig. 3b
@dataclass
class BoundaryStats:
    """log Λ₁ = L·λ₁ on a net's decision boundary and in the centre of the input plane.

    Attributes
    ----------
    boundary, centre : mean log Λ₁ over the boundary points and over the centre points.
    depth : L, the divisor of log Λ₁.
    boundary_points, centre_points : (K, 2) and (M, 2) inputs used.
    boundary_values, centre_values : log Λ₁ at those points.
    """

    boundary: float
    centre: float
    depth: float
    boundary_points: np.ndarray
    centre_points: np.ndarray
    boundary_values: np.ndarray
    centre_values: np.ndarray

    @property
    def contrast(self) -> float:
        """boundary − centre: how much sharper the ridge is than the interior."""
        return self.boundary - self.centre

    @property
    def boundary_lambda(self) -> float:
        """Mean λ₁ on the boundary."""
        return self.boundary / self.depth

    @property
    def centre_lambda(self) -> float:
        """Mean λ₁ in the centre."""
        return self.centre / self.depth


@torch.no_grad()
def boundary_points(
    model: nn.Module, *, n: int = 360, r_max: float = 1.5, steps: int = 100, tol: float = 1e-9
) -> np.ndarray:
    """Points on the decision boundary (output = 0) of a one-output net on the plane.

    Along ``n`` rays from the origin at equally spaced angles the output is sampled at ``steps``
    radii in (0, ``r_max``] (in the model's precision); every sign change is refined by
    bisection in float64 to ``tol``. Rays may cross the boundary several times (each crossing
    counts) or never. Returns (K, 2) float64 points.
    """
    angles = (np.arange(n) + 0.5) * (2 * math.pi / n)
    dirs = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    radii = np.linspace(0, r_max, steps + 1)[1:]
    grid = (dirs[:, None, :] * radii[None, :, None]).reshape(-1, 2)
    out = _output(model, grid).reshape(n, steps)
    ray, k = np.nonzero(np.signbit(out[:, :-1]) != np.signbit(out[:, 1:]))
    model64 = copy.deepcopy(model).double().eval()
    lo, hi = radii[k], radii[k + 1]
    sign_lo = np.signbit(_output(model64, dirs[ray] * lo[:, None]))
    keep = sign_lo != np.signbit(_output(model64, dirs[ray] * hi[:, None]))
    ray, lo, hi, sign_lo = ray[keep], lo[keep], hi[keep], sign_lo[keep]
    for _ in range(max(1, math.ceil(math.log2((r_max / steps) / tol)))):
        mid = (lo + hi) / 2
        same = np.signbit(_output(model64, dirs[ray] * mid[:, None])) == sign_lo
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    return dirs[ray] * ((lo + hi) / 2)[:, None]


def centre_points(n: int = 500, radius: float = CENTRE_RADIUS) -> np.ndarray:
    """``n`` points spread evenly over the disc of ``radius`` about the origin (a sunflower
    spiral: equal area per point)."""
    k = np.arange(n) + 0.5
    r = radius * np.sqrt(k / n)
    phi = k * math.pi * (3 - math.sqrt(5))
    return np.stack([r * np.cos(phi), r * np.sin(phi)], axis=1)


def boundary_and_centre(
    model: nn.Module,
    depth: float | None = None,
    *,
    n: int = 360,
    centre_radius: float = CENTRE_RADIUS,
) -> BoundaryStats:
    """The paper's Fig. 3b statistics of a circle net: mean log Λ₁ = L·λ₁ (last hidden layer)
    on its decision boundary and in the centre.

    Boundary: the zero crossings of the output along ``n`` rays from the origin
    (:func:`boundary_points`), i.e. where the *network* puts the boundary, not the true circle.
    Centre: ``n`` points evenly over the disc of radius ``centre_radius`` (0.25) about the origin
    (:func:`centre_points`), deep inside the circle for any accurate net.

    Parameters
    ----------
    model : a one-output net on 2-D inputs.
    depth : L, the divisor of log Λ₁ (default: the number of hidden layers).
    n : rays and centre points.
    """
    on_boundary = boundary_points(model, n=n)
    if len(on_boundary) == 0:
        raise ValueError("the net's output has no sign change within radius 1.5: no boundary")
    inside = centre_points(n, centre_radius)
    engine = Engine(model, depth=depth)
    dtype = model_float_dtype(model)
    values = [
        engine.maximal(torch.from_numpy(p).to(dtype))[0].double().numpy()
        for p in (on_boundary, inside)
    ]
    depth = engine.depth
    b, c = (v * depth for v in values)
    return BoundaryStats(float(b.mean()), float(c.mean()), depth, on_boundary, inside, b, c)


def _output(model: nn.Module, points: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(np.ascontiguousarray(points)).to(model_float_dtype(model))
    return _run(model, x).reshape(len(points)).double().numpy()


@torch.no_grad()
def _run(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The model's output in eval mode (its training flags restored after)."""
    with evaluation_mode(model):
        return model(x)


# ---------------------------------------------------------------------------------- Fig. 4
@dataclass
class FTLEBins:
    """Test points binned by λ₁ quantiles (equal counts per bin).

    Attributes
    ----------
    edges : (bins + 1,) λ₁ bin edges (the quantiles; first and last: min and max).
    count : points per bin.
    lam : mean λ₁ per bin.
    error : test error per bin (fraction misclassified by the model).
    entropy : mean predictive entropy (nats) of the ensemble's averaged probabilities per bin,
        or None without an ensemble.
    lambdas, bin_of : λ₁ of every point and its bin index.
    """

    edges: np.ndarray
    count: np.ndarray
    lam: np.ndarray
    error: np.ndarray
    entropy: np.ndarray | None
    lambdas: np.ndarray
    bin_of: np.ndarray

    def table(self) -> str:
        """The bins as a text table."""
        head = f"{'λ₁ range':>19} {'mean λ₁':>8} {'points':>6} {'error':>7}"
        head += f" {'entropy':>8}" if self.entropy is not None else ""
        rows = [head]
        for b in range(len(self.count)):
            row = (
                f"[{self.edges[b]:+.3f}, {self.edges[b + 1]:+.3f}] {self.lam[b]:8.4f} "
                f"{self.count[b]:6d} {self.error[b]:7.2%}"
            )
            if self.entropy is not None:
                row += f" {self.entropy[b]:8.4f}"
            rows.append(row)
        return "\n".join(rows)


@torch.no_grad()
def predictive_entropy(models: Sequence[nn.Module], x: torch.Tensor) -> np.ndarray:
    """Entropy (nats) of the ensemble's mean softmax probabilities at each input."""
    probs = torch.stack([torch.softmax(_run(m, x).double(), dim=1) for m in models]).mean(0)
    return (-(probs * torch.log(probs.clamp_min(1e-300))).sum(1)).numpy()


def ftle_bins(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    bins: int = 5,
    ensemble: Sequence[nn.Module] | None = None,
    layer: int | str | None = None,
) -> FTLEBins:
    """Test error and ensemble predictive entropy against λ₁ (the paper's Fig. 4b).

    λ₁ of ``model`` at each input (last hidden layer by default), bins at its quantiles (equal
    counts), and per bin: the model's error on (x, y) and, given an ``ensemble``, the mean
    entropy of the members' averaged softmax.
    """
    if bins < 1 or len(x) < bins:
        raise ValueError(f"need at least one point per bin: {len(x)} points, {bins} bins")
    engine = Engine(model, layer=layer)
    lam = engine.maximal(x)[0].double().numpy()
    wrong = (predicted_class(_run(model, x)) != y).numpy()
    edges = np.quantile(lam, np.linspace(0, 1, bins + 1))
    bin_of = np.clip(np.searchsorted(edges, lam, side="right") - 1, 0, bins - 1)
    count = np.bincount(bin_of, minlength=bins)
    if (count == 0).any():
        raise ValueError("λ₁ takes too few distinct values for this many bins")
    means = lambda v: np.bincount(bin_of, weights=v, minlength=bins) / count  # noqa: E731
    entropy = None if ensemble is None else means(predictive_entropy(ensemble, x))
    return FTLEBins(edges, count, means(lam), means(wrong.astype(np.float64)), entropy, lam, bin_of)


def ftle_mean_and_spread(model: nn.Module, x: torch.Tensor) -> tuple[float, float]:
    """Mean and standard deviation of λ₁ (last hidden layer) over the inputs ``x`` (Fig. 4c, d)."""
    lam = Engine(model).maximal(x)[0].double().numpy()
    return float(lam.mean()), float(lam.std())


# ---------------------------------------------------------------------------------- pictures
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def field_panels(
    models: Mapping[tuple[int, int], nn.Module],
    *,
    extent: Sequence[float] = (-1.5, 1.5, -1.5, 1.5),
    size: int = 120,
    vmin: float = -4.0,
    vmax: float = 4.0,
    cmap: str = "RdBu_r",
    grid: int = 11,
):
    """The paper's Fig. 2 as one ``PIL.Image``: log Λ₁ = L·λ₁ over the input plane of each net
    ``models[(N, L)]`` with its stretching directions (segments on a ``grid`` × ``grid``
    lattice), one row per L, one column per N, and a shared colorbar."""
    from PIL import Image, ImageDraw, ImageFont

    from .export import colorize, field_image
    from .fields import ftle_field
    from .planes import Plane

    widths = sorted({n for n, _ in models})
    depths = sorted({d for _, d in models})
    pad, left, top, bar = 6, 44, 18, 70
    canvas = Image.new(
        "RGB", (left + len(widths) * (size + pad) + bar, top + len(depths) * (size + pad)), "white"
    )
    draw, font = ImageDraw.Draw(canvas), ImageFont.load_default()
    for j, n in enumerate(widths):
        draw.text(
            (left + j * (size + pad) + size // 2 - 15, 3), f"N = {n}", fill="black", font=font
        )
    for i, d in enumerate(depths):
        draw.text((4, top + i * (size + pad) + size // 2 - 5), f"L = {d}", fill="black", font=font)
        for j, n in enumerate(widths):
            if (n, d) not in models:
                continue
            field = ftle_field(
                models[(n, d)], Plane.standard(2), extent, (size, size), directions=True
            )
            panel = field_image(
                field.log_stretch,
                cmap=cmap,
                vmin=vmin,
                vmax=vmax,
                colorbar=False,
                directions=field.direction,
                grid=grid,
            )
            canvas.paste(panel.convert("RGB"), (left + j * (size + pad), top + i * (size + pad)))
    x0, y0, y1 = canvas.width - bar + 8, top, canvas.height - pad
    ramp = np.linspace(vmax, vmin, y1 - y0)[:, None].repeat(14, axis=1)
    canvas.paste(
        Image.fromarray(np.ascontiguousarray(colorize(ramp, cmap, vmin, vmax)[..., :3])), (x0, y0)
    )
    draw.rectangle([x0 - 1, y0 - 1, x0 + 14, y1], outline="black")
    for tick in np.linspace(vmin, vmax, 5):
        y = y0 + (vmax - tick) / (vmax - vmin) * (y1 - y0 - 1)
        draw.line([x0 + 14, y, x0 + 18, y], fill="black")
        draw.text((x0 + 20, y - 5), f"{tick:g}", fill="black", font=font)
    draw.text((x0 - 12, 3), "L*lambda_1", fill="black", font=font)
    return canvas


def line_chart(
    x: Sequence[float],
    series: Mapping[str, Sequence[float]],
    *,
    spread: Mapping[str, Sequence[float]] | None = None,
    xlabel: str = "",
    ylabel: str = "",
    logx: bool = False,
    size: tuple[int, int] = (380, 230),
):
    """A small line chart as a ``PIL.Image``: one polyline with markers per entry of
    ``series`` (drawn against ``x``; ``spread`` adds ± error bars), a legend on the right.
    ``logx``: a logarithmic x axis with ticks at the x values. No plotting library needed."""
    from PIL import Image, ImageDraw, ImageFont

    from .export import _nice_ticks

    xs = np.log(np.asarray(x, float)) if logx else np.asarray(x, float)
    spread = spread or {}
    lows = [np.asarray(v, float) - np.asarray(spread.get(k, 0.0), float) for k, v in series.items()]
    highs = [
        np.asarray(v, float) + np.asarray(spread.get(k, 0.0), float) for k, v in series.items()
    ]
    y_lo, y_hi = float(np.nanmin(np.concatenate(lows))), float(np.nanmax(np.concatenate(highs)))
    margin = 0.08 * (y_hi - y_lo or 1.0)
    y_lo, y_hi = y_lo - margin, y_hi + margin
    x_lo, x_hi = float(xs.min()), float(xs.max())
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    x_pad = 0.06 * (x_hi - x_lo)
    x_lo, x_hi = x_lo - x_pad, x_hi + x_pad
    image = Image.new("RGB", size, "white")
    draw, font = ImageDraw.Draw(image), ImageFont.load_default()
    left, right, top, bottom = 48, size[0] - 70, 10, size[1] - 34

    def px(u: float, v: float) -> tuple[float, float]:
        return (
            left + (u - x_lo) / (x_hi - x_lo) * (right - left),
            bottom - (v - y_lo) / (y_hi - y_lo) * (bottom - top),
        )

    draw.rectangle([left, top, right, bottom], outline="black")
    for tick in _nice_ticks(y_lo, y_hi, 5):
        _, y = px(x_lo, tick)
        draw.line([left - 4, y, left, y], fill="black")
        draw.text((4, y - 5), f"{tick:g}", fill="black", font=font)
    x_ticks = (
        list(zip(xs, np.asarray(x, float)))
        if logx
        else [(t, t) for t in _nice_ticks(x_lo, x_hi, 5)]
    )
    for u, label in x_ticks:
        xx, _ = px(u, y_lo)
        draw.line([xx, bottom, xx, bottom + 4], fill="black")
        draw.text((xx - 8, bottom + 6), f"{label:.3g}", fill="black", font=font)
    draw.text(((left + right) // 2 - 3 * len(xlabel), bottom + 20), xlabel, fill="black", font=font)
    draw.text((left + 4, top + 2), ylabel, fill="black", font=font)
    for k, (name, values) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        points = [px(u, v) for u, v in zip(xs, np.asarray(values, float))]
        draw.line(points, fill=colour, width=2)
        for (cx, cy), err in zip(points, np.broadcast_to(spread.get(name, 0.0), len(points))):
            half = float(err) / (y_hi - y_lo) * (bottom - top)
            if half > 0:
                draw.line([cx, cy - half, cx, cy + half], fill=colour, width=1)
            draw.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=colour)
        draw.text((right + 8, top + 4 + 12 * k), name, fill=colour, font=font)
    return image


def side_by_side(*images, gap: int = 10):
    """``PIL.Image``s pasted left to right on white."""
    from PIL import Image

    width = sum(im.width for im in images) + gap * (len(images) - 1)
    canvas = Image.new("RGB", (width, max(im.height for im in images)), "white")
    x = 0
    for im in images:
        canvas.paste(im.convert("RGB"), (x, 0))
        x += im.width + gap
    return canvas
