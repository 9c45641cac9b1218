"""Shared test helpers: the paper's networks and the dense reference."""

from __future__ import annotations

import itertools
import time

import torch
from torch import nn


def tanh_mlp(sizes: list[int], seed: int = 0, dtype: torch.dtype = torch.float64) -> nn.Sequential:
    """2 → N×L → 1 style tanh MLP with W ~ N(0, 1/fan_in) and small random biases."""
    gen = torch.Generator().manual_seed(seed)
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(sizes):
        lin = nn.Linear(a, b)
        with torch.no_grad():
            lin.weight.copy_(torch.randn((b, a), generator=gen) * a**-0.5)
            lin.bias.copy_(0.1 * torch.randn(b, generator=gen))
        layers += [lin, nn.Tanh()]
    return nn.Sequential(*layers[:-1]).to(dtype)


def dense_jacobians(fn, x: torch.Tensor) -> torch.Tensor:
    """(B, n, d) Jacobians of ``fn`` (batch → batch) at each sample, one at a time."""
    rows = []
    for xi in x:
        j = torch.autograd.functional.jacobian(lambda z: fn(z[None]).reshape(-1), xi)
        rows.append(j.reshape(j.shape[0], -1))
    return torch.stack(rows)


def reference_ftle(fn, x: torch.Tensor, depth: float, k: int = 1) -> torch.Tensor:
    """Top-k exponents from the dense Jacobian and ``torch.linalg.svdvals`` (float64)."""
    jac = dense_jacobians(fn, x.double())
    return torch.log(torch.linalg.svdvals(jac)[:, :k]) / depth


class FailsBeyond(nn.Module):
    """A general module (not a plain Sequential) whose batches fail where u > ``u_max``; a
    tanh layer ``lin`` to read exponents at."""

    def __init__(self, u_max: float, message: str, width: int = 3):
        super().__init__()
        self.lin = nn.Linear(2, width)
        self.u_max, self.message = u_max, message

    def forward(self, x):
        if x.shape[0] > 1 and bool((x[:, 0] > self.u_max).any()):
            raise RuntimeError(self.message)
        return torch.tanh(self.lin(x))


NOTEBOOKS = __import__("pathlib").Path(__file__).resolve().parents[1] / "demo_notebooks"


def run_notebook(name: str, tmp_path, timeout: int = 600) -> dict:
    """Execute ``demo_notebooks/name`` top to bottom in a subprocess (nbclient), with
    ``FTLE_WIDGET_QUICK=1`` (shrunk training) and caches under ``tmp_path``; returns the executed
    notebook (nbformat dict). A failing cell (e.g. an ``assert`` of a finding) fails the test
    with the cell's error."""
    import json
    import os
    import shutil
    import subprocess
    import sys

    work = tmp_path / "nb"
    work.mkdir(exist_ok=True)
    shutil.copy2(NOTEBOOKS / name, work / name)
    env = dict(
        os.environ,
        FTLE_WIDGET_QUICK="1",
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        MPLBACKEND="Agg",
        PYTHONWARNINGS="ignore",
    )
    out = work / ("executed_" + name)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, nbformat; from nbclient import NotebookClient;"
            "nb = nbformat.read(sys.argv[1], as_version=4);"
            f"NotebookClient(nb, timeout={timeout}, kernel_name='python3',"
            " resources={'metadata': {'path': sys.argv[3]}}).execute();"
            "nbformat.write(nb, sys.argv[2])",
            str(work / name),
            str(out),
            str(work),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout + 120,
    )
    if result.returncode != 0:
        raise AssertionError(f"{name} failed:\n{result.stderr[-4000:]}")
    return json.loads(out.read_text())


def notebook_text(executed: dict) -> str:
    """All text outputs (stdout and text/plain results) of an executed notebook."""
    parts = []
    for cell in executed["cells"]:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append("".join(output["text"]))
            elif "data" in output and "text/plain" in output["data"]:
                parts.append("".join(output["data"]["text/plain"]))
    return "\n".join(parts)


def browser_sends(widget, content: dict, buffers: list | None = None) -> None:
    """Deliver ``content`` to ``widget`` as a custom message from the browser arrives: through
    the comm's message handler (ipywidgets' ``_handle_msg``), not the widget's own callback."""
    data = {"method": "custom", "content": content}
    widget._handle_msg({"content": {"data": data}, "buffers": buffers or []})


