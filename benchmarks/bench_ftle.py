"""Speed of the FTLE engine against the published baseline, measured in the same process.

Baseline: ``torch.func.vmap(torch.func.jacrev(f))`` on single samples, then
``torch.linalg.svdvals``, float32, at its best batch size. Ours: ``maximal_ftle(method="auto")``.

Run: ``python benchmarks/bench_ftle.py`` (``--quick`` for a short smoke run). The last lines are
``ratio_toy``, ``ratio_mnist``, ``ratio_wide``, ``ratio_cnn``, ``ratio_resnet``,
``ratio_transformer`` (general modules, logits), ``ratio_toy_contended``,
``ratio_mnist_contended`` (while another process runs torch matmuls on all cores),
``wide_max_abs_err``, ``peak_rss_mb``.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator

import torch
from torch import nn

from ftle_widget import Plane, ftle_field, ftle_layers, maximal_ftle


def tanh_mlp(sizes: list[int], seed: int) -> nn.Sequential:
    """The paper's tanh MLP, W ~ N(0, 1/fan_in), zero biases."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(sizes):
        lin = nn.Linear(a, b)
        nn.init.normal_(lin.weight, std=a**-0.5)
        nn.init.zeros_(lin.bias)
        layers += [lin, nn.Tanh()]
    return nn.Sequential(*layers[:-1])


def small_cnn(seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 8, 5, stride=2),
        nn.Tanh(),  # 8 × 12 × 12
        nn.Conv2d(8, 16, 5, stride=2),
        nn.Tanh(),  # 16 × 4 × 4
        nn.Flatten(),
        nn.Linear(256, 32),
        nn.Tanh(),
        nn.Linear(32, 10),
    )


class _Block(nn.Module):
    """A basic residual block: two 3×3 convolutions with BatchNorm, a projected shortcut."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = nn.Identity()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(h)) + self.short(x))


class SmallResNet(nn.Module):
    """3×32×32 → 10 logits: a stem, three residual blocks (16, 32, 64 channels), pooling."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16))
        self.blocks = nn.Sequential(_Block(16, 16, 1), _Block(16, 32, 2), _Block(32, 64, 2))
        self.head = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(torch.relu(self.stem(x)))
        return self.head(h.mean(dim=(2, 3)))


def small_resnet(seed: int) -> SmallResNet:
    """With trained-looking BatchNorm statistics (eval mode reads them)."""
    torch.manual_seed(seed)
    model = SmallResNet()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
    return model.eval()


class SmallTransformer(nn.Module):
    """8 tokens × 32 features → 10 logits: two encoder layers (4 heads), mean over tokens."""

    def __init__(self) -> None:
        super().__init__()
        layer = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x).mean(dim=1))


def small_transformer(seed: int) -> SmallTransformer:
    torch.manual_seed(seed)
    return SmallTransformer().eval()


def hidden(model: nn.Sequential) -> nn.Sequential:
    """The model up to its last hidden layer (drop the last affine layer)."""
    return model[:-1]


def baseline(trunk: nn.Module, x: torch.Tensor, depth: float, batch: int) -> torch.Tensor:
    def f(xi: torch.Tensor) -> torch.Tensor:
        return trunk(xi[None]).reshape(-1)

    jac = torch.func.vmap(torch.func.jacrev(f))
    out = []
    with torch.no_grad():
        for s in range(0, len(x), batch):
            j = jac(x[s : s + batch])
            j = j.reshape(j.shape[0], j.shape[1], -1)
            out.append(torch.log(torch.linalg.svdvals(j)[:, 0]) / depth)
    return torch.cat(out)


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def rate(fn, points: int, repeats: int) -> float:
    fn()  # warm-up
    _sync()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        _sync()
        best = min(best, time.perf_counter() - t0)
    return points / best


def best_baseline_rate(trunk, x, depth, batches, repeats) -> float:
    rates = []
    for b in batches:
        rates.append(rate(lambda b=b: baseline(trunk, x, depth, b), len(x), repeats))
    return max(rates)


def measure(name, model, x, depth, n_base, batches, repeats, scale) -> float:
    """Print and return ours / baseline for one case (logits of a general module)."""
    sequential = isinstance(model, nn.Sequential)
    trunk, layer = (hidden(model), None) if sequential else (model, "logits")
    ours = rate(lambda: maximal_ftle(model, x, layer=layer), len(x), repeats)
    base = best_baseline_rate(trunk, x[:n_base], depth, batches, 1 if scale > 1 else repeats)
    print(f"{name:12} {ours:12.0f} {base:15.0f} {ours / base:7.1f}")
    return ours / base


HOG = """
import os, sys, torch
torch.set_num_threads(os.cpu_count())
a, b = torch.randn(512, 512), torch.randn(512, 512) / 512**0.5
print("ready", flush=True)
while True:
    a = torch.tanh(a @ b)
"""


@contextlib.contextmanager
def busy_neighbour() -> Iterator[None]:
    """Another process doing torch matmuls on all cores while the block runs."""
    hog = subprocess.Popen([sys.executable, "-c", HOG], stdout=subprocess.PIPE, text=True)
    try:
        assert hog.stdout is not None and hog.stdout.readline().strip() == "ready"
        yield
    finally:
        hog.kill()
        hog.wait()


