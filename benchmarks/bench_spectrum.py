"""Cost of the lower exponents (λ₂, λ_min: the quantities ``lambda_min``, ``gap``,
``anisotropy``) as a ratio against λ₁ alone, measured in the same process on the same points.

Nets: the paper's 2-D toy (2 → 50×8 → 1, tanh; forward mode, λ₂ from the 2×2 Gram's area) and a
digits-sized net (64 → 32×4 → 10; exact mode, the SVD of the dense J). Float32, 64² tiles worth
of points, the best of ``--repeats`` runs each.

Run: ``python benchmarks/bench_spectrum.py``. Lines ``ratio_toy`` and ``ratio_digits``: seconds
with ``lower=True`` over seconds without.
"""

from __future__ import annotations

import argparse
import itertools
import time

import torch
from torch import nn

from ftle_widget.maths.exponents import Engine


def tanh_mlp(sizes: list[int], seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(sizes):
        lin = nn.Linear(a, b)
        nn.init.normal_(lin.weight, std=a**-0.5)
        layers += [lin, nn.Tanh()]
    return nn.Sequential(*layers[:-1])


def best(engine: Engine, x: torch.Tensor, lower: bool, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        engine.maximal(x, output=True, lower=lower)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=4 * 4096, help="points per run")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    nets = {"toy": [2, *[50] * 8, 1], "digits": [64, *[32] * 4, 10]}
    for name, sizes in nets.items():
        engine = Engine(tanh_mlp(sizes))
        x = torch.rand((args.points, sizes[0])) * 2 - 1
        engine.maximal(x[:64], lower=True)  # warm up
        base = best(engine, x, False, args.repeats)
        lower = best(engine, x, True, args.repeats)
        print(f"{name}: λ₁ {base * 1e3:.1f} ms, λ₁+λ₂+λ_min {lower * 1e3:.1f} ms")
        print(f"ratio_{name} {lower / base:.3f}")


if __name__ == "__main__":
    main()