class FailsInside(nn.Module):
    """A general module whose batches fail where any point lies within ``radius`` of the origin
    (max norm); a tanh layer ``lin`` to read exponents at."""

    def __init__(self, radius: float, width: int = 3):
        super().__init__()
        self.lin = nn.Linear(2, width)
        self.radius = radius

    def forward(self, x):
        if bool((x.abs().amax(dim=1) < self.radius).any()):
            raise RuntimeError(f"nothing is defined within {self.radius} of the origin")
        return torch.tanh(self.lin(x))


class ResBlock(nn.Module):
    """conv-BN-ReLU-conv-BN with an identity skip, then ReLU."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        return torch.relu(x + self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))


class SmallResNet(nn.Module):
    """A ResNet in miniature on (3, 8, 8) images, float64: stem conv + BN + ReLU, one residual
    block, global average pooling, ``fc`` to 5 classes. Its BatchNorms hold random statistics
    (eval mode differs from train mode); the last hidden layer is the pooled 8 features entering
    ``fc``, after 3 convolutions."""

    def __init__(self, seed: int = 0, channels: int = 8):
        super().__init__()
        torch.manual_seed(seed)
        self.stem = nn.Conv2d(3, channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(channels)
        self.block = ResBlock(channels)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, 5)
        gen = torch.Generator().manual_seed(seed + 1)
        with torch.no_grad():
            for bn in (self.bn, self.block.bn1, self.block.bn2):
                bn.running_mean.copy_(0.3 * torch.randn(channels, generator=gen))
                bn.running_var.copy_(0.5 + torch.rand(channels, generator=gen))
                bn.weight.copy_(1 + 0.2 * torch.randn(channels, generator=gen))
                bn.bias.copy_(0.1 * torch.randn(channels, generator=gen))
        self.double()

    def features(self, x):
        """The hand-written forward up to ``fc``'s input (B, channels)."""
        h = self.block(torch.relu(self.bn(self.stem(x))))
        return torch.flatten(self.pool(h), 1)

    def forward(self, x):
        return self.fc(self.features(x))


class SmallTransformer(nn.Module):
    """A transformer classifier on 4 tokens × 16 features, float64: one
    ``nn.TransformerEncoderLayer`` (2 heads, feed-forward 32, dropout 0.1), mean over tokens,
    ``head`` to 3 classes. Affine calls to ``head``'s input: attention (2) + linear1 + linear2."""

    def __init__(self, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.encoder = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.1, batch_first=True)
        self.head = nn.Linear(16, 3)
        self.double()

    def features(self, x):
        """The hand-written forward up to ``head``'s input (B, 16)."""
        return self.encoder(x).mean(dim=1)

    def forward(self, x):
        return self.head(self.features(x))


def module_state(model: nn.Module) -> dict:
    """Everything of ``model`` an FTLE computation must leave alone: each submodule's training
    flag, its parameters and buffers (copied, with requires_grad), the hooks on it."""
    return {
        "training": [(name, m.training) for name, m in model.named_modules()],
        "tensors": [
            (name, t.detach().clone(), t.requires_grad)
            for name, t in [*model.named_parameters(), *model.named_buffers()]
        ],
        "hooks": [
            (name, len(m._forward_hooks), len(m._forward_pre_hooks))
            for name, m in model.named_modules()
        ],
    }


def assert_untouched(model: nn.Module, before: dict) -> None:
    """``model`` is as :func:`module_state` saw it: modes, tensors bit for bit, no hooks left."""
    after = module_state(model)
    assert after["training"] == before["training"]
    assert after["hooks"] == before["hooks"]
    for name, m in model.named_modules():
        hooks = (m._forward_hooks, m._forward_pre_hooks, m._forward_hooks_with_kwargs)
        assert not any(hooks) and not m._forward_pre_hooks_with_kwargs, f"hooks left on {name!r}"
    for (name, t0, g0), (name1, t1, g1) in zip(before["tensors"], after["tensors"], strict=True):
        assert name == name1 and g0 == g1 and t0.dtype == t1.dtype, name
        assert torch.equal(t0, t1), f"{name} changed"
    assert not nn.modules.module._global_forward_hooks
    assert not nn.modules.module._global_forward_pre_hooks


class Sleepy(nn.Module):
    """A small tanh net whose every batch (not the engine's one-point probes) sleeps ``delay``
    seconds: tiles whose cost is waiting, so that two cores can show scaling."""

    def __init__(self, delay: float = 0.05):
        super().__init__()
        torch.manual_seed(0)
        self.a, self.b = nn.Linear(2, 8), nn.Linear(8, 1)
        self.delay = delay

    def forward(self, x):
        if x.shape[0] > 1:
            time.sleep(self.delay)
        return self.b(torch.tanh(self.a(x)))
