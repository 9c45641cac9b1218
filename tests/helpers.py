"""Shared test helpers: the paper's networks and the dense reference."""

from __future__ import annotations

import itertools

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