def all_layers_cost(model: nn.Module, side: int, repeats: int) -> float:
    """Median time of ftle_layers (λ₁ at all L hidden layers) ÷ that of ftle_field (the last
    layer alone) over a side × side field of the plane, interleaved."""
    plane, extent, shape = Plane.standard(2), (-1.5, 1.5, -1.5, 1.5), (side, side)
    ftle_layers(model, plane, extent, shape), ftle_field(model, plane, extent, shape)  # warm up
    every, last = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        ftle_layers(model, plane, extent, shape)
        every.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ftle_field(model, plane, extent, shape)
        last.append(time.perf_counter() - t0)
    ratio = statistics.median(every) / statistics.median(last)
    print(
        f"all layers: {statistics.median(every):.3f} s for {len(model) // 2} layers, last layer "
        f"{statistics.median(last):.3f} s ({side}² field)"
    )
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer points, one repeat")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    args = parser.parse_args()
    quick = args.quick
    device = torch.device(args.device)
    scale = 16 if device.type == "cuda" else 1  # a GPU needs more points to fill
    repeats = 1 if quick else 3
    for p in nn.Module().parameters():
        p.requires_grad_(False)
    torch.set_grad_enabled(True)
    # the baseline's vmap has no batching rule for CPU flash attention and says so at each call
    warnings.filterwarnings("ignore", message="There is a performance drop")
    figures: dict[str, float] = {}
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {where}")
    print(f"{'case':12} {'ours pts/s':>12} {'baseline pts/s':>15} {'ratio':>7}")

    cases = [
        ("toy", tanh_mlp([2] + [50] * 8 + [1], 0), (2,), 8, 20000, 4000, [256, 1024, 4000]),
        ("mnist", tanh_mlp([784] + [20] * 16 + [10], 1), (784,), 16, 8000, 1000, [64, 256, 1000]),
        ("wide", tanh_mlp([784] + [500] * 5 + [10], 2), (784,), 5, 1024, 64, [16, 64]),
        ("cnn", small_cnn(3), (1, 28, 28), 3, 4000, 1000, [64, 256, 1000]),
        ("resnet", small_resnet(4), (3, 32, 32), 10, 512, 64, [16, 64]),
        ("transformer", small_transformer(5), (8, 32), 13, 4000, 500, [64, 500]),
    ]
    inputs: dict[str, torch.Tensor] = {}
    for name, model, shape, depth, n_ours, n_base, batches in cases:
        n_ours = n_ours * scale  # the baseline keeps its CPU sizes: it is slow everywhere
        if quick:
            n_ours, n_base = max(n_ours // 8, 64), max(n_base // 8, 16)
            batches = batches[-1:]
        model.requires_grad_(False).to(device)
        gen = torch.Generator().manual_seed(10)
        x = torch.rand((n_ours, *shape), generator=gen).to(device)
        if name == "toy":
            x = 3 * x - 1.5  # the circle problem's square
        inputs[name] = x
        ratio = measure(name, model, x, depth, n_base, batches, repeats, scale)
        figures[f"ratio_{name}"] = ratio
        if name == "wide":
            check = x[: 64 if quick else 256]
            approx = maximal_ftle(model, check)
            exact = maximal_ftle(model.double(), check.double(), method="exact")
            model.float()
            if device.type == "cuda":  # and the same points on the CPU, in float64
                cpu = maximal_ftle(model.double().cpu(), check.double().cpu(), method="exact")
                model.float().to(device)
                print(
                    f"         wide: max |λ₁(cuda, float64) − λ₁(cpu, float64)| = "
                    f"{float((exact.cpu() - cpu).abs().max()):.2e}"
                )
            figures["wide_max_abs_err"] = float((approx.double() - exact).abs().max())
            print(
                f"         wide: max |λ₁ − exact float64| over {len(check)} points = "
                f"{figures['wide_max_abs_err']:.2e}"
            )

    figures["all_layers_cost"] = all_layers_cost(cases[0][1], 64 if quick else 256, repeats + 2)

    # Contention: the same cases while another process runs torch matmuls on every core.
    with busy_neighbour():
        for name, model, _shape, depth, _n, n_base, batches in cases[:2]:
            if quick:
                n_base, batches = max(n_base // 8, 16), batches[-1:]
            ratio = measure(f"{name}*", model, inputs[name], depth, n_base, batches, repeats, scale)
            figures[f"ratio_{name}_contended"] = ratio
    print("(* measured while another process runs torch matmuls on all cores)")

    # Memory: many points at once; batching keeps the intermediates bounded.
    big = [
        ("toy", cases[0][1], (2,), 400_000),
        ("mnist", cases[1][1], (784,), 40_000),
        ("wide", cases[2][1], (784,), 4_000),
        ("cnn", cases[3][1], (1, 28, 28), 20_000),
    ]
    for name, model, shape, count in big:
        count *= scale
        if quick:
            count //= 20
        x = torch.rand((count, *shape)).to(device)
        t0 = time.perf_counter()
        maximal_ftle(model, x)
        _sync()
        print(f"memory run {name}: {count} points in {time.perf_counter() - t0:.1f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if device.type == "cuda":
        print(f"peak_gpu_mb: {torch.cuda.max_memory_allocated(device) / 2**20:.1f}")
    figures["peak_rss_mb"] = peak
    for key in (
        "ratio_toy",
        "ratio_mnist",
        "ratio_wide",
        "ratio_cnn",
        "ratio_resnet",
        "ratio_transformer",
        "ratio_toy_contended",
        "ratio_mnist_contended",
        "wide_max_abs_err",
        "all_layers_cost",
        "peak_rss_mb",
    ):
        value = figures[key]
        wide = key in ("wide_max_abs_err", "all_layers_cost")
        print(f"{key}: {value:.3g}" if wide else f"{key}: {value:.1f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
