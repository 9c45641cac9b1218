"""Which method ``"auto"`` picks for each shape (exponents.py's docstring), and that the d×d
matrix JᵀJ of an image input is never formed: every tensor the computation creates is recorded
(a TorchDispatchMode sees each operator's outputs)."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from ftle_widget import maximal_ftle
from ftle_widget.maths import exponents


def _mlp(d: int, n: int) -> nn.Sequential:
    """d inputs → n (tanh, the endpoint: the last hidden layer) → 1."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(d, n), nn.Tanh(), nn.Linear(n, 1))


def _cnn() -> nn.Sequential:
    """A 1×28×28 image (d = 784) → 10 logits through convolutions."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2), nn.Tanh(), nn.Conv2d(4, 8, 3, stride=2), nn.Tanh(),
        nn.Flatten(), nn.Linear(8 * 6 * 6, 10),
    )  # fmt: skip


@pytest.fixture
def methods(monkeypatch):
    """The methods the engine ran its batches with (the real top_pair, watched)."""
    seen: list[str] = []
    real = exponents.top_pair

    def watched(jac, method, *args, **kwargs):
        seen.append(method)
        return real(jac, method, *args, **kwargs)

    monkeypatch.setattr(exponents, "top_pair", watched)
    return seen


# (d, n) → the documented choice: "forward" if d ≤ n and d ≤ 64, "reverse" if n ≤ 64, else
# "lanczos"
CHOICES = [
    ((2, 10), "forward"),
    ((30, 30), "forward"),
    ((64, 100), "forward"),
    ((10, 3), "reverse"),
    ((100, 64), "reverse"),
    ((784, 10), "reverse"),
    ((65, 100), "lanczos"),
    ((100, 65), "lanczos"),
    ((784, 500), "lanczos"),
]


@pytest.mark.parametrize("shape,expected", CHOICES, ids=[f"{d}-{n}" for (d, n), _ in CHOICES])
def test_auto_picks_the_documented_method(shape, expected, methods):
    d, n = shape
    model = _mlp(d, n).double()
    x = torch.randn(5, d, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    lam = maximal_ftle(model, x)
    assert set(methods) == {expected}
    # and it computes what the dense Jacobian gives
    with torch.no_grad():
        first = model[0]
        jac = (1 - torch.tanh(first(x)) ** 2)[:, :, None] * first.weight[None]
    torch.testing.assert_close(lam, torch.linalg.svdvals(jac)[:, 0].log(), rtol=0, atol=1e-10)


def test_auto_picks_reverse_for_an_image_cnn(methods):
    x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    maximal_ftle(_cnn(), x, layer="logits")
    assert set(methods) == {"reverse"}


class Largest(TorchDispatchMode):
    """Records the numel and shape of every tensor an operator creates."""

    def __init__(self):
        super().__init__()
        self.numel, self.shapes = 0, set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor):
                self.numel = max(self.numel, t.numel())
                self.shapes.add(tuple(t.shape))
        return out


def _created(model, x, **kwargs) -> Largest:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # batches in this thread, where the mode records them
    try:
        with Largest() as seen:
            maximal_ftle(model, x, direction=True, **kwargs)
    finally:
        torch.set_num_threads(threads)
    return seen


def _square(shapes, d):
    """Batches of d×d matrices (a 2-D d×d tensor aside: ``torch.eye(d)``, from which a small
    convolution is written out as a matrix once per model, see ``jacobians.densify``)."""
    return [s for s in shapes if len(s) >= 3 and s[-1] == s[-2] == d]


@pytest.mark.parametrize(
    "model,layer",
    [(_mlp(784, 500), None), (_mlp(784, 10), None), (_cnn(), "logits")],
    ids=["mlp-784-500-lanczos", "mlp-784-10-reverse", "cnn-28x28-reverse"],
)
def test_the_input_gram_matrix_of_an_image_is_never_formed(model, layer):
    d, batch = 784, 16
    x = torch.rand(batch, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    if isinstance(model[0], nn.Linear):
        x = x.reshape(batch, d)
    seen = _created(model, x, layer=layer)
    assert not _square(seen.shapes, d)
    assert seen.numel < batch * d * d / 8  # JᵀJ of the batch would be B·d²
    # the recorder sees it where it is formed: forward mode builds JᵀJ
    forced = _created(model, x[:2], layer=layer, method="forward")
    assert (2, d, d) in _square(forced.shapes, d) and forced.numel >= 2 * d * d
