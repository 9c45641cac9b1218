"""How close the engine runs to its arithmetic on an image model: the small ResNet of
``bench_ftle.py`` (3×32×32 → 10 logits), in the same process as the published baseline.

Reverse mode computes λ₁ at a point from one forward pass and n = 10 backward passes (one per
logit; the input has 3072 dimensions, so no other order costs less). A backward pass through a
convolution does as many multiply-adds as its forward pass, so the time of 1 + n forward passes
of the engine's own model copy (BatchNorm folded, channels_last, its batch size, its workers) is
the *ceiling*: the rate the engine would reach if every transposed convolution ran as fast as the
forward one and the ReLU masks and skip additions of the backward passes cost nothing.

Run: ``python benchmarks/bench_ceiling.py`` (``--quick`` for a smoke run). The last lines are
``backward_over_forward`` (one backward pass of the engine ÷ one forward pass), ``ratio_resnet``
(ours ÷ baseline, as in ``bench_ftle.py``), ``ratio_resnet_ceiling`` (ceiling ÷ baseline) and
``share_of_ceiling`` (ours ÷ ceiling); medians over ``--repeats`` interleaved rounds.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable

import torch
from bench_ftle import best_baseline_rate, small_resnet

from ftle_widget import maximal_ftle
from ftle_widget.maths.exponents import Engine
from ftle_widget.maths.folding import channels_last_input, fast_copy
from ftle_widget.maths.parallel import run_batches


def seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer points, one round")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds")
    args = parser.parse_args()
    rounds = 1 if args.quick else args.repeats
    warnings.filterwarnings("ignore", message="There is a performance drop")
    torch.set_grad_enabled(True)
    model = small_resnet(4).requires_grad_(False)
    count, n_base = (64, 16) if args.quick else (512, 64)
    x = torch.rand((count, 3, 32, 32), generator=torch.Generator().manual_seed(10))
    engine = Engine(model, layer="logits")
    engine.maximal(x[:2])
    size = engine.batch_points(x.dtype)
    n = 10  # logits
    fast = fast_copy(model)
    assert fast is not None  # a CPU model with convolutions and BatchNorms
    xs = channels_last_input(x)
    starts = range(0, count, size)
    seed = torch.zeros(size, n)
    seed[:, 0] = 1

    def forwards() -> None:
        def one(start: int) -> None:
            with torch.no_grad():
                fast(xs[start : start + size])

        run_batches(one, starts, x.device)

    def backward() -> float:
        """Seconds of one backward pass per batch, on graphs made beforehand."""
        graphs = {}
        for start in starts:
            xb = xs[start : start + size].detach().requires_grad_(True)
            graphs[start] = (xb, fast(xb))

        def one(start: int) -> None:
            xb, y = graphs[start]
            torch.autograd.grad(y, xb, seed[: len(xb)], retain_graph=True)

        run_batches(one, starts, x.device)  # warm-up
        return seconds(lambda: run_batches(one, starts, x.device))

    threads = torch.get_num_threads()
    print(f"torch {torch.__version__}, threads {threads}, batch {size}, {count} points")
    ours, base, fwd, back = [], [], [], []
    forwards()  # warm-up
    for _ in range(rounds):
        ours.append(count / seconds(lambda: maximal_ftle(model, x, layer="logits")))
        base.append(best_baseline_rate(model, x[:n_base], 10, [16, 64], 1 if args.quick else 3))
        fwd.append(seconds(forwards))
        back.append(backward())
    t_fwd = statistics.median(fwd)
    ceiling = count / ((1 + n) * t_fwd)
    figures = {
        "backward_over_forward": statistics.median(back) / t_fwd,
        "ratio_resnet": statistics.median(ours) / statistics.median(base),
        "ratio_resnet_ceiling": ceiling / statistics.median(base),
        "share_of_ceiling": statistics.median(ours) / ceiling,
    }
    print(
        f"ours {statistics.median(ours):.0f} pts/s, baseline {statistics.median(base):.0f} pts/s, "
        f"ceiling {ceiling:.0f} pts/s ({1 + n} forward passes of {t_fwd / count * 1e3:.2f} ms "
        "per point)"
    )
    for key, value in figures.items():
        print(f"{key}: {value:.2f}")


if __name__ == "__main__":
    main()
